/** Crate names and patterns: crates.io's validity rules exactly, matched canonically (DESIGN §1 ★). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalCrateName, cargoNaming, describePatterns, parseCrateName, parseCratePattern, patternMatches, type CrateName, type CratePattern,
} from '../../src/core/crate-pattern.js';

const a64 = 'a'.repeat(64);
const a65 = 'a'.repeat(65);

/** Every edge case of cratesio-tokens.md §2.1, plus inputs that are not strings at all. */
const patternValidity: { name: string; input: unknown; expected: boolean }[] = [
  { name: 'a plain crate name is a valid pattern', input: 'foo', expected: true },
  { name: 'a name with one trailing star is a valid prefix pattern', input: 'foo*', expected: true },
  { name: 'a one-letter prefix is valid', input: 'f*', expected: true },
  { name: 'a lone star is valid and means every crate', input: '*', expected: true },
  { name: 'upper case is allowed in a pattern', input: 'Foo*', expected: true },
  { name: 'a one-letter name is valid', input: 'a', expected: true },
  { name: 'names with digits, hyphens and underscores after the first letter are valid', input: 'serde_json-2*', expected: true },
  { name: 'a 64-character name is valid', input: a64, expected: true },
  { name: 'a 64-character name plus a star (65 characters) is valid', input: `${a64}*`, expected: true },
  { name: 'the empty string is invalid', input: '', expected: false },
  { name: 'two stars are invalid', input: '**', expected: false },
  { name: 'a name followed by two stars is invalid', input: 'foo**', expected: false },
  { name: 'a leading star is invalid', input: '*foo', expected: false },
  { name: 'a star in the middle is invalid', input: 'f*o', expected: false },
  { name: 'a star in the middle of a longer name is invalid', input: 'te*st', expected: false },
  { name: 'a name starting with an underscore is invalid', input: '_foo', expected: false },
  { name: 'an underscore prefix is invalid', input: '_*', expected: false },
  { name: 'a hyphen prefix is invalid', input: '-*', expected: false },
  { name: 'a name starting with a digit is invalid', input: '1foo', expected: false },
  { name: 'a digit prefix is invalid', input: '1*', expected: false },
  { name: 'an inner space is invalid', input: 'foo bar', expected: false },
  { name: 'a dot is invalid', input: 'foo.bar', expected: false },
  { name: 'a non-ASCII prefix is invalid', input: 'é*', expected: false },
  { name: 'a leading space is invalid (no trimming)', input: ' foo', expected: false },
  { name: 'a trailing space is invalid (no trimming)', input: 'foo ', expected: false },
  { name: 'a 65-character name is invalid', input: a65, expected: false },
  { name: 'a 65-character name plus a star is invalid', input: `${a65}*`, expected: false },
  { name: 'null is not a pattern', input: null, expected: false },
  { name: 'undefined is not a pattern', input: undefined, expected: false },
  { name: 'a number is not a pattern', input: 42, expected: false },
  { name: 'an array holding a valid pattern is not a pattern', input: ['foo'], expected: false },
  { name: 'an object is not a pattern', input: { source: 'foo' }, expected: false },
];

describe('parseCratePattern accepts exactly what crates.io accepts', () => {
  for (const row of patternValidity) {
    it(row.name, () => assert.equal(parseCratePattern(row.input) !== null, row.expected));
  }
});

