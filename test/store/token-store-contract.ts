/**
 * The one contract every {@link TokenStore} implementation passes (STYLE: contract suites for
 * ports). Each test gets a fresh, empty store from `makeStore`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCratePattern, type CratePattern } from '../../src/core/crate-pattern.js';
import type { TokenRecord } from '../../src/core/token-record.js';
import type { Cluster, Redis } from 'ioredis';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { AccountFullError, type NewTokenRecord, type TokenStore } from '../../src/store/token-store.js';
import { deleteKeysWithPrefix, uniquePrefix } from '../support/redis-server.js';

/** What a contract run needs: an empty store, and how to dispose of it afterwards. */
export interface StoreUnderTest {
  readonly store: TokenStore;
  cleanup(): Promise<void>;
}

/** Long enough that nothing is dropped during a test that is not about dropping. */
const KEEP_LONG_MS = 60 * 60 * 1000;
/** Upper bound on waiting for a drop that is due after a few hundred milliseconds. */
const DROP_WAIT_MS = 3_000;

/** Runs the contract against the store `makeStore` creates. */
export function runTokenStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`TokenStore contract: ${name}`, () => {
    let subject: StoreUnderTest | undefined;
    beforeEach(async () => {
      subject = await makeStore();
    });
    afterEach(() => subject?.cleanup());
    const current = (): TokenStore => {
      assert.ok(subject, 'beforeEach should have made a store');
      return subject.store;
    };
    lookupCases(current);
    lifecycleCases(current);
    dropCases(current);
  });
}

/** A getter for the store of the running test. */
type CurrentStore = () => TokenStore;

function lookupCases(current: CurrentStore): void {
  it('create assigns increasing integer ids starting at 1 or above', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await current().create(newRecord(), KEEP_LONG_MS)).id);
    for (const id of ids) assert.ok(Number.isSafeInteger(id) && id >= 1, `id ${id}`);
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `ids ${ids.join(', ')} should increase`);
  });

  for (const shape of RECORD_SHAPES) {
    it(`findByHash and findById return every field of ${shape.name}`, async () => {
      const store = current();
      const fresh = newRecord(shape.fields);
      const created = await store.create(fresh, KEEP_LONG_MS);
      const expected: TokenRecord = { ...fresh, id: created.id, lastUsedAt: null, revokedAt: null };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.findByHash(fresh.hash), expected);
      assert.deepEqual(await store.findById(created.id), expected);
    });
  }

  it('an unknown hash or id finds nothing', async () => {
    const store = current();
    const known = await store.create(newRecord(), KEEP_LONG_MS);
    assert.equal(await store.findByHash(randomHash()), null);
    assert.equal(await store.findById(known.id + 1000), null);
    assert.equal(await store.findById(0), null);
  });

  it('listByAccount returns only that account, newest first', async () => {
    const store = current();
    const a1 = await store.create(newRecord({ account: 'alice' }), KEEP_LONG_MS);
    const b1 = await store.create(newRecord({ account: 'bob' }), KEEP_LONG_MS);
    const a2 = await store.create(newRecord({ account: 'alice' }), KEEP_LONG_MS);
    assert.deepEqual(await store.listByAccount('alice'), [a2, a1]);
    assert.deepEqual(await store.listByAccount('bob'), [b1]);
    assert.deepEqual(await store.listByAccount('carol'), []);
  });

  it('ping answers', async () => {
    await current().ping();
  });
}

/** Records that must survive a round trip unchanged, down to null versus `[]`. */
const RECORD_SHAPES: { name: string; fields: Partial<NewTokenRecord> }[] = [
  { name: 'a full-access, never-expiring record', fields: {} },
  { name: 'empty scope lists (distinct from null)', fields: { endpointScopes: [], crateScopes: [] } },
  {
    name: 'scopes, patterns as written, expiry and a sealed credential',
    fields: {
      endpointScopes: ['publish-update', 'yank', 'read'],
      crateScopes: patterns('serde', 'Serde_Json*', '*'),
      expiredAt: Date.now() + 86_400_000,
      sealedCredential: 'v1.c2FsdA.aXY.dGFn.Y3Q',
      name: 'CI for serde — “release” token',
    },
  },
];

