/**
 * The audit trail and `last_used_at`, against real Redis: every decision on a write route and every
 * token lifecycle event lands in one capped stream, written off the request path; failures are
 * counted, never surfaced; `scopegate audit` filters it. `last_used_at` is set after use.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMetrics } from '../../src/http/metrics.js';
import type { Redis } from 'ioredis';
import { RedisAuditLog, type AuditEntry } from '../../src/store/audit-log.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { runCliHere, withKeyPrefix, writeConfig } from '../support/cli.js';
import { call, rawRequest, startGateway, type TestGateway } from '../support/gateway.js';
import { deleteKeysWithPrefix, sharedRedisUrl, startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';

let gw: TestGateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const publish = (token: string, name: string) => {
  const body = cargoPublishBody({ name, vers: '1.0.0' });
  return rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: token, 'content-length': String(body.length) }, body);
};

describe('the audit stream', () => {
  test('records each decision on a write route (allow, deny, legacy pass), and no reads', async () => {
    const { token, id } = await gw.createToken({ name: 'audited', endpoint_scopes: ['publish-new'], crate_scopes: ['audit*'] });
    assert.equal((await publish(token, 'audit-crate')).status, 200);
    assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/audit-crate/1.0.0/yank', { authorization: token })).status, 403);
    await rawRequest(gw.port, 'DELETE', '/api/v1/crates/audit-crate/1.0.0/yank', { authorization: 'alice-upstream-secret' });
    await rawRequest(gw.port, 'GET', '/index/config.json', { authorization: token });
    await gw.audit.flush();
    const entries = await gw.audit.read({ event: 'decision' }, 10);
    const shape = entries.map((e) => [e.route, e.scope, e.verdict, e.reason, e.token, e.account, e.crate, e.status]);
    assert.deepEqual(shape, [
      ['yank', 'yank', 'pass', 'legacy-credential', undefined, undefined, undefined, 200],
      ['yank', 'yank', 'deny', 'scope-missing', id, 'alice', 'audit-crate', 403],
      ['publish', 'publish-new', 'allow', 'allowed', id, 'alice', 'audit-crate', 200],
    ]);
    assert.ok(entries.every((e) => typeof e.req === 'string' && e.ts > 0));
  });

  test('records token lifecycle events: created, revoked, and an expired token used', async () => {
    const soon = await gw.createToken({ name: 'expiring', endpoint_scopes: ['yank'], expired_at: new Date(Date.now() + 60_000).toISOString() });
    const gone = await gw.createToken({ name: 'revoked' });
    await call(gw.url, { path: `/api/v1/me/tokens/${gone.id}`, method: 'DELETE', headers: { authorization: 'alice-upstream-secret' } });
    gw.setNow(Date.now() + 120_000);
    try {
      assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: soon.token })).status, 403);
    } finally {
      gw.setNow(null);
    }
    await gw.audit.flush();
    const events = (await gw.audit.read({}, 50)).filter((e) => e.token === soon.id || e.token === gone.id).map((e) => [e.event, e.token]);
    assert.deepEqual(events.filter(([event]) => event !== 'decision'), [
      ['token.expired-used', soon.id], ['token.revoked', gone.id], ['token.created', gone.id], ['token.created', soon.id],
    ]);
  });

  test('scopegate audit filters by token, account, crate and verdict', async () => {
    const { token, id } = await gw.createToken({ name: 'cli-audit', endpoint_scopes: ['publish-new'], crate_scopes: ['audit*'] });
    assert.equal((await publish(token, 'audit-other')).status, 200);
    await rawRequest(gw.port, 'DELETE', '/api/v1/crates/audit-other/1.0.0/yank', { authorization: token });
    await gw.audit.flush();
    const config = await writeConfig(withKeyPrefix(gw.config.redis.keyPrefix));
    const env = { SCOPEGATE_UPSTREAM: gw.registry.url, REDIS_URL: gw.config.redis.url };
    const audit = (...args: string[]) => runCliHere(['audit', '--config', config, ...args], env);
    const denied = await audit('--token', String(id), '--verdict', 'deny', '--json');
    assert.equal(denied.code, 0, denied.stderr);
    assert.deepEqual(JSON.parse(denied.stdout).entries.map((e: { route: string; reason: string }) => [e.route, e.reason]), [['yank', 'scope-missing']]);
    const byCrate = await audit('--crate', 'audit-other', '--account', 'alice');
    assert.match(byCrate.stdout, /^TIME\s+EVENT\s+VERDICT\s+REASON\s+ROUTE\s+TOKEN\s+ACCOUNT\s+CRATE\s+STATUS$/m);
    assert.equal(byCrate.stdout.trim().split('\n').length, 3, byCrate.stdout);
    assert.match((await audit('--crate', 'no-such-crate')).stdout, /no audit entries match/);
    assert.equal((await audit('--verdict', 'maybe')).code, 2);
    assert.equal((await audit('--limit', '0')).code, 2);
  });

  test('is one capped stream key (XADD MAXLEN ~)', async () => {
    const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 2_000 });
    await waitForReady(client, 2_000);
    const prefix = uniquePrefix();
    try {
      const log = new RedisAuditLog(client, { keyPrefix: prefix, maxEntries: 100 });
      for (let i = 0; i < 1_000; i++) log.append({ ts: i, event: 'decision', verdict: 'allow' });
      await log.flush();
      assert.equal(log.failures, 0);
      const length = await client.xlen(`${prefix}audit`);
      assert.ok(length >= 100 && length < 300, `stream length ${length}`);
      assert.deepEqual(await client.keys(`${prefix}*`), [`${prefix}audit`]);
      assert.equal((await log.read({}, 1))[0]?.ts, 999, 'the newest entries are kept');
    } finally {
      await deleteKeysWithPrefix(client, prefix);
      client.disconnect();
    }
  });

  test('a failed write is counted (and exported as a metric), never thrown', async () => {
    const redis = await startRedisServer();
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 200 });
    await waitForReady(client, 2_000);
    const log = new RedisAuditLog(client, { keyPrefix: 'sg:', maxEntries: 100 });
    const metrics = createMetrics({ processMetrics: false });
    metrics.trackRedisErrors('audit', () => log.failures);
    try {
      await redis.stop();
      for (let i = 0; i < 5; i++) log.append({ ts: i, event: 'decision' });
      await log.flush();
      assert.equal(log.failures, 5);
      assert.match(await metrics.registry.metrics(), /^scopegate_redis_errors_total\{source="audit"\} 5$/m);
    } finally {
      client.disconnect();
    }
  });
});

describe('the audit stream while Redis hangs', () => {
  const entry = (i: number): AuditEntry => ({ ts: i, event: 'decision', verdict: 'deny', reason: 'token-malformed', route: 'yank', path: `/api/v1/crates/foo/1.0.${i}/yank` });

  async function hungLog(): Promise<{ redis: RedisServer; client: Redis; log: RedisAuditLog }> {
    const redis = await startRedisServer();
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 100 }); // the shipped default
    await waitForReady(client, 2_000);
    return { redis, client, log: new RedisAuditLog(client, { keyPrefix: 'sg:', maxEntries: 1_000_000 }) };
  }

  test('entries waiting to be written count towards the 10,000 limit, and those beyond it are dropped and counted', async () => {
    const { redis, client, log } = await hungLog();
    try {
      const paused = redis.pause(1_000);
      // A flood during the hang: every 256 entries a batch leaves the buffer for the write chain.
      for (let i = 0; i < 15_000; i++) log.append(entry(i));
      assert.equal(log.failures, 5_000, 'everything past 10,000 unwritten entries is dropped at once');
      await paused;
      await log.flush();
      // Whatever was not counted as lost is in the stream: the timed-out chunks did run, later.
      const written = await client.xlen('sg:audit');
      assert.equal(written + log.failures, 15_000, `written ${written}, failed ${log.failures}, unconfirmed ${log.unconfirmed}`);
      assert.ok(written <= 10_000, `written ${written}`);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });

  test('a write that timed out is counted as unconfirmed, not failed: Redis writes it once it resumes', async () => {
    const { redis, client, log } = await hungLog();
    const metrics = createMetrics({ processMetrics: false });
    metrics.trackRedisErrors('audit', () => log.failures);
    metrics.trackAuditUnconfirmed(() => log.unconfirmed);
    try {
      const paused = redis.pause(400);
      for (let i = 0; i < 10; i++) log.append(entry(i));
      await log.flush();
      assert.deepEqual([log.failures, log.unconfirmed], [0, 10]);
      await paused;
      // The next write asks first whether Redis answers, and goes through.
      log.append(entry(10));
      await log.flush();
      assert.equal(await client.xlen('sg:audit'), 11);
      assert.equal(log.failures, 0);
      const text = await metrics.registry.metrics();
      assert.match(text, /^scopegate_audit_unconfirmed_total 10$/m);
      assert.doesNotMatch(text, /^scopegate_redis_errors_total\{source="audit"\} [1-9]/m);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});

describe('last_used_at', () => {
  test('is set after a token is used, off the request path, and moves at most once a minute', async () => {
    const { token, id } = await gw.createToken({ name: 'used', endpoint_scopes: ['yank'] });
    assert.equal((await gw.store.findById(id))?.lastUsedAt, null);
    const used = async (): Promise<number | null> => {
      for (let i = 0; i < 50; i++) {
        const at = (await gw.store.findById(id))?.lastUsedAt ?? null;
        if (at !== null) return at;
        await new Promise((r) => setTimeout(r, 20));
      }
      return null;
    };
    const t0 = Date.now();
    gw.setNow(t0);
    try {
      await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: token });
      assert.equal(await used(), t0);
      gw.setNow(t0 + 30_000);
      await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: token });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await gw.store.findById(id))?.lastUsedAt, t0, 'not rewritten within the minute');
      gw.setNow(t0 + 61_000);
      await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: token });
      for (let i = 0; i < 50 && (await gw.store.findById(id))?.lastUsedAt === t0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal((await gw.store.findById(id))?.lastUsedAt, t0 + 61_000);
    } finally {
      gw.setNow(null);
    }
    const listed = await call(gw.url, { path: `/api/v1/me/tokens/${id}`, headers: { authorization: 'alice-upstream-secret' } });
    assert.equal(listed.json.api_token.last_used_at, new Date(t0 + 61_000).toISOString());
  });

  /** lastUsedAt once the batched write has had time to land (null if it never does). */
  const usedAt = async (id: number, waitForWrite = true): Promise<number | null> => {
    for (let i = 0; i < (waitForWrite ? 50 : 15); i++) {
      const at = (await gw.store.findById(id))?.lastUsedAt ?? null;
      if (at !== null) return at;
      await new Promise((r) => setTimeout(r, 20));
    }
    return null;
  };

  test('is set by every successful lookup, also when a scope check then denies (crates.io)', async () => {
    const noYank = await gw.createToken({ name: 'no-yank', endpoint_scopes: ['change-owners'] });
    const otherCrate = await gw.createToken({ name: 'other-crate', endpoint_scopes: ['yank'], crate_scopes: ['zzz'] });
    const manager = await gw.createToken({ name: 'manager', endpoint_scopes: null });
    const t0 = Date.now();
    gw.setNow(t0);
    try {
      assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: noYank.token })).status, 403);
      assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: otherCrate.token })).status, 403);
      assert.equal((await rawRequest(gw.port, 'GET', '/api/v1/me/tokens', { authorization: manager.token })).status, 200);
      assert.equal(await usedAt(noYank.id), t0, 'a request denied for its endpoint scope is a use');
      assert.equal(await usedAt(otherCrate.id), t0, 'a request denied for its crate scope is a use');
      assert.equal(await usedAt(manager.id), t0, 'a token-API call with a token is a use');
    } finally {
      gw.setNow(null);
    }
  });

  test('is not set by an expired or a revoked token', async () => {
    const expiring = await gw.createToken({ name: 'expiring', endpoint_scopes: ['yank'], expired_at: new Date(Date.now() + 86_400_000).toISOString() });
    const revoked = await gw.createToken({ name: 'revoked', endpoint_scopes: ['yank'] });
    await gw.store.revoke(revoked.id, Date.now(), 3_600_000);
    gw.setNow(Date.now() + 2 * 86_400_000);
    try {
      assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: expiring.token })).status, 403);
    } finally {
      gw.setNow(null);
    }
    assert.equal((await rawRequest(gw.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: revoked.token })).status, 403);
    assert.equal(await usedAt(expiring.id, false), null);
    assert.equal(await usedAt(revoked.id, false), null);
  });
});
