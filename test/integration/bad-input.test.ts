/**
 * Bad input gets a clear error and nothing is forwarded: malformed tokens, paths, publish bodies.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { cargoPublishBody, rawFraming } from '../support/cargo-publish-body.js';
import { cargoError, rawRequest, startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let yankToken: string;
let publishToken: string;

before(async () => {
  gw = await startGateway();
  yankToken = (await gw.createToken({ name: 'yank', endpoint_scopes: ['yank'] })).token;
  publishToken = (await gw.createToken({ name: 'publish', endpoint_scopes: ['publish-new', 'publish-update'] })).token;
});
after(() => gw.close());

/** Sends a request and asserts the exact error and that the upstream saw nothing. */
async function expectRefused(method: string, path: string, headers: Record<string, string>, status: number, detail: string, body?: Buffer | string): Promise<void> {
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, method, path, headers, body);
  assert.equal(res.status, status, res.text);
  assert.deepEqual(JSON.parse(res.text), cargoError(detail));
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(gw.registry.requests, [], 'the upstream received a refused request');
}

const tokensUrl = (): string => `${gw.url}/tokens`;

test('a token with a wrong checksum is refused as malformed, naming the checksum', async () => {
  const typo = yankToken.slice(0, 10) + (yankToken[10] === 'a' ? 'b' : 'a') + yankToken.slice(11);
  await expectRefused('DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: typo }, 401,
    `the token in the Authorization header is malformed: its checksum does not match (a character was changed or lost when it was copied); copy it again, or create a new one at ${tokensUrl()}`);
});

test('a truncated token is refused with its expected length', async () => {
  await expectRefused('DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: yankToken.slice(0, 30) }, 401,
    `the token in the Authorization header is malformed: a sg_ token is 41 characters long, this one is 30; copy it again, or create a new one at ${tokensUrl()}`);
});

test('a token wrapped in something else is refused as malformed, and never passed upstream as a legacy credential', async () => {
  for (const authorization of [`Bearer Bearer ${yankToken}`, `"${yankToken}"`, `Basic ${Buffer.from(`alice:${yankToken}`).toString('base64')}`]) {
    await expectRefused('DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization }, 401,
      `the token in the Authorization header is malformed: the scopegate token in it is wrapped in something else: send the token alone or as \`Bearer <token>\`; copy it again, or create a new one at ${tokensUrl()}`);
    // A public read reads anonymously instead, as with any bad token: the wrapped token stays here.
    gw.registry.clearRequests();
    assert.equal((await rawRequest(gw.port, 'GET', '/index/3/f/foo', { authorization })).status, 404);
    assert.equal(gw.registry.requests[0]!.headers.authorization, undefined);
  }
});

