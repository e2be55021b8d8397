/**
 * scopegate's expiry policy ★ (DESIGN §1): a new token expires in the future, within
 * `tokens.max_lifetime`; without a date it gets `tokens.default_lifetime`; "never" only where
 * `tokens.allow_no_expiry` allows it. Pure: the token API and `scopegate token create` both call
 * {@link resolveExpiry}, so a token means the same whichever way it was made.
 */
import { formatInstant } from './denial.js';

/** The operator's rules, as loaded from `tokens.*`. */
export interface ExpiryPolicy {
  /** null: no maximum. */
  readonly maxLifetimeMs: number | null;
  readonly defaultLifetimeMs: number;
  readonly allowNoExpiry: boolean;
}

/** What the creator asked for. `text` is the date as written, for messages. */
export type ExpiryRequest =
  | { readonly kind: 'default' }
  | { readonly kind: 'never' }
  | { readonly kind: 'at'; readonly at: number; readonly text: string };

/** The expiry to store (null: never), or why the request breaks the policy. */
export type ExpiryOutcome = { readonly ok: true; readonly expiredAt: number | null } | { readonly ok: false; readonly why: string };

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Reads the token API's `expired_at` (cratesio-tokens §6.1): absent → default, null → never,
 * an RFC 3339 date → that instant. Anything else: the reason it is not a date.
 */
export function parseExpiredAt(present: boolean, value: unknown): ExpiryRequest | { readonly invalid: string } {
  if (!present) return { kind: 'default' };
  if (value === null) return { kind: 'never' };
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    return { invalid: 'expected an RFC 3339 date such as 2026-12-31T00:00:00Z' };
  }
  return { kind: 'at', at: Date.parse(value), text: value };
}

/** Applies the policy at `now` (epoch ms). The default is capped by the maximum, never refused. */
export function resolveExpiry(request: ExpiryRequest, policy: ExpiryPolicy, now: number): ExpiryOutcome {
  const latest = policy.maxLifetimeMs === null ? Infinity : now + policy.maxLifetimeMs;
  switch (request.kind) {
    case 'default':
      return { ok: true, expiredAt: Math.min(now + policy.defaultLifetimeMs, latest) };
    case 'never':
      return policy.allowNoExpiry
        ? { ok: true, expiredAt: null }
        : { ok: false, why: 'this registry requires every token to expire; pick a date (tokens.allow_no_expiry is false)' };
    case 'at':
      if (request.at <= now) return { ok: false, why: `${request.text} is in the past; pick a future date` };
      if (request.at > latest) {
        return { ok: false, why: `${request.text} is later than this registry allows (at most ${formatInstant(latest)}, tokens.max_lifetime)` };
      }
      return { ok: true, expiredAt: request.at };
  }
}