function lifecycleCases(current: CurrentStore): void {
  it('revoke sets revokedAt, and revoking again keeps the first time', async () => {
    const store = current();
    const created = await store.create(newRecord(), KEEP_LONG_MS);
    const revokedAt = Date.now();
    assert.deepEqual(await store.revoke(created.id, revokedAt, KEEP_LONG_MS), { ...created, revokedAt });
    assert.equal((await store.revoke(created.id, revokedAt + 1_000, KEEP_LONG_MS))?.revokedAt, revokedAt);
    assert.equal((await store.findByHash(created.hash))?.revokedAt, revokedAt);
    assert.equal((await store.listByAccount(created.account))[0]?.revokedAt, revokedAt);
  });

  it('create with a limit stores at most that many of an account\'s records, however many creations race', async () => {
    const store = current();
    const limit = { perAccount: 5 };
    const revoked = await store.create(newRecord({ account: 'carol' }), KEEP_LONG_MS);
    await store.revoke(revoked.id, Date.now(), KEEP_LONG_MS);
    await store.create(newRecord({ account: 'dave' }), KEEP_LONG_MS, limit);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => store.create(newRecord({ account: 'carol' }), KEEP_LONG_MS, limit)));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as Error);
    assert.equal(outcomes.length - refused.length, 4, 'a revoked record still counts until dropped: four more fit');
    for (const e of refused) assert.ok(e instanceof AccountFullError && e.limit === 5 && e.account === 'carol', String(e));
    assert.equal((await store.listByAccount('carol')).length, 5);
    await assert.rejects(store.create(newRecord({ account: 'carol' }), KEEP_LONG_MS, limit), AccountFullError);
    assert.equal((await store.listByAccount('dave')).length, 1, 'another account is counted apart');
    await store.create(newRecord({ account: 'carol' }), KEEP_LONG_MS);
    assert.equal((await store.listByAccount('carol')).length, 6, 'a creation without a limit (the operator\'s) is not bounded');
  });

  it('revoke of an unknown id returns null', async () => {
    assert.equal(await current().revoke(4242, Date.now(), KEEP_LONG_MS), null);
  });

  it('touch updates lastUsedAt and changes nothing else', async () => {
    const store = current();
    const created = await store.create(newRecord(), KEEP_LONG_MS);
    const usedAt = Date.now();
    await store.touch(new Map([[created.hash, usedAt]]));
    assert.deepEqual(await store.findByHash(created.hash), { ...created, lastUsedAt: usedAt });
    await store.touch(new Map([[created.hash, usedAt + 60_000]]));
    assert.equal((await store.findById(created.id))?.lastUsedAt, usedAt + 60_000);
  });

  it('touch moves many records at once, each to its own time, and never back', async () => {
    const store = current();
    const records = await Promise.all(Array.from({ length: 300 }, () => store.create(newRecord(), KEEP_LONG_MS)));
    const usedAt = Date.now();
    const unknown = randomHash();
    // 300 records: more than one script call's worth on a standalone Redis.
    await store.touch(new Map([...records.map((r, i): [string, number] => [r.hash, usedAt + i]), [unknown, usedAt]]));
    for (const [i, r] of records.entries()) assert.equal((await store.findById(r.id))?.lastUsedAt, usedAt + i, `record ${i}`);
    assert.equal(await store.findByHash(unknown), null);
    await store.touch(new Map([[records[5]!.hash, usedAt - 1_000], [records[6]!.hash, usedAt + 10_000]]));
    assert.equal((await store.findById(records[5]!.id))?.lastUsedAt, usedAt + 5, 'an older use does not move it back');
    assert.equal((await store.findById(records[6]!.id))?.lastUsedAt, usedAt + 10_000);
  });

  it('touch does not create a record for an unknown hash', async () => {
    const hash = randomHash();
    await current().touch(new Map([[hash, Date.now()]]));
    assert.equal(await current().findByHash(hash), null);
  });
}

