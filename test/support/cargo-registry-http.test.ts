/**
 * HTTP-level behaviour of the test registry that cargo alone cannot exercise: malformed bodies,
 * conditional index requests, exact error bodies, hang mode.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { cargoPublishBody, rawFraming } from './cargo-publish-body.js';
import { startCargoRegistry, type CargoRegistry } from './cargo-registry.js';

const ALICE = 'alice-upstream-token';
const BOB = 'bob-upstream-token';

interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs?: number;
}

/** One request on a fresh connection; `path` is sent byte for byte (no URL normalisation). */
function send(registry: CargoRegistry, method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    // Node frames no body of a DELETE by itself: without a Content-Length the registry would see an
    // empty request and the body bytes as a second, malformed one (answered 400 with no body).
    const length = opts.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(opts.body)) };
    const req = httpRequest({ host: '127.0.0.1', port: registry.port, method, path, headers: { ...length, ...opts.headers }, agent: false });
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.end(opts.body);
  });
}

const json = (r: HttpResult): unknown => JSON.parse(r.body.toString('utf8'));
const errorBody = (detail: string): unknown => ({ errors: [{ detail }] });

describe('test cargo registry over plain HTTP', () => {
  let registry: CargoRegistry;

  before(async () => {
    registry = await startCargoRegistry({ users: { [ALICE]: 'alice', [BOB]: 'bob' } });
  });
  after(() => registry.close());

  const publish = (name: string, vers: string, token = ALICE, crate?: Buffer): Promise<HttpResult> =>
    send(registry, 'PUT', '/api/v1/crates/new', {
      headers: { authorization: token },
      body: cargoPublishBody({ name, vers }, crate),
    });

  it('serves config.json with dl and api pointing at itself and no trailing slash on api', async () => {
    const res = await send(registry, 'GET', '/index/config.json');
    assert.equal(res.status, 200);
    assert.deepEqual(json(res), { dl: `${registry.url}/api/v1/crates`, api: registry.url });
  });

  it('answers 304 to an If-None-Match naming the current ETag, and 200 once the file changes', async () => {
    assert.equal((await publish('etag-crate', '0.1.0')).status, 200);
    const first = await send(registry, 'GET', '/index/et/ag/etag-crate');
    const etag = String(first.headers.etag);
    assert.equal(first.status, 200);

    const cached = await send(registry, 'GET', '/index/et/ag/etag-crate', { headers: { 'if-none-match': etag } });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);

    assert.equal((await publish('etag-crate', '0.2.0')).status, 200);
    const changed = await send(registry, 'GET', '/index/et/ag/etag-crate', { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.toString().trim().split('\n').length, 2);
  });

  it('dates index files and config.json with Last-Modified and answers If-Modified-Since, unless If-None-Match is there', async () => {
    assert.equal((await publish('dated-crate', '0.1.0')).status, 200);
    const first = await send(registry, 'GET', '/index/da/te/dated-crate');
    const lastModified = String(first.headers['last-modified']);
    assert.equal(first.status, 200);
    assert.equal(new Date(lastModified).toUTCString(), lastModified, 'an HTTP date');
    const config = await send(registry, 'GET', '/index/config.json');
    assert.equal((await send(registry, 'GET', '/index/config.json', { headers: { 'if-modified-since': String(config.headers['last-modified']) } })).status, 304);

    const since = (date: string, extra: Record<string, string> = {}): Promise<HttpResult> =>
      send(registry, 'GET', '/index/da/te/dated-crate', { headers: { 'if-modified-since': date, ...extra } });
    const unchanged = await since(lastModified);
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.headers['last-modified'], lastModified);
    assert.equal((await since(new Date(Date.parse(lastModified) - 1000).toUTCString())).status, 200);
    assert.equal((await since('not a date')).status, 200);
    assert.equal((await since(lastModified, { 'if-none-match': '"other"' })).status, 200, 'If-None-Match decides when both are sent');

    assert.equal((await publish('dated-crate', '0.2.0')).status, 200);
    const changed = await since(lastModified);
    assert.equal(changed.status, 200, 'a write in the same second still moves Last-Modified on');
    assert.ok(Date.parse(String(changed.headers['last-modified'])) > Date.parse(lastModified));
    assert.equal(changed.body.toString().trim().split('\n').length, 2);
  });

  it("places index files at cargo's make_dep_path locations under the lower-cased name", async () => {
    for (const name of ['a', 'ab', 'abc', 'Abcd_E']) assert.equal((await publish(name, '1.0.0')).status, 200);
    for (const path of ['1/a', '2/ab', '3/a/abc', 'ab/cd/abcd_e']) {
      assert.equal((await send(registry, 'GET', `/index/${path}`)).status, 200, path);
    }
    assert.equal((await send(registry, 'GET', '/index/ab/cd/Abcd_E')).status, 404);
    assert.equal(registry.indexLines('abcd-e')[0]?.name, 'Abcd_E');
  });

  it('writes index lines as crates.io does: extended features in features2 with v 2, keys sorted, no null links, no v otherwise', async () => {
    const crate = Buffer.from('crate bytes');
    const cksum = createHash('sha256').update(crate).digest('hex');
    assert.equal((await publish('line-plain', '1.0.0', ALICE, crate)).status, 200);
    assert.equal((await send(registry, 'GET', '/index/li/ne/line-plain')).body.toString(),
      `{"name":"line-plain","vers":"1.0.0","deps":[],"cksum":"${cksum}","features":{},"yanked":false}\n`);

    const features = { std: [], derive: ['dep:serde_derive'], weak: ['serde?/std'], both: ['std', 'dep:log'] };
    const body = cargoPublishBody({ name: 'line-rich', vers: '1.0.0', features, links: 'z', rust_version: '1.70' }, crate);
    assert.equal((await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body })).status, 200);
    assert.equal((await send(registry, 'GET', '/index/li/ne/line-rich')).body.toString(),
      `{"name":"line-rich","vers":"1.0.0","deps":[],"cksum":"${cksum}","features":{"std":[]},` +
      '"features2":{"both":["std","dep:log"],"derive":["dep:serde_derive"],"weak":["serde?/std"]},"yanked":false,"links":"z","rust_version":"1.70","v":2}\n');
  });

  it('refuses malformed publish bodies with 400 invalid upload request, before checking authentication', async () => {
    const good = cargoPublishBody({ name: 'framing-crate', vers: '1.0.0' });
    const cases: Array<[string, Buffer]> = [
      ['a body shorter than the first length prefix', Buffer.from([1, 0])],
      ['a truncated body', good.subarray(0, good.length - 1)],
      ['a trailing extra byte', Buffer.concat([good, Buffer.from([0])])],
      ['a metadata length beyond the body', rawFraming(Buffer.from('{}'), Buffer.alloc(0)).fill(0xff, 0, 4)],
      ['metadata that is not JSON', rawFraming(Buffer.from('{nope'), Buffer.from('x'))],
      ['a name that is not a string', rawFraming(Buffer.from('{"name":1,"vers":"1.0.0"}'), Buffer.from('x'))],
    ];
    for (const [label, body] of cases) {
      const res = await send(registry, 'PUT', '/api/v1/crates/new', { body });
      assert.equal(res.status, 400, label);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/, label);
      const detail = (json(res) as { errors: Array<{ detail: string }> }).errors[0]?.detail;
      assert.match(detail ?? '', /^invalid upload request: /, label);
    }
    assert.equal(registry.crateExists('framing-crate'), false);
  });

  it('refuses an invalid crate name or version with crates.io\'s wording, before checking authentication', async () => {
    const cases: Array<[string, string, string]> = [
      ['1bad', '1.0.0', 'the name `1bad` cannot be used as a crate name, the name cannot start with a digit'],
      ['_bad', '1.0.0', 'invalid character `_` in crate name: `_bad`, the first character must be an ASCII character'],
      ['bad+name', '1.0.0', 'invalid character `+` in crate name: `bad+name`, characters must be an ASCII alphanumeric characters, `-`, or `_`'],
      ['a'.repeat(65), '1.0.0', `the crate name \`${'a'.repeat(65)}\` is too long (max 64 characters)`],
      ['', '1.0.0', 'crate name cannot be empty'],
      ['good-name', '1.0', '"1.0" is an invalid semver version'],
    ];
    for (const [name, vers, detail] of cases) {
      const res = await send(registry, 'PUT', '/api/v1/crates/new', { body: cargoPublishBody({ name, vers }) });
      assert.equal(res.status, 400, name);
      assert.deepEqual(json(res), errorBody(detail), name);
    }
    assert.equal(registry.crateExists('good-name'), false);
  });

  it('refuses a package without a description or a license after authenticating, as crates.io does', async () => {
    const missing = (fields: string): string => `missing or empty metadata fields: ${fields}. Please see https://doc.rust-lang.org/cargo/reference/manifest.html for more information on configuring these fields`;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['no description', { description: null }, missing('description')],
      ['an empty description and no license', { description: '', license: null }, missing('description, license')],
      ['an empty license', { license: '' }, missing('license')],
      ['a description of 1001 bytes', { description: `${'é'.repeat(500)}x` }, 'The `description` is too long. A maximum of 1000 characters are currently allowed.'],
    ];
    for (const [label, fields, detail] of cases) {
      const body = cargoPublishBody({ name: 'bare-crate', vers: '1.0.0', ...fields });
      const anonymous = await send(registry, 'PUT', '/api/v1/crates/new', { body });
      assert.equal(anonymous.status, 403, `${label}: authentication comes first`);
      const res = await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body });
      assert.equal(res.status, 400, label);
      assert.deepEqual(json(res), errorBody(detail), label);
    }
    assert.equal(registry.crateExists('bare-crate'), false);
    const licenseFile = cargoPublishBody({ name: 'bare-crate', vers: '1.0.0', license: null, license_file: 'LICENSE' });
    assert.equal((await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: licenseFile })).status, 200);
  });

  it('takes a package without description or license with requireMetadata: false, as a private registry may', async () => {
    const lax = await startCargoRegistry({ users: { [ALICE]: 'alice' }, requireMetadata: false });
    try {
      const body = cargoPublishBody({ name: 'bare-crate', vers: '1.0.0', description: null, license: null });
      assert.equal((await send(lax, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body })).status, 200);
      assert.equal(lax.crateExists('bare-crate'), true);
    } finally {
      await lax.close();
    }
  });

  it('refuses a struct field given twice as crates.io (serde) does, and keeps the last copy of a map key', async () => {
    const body = cargoPublishBody({ name: 'dup-field', vers: '1.0.0' });
    const meta = body.subarray(4, 4 + body.readUInt32LE(0)).toString('utf8');
    const upload = (text: string): Promise<HttpResult> => send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: rawFraming(Buffer.from(text), Buffer.from('crate')) });
    const cases: Array<[string, string, string]> = [
      ['a second name', `${meta.slice(0, -1)},"name":"other"}`, `duplicate field \`name\` at line 1 column ${meta.length + 6}`],
      ['a name before the real one', `{"name":"other",${meta.slice(1)}`, 'duplicate field `name` at line 1 column 22'],
      ['an escaped name', `{"na\\u006de":"other",${meta.slice(1)}`, 'duplicate field `name` at line 1 column 27'],
      ['a dependency field', meta.replace('"deps":[]', '"deps":[{"name":"a","version_req":"^1","name":"b"}]'), 'duplicate field `name` at line 1 column 80'],
    ];
    for (const [label, text, detail] of cases) {
      const res = await upload(text);
      assert.equal(res.status, 400, label);
      assert.deepEqual(json(res), errorBody(`invalid upload request: ${detail}`), label);
    }
    assert.equal(registry.crateExists('dup-field'), false);
    assert.equal(registry.crateExists('other'), false);
    const res = await upload(meta.replace('"features":{}', '"features":{"std":["x"],"std":[]}'));
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(registry.indexLines('dup-field')[0]?.features, { std: [] });
  });

  it('answers authentication failures with crates.io\'s statuses and wording: 403 without a token or for an unknown cio token, 401 for a malformed header', async () => {
    const formatError = 'The given API token does not match the format used by crates.io. Tokens generated before 2020-07-14 were generated with an insecure random number generator, and have been revoked. You can generate a new token at https://crates.io/me. For more information please see https://blog.rust-lang.org/2020/07/14/crates-io-security-advisory.html. We apologize for any inconvenience.';
    const cases: Array<[string, string | undefined, number, string]> = [
      ['no Authorization header', undefined, 403, 'this action requires authentication'],
      ['an unknown token in crates.io\'s format', 'cio0123456789abcdefghijABCDEFGHIJ01', 403, 'authentication failed'],
      ['an unknown Bearer token in crates.io\'s format', 'Bearer cio0123456789abcdefghijABCDEFGHIJ01', 403, 'authentication failed'],
      ['a token not in crates.io\'s format', 'nope', 401, formatError],
      ['an empty header', '', 401, formatError],
      ['an unknown scheme', `Token ${ALICE}`, 401, 'Invalid `Authorization` header: Found unexpected authentication scheme `Token`'],
      ['Basic credentials', 'Basic YWxpY2U6cHc=', 401, 'Invalid `Authorization` header: Found unexpected authentication scheme `Basic`'],
      ['a non-ASCII header', `${ALICE}\u00e9`, 401, 'Invalid `Authorization` header: Found unexpected non-ASCII characters'],
    ];
    for (const [label, authorization, status, detail] of cases) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const res = await send(registry, 'GET', '/api/v1/me', { headers });
      assert.equal(res.status, status, label);
      assert.deepEqual(json(res), errorBody(detail), label);
    }
  });

  it('refuses a version that is already uploaded, ignoring build metadata', async () => {
    assert.equal((await publish('dup-crate', '1.0.0')).status, 200);
    const res = await publish('dup-crate', '1.0.0+other');
    assert.equal(res.status, 400);
    assert.deepEqual(json(res), errorBody('crate version `1.0.0+other` is already uploaded'));
  });

  it('answers yank of an unknown crate or version with 404 even without a token', async () => {
    const noCrate = await send(registry, 'DELETE', '/api/v1/crates/no-such/1.0.0/yank');
    assert.equal(noCrate.status, 404);
    assert.deepEqual(json(noCrate), errorBody('crate `no-such` does not exist'));

    assert.equal((await publish('yank-crate', '1.0.0')).status, 200);
    const noVersion = await send(registry, 'DELETE', '/api/v1/crates/yank-crate/9.9.9/yank');
    assert.equal(noVersion.status, 404);
    assert.deepEqual(json(noVersion), errorBody('crate `yank-crate` does not have a version `9.9.9`'));
  });

  it('refuses a yank or unyank whose version is not semver with 400, before looking anything up, as crates.io\'s path extractor does', async () => {
    for (const [method, path] of [['DELETE', '/api/v1/crates/no-such/1.0/yank'], ['PUT', '/api/v1/crates/no-such/v1.0.0/unyank']] as const) {
      const res = await send(registry, method, path);
      assert.equal(res.status, 400, path);
      assert.match((json(res) as { errors: Array<{ detail: string }> }).errors[0]?.detail ?? '', /^Invalid URL: /, path);
    }
  });

  it('answers a repeated yank or unyank ok and leaves the index file as it was, as crates.io does', async () => {
    assert.equal((await publish('idem-crate', '1.0.0')).status, 200);
    const call = (method: string, action: string): Promise<HttpResult> =>
      send(registry, method, `/api/v1/crates/idem-crate/1.0.0/${action}`, { headers: { authorization: ALICE } });
    const file = (): Promise<HttpResult> => send(registry, 'GET', '/index/id/em/idem-crate');

    const live = String((await file()).headers['last-modified']);
    const unyanked = await call('PUT', 'unyank');
    assert.deepEqual([unyanked.status, json(unyanked)], [200, { ok: true }]);
    assert.equal((await file()).headers['last-modified'], live, 'unyanking a live version wrote the index');

    assert.deepEqual(json(await call('DELETE', 'yank')), { ok: true });
    const yanked = String((await file()).headers['last-modified']);
    assert.notEqual(yanked, live);
    const again = await call('DELETE', 'yank');
    assert.deepEqual([again.status, json(again)], [200, { ok: true }]);
    assert.equal((await file()).headers['last-modified'], yanked, 'yanking a yanked version wrote the index');
    assert.equal(registry.indexLines('idem-crate')[0]?.yanked, true);
  });

  it('refuses to remove the last owner of a crate', async () => {
    assert.equal((await publish('lonely-crate', '1.0.0')).status, 200);
    const res = await send(registry, 'DELETE', '/api/v1/crates/lonely-crate/owners', {
      headers: { authorization: ALICE, 'content-type': 'application/json' },
      body: '{"users":["alice"]}',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(json(res), errorBody("cannot remove all individual owners of a crate. Team member don't have permission to modify owners, so at least one individual owner is required."));
    assert.deepEqual(registry.owners('lonely-crate'), ['alice']);
  });

  it('invites added owners as crates.io does, and refuses an existing owner or more than ten logins', async () => {
    assert.equal((await publish('invite-crate', '1.0.0')).status, 200);
    const owners = (method: string, body: string): Promise<HttpResult> =>
      send(registry, method, '/api/v1/crates/invite-crate/owners', { headers: { authorization: ALICE, 'content-type': 'application/json' }, body });

    const invited = await owners('PUT', '{"users":["BOB"]}');
    assert.equal(invited.status, 200);
    assert.deepEqual(json(invited), { ok: true, msg: 'user bob has been invited to be an owner of crate invite-crate' });
    assert.deepEqual(registry.owners('invite-crate'), ['alice']);
    const pending = await owners('PUT', '{"owners":["bob"]}');
    assert.deepEqual(json(pending), { ok: true, msg: 'user bob already has a pending invitation to be an owner of crate invite-crate' });

    const self = await owners('PUT', '{"users":["alice"]}');
    assert.equal(self.status, 400);
    assert.deepEqual(json(self), errorBody('`alice` is already an owner'));
    const many = await owners('PUT', JSON.stringify({ users: Array.from({ length: 11 }, () => 'bob') }));
    assert.equal(many.status, 400);
    assert.deepEqual(json(many), errorBody('too many invites for this request - maximum 10'));

    assert.equal(registry.acceptInvitation('bob', 'Invite_Crate'), true);
    assert.equal(registry.acceptInvitation('bob', 'invite-crate'), false, 'nothing left to accept');
    assert.deepEqual(registry.owners('invite-crate'), ['alice', 'bob']);
  });

  it('refuses to remove a login that is not an owner, as crates.io does, whether or not the user exists', async () => {
    assert.equal((await publish('remove-crate', '1.0.0')).status, 200);
    for (const login of ['bob', 'nobody']) {
      const res = await send(registry, 'DELETE', '/api/v1/crates/remove-crate/owners', {
        headers: { authorization: ALICE, 'content-type': 'application/json' },
        body: JSON.stringify({ users: [login] }),
      });
      assert.equal(res.status, 400, login);
      assert.deepEqual(json(res), errorBody(`could not find owner with login \`${login}\``), login);
    }
    assert.deepEqual(registry.owners('remove-crate'), ['alice']);
  });

  it('takes an owners body only as crates.io\'s JSON extractor does: application/json, then JSON, then {"owners"|"users":[…]}', async () => {
    assert.equal((await publish('body-crate', '1.0.0')).status, 200);
    const change = (method: string, contentType: string | undefined, body: string): Promise<HttpResult> =>
      send(registry, method, '/api/v1/crates/body-crate/owners', { headers: { authorization: ALICE, ...(contentType === undefined ? {} : { 'content-type': contentType }) }, body });
    const cases: Array<[string, string, string | undefined, string, number, RegExp]> = [
      ['no Content-Type', 'PUT', undefined, '{"users":["bob"]}', 415, /^Expected request with `Content-Type: application\/json`$/],
      ['text/plain, as fetch() sends a string', 'DELETE', 'text/plain;charset=UTF-8', '{"users":["bob"]}', 415, /^Expected request with `Content-Type: application\/json`$/],
      ['not JSON', 'PUT', 'application/json', '{"users":', 400, /^Failed to parse the request body as JSON: /],
      ['no list', 'PUT', 'application/json', '{}', 422, /^Failed to deserialize the JSON body into the target type: missing field `owners`$/],
      ['both spellings', 'PUT', 'application/json', '{"users":["bob"],"owners":["bob"]}', 422, /^Failed to deserialize the JSON body into the target type: duplicate field `owners`$/],
      ['a list of numbers', 'DELETE', 'application/json', '{"owners":[1]}', 422, /^Failed to deserialize the JSON body into the target type: /],
    ];
    for (const [label, method, contentType, body, status, detail] of cases) {
      const res = await change(method, contentType, body);
      assert.equal(res.status, status, label);
      assert.match((json(res) as { errors: Array<{ detail: string }> }).errors[0]?.detail ?? '', detail, label);
    }
    assert.deepEqual(registry.invitations('body-crate'), []);
    const cargoLike = await change('PUT', 'application/json', '{"users":["bob"]}');
    assert.equal(cargoLike.status, 200);
    assert.equal((await change('PUT', 'application/vnd.api+json; charset=utf-8', '{"owners":["bob"]}')).status, 200);
  });

  it('downloads exactly the uploaded .crate bytes', async () => {
    const crate = Buffer.from([0x1f, 0x8b, 0, 1, 2, 3, 255]);
    assert.equal((await publish('dl-crate', '1.0.0', ALICE, crate)).status, 200);
    const res = await send(registry, 'GET', '/api/v1/crates/dl-crate/1.0.0/download');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, crate);
    assert.equal((await send(registry, 'GET', '/api/v1/crates/dl-crate/2.0.0/download')).status, 404);
  });

  it('answers HEAD as GET without a body, on the index, downloads and the API', async () => {
    assert.equal((await publish('head-crate', '1.0.0')).status, 200);
    for (const path of ['/index/config.json', '/index/he/ad/head-crate', '/api/v1/crates/head-crate/1.0.0/download', '/api/v1/crates?q=head', '/api/v1/crates/head-crate/owners']) {
      const get = await send(registry, 'GET', path, { headers: { authorization: ALICE } });
      const head = await send(registry, 'HEAD', path, { headers: { authorization: ALICE } });
      assert.equal(get.status, 200, path);
      assert.equal(head.status, 200, path);
      assert.equal(head.headers['content-length'], String(get.body.length), path);
      assert.equal(head.headers['content-type'], get.headers['content-type'], path);
      assert.equal(head.body.length, 0, path);
    }
    assert.equal((await send(registry, 'HEAD', '/api/v1/crates/head-crate/9.9.9/download')).status, 404);
  });

  it('searches by name with per_page limiting the list but not the total', async () => {
    for (const name of ['findme-one', 'findme-two']) assert.equal((await publish(name, '1.0.0')).status, 200);
    const res = await send(registry, 'GET', '/api/v1/crates?q=findme&per_page=1');
    assert.equal(res.status, 200);
    assert.deepEqual(json(res), {
      crates: [{ name: 'findme-one', max_version: '1.0.0', description: 'a test crate' }],
      meta: { total: 2 },
    });
  });

  it('answers unknown routes, doubled leading slashes and garbage with JSON errors, not crashes', async () => {
    const owners = { authorization: ALICE, 'content-type': 'application/json' };
    const cases: Array<[string, string, RequestOptions, number]> = [
      ['GET', '/nowhere', {}, 404],
      ['PUT', '//api/v1/crates/new', { body: cargoPublishBody({ name: 'x', vers: '1.0.0' }) }, 404],
      ['GET', '/index/no/su/nosuch', {}, 404],
      ['GET', '/api/v1/crates/%E0%A4%A/owners', { headers: owners }, 400],
      ['PUT', '/api/v1/crates/dup-crate/owners', { headers: owners, body: 'not json' }, 400],
      ['PUT', '/api/v1/crates/dup-crate/owners', { headers: owners, body: '{"users":[1]}' }, 422],
    ];
    for (const [method, path, opts, status] of cases) {
      const res = await send(registry, method, path, opts);
      assert.equal(res.status, status, `${method} ${path}`);
      assert.ok(Array.isArray((json(res) as { errors?: unknown }).errors), `${method} ${path}`);
    }
  });

  it('records but never answers requests while hanging', async () => {
    registry.clearRequests();
    registry.setHang(true);
    await assert.rejects(send(registry, 'GET', '/index/config.json', { timeoutMs: 300 }), /timed out/);
    registry.setHang(false);
    assert.deepEqual(registry.requests.map((r) => r.url), ['/index/config.json']);
    assert.equal((await send(registry, 'GET', '/index/config.json')).status, 200);
  });
});

