/**
 * Failed credential checks per client address (`limits.auth_failures`): the registry said a
 * credential the client sent was not valid (the token API's identity probe, a legacy credential
 * passed through). Shared in Redis by every process and host, so a client cannot spread its
 * guesses over them.
 *
 * A fixed window anchored at the client's first failure: one counter per client, `INCR`, and
 * `PEXPIRE window` when that INCR created it, in one script (a counter left without an expiry
 * would refuse its client for ever). The counter's remaining life is exactly when the client may
 * try again, so `Retry-After` is exact. A sliding window would need a sorted set holding every
 * failure (memory per guess, under attack) for a bound that is at most 2x tighter: a fixed window
 * lets through at most 2 × limit failures in any span of one window, still a few thousand guesses
 * a day per address, against tokens of 128 bits or more.
 *
 * Keys (with `p` the key prefix): `p auth-failures:{<client>}`, an integer with a PX expiry. One
 * key per command, braced, so Cluster-safe.
 */
import type { Cluster, Redis } from 'ioredis';
import { makeRoom } from './expiring.js';
import { describeRedisError } from './redis-store.js';
import { StoreUnavailableError } from './token-store.js';

export interface AuthFailures {
  /**
   * Milliseconds until `client` may be checked again when it has `limit` or more failures in its
   * window; null when it is under the limit. Rejects with StoreUnavailableError.
   */
  blockedFor(client: string, limit: number): Promise<number | null>;
  /** Counts one failure of `client`; a new window lasts `windowMs`. The count so far, this one included. */
  recordFailure(client: string, windowMs: number): Promise<number>;
}

/** Counts a failure; a counter that is new (or somehow lost its expiry) gets the window. */
const RECORD_SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** -1 when under ARGV[1] failures (or without an expiry, which RECORD_SCRIPT repairs); else the PTTL. */
const BLOCKED_SCRIPT = `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then return -1 end
return redis.call('PTTL', KEYS[1])`;

export class RedisAuthFailures implements AuthFailures {
  private readonly prefix: string;

  constructor(private readonly client: Redis | Cluster, options: { readonly keyPrefix?: string } = {}) {
    this.prefix = options.keyPrefix ?? 'sg:';
  }

  async blockedFor(client: string, limit: number): Promise<number | null> {
    const ms = Number(await this.call('EVAL auth-failures check', () => this.client.eval(BLOCKED_SCRIPT, 1, this.key(client), limit)));
    return ms > 0 ? ms : null;
  }

  async recordFailure(client: string, windowMs: number): Promise<number> {
    return Number(await this.call('EVAL auth-failures count', () => this.client.eval(RECORD_SCRIPT, 1, this.key(client), windowMs)));
  }

  private key(client: string): string {
    return `${this.prefix}auth-failures:{${client}}`;
  }

  private async call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(`redis ${what} failed: ${describeRedisError(error)}`, { cause: error });
    }
  }
}

/** Most clients counted in process; the oldest windows go first. */
const MAX_ENTRIES = 100_000;

/** {@link AuthFailures} in process memory, for `redis.url: memory` (one process only). */
export class MemoryAuthFailures implements AuthFailures {
  private readonly entries = new Map<string, { count: number; readonly until: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async blockedFor(client: string, limit: number): Promise<number | null> {
    const entry = this.entries.get(client);
    const left = entry === undefined ? 0 : entry.until - this.clock();
    return entry !== undefined && left > 0 && entry.count >= limit ? left : null;
  }

  async recordFailure(client: string, windowMs: number): Promise<number> {
    const now = this.clock();
    const entry = this.entries.get(client);
    if (entry !== undefined && entry.until > now) return ++entry.count;
    this.entries.delete(client);
    makeRoom(this.entries, now, MAX_ENTRIES);
    this.entries.set(client, { count: 1, until: now + windowMs });
    return 1;
  }
}