function dropCases(current: CurrentStore): void {
  it('an expiring record is kept keep_expired after expiry, then dropped', async () => {
    const store = current();
    const now = Date.now();
    const expiring = await store.create(newRecord({ expiredAt: now + 100 }), 400);
    const forever = await store.create(newRecord(), 400);
    await sleep(Math.max(0, now + 150 - Date.now()));
    // Expired but kept, so the gateway can still say "this token expired".
    assert.equal((await store.findByHash(expiring.hash))?.id, expiring.id);
    await waitUntilDropped(store, expiring);
    assert.equal(await store.findById(expiring.id), null);
    assert.deepEqual(await store.listByAccount(expiring.account), [forever]);
    await store.touch(new Map([[expiring.hash, Date.now()]]));
    assert.equal(await store.findByHash(expiring.hash), null, 'touch must not bring a dropped record back');
  });

  it('a revoked record is dropped keep_expired after revocation', async () => {
    const store = current();
    const revoked = await store.create(newRecord(), KEEP_LONG_MS);
    const kept = await store.create(newRecord(), KEEP_LONG_MS);
    await store.revoke(revoked.id, Date.now(), 200);
    await waitUntilDropped(store, revoked);
    assert.equal(await store.findById(revoked.id), null);
    assert.equal(await store.revoke(revoked.id, Date.now(), 200), null);
    assert.deepEqual(await store.listByAccount(revoked.account), [kept]);
  });

  it('a record that neither expires nor is revoked is not dropped', async () => {
    const store = current();
    const forever = await store.create(newRecord(), 0);
    const shortLived = await store.create(newRecord({ expiredAt: Date.now() + 50 }), 50);
    await waitUntilDropped(store, shortLived);
    assert.deepEqual(await store.findByHash(forever.hash), forever);
  });
}

/** A new record with fresh random hash; `fields` override the defaults. */
export function newRecord(fields: Partial<NewTokenRecord> = {}): NewTokenRecord {
  return {
    hash: randomHash(),
    account: 'alice',
    name: 'ci',
    endpointScopes: null,
    crateScopes: null,
    createdAt: Date.now(),
    expiredAt: null,
    sealedCredential: null,
    ...fields,
  };
}

/** A random SHA-256-shaped hex string. */
export function randomHash(): string {
  return randomBytes(32).toString('hex');
}

function patterns(...sources: string[]): CratePattern[] {
  return sources.map((source) => {
    const pattern = parseCratePattern(source);
    assert.ok(pattern, `test pattern ${source} should parse`);
    return pattern;
  });
}

/** Polls until both lookups find nothing; fails after {@link DROP_WAIT_MS}. */
async function waitUntilDropped(store: TokenStore, record: TokenRecord): Promise<void> {
  const deadline = Date.now() + DROP_WAIT_MS;
  while ((await store.findByHash(record.hash)) !== null) {
    assert.ok(Date.now() < deadline, `token ${record.id} was not dropped within ${DROP_WAIT_MS} ms`);
    await sleep(25);
  }
}

/**
 * The contract's store factory for a Redis deployment (standalone, Sentinel or Cluster): a fresh
 * key prefix per test, its keys deleted afterwards with `deleteKeys` (Cluster needs every master).
 */
export function redisStoreUnderTest(
  connect: () => Promise<Redis | Cluster>,
  deleteKeys: (client: Redis | Cluster, prefix: string) => Promise<void> = (client, prefix) => deleteKeysWithPrefix(client as Redis, prefix),
): () => Promise<StoreUnderTest> {
  return async () => {
    const client = await connect();
    const keyPrefix = uniquePrefix();
    const store = new RedisTokenStore(client, { keyPrefix });
    return {
      store,
      async cleanup() {
        await deleteKeys(client, keyPrefix);
        await store.close();
      },
    };
  };
}
