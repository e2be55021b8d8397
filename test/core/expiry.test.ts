/** The expiry policy (shared by the token API and the CLI), reminder selection and wording. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExpiredAt, resolveExpiry, type ExpiryPolicy, type ExpiryRequest } from '../../src/core/expiry-policy.js';
import { expiresSoon, expiryWarning, reminderPayload, timeLeft } from '../../src/core/expiry-reminder.js';
import { addCargoPublishWarning } from '../../src/registries/cargo.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const POLICY: ExpiryPolicy = { maxLifetimeMs: 365 * DAY, defaultLifetimeMs: 90 * DAY, allowNoExpiry: false };

describe('resolveExpiry', () => {
  const rows: { name: string; request: ExpiryRequest; policy?: Partial<ExpiryPolicy>; expected: number | null | string }[] = [
    { name: 'no date gets the default lifetime', request: { kind: 'default' }, expected: NOW + 90 * DAY },
    { name: 'the default is capped by a shorter maximum', request: { kind: 'default' }, policy: { maxLifetimeMs: 30 * DAY }, expected: NOW + 30 * DAY },
    { name: 'never is refused unless allowed', request: { kind: 'never' }, expected: 'this registry requires every token to expire; pick a date (tokens.allow_no_expiry is false)' },
    { name: 'never is kept where allowed', request: { kind: 'never' }, policy: { allowNoExpiry: true }, expected: null },
    { name: 'a future date within the maximum is kept', request: { kind: 'at', at: NOW + DAY, text: 'tomorrow' }, expected: NOW + DAY },
    { name: 'exactly the maximum is allowed', request: { kind: 'at', at: NOW + 365 * DAY, text: 'x' }, expected: NOW + 365 * DAY },
    { name: 'now is in the past', request: { kind: 'at', at: NOW, text: 'now' }, expected: 'now is in the past; pick a future date' },
    { name: 'beyond the maximum is refused', request: { kind: 'at', at: NOW + 366 * DAY, text: 'late' }, expected: 'late is later than this registry allows (at most 2027-06-01T00:00:00Z, tokens.max_lifetime)' },
    { name: 'no maximum allows any future date', request: { kind: 'at', at: NOW + 9_000 * DAY, text: 'x' }, policy: { maxLifetimeMs: null }, expected: NOW + 9_000 * DAY },
    // Lifetimes the config accepts (100000000d) reach past what a Date can hold.
    { name: 'a default lifetime past year 9999 is capped there', request: { kind: 'default' }, policy: { maxLifetimeMs: null, defaultLifetimeMs: 100_000_000 * DAY }, expected: Date.parse('9999-12-31T23:59:59Z') },
    { name: 'a maximum past year 9999 caps the default there too', request: { kind: 'default' }, policy: { maxLifetimeMs: 200_000_000 * DAY, defaultLifetimeMs: 100_000_000 * DAY }, expected: Date.parse('9999-12-31T23:59:59Z') },
    { name: 'without a maximum, a date past year 9999 is refused', request: { kind: 'at', at: NOW + 100_000_000 * DAY, text: '100000000d' }, policy: { maxLifetimeMs: null }, expected: '100000000d is later than this registry allows (at most 9999-12-31T23:59:59Z, the latest date a token can carry)' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const outcome = resolveExpiry(row.request, { ...POLICY, ...row.policy }, NOW);
      assert.deepEqual(outcome, typeof row.expected === 'string' ? { ok: false, why: row.expected } : { ok: true, expiredAt: row.expected });
    });
  }

  it('parseExpiredAt reads the token API\'s field: absent, null, RFC 3339, anything else', () => {
    assert.deepEqual(parseExpiredAt(false, undefined), { kind: 'default' });
    assert.deepEqual(parseExpiredAt(true, null), { kind: 'never' });
    assert.deepEqual(parseExpiredAt(true, '2026-12-31T01:00:00+01:00'), { kind: 'at', at: Date.parse('2026-12-31T00:00:00Z'), text: '2026-12-31T01:00:00+01:00' });
    for (const bad of ['2026-12-31', 'tomorrow', 42, '2026-13-45T00:00:00Z']) assert.ok('invalid' in parseExpiredAt(true, bad), String(bad));
  });

  // Date.parse rolls impossible dates over (2026-02-30 → March 2, T24:00 → the next day); a
  // token must not silently expire on a day nobody asked for.
  const calendar: { name: string; input: string; valid: boolean }[] = [
    { name: 'February 30th', input: '2026-02-30T00:00:00Z', valid: false },
    { name: 'February 29th of a common year', input: '2027-02-29T00:00:00Z', valid: false },
    { name: 'February 29th of a leap year', input: '2028-02-29T00:00:00Z', valid: true },
    { name: 'February 29th of a century that is not a leap year', input: '2100-02-29T00:00:00Z', valid: false },
    { name: 'February 29th of a leap century', input: '2400-02-29T00:00:00Z', valid: true },
    { name: 'April 31st', input: '2026-04-31T00:00:00Z', valid: false },
    { name: 'December 31st', input: '2026-12-31T23:59:59Z', valid: true },
    { name: 'month 0', input: '2026-00-10T00:00:00Z', valid: false },
    { name: 'month 13', input: '2026-13-01T00:00:00Z', valid: false },
    { name: 'day 0', input: '2026-01-00T00:00:00Z', valid: false },
    { name: 'hour 24', input: '2026-12-31T24:00:00Z', valid: false },
    { name: 'minute 60', input: '2026-12-31T00:60:00Z', valid: false },
    { name: 'second 60', input: '2026-12-31T00:00:60Z', valid: false },
    { name: 'offset hour 24', input: '2026-12-31T00:00:00+24:00', valid: false },
    { name: 'offset minute 60', input: '2026-12-31T00:00:00+01:60', valid: false },
    { name: 'offset 23:59', input: '2026-12-31T00:00:00-23:59', valid: true },
    { name: 'fractional seconds', input: '2026-12-31T00:00:00.750Z', valid: true },
  ];
  for (const row of calendar) {
    it(`parseExpiredAt ${row.valid ? 'accepts' : 'refuses'} ${row.name} (${row.input})`, () => {
      const parsed = parseExpiredAt(true, row.input);
      if (row.valid) assert.deepEqual(parsed, { kind: 'at', at: Date.parse(row.input), text: row.input });
      else assert.deepEqual(parsed, { invalid: 'expected an RFC 3339 date such as 2026-12-31T00:00:00Z' });
    });
  }
});

describe('expiry reminders', () => {
  const token = { id: 7, account: 'alice', name: 'ci', expiredAt: NOW + 2 * DAY + 5_000, revokedAt: null };
  it('a live token is due within remind_before of its expiry, not before, and never once expired or revoked', () => {
    assert.equal(expiresSoon(token, NOW, 3 * DAY), true);
    assert.equal(expiresSoon(token, NOW, 2 * DAY), false);
    assert.equal(expiresSoon(token, token.expiredAt, 3 * DAY), false);
    assert.equal(expiresSoon({ ...token, revokedAt: NOW }, NOW, 3 * DAY), false);
    assert.equal(expiresSoon({ ...token, expiredAt: null }, NOW, 3 * DAY), false);
  });

  it('says how long is left in whole units, rounded down', () => {
    assert.deepEqual([timeLeft(2 * DAY + 5), timeLeft(DAY), timeLeft(5 * 3_600_000 + 1), timeLeft(90_000), timeLeft(10)], ['in 2 days', 'in 1 day', 'in 5 hours', 'in 1 minute', 'in 1 minute']);
  });

  it('the webhook body names account, token, expiry and the regenerate URL, with a stable delivery id', () => {
    assert.deepEqual(reminderPayload(token, NOW, 'https://gw.example'), {
      event: 'token.expiring', delivery_id: 'token-7-expiring-2026-06-03T00:00:05Z', account: 'alice', token_id: 7, name: 'ci',
      expires_at: '2026-06-03T00:00:05Z', regenerate_url: 'https://gw.example/tokens/new?from=7',
      text: 'scopegate token "ci" (id 7) of alice expires at 2026-06-03T00:00:05Z (in 2 days); create a new one at https://gw.example/tokens/new?from=7',
    });
    assert.equal(expiryWarning(token, NOW, 'https://gw.example'), 'this token expires at 2026-06-03T00:00:05Z (in 2 days); create a new one at https://gw.example/tokens/new?from=7');
  });
});

describe('addCargoPublishWarning', () => {
  const json = 'application/json';
  it('appends to warnings.other and keeps the rest of the answer', () => {
    const body = JSON.stringify({ warnings: { invalid_categories: ['x'], invalid_badges: [], other: ['first'] }, extra: 1 });
    assert.deepEqual(JSON.parse(addCargoPublishWarning(200, json, body, 'soon')!), { warnings: { invalid_categories: ['x'], invalid_badges: [], other: ['first', 'soon'] }, extra: 1 });
  });
  it('fills in the warnings of an answer without them, and of an empty answer', () => {
    const expected = { warnings: { invalid_categories: [], invalid_badges: [], other: ['soon'] } };
    assert.deepEqual(JSON.parse(addCargoPublishWarning(200, json, '{}', 'soon')!), expected);
    assert.deepEqual(JSON.parse(addCargoPublishWarning(200, undefined, '', 'soon')!), expected);
  });
  it('leaves errors, non-JSON and non-object answers alone', () => {
    assert.equal(addCargoPublishWarning(403, json, '{"errors":[]}', 'soon'), null);
    assert.equal(addCargoPublishWarning(200, 'text/html', '<p>ok</p>', 'soon'), null);
    assert.equal(addCargoPublishWarning(200, json, '[1]', 'soon'), null);
    assert.equal(addCargoPublishWarning(200, json, '{nope', 'soon'), null);
  });
});
