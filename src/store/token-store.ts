/**
 * The token store port. Two implementations (Redis for production, memory for single-process
 * development) pass one contract suite (`test/store/token-store-contract.ts`).
 *
 * Every method either answers or rejects with {@link StoreUnavailableError}; the gateway turns
 * that into 503 + Retry-After and never into an allow (fail closed).
 */
import type { TokenRecord } from '../core/token-record.js';

/** What the caller supplies to create a token; the store assigns `id`. */
export type NewTokenRecord = Omit<TokenRecord, 'id' | 'lastUsedAt' | 'revokedAt'>;

/**
 * A bound on an account's tokens for {@link TokenStore.create}: the number of its records still
 * stored (revoked and expired ones included, until dropped), checked and written as one step.
 */
export interface AccountLimit {
  readonly perAccount: number;
}

export interface TokenStore {
  /**
   * Stores a new record with the next integer id (ids start at 1 and never repeat). With `limit`,
   * rejects with {@link AccountFullError} when the account already holds `limit.perAccount`
   * records, counted and written while no other limited creation of that account runs, in any
   * process sharing the store: creations racing each other cannot pass the bound together.
   */
  create(record: NewTokenRecord, keepExpiredMs: number, limit?: AccountLimit): Promise<TokenRecord>;
  /** The record whose plaintext hashes to `hash`, revoked and expired ones included; null if none. */
  findByHash(hash: string): Promise<TokenRecord | null>;
  /** The record with this id, revoked and expired ones included; null if none. */
  findById(id: number): Promise<TokenRecord | null>;
  /** All records of an account still stored, newest (highest id) first. */
  listByAccount(account: string): Promise<TokenRecord[]>;
  /**
   * Marks the token revoked at `now` and schedules its removal `keepExpiredMs` later.
   * Returns the revoked record, or null when there is no such token. Revoking twice keeps the first time.
   */
  revoke(id: number, now: number, keepExpiredMs: number): Promise<TokenRecord | null>;
  /**
   * Records use: `lastUsedAt` of each hash's record moves forward to its time (never back, and no
   * record is created for an unknown hash). Callers batch this and throttle it per token.
   */
  touch(uses: ReadonlyMap<string, number>): Promise<void>;
  /** Resolves when the backing store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The backing store did not answer (down, timed out, or refused the command). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** {@link TokenStore.create} with a limit: the account holds that many records already. Nothing was stored. */
export class AccountFullError extends Error {
  constructor(readonly account: string, readonly limit: number) {
    super(`account ${JSON.stringify(account)} holds ${limit} tokens already`);
    this.name = 'AccountFullError';
  }
}

/**
 * When a record may be dropped: `keepExpiredMs` after it expired or was revoked, whichever is first;
 * null when it never expires and is not revoked.
 */
export function dropAt(record: Pick<TokenRecord, 'expiredAt' | 'revokedAt'>, keepExpiredMs: number): number | null {
  const ends = [record.expiredAt, record.revokedAt].filter((t): t is number => t !== null);
  return ends.length === 0 ? null : Math.min(...ends) + keepExpiredMs;
}
