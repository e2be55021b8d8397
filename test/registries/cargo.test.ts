/** The cargo adapter: publish-body head, index paths, config rewrite and error shape (wire-facts §1). */
import { jsonError } from '../support/json-error.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCrateName } from '../../src/core/crate-pattern.js';
import { gatewayError } from '../../src/core/errors.js';
import { cargoAdapter, cargoPublishFailedDespiteStatus, indexFilePath, isIndexEntryOf, readCargoPublishHead, rewriteCargoConfig, sampleDownloadPath } from '../../src/registries/cargo.js';
import type { PublishHead } from '../../src/registries/registry.js';
import { cargoPublishBody, rawFraming } from '../support/cargo-publish-body.js';

const LIMITS = { jsonMax: 1024, bodyMax: 4096 };
const BODY = cargoPublishBody({ name: 'Serde_Json', vers: '1.0.0' });
const J = BODY.readUInt32LE(0);
const malformed = (why: string): PublishHead => ({ kind: 'error', error: gatewayError('SG_PUBLISH_MALFORMED', { why }) });
const NAME_IN_VALUE = '{"name":"a","description":"{\\"name\\":\\"b\\"}"}';
const framed = (json: string, crate = Buffer.from('crate')): Buffer => rawFraming(Buffer.from(json), crate);

