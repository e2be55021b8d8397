/**
 * Package names and patterns (DESIGN §1). Each registry has its own name rules, a
 * {@link PackageNaming} its adapter supplies; the pattern grammar (`*`, a name, or a name followed
 * by one `*`) and matching are shared. A pattern carries the naming it was parsed under, so it is
 * only ever compared by that registry's rules, and {@link decide} stays registry-blind.
 *
 * cargo's naming lives here, as the default the token format was designed around: validation
 * follows crates.io's `CrateScope::is_valid_pattern` exactly; matching is canonical (ASCII
 * lower-case, `_` as `-`), an improvement over crates.io's byte-wise comparison, because
 * registries treat `Serde_Json` and `serde-json` as the same crate.
 */
import { gatewayError, type GatewayError } from './errors.js';

const MAX_NAME_LENGTH = 64;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

declare const crateNameBrand: unique symbol;
/** A package (crate) name that passed its registry's {@link PackageNaming.parseName}. */
export type CrateName = string & { readonly [crateNameBrand]: true };

/**
 * A registry's name rules: what a package name is, which patterns a token may hold, and the form
 * both are compared in. Pure; supplied by the registry adapter.
 */
export interface PackageNaming {
  /** What the registry calls a package, in messages: `crate`, `package`. */
  readonly noun: string;
  /** The name, or null when it breaks the registry's name rules. */
  parseName(value: string): CrateName | null;
  /** The pattern, or null when a token may not hold it. */
  parsePattern(value: unknown): CratePattern | null;
  /** The form names and pattern stems are compared in. */
  canonical(name: string): string;
  /** The 400 for a request naming an invalid package. */
  nameError(name: string): GatewayError;
  /** The 400 for a token-creation request with an invalid pattern. */
  patternError(value: unknown): GatewayError;
}

/** A validated pattern: `*`, a name, or a name followed by one `*`. */
export interface CratePattern {
  /** The pattern as the user wrote it (kept for display and storage). */
  readonly source: string;
  /** Canonical name or prefix to compare against. */
  readonly canonical: string;
  /** True when the pattern ends in `*` (prefix match; `foo*` also matches `foo`). */
  readonly prefix: boolean;
  /** The rules it was parsed under, and that names are compared by. */
  readonly naming: PackageNaming;
}

/**
 * The shared pattern grammar: `*`, a valid name, or a valid name followed by `*`. `prefixStem`
 * admits registry-specific stems that are not names themselves (npm's `@scope/` in `@scope/*`).
 */
export function parsePatternWith(value: unknown, naming: PackageNaming, prefixStem: (stem: string) => boolean = () => false): CratePattern | null {
  if (typeof value !== 'string' || value === '') return null;
  if (value === '*') return { source: value, canonical: '', prefix: true, naming };
  const prefix = value.endsWith('*');
  const stem = prefix ? value.slice(0, -1) : value;
  if (naming.parseName(stem) === null && !(prefix && prefixStem(stem))) return null;
  return { source: value, canonical: naming.canonical(stem), prefix, naming };
}

/** Returns the crate name, or null when it breaks the registry-index name rules. */
export function parseCrateName(value: string): CrateName | null {
  return value.length <= MAX_NAME_LENGTH && NAME_RE.test(value) ? (value as CrateName) : null;
}

/** ASCII lower-case with `_` folded to `-`: the form crate names and patterns are compared in. */
export function canonicalCrateName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** cargo's name rules (wire-facts §1.7): crates.io's validity, canonical comparison ★. */
export const cargoNaming: PackageNaming = Object.freeze({
  noun: 'crate',
  parseName: parseCrateName,
  parsePattern: (value: unknown) => parsePatternWith(value, cargoNaming),
  canonical: canonicalCrateName,
  nameError: (name: string) => gatewayError('SG_CRATE_NAME_INVALID', { name }),
  // crates.io's exact wording, without the value (cratesio-tokens §6.1).
  patternError: () => gatewayError('SG_TOKEN_CRATE_SCOPE_INVALID'),
});

/** Returns the cargo pattern, or null when crates.io would answer `invalid crate scope`. */
export function parseCratePattern(value: unknown): CratePattern | null {
  return cargoNaming.parsePattern(value);
}

/** True when `pattern` admits `name`, both compared by the pattern's naming. */
export function patternMatches(pattern: CratePattern, name: CrateName): boolean {
  const canonical = pattern.naming.canonical(name);
  return pattern.prefix ? canonical.startsWith(pattern.canonical) : canonical === pattern.canonical;
}

/** Renders patterns for a message: `` `serde`, `serde-*` ``. */
export function describePatterns(patterns: readonly CratePattern[]): string {
  return patterns.map((p) => `\`${p.source}\``).join(', ');
}
