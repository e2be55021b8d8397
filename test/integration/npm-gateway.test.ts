/**
 * The npm gateway on the wire, in front of a real Verdaccio (wire-facts §3): scoped names, body
 * classification, what is never forwarded, npm's error shape. Every refusal is checked against
 * what Verdaccio received (through the recording proxy): no write, and never a scopegate token.
 */
import { jsonError } from '../support/json-error.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/gateway.js';
import { npmError, startNpmGateway, type NpmGateway } from '../support/npm-gateway.js';
import { npmPublishBody } from '../support/npm-publish-body.js';

const DAY = 86_400_000;
const JSON_HEADERS = { 'content-type': 'application/json' };
let gw: NpmGateway;
let full: string;

before(async () => {
  gw = await startNpmGateway({ editYaml: (yaml) => yaml.replace('json_body_max: 10MiB', 'json_body_max: 16KiB') });
  full = (await gw.createToken({ name: 'full', endpoint_scopes: ['publish-new', 'publish-update', 'yank', 'change-owners'], crate_scopes: null })).token;
});
after(async () => {
  await gw?.close();
});

const bearer = (token: string): Record<string, string> => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });
const writesSince = (mark: number): string[] => gw.registry.requests.slice(mark).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);
const seenSince = (mark: number): string[] => gw.registry.requests.slice(mark).map((r) => `${r.method} ${r.url}`);

/** Sends a request as npm would, and returns the answer with what Verdaccio received meanwhile. */
async function send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any; headers: Headers; seen: string[]; writes: string[] }> {
  const mark = gw.registry.requests.length;
  const res = await fetch(gw.url + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json, headers: res.headers, seen: seenSince(mark), writes: writesSince(mark) };
}

async function publish(name: string, version: string, token = full): Promise<void> {
  const res = await send('PUT', `/${name.replace('/', '%2f')}`, bearer(token), npmPublishBody(name, version));
  assert.equal(res.status, 201, JSON.stringify(res.json));
}