describe('closing the test cargo registry', () => {
  it('returns promptly even with a hung request on an open socket', async () => {
    const registry = await startCargoRegistry();
    registry.setHang(true);
    const pending = send(registry, 'GET', '/index/config.json', { timeoutMs: 10_000 }).catch((err: Error) => err);
    while (registry.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await registry.close();
    assert.ok(Date.now() - started < 1_000);
    assert.ok((await pending) instanceof Error);
  });
});

describe('test cargo registry with its own dl template (wire-facts §1.5)', () => {
  const cksum = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const crate = Buffer.from([0x1f, 0x8b, 9, 8, 7]);
  const start = async (dl: string): Promise<CargoRegistry> => {
    const registry = await startCargoRegistry({ users: { [ALICE]: 'alice' }, dl });
    const published = await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: cargoPublishBody({ name: 'Tmpl_Crate', vers: '1.2.3' }, crate) });
    assert.equal(published.status, 200);
    return registry;
  };

  it('announces the template in config.json and, without markers, serves {dl}/{crate}/{version}/download', async () => {
    const registry = await start('/dl');
    try {
      assert.deepEqual(json(await send(registry, 'GET', '/index/config.json')), { dl: `${registry.url}/dl`, api: registry.url });
      const res = await send(registry, 'GET', '/dl/Tmpl_Crate/1.2.3/download');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, crate);
      assert.equal((await send(registry, 'GET', '/dl/Tmpl_Crate/9.9.9/download')).status, 404);
      assert.equal((await send(registry, 'GET', '/dl/Tmpl_Crate/1.2.3')).status, 404);
      // crates.io's API endpoint stays.
      assert.equal((await send(registry, 'GET', '/api/v1/crates/Tmpl_Crate/1.2.3/download')).status, 200);
    } finally {
      await registry.close();
    }
  });

  it('serves a marker template only at the values cargo fills in: prefix from the name as given, lowerprefix lowered, the checksum', async () => {
    const registry = await start('/files/{prefix}/{lowerprefix}/{crate}-{version}.crate?sum={sha256-checksum}');
    try {
      const ok = `/files/Tm/pl/tm/pl/Tmpl_Crate-1.2.3.crate?sum=${cksum(crate)}`;
      const res = await send(registry, 'GET', ok);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, crate);
      for (const wrong of [
        `/files/tm/pl/tm/pl/Tmpl_Crate-1.2.3.crate?sum=${cksum(crate)}`,
        `/files/Tm/pl/Tm/pl/Tmpl_Crate-1.2.3.crate?sum=${cksum(crate)}`,
        `/files/Tm/pl/tm/pl/Tmpl_Crate-1.2.3.crate?sum=${cksum(Buffer.from('other'))}`,
        '/files/Tm/pl/tm/pl/Tmpl_Crate-1.2.3.crate',
      ]) assert.equal((await send(registry, 'GET', wrong)).status, 404, wrong);
    } finally {
      await registry.close();
    }
  });
});