describe('readCargoPublishHead reads only the JSON head, then checks the framing', () => {
  const rows: { name: string; bytes: Buffer; contentLength: number | null; limits?: typeof LIMITS; expected: PublishHead }[] = [
    { name: 'with no bytes yet it asks for the 4-byte JSON length', bytes: Buffer.alloc(0), contentLength: BODY.length, expected: { kind: 'need-more', bytes: 4 } },
    { name: 'with 3 bytes it still asks for 4', bytes: BODY.subarray(0, 3), contentLength: BODY.length, expected: { kind: 'need-more', bytes: 4 } },
    { name: 'with the JSON length it asks for the JSON and the crate length field', bytes: BODY.subarray(0, 4), contentLength: BODY.length, expected: { kind: 'need-more', bytes: 8 + J } },
    { name: 'one byte short of the head it asks for the same amount', bytes: BODY.subarray(0, 7 + J), contentLength: BODY.length, expected: { kind: 'need-more', bytes: 8 + J } },
    { name: 'with exactly the head it reads the name, without the crate bytes', bytes: BODY.subarray(0, 8 + J), contentLength: BODY.length, expected: { kind: 'ok', name: 'Serde_Json' } },
    { name: 'with the whole body it reads the name as sent', bytes: BODY, contentLength: BODY.length, expected: { kind: 'ok', name: 'Serde_Json' } },
    { name: 'an empty .crate is framed correctly', bytes: framed('{"name":"a"}', Buffer.alloc(0)), contentLength: 8 + 12, expected: { kind: 'ok', name: 'a' } },
    { name: 'JSON exactly at the limit is read', bytes: BODY, contentLength: BODY.length, limits: { jsonMax: J, bodyMax: 4096 }, expected: { kind: 'ok', name: 'Serde_Json' } },
    { name: 'a body exactly at the limit is read', bytes: BODY, contentLength: BODY.length, limits: { jsonMax: 1024, bodyMax: BODY.length }, expected: { kind: 'ok', name: 'Serde_Json' } },
    { name: 'a missing Content-Length is refused', bytes: BODY, contentLength: null, expected: malformed('cargo sends a Content-Length with every publish; this request had none') },
    {
      name: 'a Content-Length over bodyMax is refused with 413 before any byte is read', bytes: Buffer.alloc(0), contentLength: 4097,
      expected: { kind: 'error', error: { code: 'SG_BODY_TOO_LARGE', status: 413, message: 'the request body is too large: the limit is 4096 bytes' } },
    },
    { name: 'a body shorter than the two length fields is refused', bytes: Buffer.alloc(7), contentLength: 7, expected: malformed('the body is 7 bytes, shorter than the 8 bytes of its two length fields') },
    {
      name: 'a JSON length over jsonMax is refused with 413', bytes: BODY.subarray(0, 4), contentLength: BODY.length, limits: { jsonMax: J - 1, bodyMax: 4096 },
      expected: { kind: 'error', error: { code: 'SG_PUBLISH_JSON_TOO_LARGE', status: 413, message: `JSON metadata blob too large: the limit is ${J - 1} bytes` } },
    },
    { name: 'a JSON length running past the body is refused', bytes: BODY.subarray(0, 4), contentLength: J + 7, expected: malformed(`the JSON length field (${J}) runs past the end of the ${J + 7}-byte body`) },
    { name: 'a padded body (lengths add up to less) is refused', bytes: BODY, contentLength: BODY.length + 5, expected: malformed(`the length fields (${J} + ${BODY.length - 8 - J} + 8) do not add up to the body's ${BODY.length + 5} bytes`) },
    { name: 'a truncated body (lengths add up to more) is refused', bytes: BODY.subarray(0, 8 + J), contentLength: BODY.length - 1, expected: malformed(`the length fields (${J} + ${BODY.length - 8 - J} + 8) do not add up to the body's ${BODY.length - 1} bytes`) },
    { name: 'metadata that is not JSON is refused', bytes: framed('name=foo'), contentLength: 8 + 8 + 5, expected: malformed(`the metadata is not JSON (${jsonError('name=foo')})`) },
    { name: 'JSON without a name is refused', bytes: framed('{"vers":"1.0.0"}'), contentLength: 8 + 16 + 5, expected: malformed('the metadata has no string `name` field') },
    { name: 'a numeric name is refused', bytes: framed('{"name":1}'), contentLength: 8 + 10 + 5, expected: malformed('the metadata has no string `name` field') },
    { name: 'JSON null is refused', bytes: framed('null'), contentLength: 8 + 4 + 5, expected: malformed('the metadata has no string `name` field') },
    { name: 'a JSON array is refused', bytes: framed('["foo"]'), contentLength: 8 + 7 + 5, expected: malformed('the metadata has no string `name` field') },
    ...duplicateRows(),
    { name: 'a crate name that appears as a value elsewhere is no duplicate', bytes: framed(NAME_IN_VALUE), contentLength: 8 + NAME_IN_VALUE.length + 5, expected: { kind: 'ok', name: 'a' } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(readCargoPublishHead(row.bytes, row.contentLength, row.limits ?? LIMITS), row.expected));
});

/**
 * Metadata naming two crates must not be authorised for either (strict-json.ts): JSON.parse would
 * read the last `name`, crates.io refuses the body, another registry may read the first.
 */
function duplicateRows(): { name: string; bytes: Buffer; contentLength: number; expected: PublishHead }[] {
  const twice = (what: string): string => `the metadata has the ${what} twice; registries disagree on which copy counts, so scopegate refuses it`;
  const row = (name: string, json: string, what: string) => ({ name, bytes: framed(json), contentLength: 8 + Buffer.byteLength(json) + 5, expected: malformed(twice(what)) });
  const good = JSON.parse(BODY.subarray(4, 4 + J).toString('utf8')) as Record<string, unknown>;
  const withFirst = (key: string, value: string): string => `{"${key}":${JSON.stringify(value)},${JSON.stringify(good).slice(1)}`;
  return [
    row('a `name` before the real one is refused, naming the key', withFirst('name', 'victim'), 'key `name`'),
    row('a `name` after the real one is refused the same way', `${JSON.stringify(good).slice(0, -1)},"name":"victim"}`, 'key `name`'),
    row('a `name` spelt with escapes is the same key', withFirst('na\\u006de', 'victim'), 'key `name`'),
    row('a duplicate deep inside (a dependency) is refused too, saying where', JSON.stringify({ ...good, deps: [{ name: 'a', version_req: '^1', kind: 'dev' }] }).replace('"kind":"dev"', '"kind":"dev","kind":"normal"'), 'key `kind` in `deps[0]`'),
    row('a duplicate feature name is refused', JSON.stringify(good).replace('"features":{}', '"features":{"std":[],"std":["x"]}'), 'key `std` in `features`'),
  ];
}

describe('indexFilePath follows cargo\'s make_dep_path', () => {
  const rows: { name: string; input: string; expected: string }[] = [
    { name: 'a one-letter name lives under 1/', input: 'a', expected: '/index/1/a' },
    { name: 'a two-letter name lives under 2/', input: 'ab', expected: '/index/2/ab' },
    { name: 'a three-letter name lives under 3/ and its first letter', input: 'abc', expected: '/index/3/a/abc' },
    { name: 'a four-letter name lives under its first two pairs of letters', input: 'abcd', expected: '/index/ab/cd/abcd' },
    { name: 'a longer name uses its first four characters', input: 'serde-gw-test', expected: '/index/se/rd/serde-gw-test' },
    { name: 'upper case is lowered in every part', input: 'Serde_Json', expected: '/index/se/rd/serde_json' },
    { name: 'an upper-case two-letter name is lowered', input: 'AB', expected: '/index/2/ab' },
    { name: 'an upper-case three-letter name is lowered', input: 'ABC', expected: '/index/3/a/abc' },
  ];
  for (const row of rows) it(row.name, () => assert.equal(indexFilePath(row.input), row.expected));
});

describe('rewriteCargoConfig points cargo back at the gateway', () => {
  const upstream = JSON.stringify({ dl: 'http://up:8000/api/v1/crates', api: 'http://up:8000', 'custom-field': [1, 2] });
  const rows: { name: string; publicUrl: string; readsNeedToken: boolean; expected: Record<string, unknown> }[] = [
    {
      name: 'dl and api move to the public URL, api without a trailing slash, other fields kept',
      publicUrl: 'http://gw:8080', readsNeedToken: false,
      expected: { dl: 'http://gw:8080/api/v1/crates', api: 'http://gw:8080', 'custom-field': [1, 2] },
    },
    {
      name: 'auth-required is set when reads need a token',
      publicUrl: 'http://gw:8080', readsNeedToken: true,
      expected: { dl: 'http://gw:8080/api/v1/crates', api: 'http://gw:8080', 'custom-field': [1, 2], 'auth-required': true },
    },
    {
      name: 'a public URL with a path prefix keeps it',
      publicUrl: 'https://crates.example.com/reg', readsNeedToken: false,
      expected: { dl: 'https://crates.example.com/reg/api/v1/crates', api: 'https://crates.example.com/reg', 'custom-field': [1, 2] },
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(JSON.parse(rewriteCargoConfig(upstream, { publicUrl: row.publicUrl, upstreamUrl: 'http://up:8000', readsNeedToken: row.readsNeedToken, anonymousReadsAuthenticated: false })), row.expected));
  }

  it('a config without api gains one', () => {
    assert.deepEqual(JSON.parse(rewriteCargoConfig('{"dl":"http://up/dl"}', { publicUrl: 'http://gw', upstreamUrl: 'http://up', readsNeedToken: false, anonymousReadsAuthenticated: false })), { dl: 'http://gw/dl', api: 'http://gw' });
  });
  it('an upstream body that is not JSON throws (the caller answers SG_UPSTREAM_UNREACHABLE)', () => {
    assert.throws(() => rewriteCargoConfig('<html>', { publicUrl: 'http://gw', upstreamUrl: 'http://up', readsNeedToken: false, anonymousReadsAuthenticated: false }), SyntaxError);
  });
});

describe('rewriteCargoConfig keeps an upstream\'s auth-required where reads cannot be made public', () => {
  const upstream = JSON.stringify({ dl: 'http://up/api/v1/crates', api: 'http://up', 'auth-required': true });
  const authRequired = (readsNeedToken: boolean, anonymousReadsAuthenticated: boolean): unknown =>
    (JSON.parse(rewriteCargoConfig(upstream, { publicUrl: 'http://gw', upstreamUrl: 'http://up', readsNeedToken, anonymousReadsAuthenticated })) as Record<string, unknown>)['auth-required'];
  it('per-token, reads public: kept, so cargo sends the token the gateway swaps (an anonymous read would be a 401)', () => {
    assert.equal(authRequired(false, false), true);
  });
  it('static, reads public: dropped, since anonymous reads carry the service credential', () => {
    assert.equal(authRequired(false, true), undefined);
  });
  it('reads token: set either way', () => {
    assert.equal(authRequired(true, true), true);
    assert.equal(authRequired(true, false), true);
  });
  it('an upstream auth-required that is not `true` is not taken for it', () => {
    const config = JSON.stringify({ dl: 'http://up/dl', 'auth-required': 'yes' });
    assert.equal((JSON.parse(rewriteCargoConfig(config, { publicUrl: 'http://gw', upstreamUrl: 'http://up', readsNeedToken: false, anonymousReadsAuthenticated: false })) as Record<string, unknown>)['auth-required'], undefined);
  });
});

describe('rewriteCargoConfig keeps a dl template on the upstream, with the gateway in its place', () => {
  const rows: { name: string; upstreamUrl: string; dl: unknown; expected: string }[] = [
    { name: 'a path without markers (cargo appends /{crate}/{version}/download)', upstreamUrl: 'http://up:8000', dl: 'http://up:8000/dl', expected: 'http://gw/reg/dl' },
    { name: 'markers are kept verbatim', upstreamUrl: 'http://up:8000', dl: 'http://up:8000/files/{lowerprefix}/{crate}/{crate}-{version}.crate', expected: 'http://gw/reg/files/{lowerprefix}/{crate}/{crate}-{version}.crate' },
    { name: 'a checksum marker in the query is kept', upstreamUrl: 'http://up:8000', dl: 'http://up:8000/dl/{crate}/{version}?sha256={sha256-checksum}', expected: 'http://gw/reg/dl/{crate}/{version}?sha256={sha256-checksum}' },
    { name: 'the upstream URL\'s own path is what the gateway stands in for', upstreamUrl: 'http://up:8000/registry/', dl: 'http://up:8000/registry/dl/{crate}', expected: 'http://gw/reg/dl/{crate}' },
    { name: 'the origin compares as URLs do (scheme and host case, default port)', upstreamUrl: 'http://up', dl: 'HTTP://UP:80/dl', expected: 'http://gw/reg/dl' },
    { name: 'another host (a CDN) cannot be forwarded to: the API download endpoint instead', upstreamUrl: 'http://up:8000', dl: 'https://static.example.com/crates', expected: 'http://gw/reg/api/v1/crates' },
    { name: 'another port is another origin', upstreamUrl: 'http://up:8000', dl: 'http://up:9000/dl', expected: 'http://gw/reg/api/v1/crates' },
    { name: 'outside the upstream URL\'s path', upstreamUrl: 'http://up:8000/registry', dl: 'http://up:8000/other/dl', expected: 'http://gw/reg/api/v1/crates' },
    { name: 'a longer segment that only starts like the upstream path', upstreamUrl: 'http://up:8000/reg', dl: 'http://up:8000/registry/dl', expected: 'http://gw/reg/api/v1/crates' },
    { name: 'a dl that is not a string', upstreamUrl: 'http://up:8000', dl: 42, expected: 'http://gw/reg/api/v1/crates' },
    { name: 'a relative dl', upstreamUrl: 'http://up:8000', dl: '/dl', expected: 'http://gw/reg/api/v1/crates' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const rewritten = JSON.parse(rewriteCargoConfig(JSON.stringify({ dl: row.dl }), { publicUrl: 'http://gw/reg', upstreamUrl: row.upstreamUrl, readsNeedToken: false, anonymousReadsAuthenticated: false })) as { dl: string };
      assert.equal(rewritten.dl, row.expected);
    });
  }
});

