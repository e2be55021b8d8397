/**
 * The per-process token cache (DESIGN §5): a {@link TokenStore} decorator that keeps what
 * `findByHash` found — the record, or that there is none — for a short TTL, so a request costs no
 * Redis round trip. It holds records, never verdicts: `decide()` still checks expiry against the
 * current clock on every request.
 *
 * It is trusted only while the revocation feed is live (subscribed, and answering its heartbeat):
 * while the feed is down every lookup goes to the store, so a Redis outage fails closed as before,
 * and a revocation published meanwhile cannot be missed. Regaining the feed empties the cache.
 * A lookup that was in flight while a revocation or a reset arrived is not kept (the generation
 * check), so a record read just before a revocation cannot outlive it.
 */
import type { TokenRecord } from '../core/token-record.js';
import { makeRoom } from './expiring.js';
import type { AccountLimit, NewTokenRecord, TokenStore } from './token-store.js';

/** Where revocations come from (the Redis pub/sub feed, or a stand-in in tests). */
export interface RevocationFeed {
  /** True while every revocation published anywhere is known to reach this process. */
  readonly live: boolean;
  /** Registers the cache: `revoked` for each revoked hash, `reset` when the feed is lost or regained. */
  listen(listener: RevocationListener): void;
  close(): Promise<void>;
}

export interface RevocationListener {
  revoked(hash: string): void;
  reset(): void;
}

export interface TokenCacheOptions {
  readonly ttlMs: number;
  /** Most records kept; as many "no such token" answers again, kept apart. */
  readonly maxEntries: number;
  /** Monotonic milliseconds for the TTL; default `performance.now`. */
  readonly now?: () => number;
}

interface Entry {
  readonly record: TokenRecord | null;
  readonly until: number;
}

/** Counters, for tests and /metrics (read at scrape time, src/http/metrics.ts). */
export interface TokenCacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Lookups sent to the store because the feed was down. */
  readonly bypassed: number;
  readonly size: number;
  /** Whether the revocation feed is live, i.e. whether the cache is in use now. */
  readonly live: boolean;
}

export class CachingTokenStore implements TokenStore, RevocationListener {
  // Insertion order is age order: a refreshed entry is deleted and re-added, so the first key is
  // always the oldest and eviction is O(1) with no per-hit bookkeeping.
  private readonly entries = new Map<string, Entry>();
  /**
   * "No such token" answers, apart from the records and bounded on their own (also `maxEntries`):
   * anyone can make up well-formed tokens (the checksum is public), and in the records' map a
   * flood of them would push every real token's record out, sending each real request to Redis.
   */
  private readonly unknown = new Map<string, Entry>();
  /** Lookups in flight, so a burst of requests with one uncached token makes one round trip. */
  private readonly inFlight = new Map<string, Promise<TokenRecord | null>>();
  private generation = 0;
  private readonly now: () => number;
  private counts = { hits: 0, misses: 0, bypassed: 0 };

  constructor(
    private readonly inner: TokenStore,
    private readonly feed: RevocationFeed,
    private readonly options: TokenCacheOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    feed.listen(this);
  }

  findByHash(hash: string): Promise<TokenRecord | null> {
    if (!this.feed.live) {
      this.counts.bypassed++;
      return this.inner.findByHash(hash);
    }
    const entry = this.entries.get(hash) ?? this.unknown.get(hash);
    if (entry !== undefined) {
      if (entry.until > this.now()) {
        this.counts.hits++;
        return Promise.resolve(entry.record);
      }
      this.forget(hash);
    }
    this.counts.misses++;
    return this.inFlight.get(hash) ?? this.fetch(hash);
  }

  async create(record: NewTokenRecord, keepExpiredMs: number, limit?: AccountLimit): Promise<TokenRecord> {
    const created = await this.inner.create(record, keepExpiredMs, limit);
    // A "no such token" kept for this hash would now be wrong.
    this.revoked(created.hash);
    return created;
  }

  async revoke(id: number, now: number, keepExpiredMs: number): Promise<TokenRecord | null> {
    let record: TokenRecord | null;
    try {
      record = await this.inner.revoke(id, now, keepExpiredMs);
    } catch (error) {
      // A failed revoke may still have committed in Redis (a timeout says nothing about whether
      // the command ran), and its announcement may never come: forget the token here anyway, so
      // this process asks Redis next time instead of trusting what it cached before.
      this.forgetId(id);
      throw error;
    }
    // The feed brings this process's own revocation too; dropping it here makes it immediate.
    if (record !== null) this.revoked(record.hash);
    return record;
  }

  findById(id: number): Promise<TokenRecord | null> {
    return this.inner.findById(id);
  }

  listByAccount(account: string): Promise<TokenRecord[]> {
    return this.inner.listByAccount(account);
  }

  touch(uses: ReadonlyMap<string, number>): Promise<void> {
    return this.inner.touch(uses);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.inner.close();
  }

  /** {@link RevocationListener}: forget one token, and anything being fetched now. */
  revoked(hash: string): void {
    this.generation++;
    this.forget(hash);
    // A request arriving from now on must not share a lookup sent before the revocation.
    this.inFlight.delete(hash);
  }

  /**
   * Forgets the token with this id, whose hash the caller does not know: a scan of the entries (a
   * failed revoke only, never a request). Lookups in flight are all dropped from sharing, as their
   * hashes are not known either; the generation bump keeps their results out of the cache.
   */
  private forgetId(id: number): void {
    this.generation++;
    for (const [hash, entry] of this.entries) if (entry.record?.id === id) this.entries.delete(hash);
    this.inFlight.clear();
  }

  /** {@link RevocationListener}: forget everything (the feed was lost or has just been regained). */
  reset(): void {
    this.generation++;
    this.entries.clear();
    this.unknown.clear();
    this.inFlight.clear();
  }

  get stats(): TokenCacheStats {
    return { ...this.counts, size: this.entries.size + this.unknown.size, live: this.feed.live };
  }

  private async fetch(hash: string): Promise<TokenRecord | null> {
    const generation = this.generation;
    const pending = this.inner.findByHash(hash);
    this.inFlight.set(hash, pending);
    try {
      const record = await pending;
      if (generation === this.generation && this.feed.live) this.keep(hash, record);
      return record;
    } finally {
      if (this.inFlight.get(hash) === pending) this.inFlight.delete(hash);
    }
  }

  private keep(hash: string, record: TokenRecord | null): void {
    const now = this.now();
    const entries = record === null ? this.unknown : this.entries;
    makeRoom(entries, now, this.options.maxEntries);
    entries.set(hash, { record, until: now + this.options.ttlMs });
  }

  private forget(hash: string): void {
    this.entries.delete(hash);
    this.unknown.delete(hash);
  }
}
