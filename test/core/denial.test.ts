/** denialError(): each deny reason becomes the exact public message and status (DESIGN §1 "Errors"). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCrateName, parseCratePattern } from '../../src/core/crate-pattern.js';
import type { Denial } from '../../src/core/decide.js';
import { denialError, formatInstant, type DenialContext } from '../../src/core/denial.js';
import { gatewayError, type GatewayError } from '../../src/core/errors.js';

const ctx: DenialContext = { tokensUrl: 'http://gw/tokens' };
const patterns = ['serde', 'serde-*'].map((p) => parseCratePattern(p)!);
const tokio = parseCrateName('tokio')!;

const rows: { name: string; denial: Denial; ctx?: DenialContext; expected: GatewayError }[] = [
  {
    name: 'a revoked token gets `authentication failed`, like an unknown one',
    denial: { verdict: 'deny', reason: 'token-revoked' },
    expected: { code: 'SG_AUTH_FAILED', status: 403, message: 'authentication failed' },
  },
  {
    name: 'an expired token is told when it expired and where to make a new one',
    denial: { verdict: 'deny', reason: 'token-expired', expiredAt: Date.UTC(2026, 0, 2) },
    expected: { code: 'SG_TOKEN_EXPIRED', status: 403, message: 'this token expired at 2026-01-02T00:00:00Z; create a new one at http://gw/tokens' },
  },
  {
    name: 'an expiry with milliseconds is told to the millisecond, the instant the token stopped working',
    denial: { verdict: 'deny', reason: 'token-expired', expiredAt: Date.UTC(2026, 11, 31, 0, 0, 0, 750) },
    expected: { code: 'SG_TOKEN_EXPIRED', status: 403, message: 'this token expired at 2026-12-31T00:00:00.750Z; create a new one at http://gw/tokens' },
  },
  {
    name: 'a missing scope is named',
    denial: { verdict: 'deny', reason: 'scope-missing', need: 'yank' },
    expected: { code: 'SG_SCOPE_MISSING', status: 403, message: 'this token does not have the `yank` scope; create a token with that scope' },
  },
  {
    name: 'a missing `change-owners` scope is named',
    denial: { verdict: 'deny', reason: 'scope-missing', need: 'change-owners' },
    expected: { code: 'SG_SCOPE_MISSING', status: 403, message: 'this token does not have the `change-owners` scope; create a token with that scope' },
  },
  {
    name: 'an unresolved publish names both publish scopes',
    denial: { verdict: 'deny', reason: 'scope-missing', need: 'publish' },
    expected: { code: 'SG_SCOPE_MISSING', status: 403, message: 'this token does not have the `publish-new` or `publish-update` scope; create a token with that scope' },
  },
  {
    name: 'a probed publish of a new crate explains that the crate is new',
    denial: { verdict: 'deny', reason: 'scope-missing', need: 'publish-new' },
    ctx: { tokensUrl: 'http://gw/tokens', crate: 'fresh' },
    expected: { code: 'SG_SCOPE_MISSING', status: 403, message: 'this token does not have the `publish-new` scope (`fresh` is a new crate); create a token with that scope' },
  },
  {
    name: 'a probed publish of an existing crate explains that the crate exists',
    denial: { verdict: 'deny', reason: 'scope-missing', need: 'publish-update' },
    ctx: { tokensUrl: 'http://gw/tokens', crate: 'serde' },
    expected: { code: 'SG_SCOPE_MISSING', status: 403, message: 'this token does not have the `publish-update` scope (`serde` already exists); create a token with that scope' },
  },
  {
    name: 'a publish scope without a probed crate gets no explanation',
    denial: { verdict: 'deny', reason: 'scope-missing', need: 'publish-new' },
    expected: { code: 'SG_SCOPE_MISSING', status: 403, message: 'this token does not have the `publish-new` scope; create a token with that scope' },
  },
  {
    name: 'a scoped token on a generic route is told it needs an unscoped token',
    denial: { verdict: 'deny', reason: 'scoped-token-on-generic-route' },
    expected: {
      code: 'SG_SCOPE_GENERIC_ROUTE', status: 403,
      message: 'this token is scoped, and this request needs an unscoped token; scoped tokens may only call routes that need one of their scopes',
    },
  },
  {
    name: 'a crate outside the patterns names the patterns and the crate',
    denial: { verdict: 'deny', reason: 'crate-not-allowed', crate: tokio, patterns },
    expected: { code: 'SG_CRATE_NOT_ALLOWED', status: 403, message: 'this token may only act on crates matching `serde`, `serde-*`; `tokio` is not one of them' },
  },
  {
    name: 'a crate-scoped token on a route naming no crate names the patterns',
    denial: { verdict: 'deny', reason: 'crate-scoped-token-without-crate', patterns },
    expected: { code: 'SG_CRATE_REQUIRED', status: 403, message: 'this token may only act on crates matching `serde`, `serde-*`, and this request names no crate' },
  },
];

describe('denialError renders each reason exactly', () => {
  for (const row of rows) it(row.name, () => assert.deepEqual(denialError(row.denial, row.ctx ?? ctx), row.expected));
});

it('an unknown token gets exactly the error a revoked one gets, so neither confirms a token exists', () => {
  assert.deepEqual(gatewayError('SG_AUTH_FAILED'), denialError({ verdict: 'deny', reason: 'token-revoked' }, ctx));
});

// Enforcement is to the millisecond (valid while now < expired_at), so a truncated rendering would
// show a token as expired up to 999 ms before it stops working. crates.io shows fractional seconds
// when they are non-zero (cratesio-tokens §6.1).
describe('formatInstant renders RFC 3339 in UTC with Z, with milliseconds only when non-zero', () => {
  const instants: { name: string; input: number; expected: string }[] = [
    { name: 'midnight has no fraction', input: Date.UTC(2026, 0, 2), expected: '2026-01-02T00:00:00Z' },
    { name: 'milliseconds are shown when non-zero', input: Date.UTC(2026, 11, 31, 23, 59, 59, 999), expected: '2026-12-31T23:59:59.999Z' },
    { name: 'trailing zeros of the milliseconds are kept', input: Date.UTC(2026, 11, 31, 0, 0, 0, 750), expected: '2026-12-31T00:00:00.750Z' },
    { name: 'a single millisecond shows', input: Date.UTC(2026, 11, 31, 0, 0, 0, 1), expected: '2026-12-31T00:00:00.001Z' },
    { name: 'the epoch renders', input: 0, expected: '1970-01-01T00:00:00Z' },
  ];
  for (const row of instants) it(row.name, () => assert.equal(formatInstant(row.input), row.expected));
});
