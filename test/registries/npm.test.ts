/** The npm adapter: npm's name and pattern rules, exact matching, the error shape and forwarded headers (wire-facts §3). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { patternMatches, type CrateName } from '../../src/core/crate-pattern.js';
import { decide } from '../../src/core/decide.js';
import { gatewayError } from '../../src/core/errors.js';
import { npmAdapter } from '../../src/registries/npm.js';
import { npmNaming, packageSegment, parseNpmName } from '../../src/registries/npm-naming.js';

const name = (value: string): CrateName => {
  const parsed = parseNpmName(value);
  assert.ok(parsed, `${value} is a valid npm name`);
  return parsed;
};

describe('parseNpmName accepts npm\'s names for new packages only', () => {
  const rows: { name: string; input: string; expected: boolean }[] = [
    { name: 'a lower-case name is valid', input: 'left-pad', expected: true },
    { name: 'dots, underscores and digits are valid after the first character', input: 'lodash.merge_2', expected: true },
    { name: 'a leading digit is valid', input: '3d-view', expected: true },
    { name: 'a scoped name is valid', input: '@acme/left-pad', expected: true },
    { name: 'a scope may contain dots and hyphens', input: '@acme-corp.io/x', expected: true },
    { name: 'a 214-character name is valid', input: 'a'.repeat(214), expected: true },
    { name: 'a 215-character name is invalid', input: 'a'.repeat(215), expected: false },
    { name: 'a scoped name counts its scope in the 214', input: `@s/${'a'.repeat(212)}`, expected: false },
    { name: 'upper case is invalid (npm refuses it for new packages; Verdaccio stores names case-sensitively)', input: 'Left-Pad', expected: false },
    { name: 'an upper-case scope is invalid', input: '@Acme/x', expected: false },
    { name: 'a leading dot is invalid', input: '.bin', expected: false },
    { name: 'a leading underscore is invalid', input: '_private', expected: false },
    { name: 'a leading hyphen is invalid (so `-` in /-/… is never a package)', input: '-', expected: false },
    { name: 'a scoped name part with a leading dot is invalid', input: '@acme/.x', expected: false },
    { name: 'the empty name is invalid', input: '', expected: false },
    { name: 'a scope without a name is invalid', input: '@acme', expected: false },
    { name: 'a scope with an empty name is invalid', input: '@acme/', expected: false },
    { name: 'an empty scope is invalid', input: '@/x', expected: false },
    { name: 'a slash without a scope is invalid', input: 'acme/x', expected: false },
    { name: 'two slashes are invalid', input: '@a/b/c', expected: false },
    { name: 'npm\'s special characters are invalid', input: 'foo!', expected: false },
    { name: 'a tilde is invalid', input: 'foo~', expected: false },
    { name: 'a star is not part of a name', input: 'foo*', expected: false },
    { name: 'a space is invalid', input: 'foo bar', expected: false },
    { name: 'node_modules is excluded', input: 'node_modules', expected: false },
    { name: 'favicon.ico is excluded', input: 'favicon.ico', expected: false },
    { name: 'non-ASCII is invalid', input: 'café', expected: false },
  ];
  for (const row of rows) it(row.name, () => assert.equal(parseNpmName(row.input), row.expected ? row.input : null));
});

describe('npm patterns: `*`, `name`, `name*`, `@scope/*`, `@scope/name*`', () => {
  const rows: { name: string; input: unknown; expected: boolean }[] = [
    { name: '`*` is all packages', input: '*', expected: true },
    { name: 'a name is an exact pattern', input: 'left-pad', expected: true },
    { name: 'a name and a star is a prefix', input: 'left*', expected: true },
    { name: 'a hyphen before the star is part of the prefix', input: 'left-*', expected: true },
    { name: '`@scope/*` is every package of a scope', input: '@acme/*', expected: true },
    { name: '`@scope/name*` is a prefix within a scope', input: '@acme/web-*', expected: true },
    { name: 'an exact scoped name', input: '@acme/web', expected: true },
    { name: 'a partial scope (`@ac*`) is refused: a scope is named whole', input: '@ac*', expected: false },
    { name: '`@*` is refused', input: '@*', expected: false },
    { name: '`@scope/` without a star is refused', input: '@acme/', expected: false },
    { name: 'upper case is refused', input: 'Left-Pad', expected: false },
    { name: 'a star in the middle is refused', input: 'le*ft', expected: false },
    { name: 'a leading star is refused', input: '*pad', expected: false },
    { name: 'two stars are refused', input: '**', expected: false },
    { name: 'the empty string is refused', input: '', expected: false },
    { name: 'a non-string is refused', input: 42, expected: false },
    { name: 'a cargo-style name with `_` is a valid npm name too', input: 'serde_json', expected: true },
  ];
  for (const row of rows) it(row.name, () => assert.equal(npmNaming.parsePattern(row.input) !== null, row.expected));
});

/** npm compares exactly: `-`, `_` and `.` are different characters, unlike cargo's canonical `_` = `-`. */
describe('npm patterns match exactly, scope included', () => {
  const rows: { name: string; pattern: string; pkg: string; expected: boolean }[] = [
    { name: '`*` matches an unscoped package', pattern: '*', pkg: 'left-pad', expected: true },
    { name: '`*` matches a scoped package', pattern: '*', pkg: '@acme/web', expected: true },
    { name: '`@acme/*` matches a package of the scope', pattern: '@acme/*', pkg: '@acme/web', expected: true },
    { name: '`@acme/*` does not match another scope sharing its prefix', pattern: '@acme/*', pkg: '@acme-evil/web', expected: false },
    { name: '`@acme/*` does not match an unscoped package named like the scope', pattern: '@acme/*', pkg: 'acme', expected: false },
    { name: '`@acme/web*` matches `@acme/web` itself', pattern: '@acme/web*', pkg: '@acme/web', expected: true },
    { name: '`@acme/web*` matches `@acme/web-ui`', pattern: '@acme/web*', pkg: '@acme/web-ui', expected: true },
    { name: '`@acme/web*` does not match `@acme/api`', pattern: '@acme/web*', pkg: '@acme/api', expected: false },
    { name: '`left*` does not match the scoped `@left/x`', pattern: 'left*', pkg: '@left/x', expected: false },
    { name: '`my-pkg` does not match `my_pkg` (npm keeps them apart)', pattern: 'my-pkg', pkg: 'my_pkg', expected: false },
    { name: '`my-*` does not match `my_lib`', pattern: 'my-*', pkg: 'my_lib', expected: false },
    { name: '`lodash` does not match `lodash.merge`', pattern: 'lodash', pkg: 'lodash.merge', expected: false },
    { name: '`lodash*` matches `lodash.merge`', pattern: 'lodash*', pkg: 'lodash.merge', expected: true },
    { name: 'an exact pattern matches only itself', pattern: 'left-pad', pkg: 'left-pad', expected: true },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const pattern = npmNaming.parsePattern(row.pattern);
      assert.ok(pattern);
      assert.equal(patternMatches(pattern, name(row.pkg)), row.expected);
    });
  }

  it('decide() applies the pattern\'s own rules: the shared core needs no npm knowledge', () => {
    const token = { endpointScopes: ['yank' as const], crateScopes: [npmNaming.parsePattern('@acme/*')!], expiredAt: null, revokedAt: null };
    assert.deepEqual(decide({ need: 'yank', crate: name('@acme/web'), token, now: 0 }), { verdict: 'allow' });
    assert.equal(decide({ need: 'yank', crate: name('@acme-evil/web'), token, now: 0 }).verdict, 'deny');
  });
});

