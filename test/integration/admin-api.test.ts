/**
 * The admin API on its own listener: the key check (constant-time, every route but the probes),
 * token listing and revocation across accounts, health and readiness, Prometheus metrics.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startAdminApi, type AdminApi, type AdminDeps } from '../../src/admin/server.js';
import { adminKeyChecker } from '../../src/admin/admin-key.js';
import { createLogger } from '../../src/log.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenDirectory } from '../../src/store/redis-directory.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { NO_AUDIT } from '../../src/store/audit-log.js';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { rawRequest, startGateway, type TestGateway } from '../support/gateway.js';
import { startRedisServer, userWritingOnly } from '../support/redis-server.js';

const KEY = 'admin-test-key-0123456789abcdef';
let gw: TestGateway;
let admin: AdminApi;
let base: string;
const clients: { disconnect(): void }[] = [];

function depsFor(g: TestGateway, key: string | null, logger = createLogger('silent')): AdminDeps {
  const config = { ...g.config, admin: { listen: { host: '127.0.0.1', port: 0 }, key } };
  const client = createRedisClient({ url: g.config.redis.url, commandTimeoutMs: 1_000 });
  clients.push(client);
  return {
    config: () => config, store: g.store, directory: new RedisTokenDirectory(client, { keyPrefix: g.config.redis.keyPrefix }),
    audit: NO_AUDIT, metrics: g.gateway.deps.metrics, logger,
  };
}

before(async () => {
  gw = await startGateway();
  const started = await startAdminApi(depsFor(gw, KEY));
  assert.ok(started);
  admin = started;
  base = `http://127.0.0.1:${admin.port}`;
});
after(async () => {
  await admin.close();
  await gw.close();
  for (const client of clients) client.disconnect();
});

const get = (path: string, key: string | null = KEY, method = 'GET') =>
  fetch(base + path, { method, headers: key === null ? {} : { authorization: `Bearer ${key}` } });

describe('the admin key', () => {
  test('without SCOPEGATE_ADMIN_KEY the admin API is not started, and says so in the log', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write(c: Buffer, _e, done) { lines.push(c.toString()); done(); } }));
    assert.equal(await startAdminApi(depsFor(gw, null, logger)), null);
    assert.match(lines.join(''), /admin API disabled: SCOPEGATE_ADMIN_KEY is not set/);
  });

  test('a missing, wrong or differently long key is refused with 401 on every route but the probes', async () => {
    for (const key of [null, 'wrong', `${KEY}x`, KEY.slice(0, -1), '']) {
      for (const path of ['/tokens', '/metrics', '/tokens/1', '/explain?method=GET&path=/']) {
        const res = await get(path, key);
        assert.equal(res.status, 401, `${path} with ${String(key)}`);
        assert.match(((await res.json()) as { error: string }).error, /missing or wrong admin key/);
      }
    }
    assert.equal((await fetch(`${base}/tokens`, { headers: { authorization: KEY } })).status, 401, 'the Bearer scheme is required');
    assert.equal((await get('/healthz', null)).status, 200);
  });

  test('HEAD is GET without the body: the probes answer it without a key, the rest with one', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await get(path, null, 'HEAD');
      assert.equal(res.status, 200, path);
      assert.equal(await res.text(), '', path);
    }
    assert.equal((await get('/tokens', null, 'HEAD')).status, 401);
    assert.equal((await get('/tokens', KEY, 'HEAD')).status, 200);
  });

  test('every request is logged once when answered: a refused key at warn, so guessing shows; probes at debug', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', new Writable({ write(c: Buffer, _e, done) { lines.push(c.toString()); done(); } }));
    const own = (await startAdminApi(depsFor(gw, KEY, logger)))!;
    try {
      const send = async (path: string, key: string | null): Promise<number> =>
        (await fetch(`http://127.0.0.1:${own.port}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } })).status;
      const statuses = [await send('/tokens?account=alice', 'guessed-key-0123456789abcdef'), await send('/metrics', null),
        await send('/tokens/987654321', KEY), await send('/tokens?account=nobody', KEY), await send('/healthz', null)];
      assert.deepEqual(statuses, [401, 401, 404, 200, 200]);
      const logged = lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'admin.route' in l);
      assert.deepEqual(logged.map((l) => [l.level, l['admin.route'], l.status, l.msg]), [
        [40, 'GET /tokens', 401, 'admin request refused: missing or wrong admin key'],
        [40, 'GET /metrics', 401, 'admin request refused: missing or wrong admin key'],
        [30, 'GET /tokens/987654321', 404, 'admin request'],
        [30, 'GET /tokens', 200, 'admin request'],
        [20, 'GET /healthz', 200, 'admin request'],
      ]);
      for (const line of logged) {
        assert.equal(typeof line.duration_ms, 'number');
        assert.match(String(line['client.address']), /127\.0\.0\.1$/);
      }
      const text = lines.join('');
      for (const secret of [KEY, 'guessed-key', 'account=']) assert.ok(!text.includes(secret), `${secret} was logged`);
    } finally {
      await own.close();
    }
  });

  test('the checker compares fixed-length digests, so any length is checked the same way', () => {
    const check = adminKeyChecker(KEY);
    assert.equal(check(`Bearer ${KEY}`), true);
    assert.equal(check(`bearer   ${KEY}`), true);
    for (const wrong of [undefined, '', 'Bearer', `Bearer ${KEY} `.repeat(50), `Basic ${KEY}`]) assert.equal(check(wrong), false, String(wrong));
  });
});

describe('tokens across accounts', () => {
  test('lists every account\'s tokens, or one account\'s, and shows one', async () => {
    const a = await gw.createToken({ name: 'admin-a', endpoint_scopes: ['yank'] });
    const b = await gw.createToken({ name: 'admin-b', endpoint_scopes: ['yank'] }, 'bob-upstream-secret');
    const all = (await (await get('/tokens')).json()) as { tokens: { id: number; account: string }[] };
    assert.ok(all.tokens.some((t) => t.id === a.id && t.account === 'alice') && all.tokens.some((t) => t.id === b.id && t.account === 'bob'));
    const bobs = (await (await get('/tokens?account=bob')).json()) as { tokens: { account: string }[] };
    assert.ok(bobs.tokens.length >= 1 && bobs.tokens.every((t) => t.account === 'bob'));
    const one = (await (await get(`/tokens/${a.id}`)).json()) as { token: Record<string, unknown> };
    assert.deepEqual([one.token.name, one.token.account, one.token.revoked_at, one.token.reminded_at], ['admin-a', 'alice', null, null]);
    assert.equal((await get('/tokens/999999')).status, 404);
  });

  test('revoking by id takes effect on the gateway at once; an unknown id is 404', async () => {
    const { token, id } = await gw.createToken({ name: 'leaked', endpoint_scopes: ['yank'] });
    const res = await get(`/tokens/${id}`, KEY, 'DELETE');
    assert.equal(res.status, 200);
    assert.notEqual(((await res.json()) as { token: { revoked_at: string | null } }).token.revoked_at, null);
    assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: token })).status, 403);
    assert.equal((await get('/tokens/999999', KEY, 'DELETE')).status, 404);
  });

  test('revoking an account revokes all its live tokens and no one else\'s', async () => {
    const carol = 'carol-upstream-secret';
    gw.registry.addUser(carol, 'carol');
    const c1 = await gw.createToken({ name: 'c1', endpoint_scopes: ['yank'] }, carol);
    const c2 = await gw.createToken({ name: 'c2' }, carol);
    const other = await gw.createToken({ name: 'not-carol', endpoint_scopes: ['yank'] });
    const res = await get('/accounts/carol/tokens', KEY, 'DELETE');
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { revoked: number[] }).revoked.sort(), [c1.id, c2.id].sort());
    for (const t of [c1, c2]) assert.notEqual((await gw.store.findById(t.id))?.revokedAt, null);
    assert.equal((await gw.store.findById(other.id))?.revokedAt, null);
  });

  test('explain answers with decide()\'s verdict for a stored token', async () => {
    const { id } = await gw.createToken({ name: 'explain', endpoint_scopes: ['yank'], crate_scopes: ['serde'] });
    const res = await get(`/explain?method=DELETE&path=/api/v1/crates/tokio/1.0.0/yank&token_id=${id}`);
    const body = (await res.json()) as { route: { id: string }; verdicts: { decision: { verdict: string; reason: string } }[] };
    assert.equal(body.route.id, 'yank');
    assert.deepEqual(body.verdicts.map((v) => v.decision.reason), ['crate-not-allowed']);
  });

  test('explain tells a token-API path called with another method (405, and the methods the proxy names in Allow) from one with no operation at all (404)', async () => {
    for (const [method, path, allow] of [['POST', '/api/v1/me/tokens', 'GET, HEAD, PUT'], ['PUT', '/api/v1/me/tokens/7', 'GET, HEAD, DELETE'], ['GET', '/api/v1/me/tokens/x', null]] as const) {
      const explained = (await (await get(`/explain?method=${method}&path=${path}`)).json()) as { answer: { kind: string; action: unknown; allow?: string[] } };
      const proxied = await rawRequest(gw.port, method, path, { authorization: 'alice-upstream-secret' }, method === 'GET' ? undefined : '{}');
      assert.equal(proxied.status, allow === null ? 404 : 405, `${method} ${path}`);
      assert.equal(proxied.headers.allow, allow ?? undefined);
      assert.deepEqual(explained.answer, { kind: 'token-api', action: null, allow: allow === null ? [] : allow.split(', ') }, `${method} ${path}`);
    }
  });

  test('explain with a token_id that is not a number says so, rather than looking for token NaN', async () => {
    const res = await get('/explain?method=GET&path=/index/se/rd/serde&token_id=seven');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'token_id must be a token id (a positive whole number), got "seven"' });
  });
});

describe('revoking an account while one of its tokens cannot be written', () => {
  test('the others are still revoked, and the answer is 503 naming the one that failed', async () => {
    const redis = await startRedisServer();
    const own = await startGateway({ env: { REDIS_URL: redis.url } });
    const prefix = own.config.redis.keyPrefix;
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 1_000 });
    clients.push(client);
    let api: AdminApi | null = null;
    try {
      own.registry.addUser('dave-upstream-secret', 'dave');
      const kept = [await own.createToken({ name: 'd1', endpoint_scopes: ['yank'] }, 'dave-upstream-secret'), await own.createToken({ name: 'd2' }, 'dave-upstream-secret')];
      // The newest, so the first one revoked: a loop that stops at an error revokes nothing.
      const stuck = await own.createToken({ name: 'd3', endpoint_scopes: ['yank'] }, 'dave-upstream-secret');
      const hashOf = async (id: number) => (await own.store.findById(id))!.hash;
      const writable = [`${prefix}token-id:*`, `${prefix}account:*`, `${prefix}audit`, ...(await Promise.all(kept.map((t) => hashOf(t.id)))).map((h) => `${prefix}token:{${h}}`)];
      const limited = createRedisClient({ url: await userWritingOnly(redis, writable), commandTimeoutMs: 1_000 });
      clients.push(limited);
      await waitForReady(limited, 2_000);
      api = (await startAdminApi({ ...depsFor(own, KEY), store: new RedisTokenStore(limited, { keyPrefix: prefix }) }))!;
      const res = await fetch(`http://127.0.0.1:${api.port}/accounts/dave/tokens`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: string; account: string; revoked: number[]; failed: { id: number; error: string }[] };
      assert.equal(body.account, 'dave', JSON.stringify(body));
      assert.deepEqual(body.revoked.sort(), kept.map((t) => t.id).sort(), JSON.stringify(body.failed));
      assert.deepEqual(body.failed.map((f) => f.id), [stuck.id]);
      assert.match(body.failed[0]!.error, /NOPERM/);
      assert.match(body.error, /1 of the account's 3 live tokens could not be revoked.*again is safe/);
      for (const t of kept) assert.equal((await rawRequest(own.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: t.token })).status, 403);
      assert.equal((await own.store.findById(stuck.id))?.revokedAt, null);
    } finally {
      await api?.close();
      await own.close();
      await redis.stop();
    }
  });
});

describe('showing one token', () => {
  /** Calls per command since the last CONFIG RESETSTAT (`INFO commandstats`). */
  const commandCalls = async (client: { info(section: string): Promise<string> }): Promise<Map<string, number>> =>
    new Map([...(await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));

  test('GET /tokens/:id reads that token\'s two keys, never a listing of every token, and answers as the listing does', async () => {
    const redis = await startRedisServer();
    const own = await startGateway({ env: { REDIS_URL: redis.url } });
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 1_000 });
    clients.push(client);
    let api: AdminApi | null = null;
    try {
      const made: { id: number }[] = [];
      for (const name of ['s1', 's2', 's3']) made.push(await own.createToken({ name, endpoint_scopes: ['yank'] }));
      await waitForReady(client, 2_000);
      api = (await startAdminApi({ ...depsFor(own, KEY), directory: new RedisTokenDirectory(client, { keyPrefix: own.config.redis.keyPrefix }) }))!;
      const show = (id: number) => fetch(`http://127.0.0.1:${api!.port}/tokens/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
      const listing = (await (await fetch(`http://127.0.0.1:${api.port}/tokens`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { tokens: { id: number }[] };
      const listed = listing.tokens;
      assert.ok(Array.isArray(listed), JSON.stringify(listing));
      await client.config('RESETSTAT');
      const res = await show(made[1]!.id);
      const calls = await commandCalls(client);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { token: listed.find((t) => t.id === made[1]!.id) });
      assert.equal(calls.get('zrange') ?? 0, 0, `no listing: ${JSON.stringify([...calls])}`);
      assert.deepEqual([calls.get('get'), calls.get('hgetall')], [1, 1], JSON.stringify([...calls]));
      await client.config('RESETSTAT');
      assert.equal((await show(999_999)).status, 404);
      assert.deepEqual([(await commandCalls(client)).get('zrange') ?? 0, (await commandCalls(client)).get('hgetall') ?? 0], [0, 0], 'an unknown id: one GET');
    } finally {
      await api?.close();
      await own.close();
      await redis.stop();
    }
  });
});

