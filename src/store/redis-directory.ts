/**
 * {@link TokenDirectory} on Redis, beside {@link RedisTokenStore} and on its key layout
 * (`redis-store.ts`), plus one key of its own:
 *
 * - `p token-expiry` sorted set: every token's id, scored by `expired_at` (`+inf`: never);
 *   written by `RedisTokenStore.create`. Ids whose records Redis has dropped are removed lazily,
 *   when a listing finds them gone (as the account index does).
 *
 * Every command and script touches one key; the reminder scripts run on the token's own hash.
 */
import type { Cluster, Redis } from 'ioredis';
import { redisCall } from './redis-call.js';
import { cargoNaming, type PackageNaming } from '../core/crate-pattern.js';
import { parseTokenRecord } from '../core/token-record.js';
import { formatClaim, type ListedToken, type TokenDirectory } from './token-directory.js';

/** The expiry index's key (shared with `RedisTokenStore.create`, which writes it). */
export const expiryIndexKey = (prefix: string): string => `${prefix}token-expiry`;

/** Takes the claim unless the token is gone, revoked, reminded, or held by another live lease. */
const CLAIM_SCRIPT = `
local f = redis.call('HMGET', KEYS[1], 'id', 'revoked_at', 'reminded_at', 'remind_claim')
if not f[1] then return 0 end
if f[2] and f[2] ~= '' then return 0 end
if f[3] and f[3] ~= '' then return 0 end
if f[4] and f[4] ~= '' then
  local bar = string.find(f[4], '|[^|]*$')
  if string.sub(f[4], 1, bar - 1) ~= ARGV[1] and tonumber(string.sub(f[4], bar + 1)) > tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], 'remind_claim', ARGV[3])
return 1`;

/** ARGV[2] set: mark reminded at that time; empty: just release. Only the claim's owner may. */
const SETTLE_SCRIPT = `
local claim = redis.call('HGET', KEYS[1], 'remind_claim')
if not claim or claim == '' then return 0 end
local bar = string.find(claim, '|[^|]*$')
if string.sub(claim, 1, bar - 1) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'reminded_at', ARGV[2]) end
redis.call('HSET', KEYS[1], 'remind_claim', '')
return 1`;

/** Tokens read per round of a listing (two commands each), so that a round takes a few milliseconds. */
const FETCH_BATCH = 256;

export class RedisTokenDirectory implements TokenDirectory {
  private readonly prefix: string;

  private readonly naming: PackageNaming;

  /** `naming`: the registry's name rules, which stored crate patterns are parsed by (default cargo's). */
  constructor(private readonly client: Redis | Cluster, options: { keyPrefix?: string; naming?: PackageNaming } = {}) {
    this.prefix = options.keyPrefix ?? 'sg:';
    this.naming = options.naming ?? cargoNaming;
  }

  async listAll(): Promise<ListedToken[]> {
    const ids = await this.call('ZRANGE token-expiry', () => this.client.zrange(expiryIndexKey(this.prefix), 0, -1));
    return this.fetch(ids.sort((a, b) => Number(b) - Number(a)));
  }

  /**
   * `token-id:<id>` → hash, then the record: two commands, one key each. (The admin API's
   * `GET /tokens/:id` once filtered a full listing: ~1.8 s at 40,000 tokens.)
   */
  async findListed(id: number): Promise<ListedToken | null> {
    const fields = await this.readById(String(id));
    return Object.keys(fields).length === 0 ? null : this.listedFrom(fields, String(id));
  }

  async listExpiring(from: number, to: number): Promise<ListedToken[]> {
    const ids = await this.call('ZRANGEBYSCORE token-expiry', () => this.client.zrangebyscore(expiryIndexKey(this.prefix), from, to));
    return this.fetch(ids);
  }

  async claimReminder(hash: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    const claimed = await this.call('claim reminder', () =>
      this.client.eval(CLAIM_SCRIPT, 1, this.tokenKey(hash), owner, String(now), formatClaim(owner, leaseUntil)));
    return claimed === 1;
  }

  async completeReminder(hash: string, owner: string, now: number): Promise<boolean> {
    const done = await this.call('complete reminder', () => this.client.eval(SETTLE_SCRIPT, 1, this.tokenKey(hash), owner, String(now)));
    return done === 1;
  }

  async releaseReminder(hash: string, owner: string): Promise<void> {
    await this.call('release reminder', () => this.client.eval(SETTLE_SCRIPT, 1, this.tokenKey(hash), owner, ''));
  }

  /**
   * The listed ids' tokens, in order; ids whose records are gone leave the index. Read a batch at
   * a time: the connection is the request path's, and one batch of every id's commands (80,000
   * for 40,000 tokens) took longer than redis.command_timeout, so the listing failed with 503 and
   * so did the token lookups of clients queued behind it.
   */
  private async fetch(ids: readonly string[]): Promise<ListedToken[]> {
    const found: (ListedToken | null)[] = [];
    for (let start = 0; start < ids.length; start += FETCH_BATCH) found.push(...(await this.fetchBatch(ids.slice(start, start + FETCH_BATCH))));
    return found.filter((t): t is ListedToken => t !== null);
  }

  private async fetchBatch(ids: readonly string[]): Promise<(ListedToken | null)[]> {
    return Promise.all(ids.map(async (member): Promise<ListedToken | null> => {
      const fields = await this.readById(member);
      if (Object.keys(fields).length === 0) {
        await this.call('ZREM token-expiry', () => this.client.zrem(expiryIndexKey(this.prefix), member));
        return null;
      }
      return this.listedFrom(fields, member);
    }));
  }

  /** The record's fields for a token id (`token-id:<id>` → hash → record); none when either is gone. */
  private async readById(member: string): Promise<Record<string, string>> {
    const hash = await this.call('GET token-id', () => this.client.get(`${this.prefix}token-id:${member}`));
    return hash === null ? {} : this.call('HGETALL token', () => this.client.hgetall(this.tokenKey(hash)));
  }

  /** The stored hash as a listed token, if it parses and is the token with id `member`. */
  private listedFrom(fields: Record<string, string>, member: string): ListedToken | null {
    const record = parseTokenRecord(fields, this.naming);
    if (record === null || String(record.id) !== member) return null;
    const reminded = fields.reminded_at;
    return { record, remindedAt: reminded !== undefined && /^\d+$/.test(reminded) ? Number(reminded) : null };
  }

  private tokenKey(hash: string): string {
    return `${this.prefix}token:{${hash}}`;
  }

  private call<T>(what: string, command: () => Promise<T>): Promise<T> {
    return redisCall(this.client, what, command);
  }
}
