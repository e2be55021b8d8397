/**
 * The upstream connection is a shared keep-alive socket: a body the gateway forwarded without its
 * framing would be read by the registry as the next request, unchecked, with whatever credential
 * it names, and could swallow the next user's request (credential included) as its body. Every
 * body is therefore forwarded with a length the registry can trust, or refused before anything
 * is forwarded. Raw sockets throughout: a client library would not send these requests.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { cargoError, rawRequest, startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let yankToken: string;
let ownersToken: string;
let publishToken: string;

before(async () => {
  gw = await startGateway();
  yankToken = (await gw.createToken({ name: 'yank', endpoint_scopes: ['yank'] })).token;
  ownersToken = (await gw.createToken({ name: 'owners', endpoint_scopes: ['change-owners'] })).token;
  publishToken = (await gw.createToken({ name: 'publish', endpoint_scopes: ['publish-new'] })).token;
});
after(() => gw.close());

/** A request the registry must never see: it names a route no token was checked for. */
const SMUGGLED = 'PUT /api/v1/crates/victim/1.0.0/unyank HTTP/1.1\r\nHost: registry\r\nAuthorization: attacker-chosen\r\nContent-Length: 0\r\n\r\n';
const chunked = (text: string): string => `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`;

/** Writes raw bytes on a fresh connection; resolves with the first response's status and body. */
function exchange(bytes: string): Promise<{ status: number; body: string; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gw.port, '127.0.0.1');
    let raw = '';
    const done = (): void => {
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
      const head = raw.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(raw.slice(0, head))?.[1] ?? 0);
      resolve({ status, body: raw.slice(head + 4, head + 4 + length), raw });
    };
    socket.on('data', (chunk) => {
      raw += chunk.toString('latin1');
      const head = raw.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(raw.slice(0, Math.max(head, 0)));
      if (head >= 0 && length !== null && raw.length >= head + 4 + Number(length[1])) done();
    });
    socket.on('end', done);
    socket.on('error', reject);
    socket.write(bytes);
  });
}

/** After the exchange under test, one ordinary request: the registry must see it alone, whole. */
async function assertUpstreamSawOnly(expected: readonly string[]): Promise<void> {
  const res = await rawRequest(gw.port, 'GET', '/index/3/f/foo', {});
  assert.equal(res.status, 404, res.text);
  assert.deepEqual(gw.registry.requests.map((r) => `${r.method} ${r.url}`), [...expected, 'GET /index/3/f/foo']);
}

test('a chunked body on a public read (no token) is refused, and the request inside it never reaches the registry', async () => {
  gw.registry.clearRequests();
  const res = await exchange(`GET /index/3/f/foo HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(SMUGGLED)}`);
  assert.equal(res.status, 400, res.raw);
  assert.deepEqual(JSON.parse(res.body), cargoError('the request body cannot be forwarded as sent: a GET request has no body here; send it without one'));
  await assertUpstreamSawOnly([]);
});

test('a chunked body on an allowed DELETE is refused (the proxy would frame it as empty)', async () => {
  gw.registry.clearRequests();
  const res = await exchange(`DELETE /api/v1/crates/foo/1.0.0/yank HTTP/1.1\r\nHost: gw\r\nAuthorization: ${yankToken}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(SMUGGLED)}`);
  assert.equal(res.status, 400, res.raw);
  assert.deepEqual(JSON.parse(res.body), cargoError('the request body cannot be forwarded as sent: a DELETE body must be sent with Content-Length, not Transfer-Encoding: chunked'));
  await assertUpstreamSawOnly([]);
});

test('a GET with a Content-Length body is refused', async () => {
  gw.registry.clearRequests();
  const res = await exchange(`GET /index/3/f/foo HTTP/1.1\r\nHost: gw\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`);
  assert.equal(res.status, 400, res.raw);
  await assertUpstreamSawOnly([]);
});

test('`Connection: content-length` cannot strip a body\'s length: the registry gets one request, body included', async () => {
  gw.registry.clearRequests();
  const res = await exchange(`DELETE /api/v1/crates/foo/1.0.0/yank HTTP/1.1\r\nHost: gw\r\nAuthorization: ${yankToken}\r\nConnection: keep-alive, content-length\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`);
  assert.equal(res.status, 404, res.raw);
  const [yank] = gw.registry.requests;
  assert.equal(yank?.headers['content-length'], String(SMUGGLED.length));
  assert.equal(yank?.body.toString('latin1'), SMUGGLED);
  await assertUpstreamSawOnly(['DELETE /api/v1/crates/foo/1.0.0/yank']);
});