describe('probes and metrics', () => {
  test('healthz is always 200; readyz is 200 while Redis answers and 503 when it does not', async () => {
    assert.deepEqual(await (await get('/healthz', null)).json(), { status: 'ok' });
    assert.deepEqual(await (await get('/readyz', null)).json(), { status: 'ready' });
    const redis = await startRedisServer();
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 200 });
    const deps = { ...depsFor(gw, KEY), store: new RedisTokenStore(client, { keyPrefix: 'sg:' }) };
    const down = (await startAdminApi(deps))!;
    try {
      await redis.stop();
      const res = await fetch(`http://127.0.0.1:${down.port}/readyz`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { status: string }).status, 'unavailable');
    } finally {
      await down.close();
      client.disconnect();
    }
  });

  test('metrics count requests by route, scope and verdict, time decisions, and class upstream answers', async () => {
    const { token } = await gw.createToken({ name: 'metrics', endpoint_scopes: ['publish-new'], crate_scopes: ['metric*'] });
    const body = cargoPublishBody({ name: 'metric-crate', vers: '1.0.0' });
    assert.equal((await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(body.length) }, body)).status, 200);
    assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/metric-crate/1.0.0/yank', { authorization: token })).status, 403);
    const res = await get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^scopegate_requests_total\{route="publish",scope="publish-new",verdict="allow"\} [1-9]/m);
    assert.match(text, /^scopegate_requests_total\{route="yank",scope="yank",verdict="deny"\} [1-9]/m);
    assert.match(text, /^scopegate_decision_duration_seconds_count [1-9]/m);
    assert.match(text, /^scopegate_decision_duration_seconds_bucket\{le="0.005"\} \d+/m);
    assert.match(text, /^scopegate_upstream_responses_total\{class="2xx"\} [1-9]/m);
    assert.match(text, /^# TYPE scopegate_redis_errors_total counter/m);
  });
});

