/**
 * A private upstream (config.json `"auth-required": true`; every request, config.json included,
 * needs a user's token) behind the shipped config: per-token credentials with `reads: public`.
 * An anonymous read reaches such a registry as nobody, so the gateway keeps its auth-required
 * flag, cargo sends its scopegate token on index and download requests, and the gateway swaps it
 * for its owner's registry credential, as on writes. Real cargo, real Redis.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cargoPublish, cleanup, makeCargoHome, makeCrate, runCargo } from '../support/cargo-cli.js';
import { startCargoRegistry } from '../support/cargo-registry.js';
import { rawRequest, startGateway, USERS, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;

before(async () => {
  gw = await startGateway({ registry: await startCargoRegistry({ users: { ...USERS }, authRequired: true }) });
});
after(async () => {
  await gw.close();
  await gw.registry.close();
  await cleanup();
});

test('config.json: anonymous gets the registry\'s 401; with a token, the rewritten config keeps auth-required', async () => {
  const anonymous = await rawRequest(gw.port, 'GET', '/index/config.json');
  assert.equal(anonymous.status, 401, anonymous.text);
  // cargo's sparse-auth challenge, naming where scopegate tokens come from (wire-facts §1.5).
  assert.equal(anonymous.headers['www-authenticate'], `Cargo login_url="${gw.url}/tokens"`);
  const { token } = await gw.createToken({ name: 'reader', endpoint_scopes: ['read'] });
  const authed = await rawRequest(gw.port, 'GET', '/index/config.json', { authorization: token });
  assert.equal(authed.status, 200, authed.text);
  assert.deepEqual(JSON.parse(authed.text), { dl: `${gw.url}/api/v1/crates`, api: gw.url, 'auth-required': true });
  assert.equal(gw.registry.requests.at(-1)!.headers.authorization, 'alice-upstream-secret');
});

test('an index file read anonymously: the registry\'s 401 names the gateway\'s token page, not the registry\'s own login', async () => {
  const anonymous = await rawRequest(gw.port, 'GET', '/index/fo/o/foo');
  assert.equal(anonymous.status, 401, anonymous.text);
  assert.match(String(gw.registry.requests.at(-1)?.url), /^\/index\/fo\/o\/foo/);
  assert.equal(anonymous.headers['www-authenticate'], `Cargo login_url="${gw.url}/tokens"`);
});

test('cargo login with no token asks for one from the gateway\'s token page, which the 401 on config.json names', async () => {
  const cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
  const login = await runCargo(['login', '--registry', 'gw'], { cargoHome, input: '' });
  assert.notEqual(login.code, 0);
  assert.match(login.stderr, new RegExp(`^please paste the token found on ${gw.url}/tokens below$`, 'm'), login.stderr);
});

test('real cargo publishes and fetches a dependency through the gateway with scoped tokens', async () => {
  const cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
  const publisher = (await gw.createToken({ name: 'ci', endpoint_scopes: ['publish-new'], crate_scopes: ['private-e2e*'] })).token;
  const published = await cargoPublish(await makeCrate('private-e2e-base', '0.1.0'), { cargoHome, token: publisher });
  assert.equal(published.code, 0, published.stderr);
  assert.deepEqual(gw.registry.indexLines('private-e2e-base').map((l) => l.vers), ['0.1.0']);

  const reader = (await gw.createToken({ name: 'build', endpoint_scopes: ['read'] })).token;
  const user = await makeCrate('private-e2e-user', '0.1.0', { dependencies: { 'private-e2e-base': '{ version = "0.1.0", registry = "gw" }' } });
  const fetched = await runCargo(['fetch'], { cargoHome, cwd: user, token: reader });
  assert.equal(fetched.code, 0, fetched.stderr);
  const download = gw.registry.requests.find((r) => r.method === 'GET' && r.url.endsWith('/private-e2e-base/0.1.0/download'));
  assert.equal(download?.headers.authorization, 'alice-upstream-secret', 'the download went upstream with the owner\'s credential');
  for (const r of gw.registry.requests) assert.ok(!JSON.stringify(r.headers).includes('sg_'), `${r.method} ${r.url} carried a scopegate token`);
});

test('an expired token: cargo prints its expiry, not the registry\'s 401 to the anonymous read made instead', async () => {
  const cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
  const expiry = Math.floor((Date.now() + 86_400_000) / 1000) * 1000;
  const reader = (await gw.createToken({ name: 'expiring', endpoint_scopes: ['read'], expired_at: new Date(expiry).toISOString() })).token;
  const user = await makeCrate('private-e2e-late', '0.1.0', { dependencies: { 'private-e2e-base': '{ version = "0.1.0", registry = "gw" }' } });
  gw.setNow(expiry + 1000);
  try {
    const fetched = await runCargo(['fetch'], { cargoHome, cwd: user, token: reader });
    assert.notEqual(fetched.code, 0);
    assert.match(fetched.stderr, /got 403\s+body:\s+\{"errors":\[\{"detail":"this token expired at [0-9T:-]+Z; create a new one at http:\/\/127\.0\.0\.1:\d+\/tokens"\}\]\}/);
  } finally {
    gw.setNow(null);
  }
});
