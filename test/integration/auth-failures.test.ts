/**
 * `limits.auth_failures`: credentials the registry refuses are counted per client address in
 * Redis; over the limit the client is answered 429 before anything is sent upstream. A real
 * gateway, real Redis, the recording registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { cargoError, rawRequest, startGateway, type GatewayOptions, type TestGateway } from '../support/gateway.js';
import { startNpmGateway, type NpmGateway } from '../support/npm-gateway.js';
import { waitFor } from '../support/poll.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';
import { sealCredential } from '../../src/store/credential-seal.js';
import { hashToken, mintToken } from '../../src/store/token-secret.js';

const ALICE = 'alice-upstream-secret';
/** A credential in crates.io's format that the registry does not know: it answers 403 `authentication failed`. */
const GUESS = 'cio0123456789abcdefghijABCDEFGHIJ01';
const LIMIT = 3;

/** A gateway counting `LIMIT` failures in `window`, trusting `trusted` as proxies. */
function limited(options: { window?: string; max?: number; trusted?: string[] } & GatewayOptions = {}): Promise<TestGateway> {
  const { window = '10m', max = LIMIT, trusted = [], ...rest } = options;
  return startGateway({
    ...rest,
    editYaml: (yaml) => yaml
      .replace(/^  auth_failures: 20$/m, `  auth_failures: ${max}`)
      .replace(/^  auth_failures_window: 10m$/m, `  auth_failures_window: ${window}`)
      .replace(/^  trusted_proxies: \[\]$/m, `  trusted_proxies: ${JSON.stringify(trusted)}`),
  });
}

type Answer = Awaited<ReturnType<typeof rawRequest>>;

const create = (gw: TestGateway, credential: string, headers: Record<string, string> = {}): Promise<Answer> =>
  rawRequest(gw.port, 'PUT', '/api/v1/me/tokens', { authorization: credential, 'content-type': 'application/json', ...headers }, JSON.stringify({ api_token: { name: 'ci' } }));

const list = (gw: TestGateway, credential: string, headers: Record<string, string> = {}): Promise<Answer> =>
  rawRequest(gw.port, 'GET', '/api/v1/me/tokens', { authorization: credential, ...headers });

const REJECTED = cargoError('the registry did not accept this credential (its identity check answered 403); use a credential the registry itself accepts');

