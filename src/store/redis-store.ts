/**
 * The Redis token store (DESIGN §5). Key layout, with `p` the key prefix (default `sg:`):
 *
 * - `p token:{<hash>}`  hash: the record's stored fields (`storeTokenRecord`); the hot-path key.
 * - `p token-id:<id>`   string: the record's hash, for lookups by id.
 * - `p account:{<acct>}` sorted set: the account's ids, scored by id (newest = highest).
 * - `p token-seq`       counter: the last id handed out.
 * - `p revocations`     pub/sub channel (not a key): each revoked token's hash, for the caches.
 * - `p token-expiry`    sorted set: every id scored by expiry (`redis-directory.ts`).
 * - `p creating:{<acct>}` string: held (SET NX PX) while a creation with a limit counts the
 *   account's records and writes its own, so racing creations cannot all pass the count.
 *
 * Every command and script touches exactly one key on Redis Cluster, so the layout works there
 * unchanged (no cross-slot commands, no MULTI across keys); only the batched `last_used_at` script
 * takes several keys, and only outside Cluster. Both per-token keys carry the record's
 * drop time (`dropAt`) as PEXPIREAT, so Redis itself forgets expired and revoked tokens. The
 * revoke script also PUBLISHes the revocation (a channel, not a key), so it commits only together
 * with its announcement.
 */
import type { Cluster, Redis } from 'ioredis';
import { cargoNaming, type PackageNaming } from '../core/crate-pattern.js';
import { parseTokenRecord, storeTokenRecord, type StoredTokenFields, type TokenRecord } from '../core/token-record.js';
import { AccountFullError, dropAt, StoreUnavailableError, type AccountLimit, type NewTokenRecord, type TokenStore } from './token-store.js';
import { revocationChannel } from './revocation-feed.js';
import { expiryIndexKey } from './redis-directory.js';
import { redisCall } from './redis-call.js';
import { lockCreation } from './creation-lock.js';
import { evalReplicated, ReplicaAckError } from './replica-ack.js';

/** Options for {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /** Prepended to every key, so several deployments (or tests) can share one Redis. Default `sg:`. */
  readonly keyPrefix?: string;
  /** The registry's name rules, which stored crate patterns are parsed by. Default: cargo's. */
  readonly naming?: PackageNaming;
  /**
   * The connection revocations are written on, closed with the store. A revocation's WAIT for a
   * replica (replica-ack.ts) holds its connection: on the lookups' connection, a slow replica
   * would hold up every request behind it (an account's 500 revocations, 500 waits). The gateway
   * gives it one of its own; default: the store's client (one-shot tools).
   */
  readonly revocations?: Redis | Cluster;
  /**
   * Whether a revocation is acknowledged only once a replica has it (replica-ack.ts), so that a
   * failover cannot undo it. Default: on Sentinel and Cluster, the deployments that fail over by
   * themselves; off for a lone Redis (a master cannot tell it is one: see replica-ack.ts), where an
   * operator who promotes a replica by hand knows the last writes may go.
   */
  readonly confirmRevocations?: boolean;
}

// The scripts below each read and write ONE key atomically. They are sent with EVAL rather than
// registered: they run on create, revoke and (throttled) touch only, never on the lookup path.

/** Writes a new record and its drop time in one step; refuses to overwrite an existing hash. */
const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if ARGV[1] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1`;

/**
 * Sets revoked_at unless already set (the first revocation wins), puts the drop time on the record
 * and announces the revocation on the channel ARGV[3], all in one step; returns the record, or nil.
 * Expiry and PUBLISH are inside because as separate commands after the commit, a Redis that stalled
 * in between left the token revoked in Redis yet unannounced: every process's cache served it for
 * up to `cache.ttl` while the caller saw an error. PUBLISH from a script is allowed, and names no
 * key, so the script still touches one key (on Cluster, the message crosses the bus from whichever
 * node holds the record). The drop time mirrors `dropAt` (token-store.ts):
 * min(expired_at, revoked_at) + ARGV[2]. Times are epoch ms, exact in Lua's doubles; `%.0f`
 * keeps PEXPIREAT's argument an integer rather than `1.7e+12`.
 */
const REVOKE_SCRIPT = `
local f = redis.call('HMGET', KEYS[1], 'revoked_at', 'expired_at')
if not f[1] then return false end
local revoked = f[1]
if revoked == '' then
  revoked = ARGV[1]
  redis.call('HSET', KEYS[1], 'revoked_at', revoked)