describe('test cargo registry with an index lag (indexLagMs), as crates.io writes its index after answering', () => {
  const LAG_MS = 300;
  const lines = async (registry: CargoRegistry, path: string): Promise<number | string> => {
    const res = await send(registry, 'GET', path);
    return res.status === 200 ? res.body.toString().trim().split('\n').length : res.status;
  };

  it('shows a publish or a yank in the index only after the lag, while the API knows it at once', async () => {
    const registry = await startCargoRegistry({ users: { [ALICE]: 'alice' }, indexLagMs: LAG_MS });
    try {
      const publish = (vers: string): Promise<HttpResult> =>
        send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: cargoPublishBody({ name: 'lagging', vers }) });
      assert.equal((await publish('0.1.0')).status, 200);
      assert.equal(await lines(registry, '/index/la/gg/lagging'), 404, 'a new crate has no index file during the lag');
      const owners = await send(registry, 'GET', '/api/v1/crates/lagging/owners', { headers: { authorization: ALICE } });
      assert.equal(owners.status, 200, 'the API knows the crate at once');
      assert.equal((await send(registry, 'GET', '/api/v1/crates/lagging/0.1.0/download')).status, 200);
      const again = await publish('0.1.0');
      assert.deepEqual(json(again), errorBody('crate version `0.1.0` is already uploaded'));
      await new Promise((r) => setTimeout(r, LAG_MS + 50));
      assert.equal(await lines(registry, '/index/la/gg/lagging'), 1);

      assert.equal((await publish('0.2.0')).status, 200);
      assert.equal(await lines(registry, '/index/la/gg/lagging'), 1, 'the new version is not in the index yet');
      assert.equal((await send(registry, 'DELETE', '/api/v1/crates/lagging/0.1.0/yank', { headers: { authorization: ALICE } })).status, 200);
      await new Promise((r) => setTimeout(r, LAG_MS + 50));
      const index = (await send(registry, 'GET', '/index/la/gg/lagging')).body.toString().trim().split('\n').map((l) => JSON.parse(l) as { vers: string; yanked: boolean });
      assert.deepEqual(index.map((l) => [l.vers, l.yanked]), [['0.1.0', true], ['0.2.0', false]]);
    } finally {
      await registry.close();
    }
  });
});