describe('sampleDownloadPath: where cargo would download, for checking the route table', () => {
  const rows: { name: string; dl: string; expected: string | null }[] = [
    { name: 'no markers: cargo appends /{crate}/{version}/download', dl: 'http://gw/reg/api/v1/crates', expected: '/api/v1/crates/sample/0.1.0/download' },
    { name: 'markers are filled in and the query dropped', dl: 'http://gw/reg/f/{prefix}/{lowerprefix}/{crate}-{version}.crate?s={sha256-checksum}', expected: '/f/sa/mp/sa/mp/sample-0.1.0.crate' },
    { name: 'a dl that is not the gateway\'s', dl: 'https://static.example.com/crates', expected: null },
  ];
  for (const row of rows) it(row.name, () => assert.equal(sampleDownloadPath(JSON.stringify({ dl: row.dl }), 'http://gw/reg'), row.expected));
});

describe('existencePaths probes every `-`/`_` spelling once (up to four separators)', () => {
  const rows: { name: string; input: string; expected: string[] }[] = [
    { name: 'a name without separators has one path', input: 'serde', expected: ['/index/se/rd/serde'] },
    { name: 'a hyphenated name also probes the underscore spelling', input: 'foo-bar', expected: ['/index/fo/o-/foo-bar', '/index/fo/o_/foo_bar'] },
    { name: 'an underscored name also probes the hyphen spelling', input: 'foo_bar', expected: ['/index/fo/o_/foo_bar', '/index/fo/o-/foo-bar'] },
    { name: 'case does not add spellings (the index is lower-case)', input: 'Foo-Bar', expected: ['/index/fo/o-/foo-bar', '/index/fo/o_/foo_bar'] },
    { name: 'a mixed name probes itself, all-`-`, all-`_` and the other mixed spelling', input: 'a-b_c', expected: ['/index/a-/b_/a-b_c', '/index/a-/b-/a-b-c', '/index/a_/b_/a_b_c', '/index/a_/b-/a_b-c'] },
    { name: 'an all-`-` name with two separators also probes both mixed spellings', input: 'a-b-c', expected: ['/index/a-/b-/a-b-c', '/index/a_/b_/a_b_c', '/index/a-/b_/a-b_c', '/index/a_/b-/a_b-c'] },
    { name: 'a short name with a separator uses the short layout', input: 'a_b', expected: ['/index/3/a/a_b', '/index/3/a/a-b'] },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(cargoAdapter.existencePaths(parseCrateName(row.input)!), row.expected));
  it('four separators give all 16 spellings; five give only the name, all-`-` and all-`_`', () => {
    assert.equal(cargoAdapter.existencePaths(parseCrateName('a-b-c-d-e')!).length, 16);
    assert.deepEqual(cargoAdapter.existencePaths(parseCrateName('a-b_c-d-e-f')!), ['/index/a-/b_/a-b_c-d-e-f', '/index/a-/b-/a-b-c-d-e-f', '/index/a_/b_/a_b_c_d_e_f']);
  });
});

