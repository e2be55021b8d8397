/** decide(): every row of DESIGN §1's token semantics, as exact Decision objects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCrateName, parseCratePattern, type CrateName, type CratePattern } from '../../src/core/crate-pattern.js';
import { decide, publishProbeMatters, type Decision, type TokenView } from '../../src/core/decide.js';
import { ROUTE_NEEDS, type RouteNeed, type Scope } from '../../src/core/scope.js';

const NOW = Date.UTC(2026, 0, 1);
const FUTURE = NOW + 1;
const PAST = NOW - 1;
const PATTERNS: readonly CratePattern[] = ['serde', 'serde-*'].map((p) => parseCratePattern(p)!);
const MATCHING = parseCrateName('Serde_Json')!;
const OTHER = parseCrateName('tokio')!;

interface Row {
  name: string;
  endpoint: readonly Scope[] | null;
  crates?: readonly CratePattern[] | null;
  need: RouteNeed;
  crate?: CrateName | null;
  expiredAt?: number | null;
  revokedAt?: number | null;
  expected: Decision;
}

const allow: Decision = { verdict: 'allow' };
const scopeMissing = (need: RouteNeed): Decision => ({ verdict: 'deny', reason: 'scope-missing', need });
const generic: Decision = { verdict: 'deny', reason: 'scoped-token-on-generic-route' };
const notAllowed = (crate: CrateName): Decision => ({ verdict: 'deny', reason: 'crate-not-allowed', crate, patterns: PATTERNS });
const withoutCrate: Decision = { verdict: 'deny', reason: 'crate-scoped-token-without-crate', patterns: PATTERNS };
const expired = (at: number): Decision => ({ verdict: 'deny', reason: 'token-expired', expiredAt: at });
const revoked: Decision = { verdict: 'deny', reason: 'token-revoked' };

const rows: Row[] = [
  // Endpoint scopes: `null` (legacy-style, full access) allows every need.
  ...ROUTE_NEEDS.map((need): Row => ({ name: `a legacy-style token (null scopes) may call a route needing \`${need}\``, endpoint: null, need, expected: allow })),
  // Endpoint scopes: a list allows S iff S is in it; `read` always; a generic route never.
  { name: 'a `yank` token may yank', endpoint: ['yank'], need: 'yank', expected: allow },
  { name: 'a `yank` token may not change owners', endpoint: ['yank'], need: 'change-owners', expected: scopeMissing('change-owners') },
  { name: 'a `yank` token may not publish a new crate', endpoint: ['yank'], need: 'publish-new', expected: scopeMissing('publish-new') },
  { name: 'a `yank` token may not publish an update', endpoint: ['yank'], need: 'publish-update', expected: scopeMissing('publish-update') },
  { name: 'a `yank` token may not publish when the kind is unresolved', endpoint: ['yank'], need: 'publish', expected: scopeMissing('publish') },
  { name: 'a `yank` token may read', endpoint: ['yank'], need: 'read', expected: allow },
  { name: 'a `yank` token may not call a generic authenticated route', endpoint: ['yank'], need: 'authenticated', expected: generic },
  { name: 'a `change-owners` token may change owners', endpoint: ['change-owners'], need: 'change-owners', expected: allow },
  { name: 'a `change-owners` token may not yank', endpoint: ['change-owners'], need: 'yank', expected: scopeMissing('yank') },
  { name: 'a `publish-new` token may publish a new crate', endpoint: ['publish-new'], need: 'publish-new', expected: allow },
  { name: 'a `publish-new` token may not publish an update', endpoint: ['publish-new'], need: 'publish-update', expected: scopeMissing('publish-update') },
  { name: 'a `publish-update` token may publish an update', endpoint: ['publish-update'], need: 'publish-update', expected: allow },
  { name: 'a `publish-update` token may not publish a new crate', endpoint: ['publish-update'], need: 'publish-new', expected: scopeMissing('publish-new') },
  { name: 'an unresolved publish is allowed to a token with both publish scopes', endpoint: ['publish-new', 'publish-update'], need: 'publish', expected: allow },
  { name: 'a token with both publish scopes may publish a new crate', endpoint: ['publish-new', 'publish-update'], need: 'publish-new', expected: allow },
  { name: 'a token with both publish scopes may publish an update', endpoint: ['publish-new', 'publish-update'], need: 'publish-update', expected: allow },
  { name: 'a `read` token may read', endpoint: ['read'], need: 'read', expected: allow },
  { name: 'a `read` token may not yank', endpoint: ['read'], need: 'yank', expected: scopeMissing('yank') },
  { name: 'a `read` token may not publish', endpoint: ['read'], need: 'publish', expected: scopeMissing('publish') },
  { name: 'a `read` token may not call a generic authenticated route', endpoint: ['read'], need: 'authenticated', expected: generic },
  { name: 'a token holding every scope still may not call a generic authenticated route', endpoint: ['read', 'publish-new', 'publish-update', 'yank', 'change-owners'], need: 'authenticated', expected: generic },
  { name: 'an empty scope list (`[]`) may read', endpoint: [], need: 'read', expected: allow },
  { name: 'an empty scope list (`[]`) may not yank', endpoint: [], need: 'yank', expected: scopeMissing('yank') },
  { name: 'an empty scope list (`[]`) may not publish', endpoint: [], need: 'publish', expected: scopeMissing('publish') },
  { name: 'an empty scope list (`[]`) may not call a generic authenticated route', endpoint: [], need: 'authenticated', expected: generic },
  // Crate scopes: null and [] are "all crates"; a non-empty list must match, and needs a crate.
  { name: 'null crate scopes allow any crate', endpoint: ['yank'], crates: null, need: 'yank', crate: OTHER, expected: allow },
  { name: 'null crate scopes allow a route naming no crate', endpoint: null, crates: null, need: 'authenticated', crate: null, expected: allow },
  { name: 'empty crate scopes allow any crate', endpoint: ['yank'], crates: [], need: 'yank', crate: OTHER, expected: allow },
  { name: 'empty crate scopes allow a route naming no crate', endpoint: null, crates: [], need: 'authenticated', crate: null, expected: allow },
  { name: 'a crate matched by one of the patterns is allowed', endpoint: ['yank'], crates: PATTERNS, need: 'yank', crate: MATCHING, expected: allow },
  { name: 'a crate matched by none of the patterns is denied, naming the crate and patterns', endpoint: ['yank'], crates: PATTERNS, need: 'yank', crate: OTHER, expected: notAllowed(OTHER) },
  { name: 'a crate-scoped token on a route naming no crate is denied', endpoint: ['yank'], crates: PATTERNS, need: 'yank', crate: null, expected: withoutCrate },
  { name: 'a crate-scoped publish of a matching crate is allowed', endpoint: ['publish-new'], crates: PATTERNS, need: 'publish-new', crate: MATCHING, expected: allow },
  { name: 'a crate-scoped publish of another crate is denied', endpoint: ['publish-new', 'publish-update'], crates: PATTERNS, need: 'publish', crate: OTHER, expected: notAllowed(OTHER) },
  { name: 'a legacy-style token with crate scopes is still held to its patterns', endpoint: null, crates: PATTERNS, need: 'yank', crate: OTHER, expected: notAllowed(OTHER) },
  { name: 'a legacy-style token with crate scopes may act on a matching crate', endpoint: null, crates: PATTERNS, need: 'change-owners', crate: MATCHING, expected: allow },
  { name: 'a legacy-style token with crate scopes may not call a route naming no crate', endpoint: null, crates: PATTERNS, need: 'authenticated', crate: null, expected: withoutCrate },
  { name: '`read` is allowed to a crate-scoped token on another crate', endpoint: ['yank'], crates: PATTERNS, need: 'read', crate: OTHER, expected: allow },
  { name: '`read` is allowed to a crate-scoped token on a route naming no crate', endpoint: [], crates: PATTERNS, need: 'read', crate: null, expected: allow },
  // Order: scope before crate.
  { name: 'a missing scope is reported before a crate mismatch', endpoint: ['yank'], crates: PATTERNS, need: 'publish-new', crate: OTHER, expected: scopeMissing('publish-new') },
  { name: 'a generic route is reported before a missing crate', endpoint: ['yank'], crates: PATTERNS, need: 'authenticated', crate: null, expected: generic },
  // Expiry: valid while now < expired_at.
  { name: 'a token that never expires is valid', endpoint: ['yank'], need: 'yank', expiredAt: null, expected: allow },
  { name: 'a token expiring a millisecond from now is valid', endpoint: ['yank'], need: 'yank', expiredAt: FUTURE, expected: allow },
  { name: 'a token expiring exactly now is expired', endpoint: ['yank'], need: 'yank', expiredAt: NOW, expected: expired(NOW) },
  { name: 'a token that expired a millisecond ago is expired', endpoint: ['yank'], need: 'yank', expiredAt: PAST, expected: expired(PAST) },
  { name: 'an expired token may not read', endpoint: ['read'], need: 'read', expiredAt: PAST, expected: expired(PAST) },
  { name: 'an expired legacy-style token is denied', endpoint: null, need: 'authenticated', expiredAt: PAST, expected: expired(PAST) },
  { name: 'expiry is reported before a missing scope', endpoint: ['read'], need: 'yank', expiredAt: PAST, expected: expired(PAST) },
  { name: 'expiry is reported before a crate mismatch', endpoint: ['yank'], crates: PATTERNS, need: 'yank', crate: OTHER, expiredAt: NOW, expected: expired(NOW) },
  // Revocation comes first of all.
  { name: 'a revoked token may not read', endpoint: ['read'], need: 'read', revokedAt: PAST, expected: revoked },
  { name: 'a revoked legacy-style token is denied', endpoint: null, need: 'yank', revokedAt: PAST, expected: revoked },
  { name: 'a revoked token that has not expired is denied as revoked', endpoint: ['yank'], need: 'yank', expiredAt: FUTURE, revokedAt: PAST, expected: revoked },
  { name: 'revocation is reported before expiry', endpoint: ['yank'], need: 'yank', expiredAt: PAST, revokedAt: PAST, expected: revoked },
  { name: 'revocation is reported before scope and crate', endpoint: ['read'], crates: PATTERNS, need: 'yank', crate: OTHER, revokedAt: NOW, expected: revoked },
];

function token(row: Pick<Row, 'endpoint' | 'crates' | 'expiredAt' | 'revokedAt'>): TokenView {
  return { endpointScopes: row.endpoint, crateScopes: row.crates ?? null, expiredAt: row.expiredAt ?? null, revokedAt: row.revokedAt ?? null };
}

describe('decide follows DESIGN §1 row by row', () => {
  for (const row of rows) {
    it(row.name, () => {
      const crate = row.crate === undefined ? MATCHING : row.crate;
      assert.deepEqual(decide({ need: row.need, crate, token: token(row), now: NOW }), row.expected);
    });
  }
});

/**
 * The whole product of the §1 dimensions, against the spec read directly off DESIGN's tables:
 * revoked → expired → endpoint scope (read open to all; a list denies generic routes) → crate.
 */