end
local ends = tonumber(revoked)
local expired = tonumber(f[2])
if expired and (not ends or expired < ends) then ends = expired end
if ends then redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', ends + tonumber(ARGV[2]))) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return redis.call('HGETALL', KEYS[1])`;

/**
 * Moves last_used_at of each KEYS[i] forward to ARGV[i], only on a record that still exists: a
 * plain HSET would recreate a dropped record as a one-field hash with no expiry. Never moves it
 * back, since processes race. The one script that may touch several keys: on Cluster it is sent
 * with one key at a time (see `touch`).
 */
const TOUCH_SCRIPT = `
for i, key in ipairs(KEYS) do
  local last = redis.call('HGET', key, 'last_used_at')
  if last and (last == '' or tonumber(last) < tonumber(ARGV[i])) then
    redis.call('HSET', key, 'last_used_at', ARGV[i])
  end
end
return 0`;

/**
 * Records per touch script call. One call per record cost the gateway ~15–25 µs of CPU each in
 * ioredis; 256 per call, ~1 µs each (bench/RESULTS.md).
 */
const TOUCH_CHUNK = 256;

/** {@link TokenStore} on Redis (standalone, Sentinel or Cluster through ioredis). */
export class RedisTokenStore implements TokenStore {
  private readonly prefix: string;
  private readonly naming: PackageNaming;
  /**
   * How long a revocation waits for a replica to confirm it (`replica-ack.ts`): half the command
   * timeout, so that WAIT answers before the command times out, and the lookups queued behind it
   * on the connection still answer within theirs.
   */
  private readonly replicaWaitMs: number;
  private readonly revocations: Redis | Cluster;
  private readonly confirmRevocations: boolean | undefined;

  /** The client should come from `createRedisClient`, so that a down Redis fails fast. */
  constructor(
    private readonly client: Redis | Cluster,
    options: RedisTokenStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? 'sg:';
    this.naming = options.naming ?? cargoNaming;
    this.revocations = options.revocations ?? client;
    this.confirmRevocations = options.confirmRevocations;
    this.replicaWaitMs = Math.max(1, Math.floor(commandTimeoutOf(this.revocations) / 2));
  }

  async create(fresh: NewTokenRecord, keepExpiredMs: number, limit?: AccountLimit): Promise<TokenRecord> {
    if (limit === undefined) return this.write(fresh, keepExpiredMs);
    // The count and the write span Cluster slots: creation-lock.ts makes them one step.
    const unlock = await lockCreation(this.client, `${this.prefix}creating:{${fresh.account}}`);
    try {
      if (await this.storedAtLeast(fresh.account, limit.perAccount)) throw new AccountFullError(fresh.account, limit.perAccount);
      return await this.write(fresh, keepExpiredMs);
    } finally {
      await unlock();
    }
  }

  /**
   * Whether the account has at least `count` records stored. The index holds every stored record's
   * id (written after the record), and may still hold ids of dropped ones until a listing prunes
   * them: so a ZCARD below `count` settles it in one round trip, and only an index that full is
   * listed, for the exact number (a listing of 500 records costs ~40 ms, under the lock).
   */
  private async storedAtLeast(account: string, count: number): Promise<boolean> {
    const indexed = await this.call('ZCARD account', () => this.client.zcard(this.accountKey(account)));
    return indexed >= count && (await this.listByAccount(account)).length >= count;
  }

