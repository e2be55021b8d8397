/**
 * One JSON log line per request with the documented fields; never a token or upstream credential.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { rawRequest, startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

test('every request writes exactly one line with the documented fields, and no secret appears anywhere', async () => {
  const { token } = await gw.createToken({ name: 'log', endpoint_scopes: ['publish-new'], crate_scopes: ['logged*'] });
  const before = gw.logLines().length;
  const body = cargoPublishBody({ name: 'logged-crate', vers: '1.0.0' });
  const allowed = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(body.length), cookie: 'session=sekrit-cookie' }, body);
  assert.equal(allowed.status, 200);
  const denied = await rawRequest(gw.port, 'DELETE', '/api/v1/crates/logged-crate/1.0.0/yank', { authorization: token });
  assert.equal(denied.status, 403);
  await rawRequest(gw.port, 'DELETE', '/api/v1/crates/logged-crate/1.0.0/yank', { authorization: 'legacy-upstream-looking-secret' });
  await rawRequest(gw.port, 'GET', '/index/config.json', { authorization: token });
  await new Promise((r) => setTimeout(r, 50));

  const lines = gw.logLines().slice(before).filter((l) => l.msg === 'request');
  assert.equal(lines.length, 4, JSON.stringify(lines));
  const [publish, yank, legacy, index] = lines as Record<string, unknown>[];
  assert.deepEqual(
    { route: publish!['route.id'], crate: publish!['crate.name'], need: publish!['scope.need'], verdict: publish!.verdict, upstream: publish!['upstream.status'] },
    { route: 'publish', crate: 'logged-crate', need: 'publish-new', verdict: 'allow', upstream: 200 });
  assert.equal(typeof publish!['token.id'], 'number');
  assert.equal(typeof publish!.duration_ms, 'number');
  assert.equal(typeof publish!['req.id'], 'string');
  assert.deepEqual({ verdict: yank!.verdict, reason: yank!.reason, status: yank!.status, upstream: yank!['upstream.status'] },
    { verdict: 'deny', reason: 'scope-missing', status: 403, upstream: undefined });
  assert.equal(legacy!.verdict, 'pass');
  assert.equal(index!['route.id'], 'index');

  const text = gw.logText();
  for (const secret of [token, token.slice(3, 35), 'alice-upstream-secret', 'legacy-upstream-looking-secret', 'sekrit-cookie']) {
    assert.ok(!text.includes(secret), `the log contains a secret: ${secret.slice(0, 8)}…`);
  }
});

test('a credential a client puts in the request target itself is masked in the log line and the audit entry', async () => {
  const { token } = await gw.createToken({ name: 'in-target', endpoint_scopes: ['yank'] });
  const before = gw.logLines().length;
  // Absolute form with userinfo (refused as a path, but logged), and a token where a crate name goes.
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(gw.port, '127.0.0.1', () => socket.write(`GET http://user:${token}@127.0.0.1/api/v1/crates HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`));
    socket.on('data', () => undefined).on('end', () => resolve()).on('error', reject);
  });
  const inPath = await rawRequest(gw.port, 'DELETE', `/api/v1/crates/${token}/1.0.0/yank`, { authorization: token });
  assert.equal(inPath.status, 404, inPath.text);
  await new Promise((r) => setTimeout(r, 50));
  const paths = gw.logLines().slice(before).filter((l) => l.msg === 'request').map((l) => l['req.path']);
  assert.deepEqual(paths, ['http://[redacted]@127.0.0.1/api/v1/crates', '/api/v1/crates/sg_[redacted]/1.0.0/yank']);
  await gw.audit.flush();
  const audited = await gw.audit.read({ verdict: 'allow' }, 20);
  assert.ok(audited.some((e) => e.path === '/api/v1/crates/sg_[redacted]/1.0.0/yank'), JSON.stringify(audited.slice(0, 3)));
  assert.ok(!gw.logText().includes(token.slice(3)), 'the token reached the log');
});
