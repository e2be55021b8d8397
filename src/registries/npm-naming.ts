/**
 * npm package names (wire-facts §3.3; npm's `validate-npm-package-name`, rules for new packages).
 * Pure.
 *
 * A name is `name` or `@scope/name`; each part is lower-case ASCII letters, digits, `-`, `.` and
 * `_`, not starting with `.`, `_` or `-`; the whole is at most 214 characters. Comparison is exact:
 * unlike cargo, npm keeps `-`, `_` and `.` apart (`my_pkg` and `my-pkg` are two packages), and
 * Verdaccio stores names case-sensitively, so upper case is refused rather than folded (npm has
 * refused to publish upper-case names for years).
 *
 * Token patterns: `*`, `name`, `name*`, `@scope/*`, `@scope/name*`. `@scope/*` is the one stem
 * that is not a name itself; `@sc*` is refused, so a scope is always named whole.
 */
import { parsePatternWith, type CrateName, type PackageNaming } from '../core/crate-pattern.js';
import { gatewayError } from '../core/errors.js';

const MAX_LENGTH = 214;
const PART = /^[a-z0-9][a-z0-9._-]*$/;
/** npm's exclusion list, plus Verdaccio's `__proto__` (already refused by its leading `_`). */
const EXCLUDED = new Set(['node_modules', 'favicon.ico']);

/** Returns the name, or null when it breaks npm's rules for new packages. */
export function parseNpmName(value: string): CrateName | null {
  if (value.length === 0 || value.length > MAX_LENGTH) return null;
  const slash = value.indexOf('/');
  const scoped = value.startsWith('@');
  if (scoped !== (slash !== -1)) return null;
  if (scoped && !PART.test(value.slice(1, slash))) return null;
  const name = value.slice(slash + 1);
  return PART.test(name) && !EXCLUDED.has(name) ? (value as CrateName) : null;
}

/** `@scope/` alone, the stem of `@scope/*`. */
function isScopeStem(stem: string): boolean {
  return stem.startsWith('@') && stem.endsWith('/') && PART.test(stem.slice(1, -1));
}

const showValue = (value: unknown): string => (typeof value === 'string' ? `\`${value}\`` : JSON.stringify(value) ?? String(value));

export const npmNaming: PackageNaming = Object.freeze({
  noun: 'package',
  parseName: parseNpmName,
  parsePattern: (value: unknown) => parsePatternWith(value, npmNaming, isScopeStem),
  // Names are lower-case by rule, and `-`/`_`/`.` are distinct: the name is its own canonical form.
  canonical: (name: string) => name,
  nameError: (name: string) => gatewayError('SG_PACKAGE_NAME_INVALID', { name }),
  patternError: (value: unknown) => gatewayError('SG_TOKEN_PACKAGE_SCOPE_INVALID', { pattern: showValue(value) }),
});

/** The path segment of a name, as npm sends it: `@scope/name` → `@scope%2Fname`. */
export function packageSegment(name: string): string {
  return name.replace('/', '%2F');
}
