/**
 * Failed credential checks per client address (`limits.auth_failures`): the registry said a
 * credential the client sent was not valid (the token API's identity probe, a legacy credential
 * passed through). Shared in Redis by every process and host, so a client cannot spread its
 * guesses over them.
 *
 * A fixed window anchored at the first check counted in it: one counter per client, `INCR`, and
 * `PEXPIRE window` when that INCR created it, in one script (a counter left without an expiry
 * would refuse its client for ever). The counter's remaining life is exactly when the client may
 * try again, so `Retry-After` is exact. A sliding window would need a sorted set holding every
 * failure (memory per guess, under attack) for a bound that is at most 2x tighter: a fixed window
 * lets through at most 2 × limit failures in any span of one window, still a few thousand guesses
 * a day per address, against tokens of 128 bits or more.
 *
 * A check takes its place in the count before it is sent (`reserve`), and is given it back when
 * the registry accepted the credential (`refund`): a count taken only after the answer let every
 * guess sent at once past the check (12 at once, limit 3: 6 reached the registry).
 *
 * Keys (with `p` the key prefix): `p auth-failures:{<client>}`, an integer with a PX expiry. One
 * key per command, braced, so Cluster-safe.
 */
import type { Cluster, Redis } from 'ioredis';
import { redisCall } from './redis-call.js';
import { makeRoom } from './expiring.js';

/** A reserve's answer: the check may go ahead (the count now, this one included), or not for `blockedMs`. */
export type Reservation = { readonly count: number } | { readonly blockedMs: number };

export interface AuthFailures {
  /**
   * Counts a check of `client`'s credential about to be made, unless `limit` are counted already
   * (refused or still under way) in its window; a new window lasts `windowMs`. Rejects with
   * StoreUnavailableError.
   */
  reserve(client: string, limit: number, windowMs: number): Promise<Reservation>;
  /** Takes back a reserved check the registry accepted (or never answered). */
  refund(client: string): Promise<void>;
}

/**
 * ARGV: limit, window. `{0, ms}`: blocked for ms; `{1, n}`: reserved, n counted. A counter that is
 * new, or somehow without an expiry (it would refuse its client for ever), gets the window.
 */
const RESERVE_SCRIPT = `local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if n >= tonumber(ARGV[1]) and ttl > 0 then return {0, ttl} end
n = redis.call('INCR', KEYS[1])
if n == 1 or ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, n}`;

/** Only within the window: a DECR of a lapsed counter would make one without an expiry. */
const REFUND_SCRIPT = `if redis.call('PTTL', KEYS[1]) > 0 and tonumber(redis.call('GET', KEYS[1])) > 0 then return redis.call('DECR', KEYS[1]) end
return 0`;

export class RedisAuthFailures implements AuthFailures {
  private readonly prefix: string;

  constructor(private readonly client: Redis | Cluster, options: { readonly keyPrefix?: string } = {}) {
    this.prefix = options.keyPrefix ?? 'sg:';
  }

  async reserve(client: string, limit: number, windowMs: number): Promise<Reservation> {
    const answer = await this.call('EVAL auth-failures reserve', () => this.client.eval(RESERVE_SCRIPT, 1, this.key(client), limit, windowMs));
    const [reserved, value] = (answer as [number, number]).map(Number) as [number, number];
    return reserved === 1 ? { count: value } : { blockedMs: value };
  }

  async refund(client: string): Promise<void> {
    await this.call('EVAL auth-failures refund', () => this.client.eval(REFUND_SCRIPT, 1, this.key(client)));
  }

  private key(client: string): string {
    return `${this.prefix}auth-failures:{${client}}`;
  }

  private call<T>(what: string, command: () => Promise<T>): Promise<T> {
    return redisCall(this.client, what, command);
  }
}

/** Most clients counted in process; the oldest windows go first. */
const MAX_ENTRIES = 100_000;

/** {@link AuthFailures} in process memory, for `redis.url: memory` (one process only). */
export class MemoryAuthFailures implements AuthFailures {
  private readonly entries = new Map<string, { count: number; readonly until: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async reserve(client: string, limit: number, windowMs: number): Promise<Reservation> {
    const now = this.clock();
    const entry = this.entries.get(client);
    if (entry !== undefined && entry.until > now) {
      if (entry.count >= limit) return { blockedMs: entry.until - now };
      return { count: ++entry.count };
    }
    this.entries.delete(client);
    makeRoom(this.entries, now, MAX_ENTRIES);
    this.entries.set(client, { count: 1, until: now + windowMs });
    return { count: 1 };
  }

  async refund(client: string): Promise<void> {
    const entry = this.entries.get(client);
    if (entry !== undefined && entry.until > this.clock() && entry.count > 0) entry.count--;
  }
}