function assertLimited(res: Answer, failures = LIMIT, window = '10 minutes'): void {
  assert.equal(res.status, 429, res.text);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${String(res.headers['retry-after'])}`);
  const detail = (JSON.parse(res.text) as { errors: { detail: string }[] }).errors[0]!.detail;
  assert.match(detail, new RegExp(`^too many failed credential checks from your address \\(${failures} within ${window}\\), so this request was not sent to the registry; check the credential, and try again in `));
}

/** `n` refused creations from the client the headers make, each of which reached the registry. */
async function fail(gw: TestGateway, n: number, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    gw.registry.clearRequests();
    const res = await create(gw, GUESS, headers);
    assert.deepEqual([res.status, JSON.parse(res.text)], [403, REJECTED], `failure ${i + 1}`);
    assert.equal(gw.registry.requests.length, 1, 'the identity probe reached the registry');
  }
}

const lastLine = (gw: TestGateway): Record<string, unknown> => gw.logLines().filter((l) => l['req.id'] !== undefined).at(-1)!;

describe('the token API, the client being the socket\'s peer', () => {
  let gw: TestGateway;
  before(async () => { gw = await limited(); });
  after(() => gw.close());

  test('refused credentials are counted; the next is answered 429 with Retry-After, and the registry is not asked', async () => {
    await fail(gw, LIMIT);
    gw.registry.clearRequests();
    const res = await create(gw, GUESS);
    assertLimited(res);
    assert.ok(Number(res.headers['retry-after']) <= 600);
    assert.deepEqual(gw.registry.requests, [], 'nothing was sent upstream');
    const line = lastLine(gw);
    assert.deepEqual([line['client.address'], line.verdict, line.reason, line['error.code'], line.status], ['127.0.0.1', 'deny', 'auth-failures-limit', 'SG_AUTH_TOO_MANY_FAILURES', 429]);
  });

  test('while refused, every registry credential from the address is: listing too, with a good one', async () => {
    gw.registry.clearRequests();
    assertLimited(await list(gw, ALICE));
    assertLimited(await create(gw, ALICE));
    assert.deepEqual(gw.registry.requests, []);
  });

  test('a scopegate token is neither checked nor refused from a refused address', async () => {
    const token = mintToken(gw.config.tokens.prefix);
    await gw.store.create({
      hash: hashToken(token), account: 'alice', name: 'ops', endpointScopes: null, crateScopes: null,
      createdAt: Date.now(), expiredAt: null, sealedCredential: sealCredential(ALICE, token),
    }, 1000);
    gw.registry.clearRequests();
    const yanked = await rawRequest(gw.port, 'DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: token });
    assert.equal(yanked.status, 404, yanked.text); // forwarded: the registry has no crate foo
    assert.equal(gw.registry.requests.length, 1);
    assert.equal(lastLine(gw)['client.address'], undefined, 'no client check on this path');
    assert.equal((await list(gw, token)).status, 200, 'an unscoped scopegate token manages tokens without the probe');
    // An unknown one is refused as unknown (403 authentication failed), not 429.
    assert.equal((await list(gw, mintToken(gw.config.tokens.prefix))).status, 403);
  });

  test('the limit reached is audited once, with the client address', async () => {
    await gw.audit.flush();
    const entries = await gw.audit.read({ event: 'auth.limited' }, 10);
    assert.equal(entries.length, 1, JSON.stringify(entries));
    assert.deepEqual([entries[0]!.client, entries[0]!.method, entries[0]!.path], ['127.0.0.1', 'PUT', '/api/v1/me/tokens']);
  });

  test('an X-Forwarded-For from a peer that is not a trusted proxy is ignored', async () => {
    assertLimited(await create(gw, GUESS, { 'x-forwarded-for': '198.51.100.99' }));
    assert.equal(lastLine(gw)['client.address'], '127.0.0.1');
  });
});

test('successful checks are not counted: many creations from one address, then the limit still allows LIMIT failures', async () => {
  const gw = await limited();
  try {
    for (let i = 0; i < LIMIT + 3; i++) {
      const res = await create(gw, ALICE);
      assert.equal(res.status, 200, res.text);
    }
    assert.equal((await list(gw, ALICE)).status, 200);
    await fail(gw, LIMIT);
    assertLimited(await create(gw, GUESS));
  } finally {
    await gw.close();
  }
});

test('guesses sent at once are bounded too: no more than the limit reach the registry', async () => {
  const gw = await limited();
  try {
    gw.registry.clearRequests();
    const answers = await Promise.all(Array.from({ length: 12 }, () => create(gw, GUESS)));
    const probes = gw.registry.requests.filter((r) => r.url === '/api/v1/me').length;
    assert.ok(probes <= LIMIT, `${probes} guesses reached the registry`);
    assert.deepEqual(answers.map((a) => a.status).sort(), [...Array<number>(LIMIT).fill(403), ...Array<number>(12 - LIMIT).fill(429)]);
    // Legacy credentials passed through, likewise (the address is refused already; a fresh gateway shows it).
  } finally {
    await gw.close();
  }
});

test('legacy guesses sent at once are bounded too', async () => {
  const gw = await limited();
  try {
    gw.registry.clearRequests();
    let version = 0;
    const answers = await Promise.all(Array.from({ length: 12 }, () =>
      rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: GUESS }, cargoPublishBody({ name: 'burst', vers: `1.0.${version++}` }))));
    assert.ok(gw.registry.requests.length <= LIMIT, `${gw.registry.requests.length} guesses reached the registry`);
    assert.deepEqual(answers.map((a) => a.status).sort(), [...Array<number>(LIMIT).fill(403), ...Array<number>(12 - LIMIT).fill(429)]);
  } finally {
    await gw.close();
  }
});

test('an identity probe that fails (registry down) is not counted', async () => {
  const gw = await limited();
  try {
    gw.registry.setHang(true);
    const hung = gw.config.upstream.probeTimeoutMs;
    assert.ok(hung <= 5_000);
    for (let i = 0; i < LIMIT + 1; i++) assert.equal((await create(gw, GUESS)).status, 502);
    gw.registry.setHang(false);
    await fail(gw, LIMIT);
  } finally {
    await gw.close();
  }
});

test('the window ends: once Retry-After has passed, the client is asked about again', async () => {
  const gw = await limited({ window: '1500ms' });
  try {
    await fail(gw, LIMIT);
    const refused = await create(gw, GUESS);
    assertLimited(refused, LIMIT, '2 seconds');
    assert.ok(Number(refused.headers['retry-after']) <= 2);
    await sleep(1_600);
    gw.registry.clearRequests();
    const res = await create(gw, ALICE);
    assert.equal(res.status, 200, res.text);
    await fail(gw, LIMIT);
  } finally {
    await gw.close();
  }
});

test('auth_failures: 0 turns the bound off', async () => {
  const gw = await limited({ max: 0 });
  try {
    await fail(gw, LIMIT + 3);
    assert.equal(lastLine(gw)['client.address'], undefined);
  } finally {
    await gw.close();
  }
});

test('the limits are reloadable: a SIGHUP\'s config counts from the next request, and warns of no restart', async () => {
  const gw = await limited({ max: 0 });
  try {
    await fail(gw, 2);
    const running = gw.gateway.deps.config;
    gw.gateway.reload({ ...running, limits: { ...running.limits, authFailures: 1, authFailuresWindowMs: 60_000, trustedProxies: ['127.0.0.1'] } });
    await fail(gw, 1, { 'x-forwarded-for': '198.51.100.4' });
    assertLimited(await create(gw, GUESS, { 'x-forwarded-for': '198.51.100.4' }), 1, '1 minute');
    assert.equal(gw.logLines().filter((l) => l.restart_needed !== undefined).length, 0);
  } finally {
    await gw.close();
  }
});

describe('behind trusted proxies', () => {
  let gw: TestGateway;
  before(async () => { gw = await limited({ trusted: ['127.0.0.0/8', '10.0.0.0/8', '2001:db8:ffff::/48'] }); });
  after(() => gw.close());
  const from = (xff: string): Record<string, string> => ({ 'x-forwarded-for': xff });

  test('the client is the right-most X-Forwarded-For address not trusted; spoofed addresses left of it do not count', async () => {
    await fail(gw, LIMIT, from('203.0.113.7'));
    assert.equal(lastLine(gw)['client.address'], '203.0.113.7');
    assertLimited(await create(gw, GUESS, from('192.0.2.1, 203.0.113.7')));
    assertLimited(await create(gw, GUESS, from('203.0.113.7, 10.1.2.3')), LIMIT);
    assert.equal(lastLine(gw)['client.address'], '203.0.113.7');
    // Another client behind the same proxies is counted apart.
    await fail(gw, 1, from('203.0.113.8'));
    assertLimited(await create(gw, GUESS, from('203.0.113.7')));
  });

  test('a hop that is not trusted ends the walk, even when it is not the last', async () => {
    await fail(gw, 1, from('203.0.113.7, 192.0.2.50'));
    assert.equal(lastLine(gw)['client.address'], '192.0.2.50');
  });

  test('IPv6 clients are counted by /64', async () => {
    await fail(gw, LIMIT, from('2001:db8:1:2::5'));
    assert.equal(lastLine(gw)['client.address'], '2001:db8:1:2::/64');
    assertLimited(await create(gw, GUESS, from('2001:DB8:1:2:ffff::99')));
    await fail(gw, 1, from('2001:db8:1:3::5'));
    // A trusted IPv6 proxy is skipped like an IPv4 one.
    assertLimited(await create(gw, GUESS, from('2001:db8:1:2::7, 2001:db8:ffff:0:1::1')));
  });

  test('an IPv4-mapped IPv6 address is the IPv4 address', async () => {
    await fail(gw, LIMIT, from('::ffff:198.51.100.1'));
    assert.equal(lastLine(gw)['client.address'], '198.51.100.1');
    assertLimited(await create(gw, GUESS, from('198.51.100.1')));
  });

  test('a header of trusted addresses only: the left-most is the client', async () => {
    await fail(gw, 1, from('10.9.9.9, 10.0.0.1'));
    assert.equal(lastLine(gw)['client.address'], '10.9.9.9');
  });
});

test('two gateways sharing Redis share the count', async () => {
  const keyPrefix = uniquePrefix();
  const a = await limited({ keyPrefix });
  const b = await limited({ keyPrefix, registry: a.registry });
  try {
    await fail(a, 2);
    await fail(b, 1);
    a.registry.clearRequests();
    assertLimited(await create(a, GUESS));
    assertLimited(await create(b, GUESS));
    assert.deepEqual(a.registry.requests, []);
  } finally {
    await b.close();
    await a.close();
  }
});

describe('legacy credentials passed through (legacy_tokens: pass)', () => {
  let gw: TestGateway;
  before(async () => { gw = await limited(); });
  after(() => gw.close());
  let version = 0;
  const publish = (target: TestGateway, credential: string): Promise<Answer> =>
    rawRequest(target.port, 'PUT', '/api/v1/crates/new', { authorization: credential }, cargoPublishBody({ name: 'legacy-crate', vers: `1.0.${version++}` }));

  test('the registry\'s refusals are counted; over the limit nothing is forwarded', async () => {
    for (let i = 0; i < LIMIT; i++) {
      gw.registry.clearRequests();
      const res = await publish(gw, GUESS);
      assert.equal(res.status, 403, res.text);
      assert.equal(gw.registry.requests.length, 1, 'passed through');
    }
    gw.registry.clearRequests();
    assertLimited(await publish(gw, GUESS));
    assert.deepEqual(gw.registry.requests, []);
    const line = lastLine(gw);
    assert.deepEqual([line['client.address'], line.verdict, line.reason], ['127.0.0.1', 'deny', 'auth-failures-limit']);
  });

  test('an accepted legacy credential is not counted', async () => {
    const other = await limited();
    try {
      for (let i = 0; i < LIMIT + 2; i++) {
        const res = await publish(other, ALICE);
        assert.equal(res.status, 200, res.text);
      }
      assert.equal((await create(other, ALICE)).status, 200);
    } finally {
      await other.close();
    }
  });

  test('an accepted legacy credential is logged and audited by the time the client has the answer, however slow the count is given back', async () => {
    let refunds = 0;
    const slow = await limited({
      wrapAuthFailures: (counter) => ({
        reserve: (client, max, windowMs) => counter.reserve(client, max, windowMs),
        refund: async (client) => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          await counter.refund(client);
          refunds++;
        },
      }),
    });
    try {
      const res = await publish(slow, ALICE);
      assert.equal(res.status, 200, res.text);
      assert.ok(slow.logLines().some((l) => l['req.path'] === '/api/v1/crates/new' && l.status === 200), 'no log line for the request when its answer arrived');
      await slow.audit.flush();
      assert.deepEqual((await slow.audit.read({ event: 'decision' }, 5)).map((e) => [e.route, e.verdict, e.reason]), [['publish', 'pass', 'legacy-credential']]);
      await waitFor(() => refunds === 1, 2_000);
    } finally {
      await slow.close();
    }
  });
});

describe('with its own redis-server, stopped', () => {
  let redis: RedisServer;
  let gw: TestGateway;
  before(async () => {
    redis = await startRedisServer();
    gw = await limited({ env: { REDIS_URL: redis.url }, commandTimeoutMs: 100 });
  });
  after(async () => {
    await gw.close();
    await redis.stop();
  });

  test('the check fails closed: 503 with Retry-After, and the registry is not asked', async () => {
    await redis.stop();
    gw.registry.clearRequests();
    const res = await create(gw, GUESS);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.headers['retry-after'], '1');
    assert.deepEqual(JSON.parse(res.text), cargoError('the token store is unavailable, so nothing was forwarded; try again shortly'));
    assert.deepEqual(gw.registry.requests, []);
    const legacy = await rawRequest(gw.port, 'DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: GUESS });
    assert.equal(legacy.status, 503, legacy.text);
    assert.deepEqual(gw.registry.requests, []);
  });
});

describe('on npm (Verdaccio)', () => {
  let gw: NpmGateway;
  before(async () => {
    gw = await startNpmGateway({ editYaml: (yaml) => yaml.replace(/^  auth_failures: 20$/m, `  auth_failures: ${LIMIT}`).replace(/^  trusted_proxies: \[\]$/m, '  trusted_proxies: [127.0.0.1]') });
  });
  after(() => gw.close());

  test('Verdaccio\'s anonymous answer to the probe counts as a refusal; the 429 is in npm\'s error format', async () => {
    const bad = 'not-a-verdaccio-token';
    for (let i = 0; i < LIMIT; i++) {
      gw.registry.clearRequests();
      const res = await rawRequest(gw.port, 'GET', '/api/v1/me/tokens', { authorization: `Bearer ${bad}` });
      assert.equal(res.status, 403, res.text);
      assert.ok(gw.registry.requests.length > 0, 'the probe reached Verdaccio');
    }
    gw.registry.clearRequests();
    const res = await rawRequest(gw.port, 'GET', '/api/v1/me/tokens', { authorization: `Bearer ${bad}` });
    assert.equal(res.status, 429, res.text);
    assert.match((JSON.parse(res.text) as { error: string }).error, /^too many failed credential checks from your address \(3 within 10 minutes\)/);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.deepEqual(gw.registry.requests, []);
  });

  test('a legacy write Verdaccio refuses is counted; over the limit it is not forwarded', async () => {
    const from = { 'x-forwarded-for': '198.51.100.20', authorization: 'Bearer not-a-verdaccio-token' };
    for (let i = 0; i < LIMIT; i++) {
      gw.registry.clearRequests();
      const res = await rawRequest(gw.port, 'PUT', '/-/package/some-package/dist-tags/beta', { ...from, 'content-type': 'application/json' }, '"1.0.0"');
      assert.ok([401, 403].includes(res.status), `${res.status} ${res.text}`);
      assert.equal(gw.registry.requests.length, 1, 'passed through');
    }
    gw.registry.clearRequests();
    const res = await rawRequest(gw.port, 'PUT', '/-/package/some-package/dist-tags/beta', { ...from, 'content-type': 'application/json' }, '"1.0.0"');
    assert.equal(res.status, 429, res.text);
    assert.deepEqual(gw.registry.requests, []);
  });
});