test('a chunked PUT body is re-framed as chunked upstream and arrives whole', async () => {
  gw.registry.clearRequests();
  const body = JSON.stringify({ users: ['bob'] });
  // With cargo's Content-Type: the registry takes an owners body only as application/json.
  const res = await exchange(`PUT /api/v1/crates/foo/owners HTTP/1.1\r\nHost: gw\r\nAuthorization: ${ownersToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(body)}`);
  assert.equal(res.status, 404, res.raw);
  const [owners] = gw.registry.requests;
  assert.equal(owners?.headers['transfer-encoding'], 'chunked');
  assert.equal(owners?.body.toString(), body);
  await assertUpstreamSawOnly(['PUT /api/v1/crates/foo/owners']);
});

test('a transfer coding other than chunked is refused (it would reach the registry unlabelled)', async () => {
  gw.registry.clearRequests();
  const res = await exchange(`PUT /api/v1/crates/foo/owners HTTP/1.1\r\nHost: gw\r\nAuthorization: ${ownersToken}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${chunked('xx')}`);
  assert.equal(res.status, 400, res.raw);
  assert.match(JSON.parse(res.body).errors[0].detail, /^the request body cannot be forwarded as sent: Transfer-Encoding `gzip, chunked` is not supported/);
  await assertUpstreamSawOnly([]);
});

test('requests Node\'s parser refuses get an error in cargo\'s format, and the connection is closed', async () => {
  gw.registry.clearRequests();
  const both = await exchange(`PUT /api/v1/crates/foo/owners HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n${chunked('xx')}`);
  assert.equal(both.status, 400, both.raw);
  assert.match(JSON.parse(both.body).errors[0].detail, /^the request is not valid HTTP\/1\.1 \(.+\), so nothing was forwarded/);
  assert.match(both.raw, /\r\nconnection: close\r\n/i);
  const huge = await exchange(`GET /index/3/f/foo HTTP/1.1\r\nHost: gw\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.equal(huge.status, 431, huge.raw);
  assert.deepEqual(JSON.parse(huge.body), cargoError('the request line and headers are too large, so nothing was forwarded; send a shorter path or fewer headers'));
  await assertUpstreamSawOnly([]);
});

test('method overrides, Forwarded, X-Forwarded-* and cookies from the client are not passed on', async () => {
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'GET', '/index/3/f/foo', {
    'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE', forwarded: 'host=evil.example',
    'x-forwarded-host': 'evil.example', 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'https', cookie: 'session=stolen', 'user-agent': 'cargo/1.95.0',
  });
  assert.equal(res.status, 404, res.text);
  const seen = gw.registry.requests[0]!.headers;
  for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override', 'forwarded', 'x-forwarded-host', 'x-forwarded-for', 'x-forwarded-proto', 'cookie']) {
    assert.equal(seen[name], undefined, name);
  }
  assert.equal(seen['user-agent'], 'cargo/1.95.0');
});

/**
 * Sends a request's head with `Expect: 100-continue`, then its body only once `100 Continue`
 * comes (as curl does); resolves with everything the gateway wrote, once it closes or answers.
 */
function expectContinue(head: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gw.port, '127.0.0.1');
    let raw = '';
    let sent = false;
    const timer = setTimeout(() => { socket.destroy(); resolve(raw); }, 3_000);
    socket.on('data', (chunk) => {
      raw += chunk.toString('latin1');
      if (!sent && raw.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        socket.write(body);
      }
      const final = raw.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      const length = /\r\ncontent-length: (\d+)/i.exec(final);
      const end = final.indexOf('\r\n\r\n');
      if (length !== null && end >= 0 && final.length >= end + 4 + Number(length[1])) {
        clearTimeout(timer);
        socket.destroy();
        resolve(raw);
      }
    });
    socket.on('end', () => { clearTimeout(timer); resolve(raw); });
    socket.on('error', reject);
    socket.write(head);
  });
}

test('a request refused before its body is wanted is answered without `100 Continue`, and the connection closes', async () => {
  gw.registry.clearRequests();
  const raw = await expectContinue('PUT /api/v1/crates/new HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n', Buffer.alloc(0));
  assert.match(raw, /^HTTP\/1\.1 401 /, raw);
  assert.match(raw, /\r\nconnection: close\r\n/i);
  assert.deepEqual(gw.registry.requests, []);
});

test('with `Expect: 100-continue`, an allowed publish and a token creation get `100 Continue` when their body is wanted', async () => {
  const publish = cargoPublishBody({ name: 'continued', vers: '1.0.0' });
  const published = await expectContinue(`PUT /api/v1/crates/new HTTP/1.1\r\nHost: gw\r\nAuthorization: ${publishToken}\r\nExpect: 100-continue\r\nContent-Length: ${publish.length}\r\n\r\n`, publish);
  assert.match(published, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, published);
  const create = Buffer.from(JSON.stringify({ api_token: { name: 'continued', endpoint_scopes: ['yank'] } }));
  const created = await expectContinue(`PUT /api/v1/me/tokens HTTP/1.1\r\nHost: gw\r\nAuthorization: alice-upstream-secret\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${create.length}\r\n\r\n`, create);
  assert.match(created, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, created);
});