test('a well-formed token that was never issued gets authentication failed', async () => {
  const { formatToken } = await import('../../src/core/token-format.js');
  await expectRefused('DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: formatToken('sg_', 'A'.repeat(32)) }, 403, 'authentication failed');
});

test('a write without any token is refused with where to get one', async () => {
  await expectRefused('DELETE', '/api/v1/crates/foo/1.0.0/yank', {}, 401,
    `this request needs a scopegate token in the Authorization header; create one at ${tokensUrl()}`);
});

test('a revoked token gets authentication failed, the same as an unknown one', async () => {
  const { token } = await gw.createToken({ name: 'leaked', endpoint_scopes: ['yank'] });
  const revoke = await rawRequest(gw.port, 'DELETE', '/api/v1/tokens/current', { authorization: token });
  assert.equal(revoke.status, 204);
  await expectRefused('DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: token }, 403, 'authentication failed');
});

test('`..` segments, encoded or not, are refused', async () => {
  for (const path of ['/api/v1/crates/../../admin', '/index/%2e%2e/secret', '/api/v1/crates/foo/./1.0.0/yank']) {
    await expectRefused('DELETE', path, { authorization: yankToken }, 400, 'the request path is invalid: `.` and `..` segments are not allowed');
  }
});

test('encoded slashes are refused rather than guessed at', async () => {
  await expectRefused('DELETE', '/api/v1/crates/foo%2Fbar/1.0.0/yank', { authorization: yankToken }, 400,
    'the request path is invalid: encoded `/` or `\\` (%2F, %5C) is not allowed in a path segment');
});

test('non-ASCII and invalid crate names in the path are refused with the naming rule', async () => {
  await expectRefused('DELETE', '/api/v1/crates/s%C3%A9rde/1.0.0/yank', { authorization: yankToken }, 400,
    'the request path is invalid: `s%C3%A9rde` decodes to non-ASCII or control characters');
  await expectRefused('DELETE', '/api/v1/crates/1serde/1.0.0/yank', { authorization: yankToken }, 400,
    '`1serde` is not a valid crate name: use 1 to 64 ASCII letters, digits, `-` or `_`, starting with a letter');
});

test('percent-encoded letters in a route literal or a crate name are judged as the decoded path, the one forwarded', async () => {
  const { token } = await gw.createToken({ name: 'yank-allowed', endpoint_scopes: ['yank'], crate_scopes: ['allowed*'] });
  for (const path of ['/api/v1/crates/foo/1.0.0/%79ank', '/api/v1/crates/fo%6F/1.0.0/yank', '/api/v1/crates/%46OO/1.0.0/%79%61%6E%6B']) {
    const crate = path.includes('%46OO') ? 'FOO' : 'foo';
    await expectRefused('DELETE', path, { authorization: token }, 403, `this token may only act on crates matching \`allowed*\`; \`${crate}\` is not one of them`);
  }
});

test('a route not in the table is denied and not forwarded', async () => {
  await expectRefused('DELETE', '/api/v1/crates/foo', { authorization: yankToken }, 404,
    'scopegate does not forward DELETE /api/v1/crates/foo: no route in its table matches, and unmatched requests are denied');
});

test('a token pasted into an unrouted path is not echoed back in the refusal (the client prints it)', async () => {
  for (const path of [`/api/v1/tokens/${yankToken}`, `/index-${yankToken}/config.json`]) {
    const res = await rawRequest(gw.port, 'GET', path);
    assert.equal(res.status, 404);
    assert.ok(!res.text.includes(yankToken), `the refusal echoes the token: ${res.text}`);
    assert.deepEqual(JSON.parse(res.text), cargoError(`scopegate does not forward GET ${path.replace(yankToken, 'sg_[redacted]')}: no route in its table matches, and unmatched requests are denied`));
  }
});

test('a publish body whose length fields do not add up is refused before forwarding', async () => {
  const good = cargoPublishBody({ name: 'framing', vers: '1.0.0' });
  const bad = Buffer.concat([good, Buffer.from('extra')]);
  bad.writeUInt32LE(good.readUInt32LE(0), 0);
  await expectRefused('PUT', '/api/v1/crates/new', { authorization: publishToken, 'content-length': String(bad.length) }, 400,
    `invalid upload request: the length fields (${good.readUInt32LE(0)} + ${bad.length - 8 - good.readUInt32LE(0) - 5} + 8) do not add up to the body's ${bad.length} bytes`, bad);
});

test('a publish whose metadata is not JSON is refused', async () => {
  const body = rawFraming(Buffer.from('{not json'), Buffer.from('crate'));
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: publishToken, 'content-length': String(body.length) }, body);
  assert.equal(res.status, 400);
  assert.match(JSON.parse(res.text).errors[0].detail, /^invalid upload request: the metadata is not JSON \(/);
  assert.deepEqual(gw.registry.requests, []);
});

test('metadata naming an allowed and a forbidden crate is refused in either order, and the upstream sees nothing', async () => {
  // JSON.parse keeps the last `name`, crates.io refuses the body, another registry may keep the
  // first: a token for `allowed*` must not get `victim` published whichever copy a parser reads.
  const { token } = await gw.createToken({ name: 'allowed-only', endpoint_scopes: ['publish-new', 'publish-update'], crate_scopes: ['allowed*'] });
  const meta = (name: string): string => { const b = cargoPublishBody({ name, vers: '1.0.0' }); return b.subarray(4, 4 + b.readUInt32LE(0)).toString('utf8'); };
  const twoNames = (first: string, second: string, key = 'name'): Buffer => rawFraming(Buffer.from(`{"${key}":"${first}",${meta(second).slice(1)}`), Buffer.from('crate'));
  const refusal = 'invalid upload request: the metadata has the key `name` twice; registries disagree on which copy counts, so scopegate refuses it';
  for (const body of [twoNames('allowed-x', 'victim'), twoNames('victim', 'allowed-x'), twoNames('victim', 'allowed-x', 'na\\u006de')]) {
    await expectRefused('PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(body.length) }, 400, refusal, body);
  }
  const deep = rawFraming(Buffer.from(meta('allowed-x').replace('"deps":[]', '"deps":[{"name":"a","version_req":"^1","name":"b"}]')), Buffer.from('crate'));
  await expectRefused('PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(deep.length) }, 400,
    'invalid upload request: the metadata has the key `name` in `deps[0]` twice; registries disagree on which copy counts, so scopegate refuses it', deep);
  assert.equal(gw.registry.crateExists('victim'), false);
  // The refusal is about the body, not the token: the same token publishes `allowed-x` alone.
  const honest = cargoPublishBody({ name: 'allowed-x', vers: '1.0.0' });
  const res = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(honest.length) }, honest);
  assert.equal(res.status, 200, res.text);
  assert.equal(gw.registry.crateExists('allowed-x'), true);
});