describe('isIndexEntryOf: the first line of an index file the existence probe got is a version of the crate', () => {
  const line = (name: string): string => JSON.stringify({ name, vers: '0.1.0', deps: [], cksum: '0'.repeat(64), features: {}, yanked: false, links: null, v: 2 });
  const rows = [
    { name: 'the crate\'s own line', crate: 'foo-bar', line: line('foo-bar'), expected: true },
    { name: 'the stored spelling differs in case and `-`/`_`', crate: 'Foo_Bar', line: line('foo-bar'), expected: true },
    { name: 'another crate\'s line', crate: 'foo-bar', line: line('foo-baz'), expected: false },
    { name: 'an empty answer', crate: 'foo-bar', line: '', expected: false },
    { name: 'a web page', crate: 'foo-bar', line: '<!doctype html>', expected: false },
    { name: 'JSON without a name', crate: 'foo-bar', line: '{"vers":"0.1.0"}', expected: false },
    { name: 'a JSON string', crate: 'foo-bar', line: '"foo-bar"', expected: false },
    { name: 'null', crate: 'foo-bar', line: 'null', expected: false },
  ];
  for (const row of rows) it(row.name, () => assert.equal(isIndexEntryOf(parseCrateName(row.crate)!, row.line), row.expected));
});

describe('cargoPublishFailedDespiteStatus: a 2xx answer cargo still reports as a failure (wire-facts §1.4)', () => {
  const rows = [
    { name: 'crates.io\'s success answer', body: '{"warnings":{"invalid_categories":[],"invalid_badges":[],"other":[]}}', expected: false },
    { name: 'an empty body', body: '', expected: false },
    { name: 'not JSON', body: 'ok', expected: false },
    { name: 'an empty errors list', body: '{"errors":[]}', expected: false },
    { name: 'an errors list', body: '{"errors":[{"detail":"crate name is reserved"}]}', expected: true },
  ];
  for (const row of rows) it(row.name, () => assert.equal(cargoPublishFailedDespiteStatus('application/json', row.body), row.expected));
});

