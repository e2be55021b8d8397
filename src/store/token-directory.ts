/**
 * What operators need beyond the request path (admin API, CLI, reminders): every account's
 * tokens, the tokens about to expire, and the once-only reminder mark. A second port next to
 * {@link TokenStore}, implemented by the same two stores, so the hot-path port stays small.
 *
 * The reminder mark is a claim-then-complete protocol on the token's own hash (one key, so
 * Cluster-safe): a run claims a token for a lease, announces it, and marks it reminded only once
 * the announcement was accepted; a failed announcement releases the claim for a later run. Two
 * concurrent runs can never both hold a claim, so a reminder is neither lost nor doubled (a run
 * that dies mid-send leaves a claim that lapses after its lease, and is retried).
 */
import type { TokenRecord } from '../core/token-record.js';

/** A token as operators see it: the record plus its reminder mark. */
export interface ListedToken {
  readonly record: TokenRecord;
  /** When its expiry reminder was announced; null: not yet. */
  readonly remindedAt: number | null;
}

export interface TokenDirectory {
  /** Every stored token of every account, newest (highest id) first. */
  listAll(): Promise<ListedToken[]>;
  /** One stored token by id (revoked ones too), or null; read directly, never through a listing. */
  findListed(id: number): Promise<ListedToken | null>;
  /** Stored tokens with `from <= expiredAt <= to`, soonest first. */
  listExpiring(from: number, to: number): Promise<ListedToken[]>;
  /**
   * Claims the reminder of the token with this hash for `owner` until `leaseUntil`. False when it
   * is gone, revoked, already reminded, or claimed by another owner whose lease has not lapsed.
   */
  claimReminder(hash: string, owner: string, now: number, leaseUntil: number): Promise<boolean>;
  /** Marks the token reminded at `now` if `owner` still holds the claim; true when marked. */
  completeReminder(hash: string, owner: string, now: number): Promise<boolean>;
  /** Gives up `owner`'s claim (the announcement failed), so a later run retries. */
  releaseReminder(hash: string, owner: string): Promise<void>;
}

/** A reminder claim as stored in the `remind_claim` field: `<owner>|<leaseUntil>`. */
export function formatClaim(owner: string, leaseUntil: number): string {
  return `${owner}|${leaseUntil}`;
}

/** True when a stored `remind_claim` value is held by someone other than `owner` and still live. */
export function claimBlocks(stored: string | undefined, owner: string, now: number): boolean {
  if (stored === undefined || stored === '') return false;
  const bar = stored.lastIndexOf('|');
  return stored.slice(0, bar) !== owner && Number(stored.slice(bar + 1)) > now;
}