describe('scoped packages', () => {
  test('`@scope%2fname` and `@scope/name` are one package, always forwarded as `@scope%2Fname`', async () => {
    const { token } = await gw.createToken({ name: 'acme', endpoint_scopes: ['publish-new'], crate_scopes: ['@acme/*'] });
    const created = await send('PUT', '/@acme%2fweb', bearer(token), npmPublishBody('@acme/web', '1.0.0'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(created.writes, ['PUT /@acme%2Fweb']);
    const read = await send('GET', '/@acme/web', bearer(token));
    assert.equal(read.status, 200);
    assert.deepEqual(read.seen, ['GET /@acme%2Fweb']);
    assert.equal(read.json.name, '@acme/web');
  });

  test('tarball URLs in packuments point at the gateway, and the tarball downloads through it', async () => {
    await publish('tarball-demo', '1.0.0');
    const read = await send('GET', '/tarball-demo', bearer(full));
    const tarball: string = read.json.versions['1.0.0'].dist.tarball;
    assert.equal(tarball, `${gw.url}/tarball-demo/-/tarball-demo-1.0.0.tgz`);
    const mark = gw.registry.requests.length;
    const download = await fetch(tarball, { headers: { authorization: `Bearer ${full}` } });
    assert.equal(download.status, 200);
    assert.equal((await download.arrayBuffer()).byteLength > 0, true);
    assert.deepEqual(seenSince(mark), ['GET /tarball-demo/-/tarball-demo-1.0.0.tgz']);
  });

  test('`@acme/*` covers the scope, never a scope that merely starts like it', async () => {
    const { token } = await gw.createToken({ name: 'acme-only', endpoint_scopes: ['publish-new'], crate_scopes: ['@acme/*'] });
    const res = await send('PUT', '/@acme-evil%2fweb', bearer(token), npmPublishBody('@acme-evil/web', '1.0.0'));
    assert.equal(res.status, 403);
    assert.deepEqual(res.json, npmError('this token may only act on packages matching `@acme/*`; `@acme-evil/web` is not one of them'));
    assert.deepEqual(res.writes, []);
  });

  test('an encoded slash anywhere but a scoped name is still refused', async () => {
    const res = await send('GET', '/left%2fpad', {});
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, npmError('the request path is invalid: encoded `/` or `\\` (%2F, %5C) is not allowed in a path segment'));
    assert.deepEqual(res.seen, []);
  });
});

describe('the token page and the package `tokens`', () => {
  // npm's own Accept on packument reads (npm-registry-fetch): JSON, never HTML.
  const NPM_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

  test('a package named `tokens` is the registry\'s: npm publishes, reads and downloads it through the gateway', async () => {
    const created = await send('PUT', '/tokens', bearer(full), npmPublishBody('tokens', '1.0.0'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(created.json, { ok: 'created new package', success: true });
    assert.deepEqual(created.writes, ['PUT /tokens']);
    const read = await send('GET', '/tokens', { accept: NPM_ACCEPT, authorization: `Bearer ${full}` });
    assert.equal(read.status, 200);
    assert.equal(read.json.name, 'tokens');
    assert.deepEqual(read.seen, ['GET /tokens']);
    const download = await send('GET', '/tokens/-/tokens-1.0.0.tgz', { authorization: `Bearer ${full}` });
    assert.equal(download.status, 200);
    assert.deepEqual(download.seen, ['GET /tokens/-/tokens-1.0.0.tgz']);
  });

  test('a browser asking for /tokens still gets the token page, and the registry is not asked', async () => {
    const page = await send('GET', '/tokens', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.deepEqual(page.seen, []);
  });
});

describe('body classification', () => {
  test('a "deprecation" that also drops a version is refused, though the token may deprecate', async () => {
    await publish('sneaky', '1.0.0');
    await publish('sneaky', '1.1.0');
    const { token } = await gw.createToken({ name: 'deprecate-only', endpoint_scopes: ['publish-update'], crate_scopes: ['sneaky'] });
    const doc = (await send('GET', '/sneaky?write=true', bearer(token))).json;
    doc.versions['1.0.0'].deprecated = 'use 1.1.0';
    delete doc.versions['1.1.0'];
    doc['dist-tags'].latest = '1.0.0';
    const res = await send('PUT', '/sneaky', bearer(token), doc);
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, npmError('scopegate does not recognise this PUT /sneaky request, so it was not forwarded: it would unpublish versions and change deprecations; scopegate forwards one kind of change per request'));
    assert.deepEqual(res.seen, ['GET /sneaky?write=true'], 'only the gateway\'s own read of the stored packument');
    const honest = (await send('GET', '/sneaky?write=true', bearer(token))).json;
    honest.versions['1.0.0'].deprecated = 'use 1.1.0';
    const deprecated = await send('PUT', '/sneaky', bearer(token), honest);
    assert.equal(deprecated.status, 201, JSON.stringify(deprecated.json));
  });

  test('an owner change without `versions` (which Verdaccio applies as unpublishing everything) is refused to a change-owners token', async () => {
    await publish('owned', '1.0.0');
    await publish('owned', '1.1.0');
    const { token } = await gw.createToken({ name: 'owners-only', endpoint_scopes: ['change-owners'], crate_scopes: ['owned'] });
    const res = await send('PUT', '/owned/-rev/1', bearer(token), { _id: 'owned', _rev: '1', name: 'owned', maintainers: [{ name: 'alice', email: 'alice@example.org' }] });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.match(res.json.error, /it would unpublish versions and .*change maintainers; scopegate forwards one kind of change per request$/);
    assert.deepEqual(res.writes, []);
    const stored = (await send('GET', '/owned', bearer(full))).json;
    assert.deepEqual(Object.keys(stored.versions), ['1.0.0', '1.1.0']);
  });

  test('a body is forwarded labelled as the UTF-8 JSON it was read as, whatever charset the client named', async () => {
    await publish('charset-demo', '1.0.0');
    const doc = (await send('GET', '/charset-demo?write=true', bearer(full))).json;
    doc.versions['1.0.0'].deprecated = 'old';
    // UTF-7, which Verdaccio's body-parser decodes, reads other JSON from the same ASCII bytes.
    const res = await send('PUT', '/charset-demo', { ...bearer(full), 'content-type': 'application/json; charset=utf-7' }, doc);
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const put = gw.registry.requests.filter((r) => r.method === 'PUT').at(-1)!;
    assert.equal(put.headers['content-type'], 'application/json');
  });

  test('a compressed body is refused: it is not the JSON that was classified', async () => {
    const res = await send('PUT', '/gzip-demo', { ...bearer(full), 'content-encoding': 'gzip' }, npmPublishBody('gzip-demo', '1.0.0'));
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'scopegate does not recognise this PUT /gzip-demo request, so it was not forwarded: its Content-Encoding is `gzip`; send the JSON uncompressed');
    assert.deepEqual(res.seen, []);
  });

  test('a chunked publish goes upstream with its length, and without Transfer-Encoding', async () => {
    const body = JSON.stringify(npmPublishBody('chunky-demo', '1.0.0'));
    const mark = gw.registry.requests.length;
    const res = await rawRequest(gw.port, 'PUT', '/chunky-demo', { ...bearer(full), 'transfer-encoding': 'chunked' }, body);
    assert.equal(res.status, 201, res.text);
    const put = gw.registry.requests.slice(mark).find((r) => r.method === 'PUT')!;
    assert.equal(put.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(put.headers['transfer-encoding'], undefined);
  });

  test('the body is forwarded byte for byte, whatever its formatting', async () => {
    // Not what JSON.stringify would write: a re-serialised body would differ.
    const text = `${JSON.stringify(npmPublishBody('bytes-demo', '1.0.0'), null, 3)}\n\n`;
    const mark = gw.registry.requests.length;
    const res = await send('PUT', '/bytes-demo', bearer(full), text);
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const put = gw.registry.requests.slice(mark).find((r) => r.method === 'PUT')!;
    assert.equal(put.body.toString('utf8'), text);
    assert.equal(put.headers['content-length'], String(Buffer.byteLength(text)));
  });

  test('a body with a key twice is refused before Verdaccio or the scope check sees it, whichever copy comes first', async () => {
    // The classifier reads JSON.parse's last copy; a registry whose parser keeps the first (or
    // both) would act on another package, version set or tag: so no copy is trusted.
    const { token } = await gw.createToken({ name: 'allowed-only', endpoint_scopes: ['publish-new', 'publish-update'], crate_scopes: ['allowed*'] });
    const body = JSON.stringify(npmPublishBody('allowed-x', '1.0.0'));
    const victim = JSON.stringify(npmPublishBody('victim', '1.0.0'));
    const first = (key: string, value: unknown, text = body): string => `{${JSON.stringify(key)}:${JSON.stringify(value)},${text.slice(1)}`;
    const rows: { path: string; text: string; key: string }[] = [
      { path: '/allowed-x', text: first('name', 'victim'), key: '`name`' },
      { path: '/allowed-x', text: first('_id', 'victim'), key: '`_id`' },
      { path: '/allowed-x', text: `${body.slice(0, -1)},"name":"victim","_id":"victim"}`, key: '`name`' },
      { path: '/allowed-x', text: `{"na\\u006de":"victim",${body.slice(1)}`, key: '`name`' },
      { path: '/victim', text: first('name', 'allowed-x', victim), key: '`name`' },
      { path: '/allowed-x', text: first('versions', {}), key: '`versions`' },
      { path: '/allowed-x', text: first('dist-tags', { latest: '0.0.1' }), key: '`dist-tags`' },
    ];
    for (const row of rows) {
      const res = await send('PUT', row.path, bearer(token), row.text);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.deepEqual(res.json, npmError(`scopegate does not recognise this PUT ${row.path} request, so it was not forwarded: the body has the key ${row.key} twice; registries disagree on which copy counts`));
      assert.deepEqual(res.seen, [], row.text.slice(0, 80));
    }
    const honest = await send('PUT', '/allowed-x', bearer(token), body);
    assert.equal(honest.status, 201, JSON.stringify(honest.json));
  });

  test('npm star is denied by default: no route takes a star', async () => {
    await publish('starry', '1.0.0');
    const res = await send('PUT', '/starry', bearer(full), { _id: 'starry', _rev: '1-a', users: { alice: true } });
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, npmError('scopegate does not forward PUT /starry (a `star` request): no route in its table matches, and unmatched requests are denied'));
    assert.deepEqual(res.writes, []);
  });

  test('shapes npm does not send are refused unread by Verdaccio', async () => {
    const rows: { body: unknown; why: string }[] = [
      { body: { _id: 'ghost', name: 'ghost', versions: {}, 'dist-tags': {} }, why: 'a `PUT /<package>` body with `versions` but no tarball is only a deprecation (a version with `deprecated`)' },
      { body: npmPublishBody('other-name', '1.0.0'), why: 'its `_id` is "other-name", not the package in the path (`ghost`)' },
      { body: 'not json {', why: `the body is not JSON (${jsonError('not json {')})` },
    ];
    for (const row of rows) {
      const res = await send('PUT', '/ghost', bearer(full), row.body);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.deepEqual(res.json, npmError(`scopegate does not recognise this PUT /ghost request, so it was not forwarded: ${row.why}`));
      assert.deepEqual(res.seen, []);
    }
  });

  test('the legacy `PUT /<package>/<tag>` is a dist-tag change (publish-update), and only with a version string', async () => {
    await publish('legacy-tag', '1.0.0');
    const { token } = await gw.createToken({ name: 'tagger', endpoint_scopes: ['publish-update'], crate_scopes: ['legacy-*'] });
    const tagged = await send('PUT', '/legacy-tag/stable', bearer(token), '"1.0.0"');
    assert.equal(tagged.status, 201, JSON.stringify(tagged.json));
    const { token: yankOnly } = await gw.createToken({ name: 'yanker', endpoint_scopes: ['yank'], crate_scopes: null });
    const refused = await send('PUT', '/legacy-tag/stable', bearer(yankOnly), '"1.0.0"');
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.json, npmError('this token does not have the `publish-update` scope; create a token with that scope'));
    assert.deepEqual(refused.writes, []);
  });

  test('a body over limits.json_body_max is refused with 413 before anything is forwarded', async () => {
    const big = npmPublishBody('big-one', '1.0.0');
    (big as { readme?: string }).readme = 'x'.repeat(20_000);
    const res = await send('PUT', '/big-one', bearer(full), big);
    assert.equal(res.status, 413);
    assert.deepEqual(res.json, npmError('the request body is too large: the limit is 16384 bytes'));
    assert.deepEqual(res.seen, []);
  });

  test('an expired token is refused before its body is read or the registry asked', async () => {
    const expiry = Date.now() + DAY;
    const { token } = await gw.createToken({ name: 'short', endpoint_scopes: ['yank'], crate_scopes: null, expired_at: new Date(expiry).toISOString() });
    gw.setNow(expiry + 1);
    try {
      const res = await send('PUT', '/sneaky/-rev/9-z', bearer(token), { _id: 'sneaky', versions: {}, 'dist-tags': {} });
      assert.equal(res.status, 403);
      assert.match(res.json.error, /^this token expired at .*Z; create a new one at http:\/\/127\.0\.0\.1:\d+\/tokens$/);
      assert.deepEqual(res.seen, [], 'no read of the stored packument either');
    } finally {
      gw.setNow(null);
    }
  });
});

describe('what the gateway never forwards', () => {
  test('npm login, npm token and writes to user documents match no route, whatever the credential', async () => {
    const { token: unscoped } = await gw.createToken({ name: 'unscoped', endpoint_scopes: null });
    const requests: [string, string, unknown?][] = [
      ['PUT', '/-/user/org.couchdb.user:mallory', { name: 'mallory', password: 'x' }],
      ['PUT', '/-/user/org.couchdb.user:alice/-rev/1', { name: 'alice', password: 'x' }],
      ['DELETE', '/-/user/org.couchdb.user:alice'],
      ['DELETE', '/-/user/token/abc'],
      ['GET', '/-/npm/v1/tokens'],
      ['POST', '/-/npm/v1/tokens', { password: 'x', readonly: false }],
      ['DELETE', '/-/npm/v1/tokens/token/abc'],
      ['POST', '/-/v1/login', {}],
    ];
    for (const credential of [undefined, full, unscoped, gw.registry.credential('alice')]) {
      for (const [method, path, body] of requests) {
        const headers = credential === undefined ? JSON_HEADERS : { ...JSON_HEADERS, authorization: credential.startsWith('sg_') ? `Bearer ${credential}` : credential };
        const res = await send(method, path, headers, body);
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.deepEqual(res.json, npmError(`scopegate does not forward ${method} ${path}: no route in its table matches, and unmatched requests are denied`));
        assert.deepEqual(res.seen, [], `${method} ${path} reached Verdaccio`);
      }
    }
  });

  test('a user document (what npm owner add / rm reads first) is a read: forwarded with the token\'s credential, or anonymously without a token', async () => {
    const { token: reader } = await gw.createToken({ name: 'reader', endpoint_scopes: ['read'] });
    const mark = gw.registry.requests.length;
    const read = await send('GET', '/-/user/org.couchdb.user:bob', bearer(reader));
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.deepEqual(read.json, { ok: 'you are authenticated as \'alice\'' });
    const anonymous = await send('GET', '/-/user/org.couchdb.user:bob', JSON_HEADERS);
    assert.equal(anonymous.status, 200, JSON.stringify(anonymous.json));
    const [withToken, without] = gw.registry.requests.slice(mark);
    assert.deepEqual([withToken?.url, withToken?.headers.authorization], ['/-/user/org.couchdb.user:bob', gw.registry.credential('alice')]);
    assert.deepEqual([without?.url, without?.headers.authorization], ['/-/user/org.couchdb.user:bob', undefined]);
    assert.equal(gw.logLines().filter((l) => l['req.path'] === '/-/user/org.couchdb.user:bob' && l['route.id'] === 'user').length, 2);
  });

  test('a write without a token is a 401 without WWW-Authenticate, so npm prints the message', async () => {
    const res = await send('PUT', '/anything', JSON_HEADERS, npmPublishBody('anything', '1.0.0'));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.deepEqual(res.json, npmError(`this request needs a scopegate token in the Authorization header; create one at ${gw.url}/tokens`));
    assert.deepEqual(res.seen, []);
  });

  test('an invalid package name in a write path gets npm\'s naming rule', async () => {
    const res = await rawRequest(gw.port, 'DELETE', '/Left-Pad/-rev/1-a', { authorization: `Bearer ${full}` });
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.text), npmError('`Left-Pad` is not a valid npm package name: use lower-case letters, digits, `-`, `.` or `_` (not first), at most 214 characters, optionally as `@scope/name`'));
  });

  test('a registry credential that is not a scopegate token passes unchanged (legacy_tokens: pass)', async () => {
    const jwt = gw.registry.credential('alice');
    const mark = gw.registry.requests.length;
    const res = await send('PUT', '/legacy-pass', { ...JSON_HEADERS, authorization: jwt }, npmPublishBody('legacy-pass', '1.0.0'));
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal(gw.registry.requests.slice(mark).find((r) => r.method === 'PUT')?.headers.authorization, jwt);
  });

  test('no request Verdaccio received in this file carried a scopegate token', () => {
    for (const r of gw.registry.requests) assert.ok(!JSON.stringify(r.headers).includes('sg_'), `${r.method} ${r.url}`);
  });
});

