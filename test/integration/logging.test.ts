/**
 * One JSON log line per request with the documented fields; never a token or upstream credential.
 */
import assert from 'node:assert/strict';
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
