/**
 * Turns a {@link Denial} into the public error (the second of STYLE's "two messages per denial":
 * the `reason` goes to the log, this message to the client).
 */
import { describePatterns } from './crate-pattern.js';
import type { Denial } from './decide.js';
import { gatewayError, type GatewayError } from './errors.js';

export interface DenialContext {
  readonly tokensUrl: string;
  /** Set when the need was resolved by the existence probe, to explain publish-new vs publish-update. */
  readonly crate?: string;
  /** What the registry calls a package (`crate` by default; npm: `package`). */
  readonly noun?: string;
}

/**
 * RFC 3339 in UTC with `Z`, with milliseconds only when they are non-zero (`…T00:00:00Z`,
 * `…T00:00:00.750Z`), as crates.io renders timestamps (cratesio-tokens §6.1). Never truncated:
 * expiry is enforced to the millisecond, so a shown `expired_at` must be the instant it stops working.
 */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

export function denialError(denial: Denial, ctx: DenialContext): GatewayError {
  switch (denial.reason) {
    case 'token-revoked':
      return gatewayError('SG_AUTH_FAILED');
    case 'token-expired':
      return gatewayError('SG_TOKEN_EXPIRED', { tokensUrl: ctx.tokensUrl, expiredAt: formatInstant(denial.expiredAt) });
    case 'scope-missing':
      return gatewayError('SG_SCOPE_MISSING', scopeMissingParams(denial.need, ctx.crate, ctx.noun ?? 'crate'));
    case 'scoped-token-on-generic-route':
      return gatewayError('SG_SCOPE_GENERIC_ROUTE');
    case 'crate-not-allowed':
      return gatewayError('SG_CRATE_NOT_ALLOWED', { patterns: describePatterns(denial.patterns), crate: denial.crate, noun: ctx.noun });
    case 'crate-scoped-token-without-crate':
      return gatewayError('SG_CRATE_REQUIRED', { patterns: describePatterns(denial.patterns), noun: ctx.noun });
  }
}

function scopeMissingParams(need: string, crate: string | undefined, noun: string): { scope: string; why: string } {
  if (need === 'publish') return { scope: '`publish-new` or `publish-update`', why: '' };
  if (need === 'publish-new' && crate !== undefined) return { scope: '`publish-new`', why: ` (\`${crate}\` is a new ${noun})` };
  if (need === 'publish-update' && crate !== undefined) return { scope: '`publish-update`', why: ` (\`${crate}\` already exists)` };
  return { scope: `\`${need}\``, why: '' };
}