describe('parseCratePattern keeps the source and compares canonically', () => {
  const rows: { name: string; input: string; expected: CratePattern }[] = [
    { name: 'a star is an empty prefix', input: '*', expected: { source: '*', canonical: '', prefix: true, naming: cargoNaming } },
    { name: 'a trailing star becomes a prefix without the star', input: 'Serde_*', expected: { source: 'Serde_*', canonical: 'serde-', prefix: true, naming: cargoNaming } },
    { name: 'a plain name is an exact pattern, lower-cased with `_` as `-`', input: 'Foo_Bar', expected: { source: 'Foo_Bar', canonical: 'foo-bar', prefix: false, naming: cargoNaming } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(parseCratePattern(row.input), row.expected));
});

describe('parseCrateName accepts registry-index names only', () => {
  const rows: { name: string; input: string; expected: boolean }[] = [
    { name: 'a lower-case name is valid', input: 'serde', expected: true },
    { name: 'mixed case, digits, `-` and `_` are valid after a letter', input: 'Serde_Json-2', expected: true },
    { name: 'a single letter is valid', input: 'a', expected: true },
    { name: 'a 64-character name is valid', input: a64, expected: true },
    { name: 'a 65-character name is invalid', input: a65, expected: false },
    { name: 'the empty name is invalid', input: '', expected: false },
    { name: 'a star is not part of a name', input: 'foo*', expected: false },
    { name: 'a lone star is not a name', input: '*', expected: false },
    { name: 'a leading digit is invalid', input: '1foo', expected: false },
    { name: 'a leading underscore is invalid', input: '_foo', expected: false },
    { name: 'a leading hyphen is invalid', input: '-foo', expected: false },
    { name: 'non-ASCII letters are invalid', input: 'café', expected: false },
    { name: 'a dot is invalid', input: 'foo.bar', expected: false },
    { name: 'a slash is invalid', input: 'foo/bar', expected: false },
    { name: 'surrounding whitespace is invalid', input: ' foo', expected: false },
  ];
  for (const row of rows) it(row.name, () => assert.equal(parseCrateName(row.input), row.expected ? row.input : null));
});

/** Canonical matching (★) plus crates.io's prefix semantics (`foo*` matches `foo`). */
const matching: { name: string; pattern: string; crate: string; expected: boolean }[] = [
  { name: '★ `foo*` matches `foo` itself', pattern: 'foo*', crate: 'foo', expected: true },
  { name: '`foo*` matches a longer name starting with `foo`', pattern: 'foo*', crate: 'foobar', expected: true },
  { name: '★ `foo*` does not match the shorter `fo`', pattern: 'foo*', crate: 'fo', expected: false },
  { name: '`foo*` does not match a name that only contains `foo`', pattern: 'foo*', crate: 'xfoo', expected: false },
  { name: '★ `serde-*` matches `serde_json` (`_` is `-`)', pattern: 'serde-*', crate: 'serde_json', expected: true },
  { name: '★ `serde-*` matches `Serde-Json` (case-insensitive)', pattern: 'serde-*', crate: 'Serde-Json', expected: true },
  { name: '`serde-*` does not match `serde` (the hyphen is part of the prefix)', pattern: 'serde-*', crate: 'serde', expected: false },
  { name: '`serde-*` does not match `serdejson`', pattern: 'serde-*', crate: 'serdejson', expected: false },
  { name: '`serde_*` matches `serde-derive` (either spelling in the pattern)', pattern: 'serde_*', crate: 'serde-derive', expected: true },
  { name: '`Serde*` matches `serde`', pattern: 'Serde*', crate: 'serde', expected: true },
  { name: '★ `foo` matches `FOO`', pattern: 'foo', crate: 'FOO', expected: true },
  { name: '★ `foo-bar` matches `foo_bar`', pattern: 'foo-bar', crate: 'foo_bar', expected: true },
  { name: '★ `foo_bar` matches `Foo-Bar`', pattern: 'foo_bar', crate: 'Foo-Bar', expected: true },
  { name: 'an exact pattern does not match a longer name', pattern: 'foo', crate: 'foobar', expected: false },
  { name: 'an exact pattern does not match a shorter name', pattern: 'foobar', crate: 'foo', expected: false },
  { name: '★ `*` matches a plain name', pattern: '*', crate: 'tokio', expected: true },
  { name: '★ `*` matches a one-letter name', pattern: '*', crate: 'a', expected: true },
  { name: '★ `*` matches a 64-character mixed-case name', pattern: '*', crate: `Z${'_'.repeat(63)}`, expected: true },
];

describe('patternMatches compares names and patterns canonically', () => {
  for (const row of matching) {
    it(row.name, () => {
      const pattern = parseCratePattern(row.pattern);
      const crate = parseCrateName(row.crate);
      assert.ok(pattern && crate, 'the row uses a valid pattern and name');
      assert.equal(patternMatches(pattern, crate as CrateName), row.expected);
    });
  }
});

describe('helpers', () => {
  it('canonicalCrateName lower-cases and turns `_` into `-`', () => assert.equal(canonicalCrateName('Serde_Json-X'), 'serde-json-x'));
  it('describePatterns lists the patterns as written, in back-ticks', () => {
    const patterns = ['serde', 'Serde_*'].map((p) => parseCratePattern(p)!);
    assert.equal(describePatterns(patterns), '`serde`, `Serde_*`');
  });
});
