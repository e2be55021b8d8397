/**
 * The decision (DESIGN §1): may this token do what this route needs, on this crate, now?
 * Pure: no I/O, no clock (the caller passes `now`), no throw for an expected outcome. The proxy,
 * `routes explain` and the admin API all call this one function.
 */
import { patternMatches, type CrateName, type CratePattern } from './crate-pattern.js';
import type { RouteNeed, Scope } from './scope.js';
import type { TokenRecord } from './token-record.js';

/** The parts of a token record a decision reads. */
export type TokenView = Pick<TokenRecord, 'endpointScopes' | 'crateScopes' | 'expiredAt' | 'revokedAt'>;

export interface DecisionInput {
  /** What the route needs; `publish` only when the existence probe would not change the verdict. */
  readonly need: RouteNeed;
  /** The crate the request acts on, or null when the route names none. */
  readonly crate: CrateName | null;
  readonly token: TokenView;
  /** Epoch milliseconds. */
  readonly now: number;
}

/** Why a request was denied; spelled the same in logs, `explain` and docs. */
export type DenyReason =
  | 'token-revoked'
  | 'token-expired'
  | 'scope-missing'
  | 'scoped-token-on-generic-route'
  | 'crate-not-allowed'
  | 'crate-scoped-token-without-crate';

export type Decision =
  | { readonly verdict: 'allow' }
  | { readonly verdict: 'deny'; readonly reason: 'token-revoked' }
  | { readonly verdict: 'deny'; readonly reason: 'token-expired'; readonly expiredAt: number }
  | { readonly verdict: 'deny'; readonly reason: 'scope-missing'; readonly need: RouteNeed }
  | { readonly verdict: 'deny'; readonly reason: 'scoped-token-on-generic-route' }
  | { readonly verdict: 'deny'; readonly reason: 'crate-not-allowed'; readonly crate: CrateName; readonly patterns: readonly CratePattern[] }
  | { readonly verdict: 'deny'; readonly reason: 'crate-scoped-token-without-crate'; readonly patterns: readonly CratePattern[] };

export type Denial = Extract<Decision, { verdict: 'deny' }>;

const ALLOW: Decision = Object.freeze({ verdict: 'allow' });

/**
 * Checks, in crates.io's order: revoked, expired (valid while `now < expiredAt`), endpoint scope,
 * crate scope. `read` is open to every valid token whatever its scopes (DESIGN §1 table).
 */
export function decide({ need, crate, token, now }: DecisionInput): Decision {
  if (token.revokedAt !== null) return { verdict: 'deny', reason: 'token-revoked' };
  if (token.expiredAt !== null && now >= token.expiredAt) {
    return { verdict: 'deny', reason: 'token-expired', expiredAt: token.expiredAt };
  }
  if (need === 'read') return ALLOW;
  const scopes = token.endpointScopes;
  if (scopes !== null) {
    if (need === 'authenticated') return { verdict: 'deny', reason: 'scoped-token-on-generic-route' };
    if (!holdsNeed(scopes, need)) return { verdict: 'deny', reason: 'scope-missing', need };
  }
  const patterns = token.crateScopes;
  if (patterns === null || patterns.length === 0) return ALLOW;
  if (crate === null) return { verdict: 'deny', reason: 'crate-scoped-token-without-crate', patterns };
  if (!patterns.some((p) => patternMatches(p, crate))) return { verdict: 'deny', reason: 'crate-not-allowed', crate, patterns };
  return ALLOW;
}

function holdsNeed(scopes: readonly Scope[], need: Exclude<RouteNeed, 'read' | 'authenticated'>): boolean {
  if (need === 'publish') return scopes.includes('publish-new') || scopes.includes('publish-update');
  return scopes.includes(need);
}

/**
 * True when publish-new vs publish-update changes the verdict: the token holds exactly one of the
 * two. Only then does the gateway spend an upstream existence probe (DESIGN §1).
 */
export function publishProbeMatters(token: Pick<TokenRecord, 'endpointScopes'>): boolean {
  const scopes = token.endpointScopes;
  if (scopes === null) return false;
  return scopes.includes('publish-new') !== scopes.includes('publish-update');
}

/** A `read` route under `reads: public`: answered without a token (DESIGN §4). */
export function isPublicRead(need: RouteNeed, publicReads: boolean): boolean {
  return need === 'read' && publicReads;
}

/**
 * On a public read, whether a scopegate token that came along is swapped for its upstream
 * credential (a valid token) or ignored, the read then going out anonymously (revoked, expired).
 */
export function publicReadUsesToken(token: TokenView, now: number): boolean {
  return decide({ need: 'read', crate: null, token, now }).verdict === 'allow';
}