describe('errors in cargo\'s own format', () => {
  it('the body is {"errors":[{"detail"}]}, with the message escaped as JSON', () => {
    const message = 'this token may only act on crates matching `serde`; "tokio" \\ is not one of them';
    const body = cargoAdapter.errorBody(message);
    assert.equal(body, JSON.stringify({ errors: [{ detail: message }] }));
    assert.deepEqual(JSON.parse(body), { errors: [{ detail: message }] });
  });

  const LOGIN = { 'www-authenticate': 'Cargo login_url="http://gw/tokens"' };
  const rows: { name: string; status: number; path: string; expected: Record<string, string> }[] = [
    { name: 'a 401 on config.json carries the Cargo login challenge', status: 401, path: '/index/config.json', expected: LOGIN },
    { name: 'a 401 on an index file carries the Cargo login challenge', status: 401, path: '/index/se/rd/serde', expected: LOGIN },
    { name: 'a 403 on the index carries no challenge', status: 403, path: '/index/config.json', expected: {} },
    { name: 'a 401 on the web API carries no challenge', status: 401, path: '/api/v1/crates/new', expected: {} },
    { name: 'a 401 on a download carries no challenge', status: 401, path: '/api/v1/crates/serde/1.0.0/download', expected: {} },
    { name: 'a path that only starts with `/index` is not the index', status: 401, path: '/indexes/x', expected: {} },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(cargoAdapter.errorHeaders(row.status, row.path, 'http://gw'), row.expected));
});

describe('the adapter', () => {
  it('is named cargo, rewrites /index/config.json and is frozen', () => {
    assert.equal(cargoAdapter.name, 'cargo');
    assert.equal(cargoAdapter.configPath, '/index/config.json');
    assert.equal(cargoAdapter.readPublishHead, readCargoPublishHead);
    assert.equal(cargoAdapter.rewriteConfig, rewriteCargoConfig);
    assert.ok(Object.isFrozen(cargoAdapter));
  });
});