describe('npm errors and headers', () => {
  it('an error body is `{"error": message}`, the one field npm prints', () => {
    assert.deepEqual(JSON.parse(npmAdapter.errorBody('nope')), { error: 'nope' });
  });
  it('no error ever carries WWW-Authenticate (npm would hide the message)', () => {
    for (const status of [401, 403, 404]) assert.deepEqual(npmAdapter.errorHeaders(status, '/x', 'http://gw'), {});
  });
  it('an invalid name gets npm\'s rule, an invalid pattern npm\'s `invalid package scope`', () => {
    assert.deepEqual(npmNaming.nameError('Left-Pad'), gatewayError('SG_PACKAGE_NAME_INVALID', { name: 'Left-Pad' }));
    assert.equal(npmNaming.patternError('@ac*').message, 'invalid package scope `@ac*`: use `*`, a package name, `name*`, `@scope/*` or `@scope/name*` (npm package names are lower-case)');
    assert.equal(npmNaming.patternError(7).message.startsWith('invalid package scope 7:'), true);
  });
  it('forwarded requests carry the public host and scheme, so Verdaccio\'s tarball URLs point at the gateway', () => {
    assert.deepEqual(npmAdapter.forwardHeaders('https://npm.example.com:8443/reg'), { host: 'npm.example.com:8443', 'x-forwarded-host': 'npm.example.com:8443', 'x-forwarded-proto': 'https' });
  });
  it('the existence probe asks for the packument, scoped names with an encoded slash', () => {
    assert.deepEqual(npmAdapter.existencePaths(name('left-pad')), ['/left-pad']);
    assert.deepEqual(npmAdapter.existencePaths(name('@acme/web')), ['/@acme%2Fweb']);
    assert.equal(packageSegment('@a/b'), '@a%2Fb');
  });
  it('a `publish-body` crate source is refused with how to route npm publishes', () => {
    const head = npmAdapter.readPublishHead(Buffer.alloc(0), 0, { jsonMax: 1, bodyMax: 1 });
    assert.equal(head.kind, 'error');
  });
});