test('a publish whose JSON head is over limits.publish_json_max gets 413', async () => {
  const body = rawFraming(Buffer.alloc(1024 * 1024 + 1, 0x20), Buffer.from('crate'));
  await expectRefused('PUT', '/api/v1/crates/new', { authorization: publishToken, 'content-length': String(body.length) }, 413,
    'JSON metadata blob too large: the limit is 1048576 bytes', body);
});

test('a publish without Content-Length (chunked) is refused, since cargo always sends one', async () => {
  await expectRefused('PUT', '/api/v1/crates/new', { authorization: publishToken, 'transfer-encoding': 'chunked' }, 400,
    'invalid upload request: cargo sends a Content-Length with every publish; this request had none', cargoPublishBody({ name: 'chunky', vers: '1.0.0' }));
});

test('a publish body that ends before its JSON does is refused', async () => {
  const body = cargoPublishBody({ name: 'short', vers: '1.0.0' }).subarray(0, 20);
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: publishToken, 'content-length': '20' }, body);
  assert.equal(res.status, 400);
  assert.deepEqual(gw.registry.requests, []);
});

test('a client that hangs up while its publish head is still arriving is logged as gone, not as an internal error, and nothing is forwarded', async () => {
  gw.registry.clearRequests();
  const lines = gw.logLines().length;
  const body = cargoPublishBody({ name: 'hung-up', vers: '1.0.0' });
  const socket = net.connect(gw.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`PUT /api/v1/crates/new HTTP/1.1\r\nHost: x\r\nAuthorization: ${publishToken}\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body.subarray(0, 12));
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  let written: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && written.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    written = gw.logLines().slice(lines);
  }
  assert.deepEqual(written.map((l) => [l.level, l.msg, l.reason, l.status, l['client.error']]),
    [[30, 'request', 'client-gone', 499, 'the client closed the connection before its request body arrived']]);
  assert.deepEqual(gw.registry.requests, []);
});

test('a large publish sent with Expect: 100-continue streams through, without Expect or the token upstream', async () => {
  const crate = Buffer.alloc(3 * 1024 * 1024, 7);
  const body = cargoPublishBody({ name: 'big-crate', vers: '1.0.0' }, crate);
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: publishToken, 'content-length': String(body.length), expect: '100-continue' }, body);
  assert.equal(res.status, 200, res.text);
  const upload = gw.registry.requests.find((r) => r.method === 'PUT');
  assert.ok(upload);
  assert.equal(upload.headers.expect, undefined);
  assert.equal(upload.headers.authorization, 'alice-upstream-secret');
  assert.ok(upload.body.equals(body), 'the upstream did not receive the original bytes unchanged');
});

test('hop-by-hop headers are not forwarded, and a token on a public read is swapped, never passed on', async () => {
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'GET', '/index/3/f/foo', {
    authorization: yankToken, connection: 'Upgrade, HTTP2-Settings, X-Custom', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA', 'x-custom': '1', te: 'trailers',
  });
  assert.equal(res.status, 404);
  const seen = gw.registry.requests[0]!.headers;
  for (const name of ['upgrade', 'http2-settings', 'x-custom', 'te']) assert.equal(seen[name], undefined, name);
  assert.equal(seen.authorization, 'alice-upstream-secret');
  assert.notEqual(seen.connection, 'Upgrade, HTTP2-Settings, X-Custom');
});

test('a bad or expired token on a public read reads anonymously rather than failing the read', async () => {
  const { token } = await gw.createToken({ name: 'short', endpoint_scopes: ['yank'], expired_at: new Date(Date.now() + 86_400_000).toISOString() });
  gw.setNow(Date.now() + 2 * 86_400_000);
  try {
    for (const authorization of [token, token.slice(0, 20), 'sg_' + 'x'.repeat(38)]) {
      gw.registry.clearRequests();
      const res = await rawRequest(gw.port, 'GET', '/index/3/f/foo', { authorization });
      assert.equal(res.status, 404, res.text);
      assert.equal(gw.registry.requests[0]!.headers.authorization, undefined);
    }
  } finally {
    gw.setNow(null);
  }
});

test('a revoked token on a public read reads anonymously, and the log says it was revoked', async () => {
  const { token, id } = await gw.createToken({ name: 'revoked-reader', endpoint_scopes: ['yank'] });
  assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/tokens/current', { authorization: token })).status, 204);
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'GET', '/index/3/f/foo', { authorization: token });
  assert.equal(res.status, 404, res.text);
  assert.equal(gw.registry.requests.length, 1);
  assert.equal(gw.registry.requests[0]!.headers.authorization, undefined, 'a revoked token\'s credential was used');
  const line = gw.logLines().filter((l) => l['req.path'] === '/index/3/f/foo').at(-1);
  assert.equal(line?.['token.id'], id);
});

test('a leading `//` (cargo with a trailing slash on api) is collapsed before routing', async () => {
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'GET', '//api/v1/crates?q=nothing', {});
  assert.equal(res.status, 200, res.text);
  assert.equal(gw.registry.requests[0]!.url, '/api/v1/crates?q=nothing');
});

test('a publish by an expired or revoked token never probes the upstream for the crate', async () => {
  const inDays = (d: number): string => new Date(Date.now() + d * 86_400_000).toISOString();
  const revoked = (await gw.createToken({ name: 'revoked', endpoint_scopes: ['publish-new'] })).token;
  assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/tokens/current', { authorization: revoked })).status, 204);
  const expiring = (await gw.createToken({ name: 'expiring', endpoint_scopes: ['publish-new'], expired_at: inDays(1) })).token;
  const body = cargoPublishBody({ name: 'unprobed', vers: '1.0.0' });
  for (const [token, now] of [[revoked, null], [expiring, Date.now() + 2 * 86_400_000]] as const) {
    gw.setNow(now);
    gw.registry.clearRequests();
    const res = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(body.length) }, body);
    gw.setNow(null);
    assert.equal(res.status, 403, res.text);
    assert.deepEqual(gw.registry.requests, [], 'the upstream was asked about a crate for a token that is refused anyway');
  }
});