describe('hostile request targets', () => {
  /** Sends raw bytes to the admin listener; resolves with the status line's code. */
  const rawStatus = (bytes: string): Promise<number> => new Promise((resolve, reject) => {
    const socket = net.connect(admin.port, '127.0.0.1');
    let raw = '';
    socket.on('data', (chunk) => {
      raw += chunk.toString('latin1');
      if (raw.includes('\r\n')) {
        socket.destroy();
        resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0));
      }
    });
    socket.on('error', reject);
    socket.write(bytes);
  });

  test('an absolute-form target the URL parser refuses gets 400, without a key, and the process lives on', async () => {
    // Before: new URL() threw outside handle()'s try, an unhandled rejection that ended the process.
    assert.equal(await rawStatus('GET http://a:b/ HTTP/1.1\r\nHost: admin\r\n\r\n'), 400);
    assert.equal(await rawStatus('GET //evil.example/tokens HTTP/1.1\r\nHost: admin\r\n\r\n'), 400);
    assert.equal((await get('/healthz', null)).status, 200);
  });

  test('a refused target is logged as not a path, so userinfo in it never reaches the log', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', new Writable({ write(c: Buffer, _e, done) { lines.push(c.toString()); done(); } }));
    const own = (await startAdminApi(depsFor(gw, KEY, logger)))!;
    try {
      for (const target of ['http://ops:hunter2-secret@admin/tokens', '//ops:hunter2-secret@admin/tokens']) {
        const status = await new Promise<number>((resolve, reject) => {
          const socket = net.connect(own.port, '127.0.0.1');
          socket.on('data', (chunk) => {
            socket.destroy();
            resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0));
          });
          socket.on('error', reject);
          socket.write(`GET ${target} HTTP/1.1\r\nHost: admin\r\n\r\n`);
        });
        assert.equal(status, 400, target);
      }
      const logged = lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'admin.route' in l);
      assert.deepEqual(logged.map((l) => [l['admin.route'], l.status]), [['GET [not a path]', 400], ['GET [not a path]', 400]]);
      assert.ok(!lines.join('').includes('hunter2'), 'userinfo was logged');
    } finally {
      await own.close();
    }
  });

  test('a token pasted into a path is masked in the log, as on the gateway\'s request lines', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', new Writable({ write(c: Buffer, _e, done) { lines.push(c.toString()); done(); } }));
    const own = (await startAdminApi(depsFor(gw, KEY, logger)))!;
    try {
      const { token } = await gw.createToken({ name: 'pasted' });
      const res = await fetch(`http://127.0.0.1:${own.port}/tokens/${token}`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(res.status, 404);
      assert.ok(!lines.join('').includes(token), 'the token was logged');
      assert.ok(lines.join('').includes(`/tokens/${token.slice(0, 3)}`), lines.join(''));
    } finally {
      await own.close();
    }
  });

  test('an account that is not valid percent-encoding gets 400, not 500', async () => {
    const res = await get('/accounts/%E0%A4%A/tokens', KEY, 'DELETE');
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /not valid percent-encoding/);
  });
});
