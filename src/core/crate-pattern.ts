/**
 * Crate names and crate patterns (DESIGN §1). Validation follows crates.io's
 * `CrateScope::is_valid_pattern` exactly; matching is canonical (ASCII lower-case, `_` as `-`),
 * an improvement over crates.io's byte-wise comparison, because registries treat `Serde_Json`
 * and `serde-json` as the same crate.
 */

const MAX_NAME_LENGTH = 64;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

declare const crateNameBrand: unique symbol;
/** A crate name that passed {@link parseCrateName}: ASCII, 1–64 chars, letter first. */
export type CrateName = string & { readonly [crateNameBrand]: true };

/** A validated crate pattern: `*`, a name, or a name followed by one `*`. */
export interface CratePattern {
  /** The pattern as the user wrote it (kept for display and storage). */
  readonly source: string;
  /** Canonical name or prefix to compare against. */
  readonly canonical: string;
  /** True when the pattern ends in `*` (prefix match; `foo*` also matches `foo`). */
  readonly prefix: boolean;
}

/** Returns the crate name, or null when it breaks the registry-index name rules. */
export function parseCrateName(value: string): CrateName | null {
  return value.length <= MAX_NAME_LENGTH && NAME_RE.test(value) ? (value as CrateName) : null;
}

/** ASCII lower-case with `_` folded to `-`: the form names and patterns are compared in. */
export function canonicalCrateName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Returns the pattern, or null when crates.io would answer `invalid crate scope`. */
export function parseCratePattern(value: unknown): CratePattern | null {
  if (typeof value !== 'string' || value === '') return null;
  if (value === '*') return { source: value, canonical: '', prefix: true };
  const prefix = value.endsWith('*');
  const name = prefix ? value.slice(0, -1) : value;
  if (parseCrateName(name) === null) return null;
  return { source: value, canonical: canonicalCrateName(name), prefix };
}

/** True when `pattern` admits `name` (both compared canonically). */
export function patternMatches(pattern: CratePattern, name: CrateName): boolean {
  const canonical = canonicalCrateName(name);
  return pattern.prefix ? canonical.startsWith(pattern.canonical) : canonical === pattern.canonical;
}

/** Renders patterns for a message: `` `serde`, `serde-*` ``. */
export function describePatterns(patterns: readonly CratePattern[]): string {
  return patterns.map((p) => `\`${p.source}\``).join(', ');
}