describe('the token API checks patterns by npm\'s rules', () => {
  test('npm patterns are accepted; invalid ones get `invalid package scope`', async () => {
    for (const good of [['*'], ['@acme/*'], ['@acme/web*'], ['left-pad'], ['lodash.*'], ['my_pkg']]) {
      const res = await send('PUT', '/api/v1/me/tokens', { ...JSON_HEADERS, authorization: gw.registry.credential('alice') }, { api_token: { name: 'p', crate_scopes: good } });
      assert.equal(res.status, 200, `${JSON.stringify(good)}: ${JSON.stringify(res.json)}`);
      assert.deepEqual(res.json.api_token.crate_scopes, good);
    }
    const rows: [unknown, string][] = [
      ['@ac*', '`@ac*`'],
      ['Left-Pad', '`Left-Pad`'],
      ['', '``'],
      [5, '5'],
    ];
    for (const [pattern, shown] of rows) {
      const res = await send('PUT', '/api/v1/me/tokens', { ...JSON_HEADERS, authorization: gw.registry.credential('alice') }, { api_token: { name: 'p', crate_scopes: ['@acme/*', pattern] } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.json, npmError(`invalid package scope ${shown}: use \`*\`, a package name, \`name*\`, \`@scope/*\` or \`@scope/name*\` (npm package names are lower-case)`));
    }
  });

  test('the account is the login Verdaccio\'s /-/whoami gives for the credential', async () => {
    const { id } = await gw.createToken({ name: 'bob-token' }, gw.registry.credential('bob'));
    assert.equal((await gw.store.findById(id))?.account, 'bob');
  });

  test('a credential Verdaccio does not know (it answers whoami as anonymous) is refused, not retried', async () => {
    const res = await send('PUT', '/api/v1/me/tokens', { ...JSON_HEADERS, authorization: 'Bearer not-a-verdaccio-token' }, { api_token: { name: 'x' } });
    assert.equal(res.status, 403);
    assert.deepEqual(res.json, npmError('the registry did not accept this credential (its identity check answered 200 without a login); use a credential the registry itself accepts'));
  });
});

describe('npm logout (DELETE /-/user/token/<token>)', () => {
  test('names a token other than the one it is sent with: refused, and neither token is revoked', async () => {
    const [mine, other] = await Promise.all([
      gw.createToken({ name: 'logout-mine', endpoint_scopes: ['publish-update'], crate_scopes: ['@acme/*'] }),
      gw.createToken({ name: 'logout-other', endpoint_scopes: ['publish-update'], crate_scopes: ['@acme/*'] }),
    ]);
    const refused = await send('DELETE', `/-/user/token/${other.token}`, bearer(mine.token));
    assert.deepEqual([refused.status, refused.json], [400, npmError('this logout names another token than the one it was sent with, so nothing was revoked; log out with the token itself')]);
    assert.deepEqual(refused.seen, []);
    for (const t of [mine, other]) assert.equal((await gw.store.findById(t.id))?.revokedAt, null);
  });

  test('with the token it names: revoked at once; a second logout with it, or a malformed one, still succeeds', async () => {
    const { token, id } = await gw.createToken({ name: 'logout', endpoint_scopes: ['publish-update'], crate_scopes: ['@acme/*'] });
    for (let i = 0; i < 2; i++) {
      const out = await send('DELETE', `/-/user/token/${token}`, bearer(token));
      assert.deepEqual([out.status, out.json, out.seen], [200, { ok: 'Logged out' }, []]);
    }
    assert.notEqual((await gw.store.findById(id))?.revokedAt, null);
    const used = await send('PUT', '/-/package/@acme%2fweb/dist-tags/beta', bearer(token), '"1.0.0"');
    assert.deepEqual([used.status, used.json], [403, npmError('authentication failed')]);
    const garbage = `sg_${'x'.repeat(38)}`;
    const malformed = await send('DELETE', `/-/user/token/${garbage}`, bearer(garbage));
    assert.deepEqual([malformed.status, malformed.json, malformed.seen], [200, { ok: 'Logged out' }, []]);
  });
});