  private async write(fresh: NewTokenRecord, keepExpiredMs: number): Promise<TokenRecord> {
    const id = await this.call('INCR token-seq', () => this.client.incr(this.seqKey()));
    const record: TokenRecord = { ...copyNew(fresh), id, lastUsedAt: null, revokedAt: null };
    const drop = dropAt(record, keepExpiredMs);
    const fields = Object.entries(storeTokenRecord(record)).flat();
    const created = await this.call('create token', () =>
      this.client.eval(CREATE_SCRIPT, 1, this.tokenKey(record.hash), drop === null ? '' : String(drop), ...fields),
    );
    if (created !== 1) throw new Error(`a token with hash ${record.hash.slice(0, 8)}… already exists`);
    // The account index is written last: listByAccount removes ids whose records it cannot find,
    // so an id must never be listed before its records exist. A failure in between leaves at
    // most an unreachable record (its plaintext was never shown), dropped with the token.
    const idKey = this.idKey(id);
    await this.call('SET token-id', () =>
      drop === null ? this.client.set(idKey, record.hash) : this.client.set(idKey, record.hash, 'PXAT', drop),
    );
    await this.call('ZADD account', () => this.client.zadd(this.accountKey(record.account), id, String(id)));
    // The operators' index (redis-directory.ts): every id by expiry, for listings and reminders.
    await this.call('ZADD token-expiry', () => this.client.zadd(expiryIndexKey(this.prefix), record.expiredAt ?? '+inf', String(id)));
    return record;
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    // The hot path: exactly one round trip.
    const fields = await this.call('HGETALL token', () => this.client.hgetall(this.tokenKey(hash)));
    return parseStored(fields, (record) => record.hash === hash, this.naming);
  }

  async findById(id: number): Promise<TokenRecord | null> {
    const hash = await this.call('GET token-id', () => this.client.get(this.idKey(id)));
    if (hash === null) return null;
    const record = await this.findByHash(hash);
    return record !== null && record.id === id ? record : null;
  }

  async listByAccount(account: string): Promise<TokenRecord[]> {
    const ids = await this.call('ZREVRANGE account', () => this.client.zrevrange(this.accountKey(account), 0, -1));
    // Sent together, so they share round trips on the connection: three in all (ZREVRANGE, the
    // GETs, the HGETALLs), however many tokens the account has.
    const records = await Promise.all(ids.map((id) => this.findListed(account, id)));
    return records.filter((record): record is TokenRecord => record !== null);
  }

  async revoke(id: number, now: number, keepExpiredMs: number): Promise<TokenRecord | null> {
    const hash = await this.call('GET token-id', () => this.client.get(this.idKey(id)));
    if (hash === null) return null;
    // Revoked, expiring and announced to every process's cache (revocation-feed.ts) in one step.
    // Announced on every call, also a repeated one, so a caller that saw this fail can simply
    // revoke again. Acknowledged only once a replica has it, where a failover could discard it.
    const args = [String(now), String(keepExpiredMs), revocationChannel(this.prefix), hash];
    const reply = await this.call('revoke token', () => this.revokeOn(this.tokenKey(hash), args), this.revocations).catch((e: StoreUnavailableError) => {
      if (!(e.cause instanceof ReplicaAckError)) throw e;
      throw new StoreUnavailableError(`token ${id} is revoked on the redis master, but ${e.cause.message}: the revocation may not have taken effect; revoke it again`, { cause: e.cause });
    });
    const record = parseStored(pairsToFields(reply), (r) => r.id === id && r.hash === hash, this.naming);
    if (record === null) return null;
    // The id key is in another slot (it is found by id, so it cannot carry the hash's tag): its
    // expiry is a command of its own. If it fails the token is already revoked and announced; only
    // the id key's removal is missing, so the error says that, and a repeated revoke completes it.
    const drop = dropAt(record, keepExpiredMs);
    if (drop !== null) {
      await this.call('PEXPIREAT token-id', () => this.client.pexpireat(this.idKey(id), drop)).catch((e: StoreUnavailableError) => {
        throw new StoreUnavailableError(`${e.message} (token ${id} is revoked and announced; revoke it again to schedule the removal of its id key)`, { cause: e.cause });
      });
    }
    return record;
  }

  /** The revoke script, confirmed by a replica where the deployment fails over (`confirmRevocations`). */
  private revokeOn(key: string, args: readonly string[]): Promise<unknown> {
    const client = this.revocations;
    // A Cluster's masters without replicas never served a sync, and so answer at once (replica-ack.ts).
    const confirm = this.confirmRevocations ?? (client.isCluster || ((client as Redis).options.sentinels?.length ?? 0) > 0);
    return confirm ? evalReplicated(client, REVOKE_SCRIPT, key, args, this.replicaWaitMs) : client.eval(REVOKE_SCRIPT, 1, key, ...args);
  }

