/** The token page's pure helpers (src/web/format.ts), in Node: expiry choices, badges, pattern messages, cargo setup. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cargoNaming, parseCratePattern } from '../../src/core/crate-pattern.js';
import { npmNaming } from '../../src/registries/npm-naming.js';
import { namingFor } from '../../src/web/naming.js';
import { SCOPES } from '../../src/core/scope.js';
import {
  NPM_SCOPE_DESCRIPTIONS, SCOPE_DESCRIPTIONS, cargoSetup, cargoTokenVariable, npmSetup, credentialProblem, customDateBounds, registryWords, customExpiry, expiryBadge, expiryChoices, lifetimeLabel, matchingChoice, patternProblem,
} from '../../src/web/format.js';
import type { TokenPagePolicy } from '../../src/web/policy.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-10T15:30:00Z');

describe('expiry choices follow the operator\'s policy', () => {
  const rows: { name: string; expiry: TokenPagePolicy['expiry']; labels: string[]; selected: string }[] = [
    { name: 'the defaults: 90 days preselected, 365 at most, never not offered', expiry: { defaultMs: 90 * DAY, maxMs: 365 * DAY, allowNever: false },
      labels: ['7 days', '30 days', '60 days', '90 days', '365 days', 'Custom…'], selected: '90 days' },
    { name: 'no expiration allowed and no maximum', expiry: { defaultMs: 90 * DAY, maxMs: null, allowNever: true },
      labels: ['No expiration', '7 days', '30 days', '60 days', '90 days', '365 days', 'Custom…'], selected: '90 days' },
    { name: 'a 60-day maximum cuts 90 and 365', expiry: { defaultMs: 30 * DAY, maxMs: 60 * DAY, allowNever: false },
      labels: ['7 days', '30 days', '60 days', 'Custom…'], selected: '30 days' },
    { name: 'a default that is not a preset is offered too', expiry: { defaultMs: 45 * DAY, maxMs: 365 * DAY, allowNever: false },
      labels: ['7 days', '30 days', '45 days', '60 days', '90 days', '365 days', 'Custom…'], selected: '45 days' },
    { name: 'a maximum below every preset leaves the default and Custom', expiry: { defaultMs: 36 * 3_600_000, maxMs: 2 * DAY, allowNever: false },
      labels: ['36 hours', 'Custom…'], selected: '36 hours' },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const { choices, defaultValue } = expiryChoices(row.expiry);
      assert.deepEqual(choices.map((c) => c.label), row.labels);
      assert.equal(choices.find((c) => c.value === defaultValue)?.label, row.selected);
    });
  }

  test('lifetimes are labelled in their largest whole unit', () => {
    assert.deepEqual([DAY, 7 * DAY, 3_600_000, 90 * 60_000].map(lifetimeLabel), ['1 day', '7 days', '1 hour', '90 minutes']);
  });

  test('regenerate picks the preset matching the old token\'s lifetime, to the day', () => {
    const { choices } = expiryChoices({ defaultMs: 90 * DAY, maxMs: null, allowNever: true });
    const created = '2026-01-01T10:00:00Z';
    assert.equal(matchingChoice(choices, created, '2026-01-31T09:59:58Z'), `${30 * DAY}ms`);
    assert.equal(matchingChoice(choices, created, null), 'never');
    assert.equal(matchingChoice(choices, created, '2026-01-13T10:00:00Z'), null);
    assert.equal(matchingChoice(expiryChoices({ defaultMs: 90 * DAY, maxMs: null, allowNever: false }).choices, created, null), null);
  });
});

describe('custom expiry dates are UTC midnights within the policy', () => {
  test('bounds run from tomorrow to the last day within the maximum', () => {
    assert.deepEqual(customDateBounds(NOW, 365 * DAY), { min: '2026-03-11', max: '2027-03-10' });
    assert.deepEqual(customDateBounds(NOW, null), { min: '2026-03-11', max: null });
  });
  const rows: { date: string; expected: { expiredAt: string } | RegExp }[] = [
    { date: '2026-03-11', expected: { expiredAt: '2026-03-11T00:00:00Z' } },
    { date: '2027-03-10', expected: { expiredAt: '2027-03-10T00:00:00Z' } },
    { date: '2026-03-10', expected: /^Pick a date from 2026-03-11 on/ },
    { date: '2027-03-11', expected: /^Pick a date up to 2027-03-10: this registry allows tokens to live at most 365 days$/ },
    { date: '', expected: /^Pick an expiry date$/ },
    { date: '2026-02-30', expected: /^Pick/ },
  ];
  for (const { date, expected } of rows) {
    test(`${date || '(empty)'} → ${expected instanceof RegExp ? expected.source : expected.expiredAt}`, () => {
      const result = customExpiry(date, NOW, 365 * DAY);
      if (expected instanceof RegExp) assert.match('problem' in result ? result.problem : '', expected);
      else assert.deepEqual(result, expected);
    });
  }
});

describe('expiry badges', () => {
  const at = (ms: number): string => new Date(NOW + ms).toISOString();
  const rows: { left: number | null; expected: string | null }[] = [
    { left: null, expected: null },
    { left: -1, expected: 'expired' },
    { left: 0, expected: 'expired' },
    { left: 30 * 60_000, expected: 'expires in 30 minutes' },
    { left: 5 * 3_600_000, expected: 'expires in 5 hours' },
    { left: DAY, expected: 'expires tomorrow' },
    { left: 2 * DAY - 60_000, expected: 'expires in 2 days' },
    { left: 14 * DAY, expected: 'expires in 14 days' },
    { left: 15 * DAY, expected: null },
  ];
  for (const { left, expected } of rows) {
    test(`${left === null ? 'never' : `${left} ms left`} → ${expected ?? 'no badge'}`, () => {
      assert.equal(expiryBadge(left === null ? null : at(left), NOW)?.text ?? null, expected);
    });
  }
});

describe('crate-pattern messages agree with the server\'s parseCratePattern', () => {
  const rows: { value: string; message: RegExp | null }[] = [
    { value: '', message: null },
    { value: '*', message: null },
    { value: 'serde', message: null },
    { value: 'Serde_*', message: null },
    { value: 'a'.repeat(64), message: null },
    { value: '**', message: /`\*` may only stand once, at the end/ },
    { value: '*foo', message: /`\*` may only stand once/ },
    { value: 'f*o', message: /`\*` may only stand once/ },
    { value: '1*', message: /starts with a letter/ },
    { value: '_*', message: /starts with a letter/ },
    { value: 'a'.repeat(65), message: /at most 64 characters/ },
    { value: 'serde json', message: /spaces are not allowed/ },
    { value: 'sérde', message: /`é` is not allowed/ },
    { value: 'serde.json', message: /`\.` is not allowed/ },
  ];
  for (const { value, message } of rows) {
    test(`${JSON.stringify(value.length > 20 ? `${value.slice(0, 8)}…(${value.length})` : value)} → ${message === null ? 'accepted' : 'refused'}`, () => {
      const problem = patternProblem(value);
      if (message === null) assert.equal(problem, null);
      else assert.match(problem ?? '', message);
      if (value !== '') assert.equal(problem === null, parseCratePattern(value) !== null, 'the page and the server disagree');
    });
  }
});

describe('the page checks patterns by the gateway\'s registry', () => {
  test('cargo\'s rules for cargo (and a registry the page does not know), npm\'s for npm', () => {
    assert.deepEqual([namingFor('cargo'), namingFor('npm'), namingFor('pypi')], [cargoNaming, npmNaming, cargoNaming]);
  });

  test('an npm gateway accepts @scope/* and refuses what npm refuses', () => {
    assert.equal(patternProblem('@acme/*', npmNaming), null);
    assert.equal(patternProblem('left-pad', npmNaming), null);
    assert.equal(patternProblem('Left_Pad', npmNaming), '`Left_Pad` is not a package pattern: use a package name, optionally followed by `*`');
    assert.match(patternProblem('@acme/*', cargoNaming) ?? '', /not allowed/);
  });
});

describe('scopes and the cargo setup', () => {
  test('every scope has a one-line description, publish scopes first as on crates.io', () => {
    assert.deepEqual(Object.keys(SCOPE_DESCRIPTIONS).sort(), [...SCOPES].sort());
    assert.deepEqual(Object.keys(SCOPE_DESCRIPTIONS), ['publish-new', 'publish-update', 'yank', 'change-owners', 'read']);
    assert.equal(SCOPE_DESCRIPTIONS['change-owners'], 'Invite new crate owners or remove existing ones');
  });

  test('cargo derives the token variable from the registry name', () => {
    assert.equal(cargoTokenVariable('gw'), 'CARGO_REGISTRIES_GW_TOKEN');
    assert.equal(cargoTokenVariable('acme-internal'), 'CARGO_REGISTRIES_ACME_INTERNAL_TOKEN');
  });

  test('the setup names the registry, its sparse index and the token', () => {
    const policy: TokenPagePolicy = { now: NOW, publicUrl: 'https://crates.example.com', basePath: '', registry: 'cargo', registryName: 'acme', indexUrl: 'sparse+https://crates.example.com/index/', tokenPrefix: 'sg_', issuedBy: 'self', expiry: { defaultMs: DAY, maxMs: null, allowNever: false } };
    assert.deepEqual(cargoSetup(policy, 'sg_x'), {
      config: '[registries.acme]\nindex = "sparse+https://crates.example.com/index/"',
      env: 'CARGO_REGISTRIES_ACME_TOKEN=sg_x',
      login: 'cargo login --registry acme',
      publish: 'cargo publish --registry acme',
    });
  });

  test('npm\'s setup keys the token by the registry URL without its scheme, path prefix and port included', () => {
    const policy: TokenPagePolicy = { now: NOW, publicUrl: 'https://npm.example.com:8443/reg', basePath: '/reg', registry: 'npm', registryName: 'acme', indexUrl: null, tokenPrefix: 'sg_', issuedBy: 'self', expiry: { defaultMs: DAY, maxMs: null, allowNever: false } };
    assert.deepEqual(npmSetup(policy, 'sg_x'), {
      npmrc: 'registry=https://npm.example.com:8443/reg/\n//npm.example.com:8443/reg/:_authToken=${NPM_TOKEN}',
      env: 'NPM_TOKEN=sg_x',
      publish: 'npm publish',
    });
    assert.match(npmSetup({ ...policy, publicUrl: 'http://127.0.0.1:8080', basePath: '' }, 'sg_x').npmrc, /^registry=http:\/\/127\.0\.0\.1:8080\/\n\/\/127\.0\.0\.1:8080\/:_authToken=\$\{NPM_TOKEN\}$/);
  });
});

describe('a pasted credential the page cannot send', () => {
  test('printable ASCII (and tabs, which the gateway accepts) passes', () => {
    for (const c of ['alice-upstream-secret', 'Bearer sg_abc', 'Basic dXNlcjpwYXNz', 'a\tb']) assert.equal(credentialProblem(c), null, c);
  });
  const rows: { name: string; input: string; shown: string }[] = [
    { name: 'a zero-width space, by its code point only', input: 'secret\u200b', shown: 'U+200B' },
    { name: 'a typographic quote, shown and by code point', input: '\u201csecret', shown: '“\u201c” (U+201C)' },
    { name: 'a Latin-1 letter, which a browser would send but no token has', input: 'secr\u00e9t', shown: '“\u00e9” (U+00E9)' },
    { name: 'a no-break space', input: 'sec\u00a0ret', shown: 'U+00A0' },
    { name: 'an emoji, as one character', input: 'secret\u{1f980}', shown: '“\u{1f980}” (U+1F980)' },
  ];
  for (const row of rows) {
    test(`names ${row.name}`, () => {
      assert.equal(credentialProblem(row.input), `This is not the token as your registry gave it: it contains ${row.shown}, which no token has. Copy the token again, without anything around it`);
    });
  }
});

describe('the page speaks of crates on cargo and of packages on npm', () => {
  test('cargo keeps crates.io\'s words; npm has its own for every scope, in the same order', () => {
    assert.equal(registryWords('cargo').scopes, SCOPE_DESCRIPTIONS);
    assert.equal(registryWords('cargo').noun, cargoNaming.noun);
    assert.equal(registryWords('npm').noun, npmNaming.noun);
    assert.deepEqual(Object.keys(registryWords('npm').scopes), Object.keys(SCOPE_DESCRIPTIONS));
    assert.equal(registryWords('npm').scopes, NPM_SCOPE_DESCRIPTIONS);
    for (const text of Object.values(NPM_SCOPE_DESCRIPTIONS)) assert.doesNotMatch(text, /crate|index|yank/i);
    assert.equal(registryWords('unknown'), registryWords('cargo'), 'as namingFor, cargo\'s for a registry the page does not know');
  });

  for (const registry of ['cargo', 'npm']) {
    test(`${registry}'s pattern hint names only patterns and names its own rules accept`, () => {
      const naming = namingFor(registry);
      const hint = registryWords(registry).patternHint;
      // Every code piece with a letter, but an npm scope alone (`@acme`), which is no name.
      const examples = hint.filter((p): p is { code: string } => typeof p !== 'string' && /[a-z]/.test(p.code) && !/^@[^/]+$/.test(p.code)).map((p) => p.code);
      assert.ok(examples.length >= 2, JSON.stringify(hint));
      for (const example of examples) assert.notEqual(naming.parsePattern(example), null, example);
      const text = hint.map((p) => (typeof p === 'string' ? p : p.code)).join('');
      assert.match(text, new RegExp(`all your ${naming.noun}s\\.$`));
    });
  }
});