describe('decide agrees with DESIGN §1 on every combination', () => {
  const endpoints: (readonly Scope[] | null)[] = [null, [], ['yank'], ['publish-new'], ['publish-update', 'read'], ['read', 'publish-new', 'publish-update', 'yank', 'change-owners']];
  const crateScopes: (readonly CratePattern[] | null)[] = [null, [], PATTERNS];
  const crates: (CrateName | null)[] = [MATCHING, OTHER, null];
  const expiries: (number | null)[] = [null, FUTURE, NOW, PAST];

  function spec(endpoint: readonly Scope[] | null, need: RouteNeed, patterns: readonly CratePattern[] | null, crate: CrateName | null, expiredAt: number | null, isRevoked: boolean): Decision {
    if (isRevoked) return revoked;
    if (expiredAt !== null && !(NOW < expiredAt)) return expired(expiredAt);
    if (need === 'read') return allow;
    if (endpoint !== null) {
      if (need === 'authenticated') return generic;
      const holds = need === 'publish' ? endpoint.includes('publish-new') || endpoint.includes('publish-update') : endpoint.includes(need);
      if (!holds) return scopeMissing(need);
    }
    if (patterns === null || patterns.length === 0) return allow;
    if (crate === null) return withoutCrate;
    return crate === MATCHING ? allow : notAllowed(crate);
  }

  for (const endpoint of endpoints) {
    for (const need of ROUTE_NEEDS) {
      it(`endpoint scopes ${JSON.stringify(endpoint)} on a route needing \`${need}\``, () => {
        for (const patterns of crateScopes) for (const crate of crates) for (const expiredAt of expiries) for (const isRevoked of [false, true]) {
          const input = { endpoint, crates: patterns, expiredAt, revokedAt: isRevoked ? PAST : null };
          const actual = decide({ need, crate, token: token(input), now: NOW });
          const context = JSON.stringify({ crates: patterns?.map((p) => p.source) ?? null, crate, expiredAt, isRevoked });
          assert.deepEqual(actual, spec(endpoint, need, patterns, crate, expiredAt, isRevoked), context);
        }
      });
    }
  }
});

describe('publishProbeMatters: probe only when the token holds exactly one publish scope', () => {
  const probeRows: { name: string; endpoint: readonly Scope[] | null; expected: boolean }[] = [
    { name: 'a legacy-style token may do both, so the probe does not matter', endpoint: null, expected: false },
    { name: 'an empty scope list may do neither, so the probe does not matter', endpoint: [], expected: false },
    { name: 'a `publish-new`-only token needs the probe', endpoint: ['publish-new'], expected: true },
    { name: 'a `publish-update`-only token needs the probe', endpoint: ['publish-update'], expected: true },
    { name: 'a token with both publish scopes does not need the probe', endpoint: ['publish-new', 'publish-update'], expected: false },
    { name: 'a token with no publish scope does not need the probe', endpoint: ['yank', 'read'], expected: false },
    { name: 'other scopes beside one publish scope still need the probe', endpoint: ['yank', 'publish-update'], expected: true },
  ];
  for (const row of probeRows) it(row.name, () => assert.equal(publishProbeMatters({ endpointScopes: row.endpoint }), row.expected));
});
