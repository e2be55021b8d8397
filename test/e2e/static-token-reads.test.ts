/**
 * `static` mode with `reads: token` and `legacy_tokens: deny` (config/examples/static.yaml):
 * one service credential upstream, every request needs a scopegate token, and cargo goes through
 * the sparse-auth handshake (401 + `WWW-Authenticate: Cargo login_url=…` on config.json).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cargoPublish, cleanup, makeCargoHome, makeCrate, runCargo } from '../support/cargo-cli.js';
import { cargoError, rawRequest, startGateway, type TestGateway } from '../support/gateway.js';
import type { Scope } from '../../src/core/scope.js';
import { parseCratePattern, type CratePattern } from '../../src/core/crate-pattern.js';
import { hashToken, mintToken } from '../../src/store/token-secret.js';

const SERVICE = 'alice-upstream-secret';
let gw: TestGateway;

before(async () => {
  gw = await startGateway({ configFile: 'config/examples/static.yaml', env: { REGISTRY_SERVICE_TOKEN: SERVICE } });
});
after(async () => {
  await gw.close();
  await cleanup();
});

/**
 * A token as `scopegate token create --account NAME` stores it in static mode (no sealed
 * credential: requests use the service credential). The token API issues none here (DESIGN §2).
 */
async function issue(account: string, name: string, endpointScopes: Scope[], crateScopes: string[] | null = null): Promise<{ token: string }> {
  const token = mintToken(gw.config.tokens.prefix);
  const patterns = crateScopes?.map((p): CratePattern => parseCratePattern(p) ?? assert.fail(`not a crate pattern: ${p}`)) ?? null;
  await gw.store.create({
    hash: hashToken(token), account, name, endpointScopes, crateScopes: patterns,
    createdAt: Date.now(), expiredAt: Date.now() + 86_400_000, sealedCredential: null,
  }, gw.config.tokens.keepExpiredMs);
  return { token };
}

test('the index asks for a token with cargo\'s login challenge and announces auth-required', async () => {
  const anonymous = await rawRequest(gw.port, 'GET', '/index/config.json');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers['www-authenticate'], `Cargo login_url="${gw.url}/tokens"`);
  assert.deepEqual(gw.registry.requests.filter((r) => r.url.startsWith('/index')), []);
  const { token } = await issue('bob', 'reader', ['read']);
  const authed = await rawRequest(gw.port, 'GET', '/index/config.json', { authorization: token });
  assert.deepEqual(JSON.parse(authed.text), { dl: `${gw.url}/api/v1/crates`, api: gw.url, 'auth-required': true });
  assert.equal(authed.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(authed.headers['content-length'], String(Buffer.byteLength(authed.text)));
  assert.equal(gw.registry.requests.at(-1)!.headers.authorization, SERVICE, 'static mode sends the service credential');
});

test('a non-scopegate credential is refused on every route, and nothing is forwarded', async () => {
  gw.registry.clearRequests();
  const res = await rawRequest(gw.port, 'GET', '/index/3/f/foo', { authorization: SERVICE });
  assert.equal(res.status, 401);
  assert.deepEqual(JSON.parse(res.text), cargoError(`this registry only accepts scopegate tokens (starting with \`acme_\`); create one at ${gw.url}/tokens`));
  assert.deepEqual(gw.registry.requests, []);
});

test('real cargo publishes and fetches through the auth-required handshake with a scoped token', async () => {
  const { token } = await issue('ci', 'ci', ['publish-new'], ['static-e2e*']);
  assert.match(token, /^acme_/);
  const cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
  const published = await cargoPublish(await makeCrate('static-e2e-base', '0.1.0'), { cargoHome, token });
  assert.equal(published.code, 0, published.stderr);
  const upload = gw.registry.requests.find((r) => r.method === 'PUT' && r.url === '/api/v1/crates/new');
  assert.equal(upload?.headers.authorization, SERVICE);
  const user = await makeCrate('static-e2e-user', '0.1.0', { dependencies: { 'static-e2e-base': '{ version = "0.1.0", registry = "gw" }' } });
  const fetched = await runCargo(['fetch'], { cargoHome, cwd: user, token });
  assert.equal(fetched.code, 0, fetched.stderr);
  for (const r of gw.registry.requests) assert.ok(!JSON.stringify(r.headers).includes(token), `${r.method} ${r.url} carried the token`);
  const denied = await cargoPublish(await makeCrate('other-crate', '0.1.0'), { cargoHome, token });
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /this token may only act on crates matching `static-e2e\*`; `other-crate` is not one of them/);
});