  async touch(uses: ReadonlyMap<string, number>): Promise<void> {
    // Each record is its own Cluster slot, so on Cluster every call carries one key.
    const chunk = this.client.isCluster ? 1 : TOUCH_CHUNK;
    const entries = [...uses];
    const calls: Promise<unknown>[] = [];
    for (let start = 0; start < entries.length; start += chunk) {
      const part = entries.slice(start, start + chunk);
      const keys = part.map(([hash]) => this.tokenKey(hash));
      const times = part.map(([, now]) => String(now));
      calls.push(this.call('touch tokens', () => this.client.eval(TOUCH_SCRIPT, keys.length, ...keys, ...times)));
    }
    await Promise.all(calls);
  }

  async ping(): Promise<void> {
    await this.call('PING', () => this.client.ping());
  }

  async close(): Promise<void> {
    const clients = this.revocations === this.client ? [this.client] : [this.client, this.revocations];
    await Promise.all(clients.map(async (client) => {
      try {
        await client.quit();
      } catch {
        // Not connected: QUIT cannot be sent, so stop the reconnect loop directly.
        client.disconnect();
      }
    }));
  }

  /** One listed id: its record, or null (and the id leaves the index) when the record is gone. */
  private async findListed(account: string, member: string): Promise<TokenRecord | null> {
    const id = Number(member);
    const hash = await this.call('GET token-id', () => this.client.get(this.idKey(id)));
    const fields =
      hash === null ? {} : await this.call('HGETALL token', () => this.client.hgetall(this.tokenKey(hash)));
    if (Object.keys(fields).length === 0) {
      await this.call('ZREM account', () => this.client.zrem(this.accountKey(account), member));
      return null;
    }
    // A corrupt record is skipped but left indexed: it is not gone, and an operator may want it.
    return parseStored(fields, (record) => record.id === id && record.account === account, this.naming);
  }

  /** Runs one Redis call (any failure becomes a StoreUnavailableError that names the cause): a command on the lookups' client, or `client` (revocations have their own: RedisTokenStoreOptions.revocations). */
  private call<T>(what: string, command: () => Promise<T>, client: Redis | Cluster = this.client): Promise<T> {
    return redisCall(client, what, command);
  }

  private tokenKey(hash: string): string {
    return `${this.prefix}token:{${hash}}`;
  }

  private idKey(id: number): string {
    return `${this.prefix}token-id:${id}`;
  }

  private accountKey(account: string): string {
    return `${this.prefix}account:{${account}}`;
  }

  private seqKey(): string {
    return `${this.prefix}token-seq`;
  }
}

/** The command timeout the client was created with (ms); ioredis's default, none, counts as 1 s. */
function commandTimeoutOf(client: Redis | Cluster): number {
  const options = client.isCluster ? (client as Cluster).options.redisOptions : (client as Redis).options;
  return options?.commandTimeout ?? 1_000;
}

/** Copies exactly the record's own fields, so nothing else the caller attached gets stored. */
function copyNew(fresh: NewTokenRecord): NewTokenRecord {
  const { hash, account, name, endpointScopes, crateScopes, createdAt, expiredAt, sealedCredential } = fresh;
  return { hash, account, name, endpointScopes, crateScopes, createdAt, expiredAt, sealedCredential };
}

/** Parses stored fields; an empty hash (absent key), a corrupt one, or a mismatch is null. */
function parseStored(fields: StoredTokenFields | null, belongs: (record: TokenRecord) => boolean, naming: PackageNaming): TokenRecord | null {
  if (fields === null || Object.keys(fields).length === 0) return null;
  const record = parseTokenRecord(fields, naming);
  return record !== null && belongs(record) ? record : null;
}

/** A script's HGETALL reply (a flat `[field, value, …]` array) as fields; null for nil. */
function pairsToFields(reply: unknown): StoredTokenFields | null {
  if (!Array.isArray(reply)) return null;
  const fields: StoredTokenFields = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

