/**
 * Packages the upstream accepted a publish of through the gateway, remembered for
 * `upstream.index_lag` after the publish (DESIGN §1, publish-new vs publish-update).
 *
 * The existence probe reads what every registry serves, its index (cargo) or package document
 * (npm), and that lags a publish: crates.io answers once its database has the version, then a
 * background job writes the index file, behind a CDN. In that window the probe says "new" for a
 * crate that exists, so a publish-new-only token could publish its next version. A publish the
 * gateway forwarded is a fact it saw itself: recorded here, in Redis so that every process and
 * host sees it, it outvotes a probe that has not caught up yet.
 * A deletion of the whole package the gateway forwarded (npm unpublish) forgets it again: the
 * package is then new, whatever the record said.
 *
 * Keys (with `p` the key prefix): `p published:{<canonical name>}`, a string with a PX expiry;
 * `p publishing:{<canonical name>}`, the claim of a publish creating the package (see `claim`).
 * One key per command, so it is Cluster-safe as it stands.
 */
import type { Cluster, Redis } from 'ioredis';
import { redisCall } from './redis-call.js';
import { cargoNaming, type PackageNaming } from '../core/crate-pattern.js';
import { makeRoom } from './expiring.js';

export interface PublishedCrates {
  /** Remembers that `name` exists upstream, for `ttlMs` (0: not at all). */
  remember(name: string, ttlMs: number): Promise<void>;
  /** Whether `name` was remembered within its `ttlMs`. Rejects with StoreUnavailableError. */
  recentlyPublished(name: string): Promise<boolean>;
  /** Forgets `name`: the upstream deleted the package, so a publish of it no longer says it exists. */
  forget(name: string): Promise<void>;
  /**
   * Claims the publish that creates `name`, for at most `ttlMs`: false when another claim holds it.
   * `owner` identifies the claim for {@link release}.
   */
  claim(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Ends `owner`'s claim on `name` (another's, taken after this one lapsed, is left alone). */
  release(name: string, owner: string): Promise<void>;
}

/** {@link PublishedCrates} on Redis: one key per package, dropped by Redis itself. */
export class RedisPublishedCrates implements PublishedCrates {
  private readonly prefix: string;
  private readonly naming: PackageNaming;

  constructor(
    private readonly client: Redis | Cluster,
    options: { readonly keyPrefix?: string; readonly naming?: PackageNaming } = {},
  ) {
    this.prefix = options.keyPrefix ?? 'sg:';
    this.naming = options.naming ?? cargoNaming;
  }

  async remember(name: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    await this.call('SET published', () => this.client.set(this.key(name), '1', 'PX', ttlMs));
  }

  async recentlyPublished(name: string): Promise<boolean> {
    return (await this.call('EXISTS published', () => this.client.exists(this.key(name)))) === 1;
  }

  async forget(name: string): Promise<void> {
    await this.call('DEL published', () => this.client.del(this.key(name)));
  }

  async claim(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.call('SET publishing', () => this.client.set(this.claimKey(name), owner, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async release(name: string, owner: string): Promise<void> {
    await this.call('EVAL release publishing', () => this.client.eval(RELEASE_SCRIPT, 1, this.claimKey(name), owner));
  }

  private claimKey(name: string): string {
    return `${this.prefix}publishing:{${this.naming.canonical(name)}}`;
  }

  /** Canonical, so `Foo_bar` and `foo-bar` (one crate to the registry) share a key. */
  private key(name: string): string {
    return `${this.prefix}published:{${this.naming.canonical(name)}}`;
  }

  private call<T>(what: string, command: () => Promise<T>): Promise<T> {
    return redisCall(this.client, what, command);
  }
}

/** Deletes a claim only if it is still the caller's. */
const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** Most packages remembered in process; the oldest go first (publishes are rare). */
const MAX_ENTRIES = 10_000;

/**
 * {@link PublishedCrates} in process memory, for `redis.url: memory`: the same answers as Redis
 * for the one process that mode allows.
 */
export class MemoryPublishedCrates implements PublishedCrates {
  private readonly entries = new Map<string, { readonly until: number }>();
  /** Publishes creating a package, under way; released ones are deleted, lapsed ones overwritten. */
  private readonly claims = new Map<string, { readonly owner: string; readonly until: number }>();

  constructor(
    private readonly naming: PackageNaming = cargoNaming,
    private readonly clock: () => number = Date.now,
  ) {}

  async remember(name: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return;
    const key = this.naming.canonical(name);
    const now = this.clock();
    // Re-added, not updated, so the map stays in age order for makeRoom.
    this.entries.delete(key);
    makeRoom(this.entries, now, MAX_ENTRIES);
    this.entries.set(key, { until: now + ttlMs });
  }

  async recentlyPublished(name: string): Promise<boolean> {
    const entry = this.entries.get(this.naming.canonical(name));
    return entry !== undefined && entry.until > this.clock();
  }

  async forget(name: string): Promise<void> {
    this.entries.delete(this.naming.canonical(name));
  }

  async claim(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const key = this.naming.canonical(name);
    const held = this.claims.get(key);
    const now = this.clock();
    if (held !== undefined && held.until > now) return false;
    this.claims.set(key, { owner, until: now + ttlMs });
    return true;
  }

  async release(name: string, owner: string): Promise<void> {
    const key = this.naming.canonical(name);
    if (this.claims.get(key)?.owner === owner) this.claims.delete(key);
  }
}
