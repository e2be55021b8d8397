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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Days in `month` (1–12) of `year`. */
const daysIn = (year: number, month: number): number => (month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/**
 * Whether every field of an RFC 3339 match names a real instant. `Date.parse` rolls impossible
 * values over (`2026-02-30` → March 2nd, `T24:00:00` → the next day), which would give a token an
 * expiry nobody asked for. RFC 3339 §5.7's leap second (`:60`) is refused too: Date cannot hold it.
 */
function isCalendarDate(m: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetOk = m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59 && offsetOk;
}

/**
 * Reads the token API's `expired_at` (cratesio-tokens §6.1): absent → default, null → never,
 * an RFC 3339 date → that instant. Anything else: the reason it is not a date.
 */
export function parseExpiredAt(present: boolean, value: unknown): ExpiryRequest | { readonly invalid: string } {
  if (!present) return { kind: 'default' };
  if (value === null) return { kind: 'never' };
  const fields = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (fields === null || !isCalendarDate(fields)) return { invalid: 'expected an RFC 3339 date such as 2026-12-31T00:00:00Z' };
  return { kind: 'at', at: Date.parse(fields.input), text: fields.input };
}

/**
 * The latest expiry any token may have, whatever the policy: the last instant RFC 3339's
 * four-digit years can write (the token API's own limit). A lifetime of 100000000d (which the
 * config accepts) or `--expires 100000000d` without a maximum would otherwise reach past what a
 * Date can hold, and the token would be stored, then fail to print: its plaintext never shown.
 */
export const LATEST_EXPIRY = Date.parse('9999-12-31T23:59:59Z');

/** Applies the policy at `now` (epoch ms). The default is capped by the maximum, never refused. */
export function resolveExpiry(request: ExpiryRequest, policy: ExpiryPolicy, now: number): ExpiryOutcome {
  const latest = policy.maxLifetimeMs === null ? LATEST_EXPIRY : Math.min(now + policy.maxLifetimeMs, LATEST_EXPIRY);
  const limit = latest === LATEST_EXPIRY ? 'the latest date a token can carry' : 'tokens.max_lifetime';
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
        return { ok: false, why: `${request.text} is later than this registry allows (at most ${formatInstant(latest)}, ${limit})` };
      }
      return { ok: true, expiredAt: request.at };
  }
}