describe('test cargo registry with crates.io\'s adjust-all status codes (cratesio-tokens §7)', () => {
  let registry: CargoRegistry;
  before(async () => {
    registry = await startCargoRegistry({ users: { [ALICE]: 'alice' }, statusCodes: 'adjust-all' });
  });
  after(() => registry.close());

  it('answers a refused publish 200 with the errors body, and leaves yank and owners errors alone', async () => {
    const refused = await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: cargoPublishBody({ name: 'adjusted', vers: '1.0' }) });
    assert.equal(refused.status, 200);
    assert.deepEqual(JSON.parse(refused.body.toString()), { errors: [{ detail: '"1.0" is an invalid semver version' }] });
    const unknown = await send(registry, 'DELETE', '/api/v1/crates/adjusted/1.0.0/yank', { headers: { authorization: ALICE } });
    assert.equal(unknown.status, 404);
    const published = await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: cargoPublishBody({ name: 'adjusted', vers: '1.0.0' }) });
    assert.equal(published.status, 200);
    assert.equal(registry.crateExists('adjusted'), true);
  });
});

describe('test cargo registry that adds owners at once (ownerInvitations: false)', () => {
  it('answers cargo owner --add with the owner added, no invitation to accept', async () => {
    const registry = await startCargoRegistry({ users: { [ALICE]: 'alice', [BOB]: 'bob' }, ownerInvitations: false });
    try {
      const published = await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: cargoPublishBody({ name: 'at-once', vers: '1.0.0' }) });
      assert.equal(published.status, 200);
      const added = await send(registry, 'PUT', '/api/v1/crates/at-once/owners', { headers: { authorization: ALICE, 'content-type': 'application/json' }, body: '{"users":["bob"]}' });
      assert.deepEqual(json(added), { ok: true, msg: 'user bob has been added as an owner of crate at-once' });
      assert.deepEqual(registry.owners('at-once'), ['alice', 'bob']);
      assert.deepEqual(registry.invitations('at-once'), []);
    } finally {
      await registry.close();
    }
  });
});

describe('test cargo registry with a static host for downloads (cdn), as crates.io serves them', () => {
  it('announces the static host as dl, redirects the API download there, and serves the .crate by its exact key', async () => {
    const registry = await startCargoRegistry({ users: { [ALICE]: 'alice' }, cdn: true });
    try {
      const crate = Buffer.from([0x1f, 0x8b, 4, 2]);
      const published = await send(registry, 'PUT', '/api/v1/crates/new', { headers: { authorization: ALICE }, body: cargoPublishBody({ name: 'Cdn_Crate', vers: '1.0.0+b1' }, crate) });
      assert.equal(published.status, 200);
      const cdn = registry.cdn!;
      assert.deepEqual(json(await send(registry, 'GET', '/index/config.json')), { dl: `${cdn.url}/crates`, api: registry.url });

      const redirect = await send(registry, 'GET', '/api/v1/crates/Cdn_Crate/1.0.0+b1/download');
      assert.equal(redirect.status, 302);
      const location = String(redirect.headers.location);
      assert.equal(location, `${cdn.url}/crates/Cdn_Crate/Cdn_Crate-1.0.0%2Bb1.crate`);
      const cdnPort = Number(new URL(cdn.url).port);
      const fetchCdn = (path: string): Promise<HttpResult> => send({ ...registry, port: cdnPort }, 'GET', path);
      for (const path of [location.slice(cdn.url.length), '/crates/Cdn_Crate/1.0.0+b1/download']) {
        const res = await fetchCdn(path);
        assert.equal(res.status, 200, path);
        assert.deepEqual(res.body, crate, path);
      }
      assert.equal((await send(registry, 'GET', '/api/v1/crates/no-such/9.9.9/download')).status, 302, 'not looked up');
      assert.equal((await fetchCdn('/crates/cdn-crate/cdn-crate-1.0.0+b1.crate')).status, 404, 'keys are exact');
      assert.equal((await fetchCdn('/crates/no-such/9.9.9/download')).status, 404);
      assert.equal(cdn.requests.length, 4);
      assert.ok(registry.requests.every((r) => !r.url.startsWith('/crates/')), 'the static host has its own requests');
    } finally {
      await registry.close();
    }
  });
});
