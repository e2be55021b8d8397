/**
 * The token page's pure helpers: expiry choices from the operator's policy, badges, crate-pattern
 * messages and the cargo setup text. No DOM, so they run (and are tested) in Node too.
 */
import { cargoNaming, type PackageNaming } from '../core/crate-pattern.js';
import type { Scope } from '../core/scope.js';
import type { TokenPagePolicy } from './policy.js';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** crates.io's presets, in days; only those within `tokens.max_lifetime` are offered. */
export const PRESET_DAYS = [7, 30, 60, 90, 365] as const;

/** A badge is shown for tokens expiring within this long. */
const SOON_MS = 14 * DAY_MS;

/**
 * The scope checkboxes, in crates.io's order with crates.io's one-line descriptions (plus scopegate's
 * `read`). A `Record` over every scope, so adding one to `src/core/scope.ts` fails to compile here
 * until the page describes it.
 */
export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  'publish-new': 'Publish new crates',
  'publish-update': 'Publish new versions of existing crates',
  yank: 'Yank and unyank crate versions',
  'change-owners': 'Invite new crate owners or remove existing ones',
  read: 'Read the index and download crates, where this registry requires a token to read',
};

/** npm's counterparts, for what the npm routes of config/npm.yaml let each scope do. */
export const NPM_SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  'publish-new': 'Publish new packages',
  'publish-update': 'Publish new versions of existing packages, deprecate them and set their dist-tags',
  yank: 'Unpublish package versions',
  'change-owners': 'Add or remove package owners',
  read: 'Read packages and download their tarballs, where this registry requires a token to read',
};

/** A hint's text, with `{ code }` pieces shown as code. */
export type HintPiece = string | { readonly code: string };

/** How the page speaks of the registry's packages: crates.io's words for cargo, npm's for npm. */
export interface RegistryWords {
  /** `crate` or `package` (the naming's own noun). */
  readonly noun: string;
  readonly scopes: Readonly<Record<Scope, string>>;
  /** What a pattern is, and how names compare, under the registry's name rules. */
  readonly patternHint: readonly HintPiece[];
}

const CARGO_WORDS: RegistryWords = {
  noun: 'crate',
  scopes: SCOPE_DESCRIPTIONS,
  patternHint: [
    'Limit the token to crates matching these patterns: a crate name, or a name followed by ', { code: '*' }, ' (', { code: 'serde-*' },
    ' matches ', { code: 'serde-json' }, '). Case does not matter, nor ', { code: '-' }, ' versus ', { code: '_' },
    '. With no pattern, the token may act on all your crates.',
  ],
};

const NPM_WORDS: RegistryWords = {
  noun: 'package',
  scopes: NPM_SCOPE_DESCRIPTIONS,
  patternHint: [
    'Limit the token to packages matching these patterns: a package name, or a name followed by ', { code: '*' }, ' (', { code: 'lodash-*' },
    ' matches ', { code: 'lodash-es' }, ', ', { code: '@acme/*' }, ' every package of ', { code: '@acme' }, '). Names are lower-case, and ',
    { code: '-' }, ', ', { code: '_' }, ' and ', { code: '.' }, ' are different characters. With no pattern, the token may act on all your packages.',
  ],
};

/** The words for the policy's registry (cargo's for one the page does not know, as `namingFor`). */
export function registryWords(registry: string): RegistryWords {
  return registry === 'npm' ? NPM_WORDS : CARGO_WORDS;
}

/** `Crate`, `Package`. */
export const capitalised = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** One option of the Expiration select: `never`, a lifetime such as `30d`, or `custom`. */
export interface ExpiryChoice {
  readonly value: string;
  readonly label: string;
  /** The lifetime; null for `never` and `custom`. */
  readonly lifetimeMs: number | null;
}

/** "7 days", "36 hours", "90 minutes": a lifetime in its largest whole unit. */
export function lifetimeLabel(ms: number): string {
  const [unit, size] = ms % DAY_MS === 0 ? ['day', DAY_MS] as const : ms % HOUR_MS === 0 ? ['hour', HOUR_MS] as const : ['minute', MINUTE_MS] as const;
  const n = Math.max(1, Math.round(ms / size));
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/**
 * The Expiration options crates.io offers — No expiration, 7, 30, 60, 90, 365 days, Custom — cut to
 * the operator's policy: "No expiration" only if allowed, presets only within the maximum, and the
 * default lifetime added when it is not a preset. The default is preselected.
 */
export function expiryChoices(expiry: TokenPagePolicy['expiry']): { choices: ExpiryChoice[]; defaultValue: string } {
  const fits = (ms: number): boolean => expiry.maxMs === null || ms <= expiry.maxMs;
  const lifetimes = new Set<number>(PRESET_DAYS.map((d) => d * DAY_MS).filter(fits));
  if (fits(expiry.defaultMs)) lifetimes.add(expiry.defaultMs);
  const sorted = [...lifetimes].sort((a, b) => a - b);
  const choices: ExpiryChoice[] = [
    ...(expiry.allowNever ? [{ value: 'never', label: 'No expiration', lifetimeMs: null }] : []),
    ...sorted.map((ms) => ({ value: `${ms}ms`, label: lifetimeLabel(ms), lifetimeMs: ms })),
    { value: 'custom', label: 'Custom…', lifetimeMs: null },
  ];
  const fallback = sorted.length > 0 ? `${sorted.at(-1)}ms` : 'custom';
  return { choices, defaultValue: fits(expiry.defaultMs) ? `${expiry.defaultMs}ms` : fallback };
}

/** `YYYY-MM-DD` of an instant, in UTC (custom expiry dates are UTC midnights, as on crates.io). */
export const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The dates a custom expiry may take: from tomorrow (UTC) to the last midnight within the maximum. */
export function customDateBounds(now: number, maxMs: number | null): { min: string; max: string | null } {
  return { min: utcDate(now + DAY_MS), max: maxMs === null ? null : utcDate(now + maxMs) };
}

/** The `expired_at` for a custom date, or a message saying why the date cannot be used. */
export function customExpiry(date: string, now: number, maxMs: number | null): { expiredAt: string } | { problem: string } {
  const midnight = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(midnight) || utcDate(midnight) !== date) return { problem: 'Pick an expiry date' };
  const { min, max } = customDateBounds(now, maxMs);
  if (date < min) return { problem: `Pick a date from ${min} on: a token must expire in the future` };
  if (max !== null && date > max) return { problem: `Pick a date up to ${max}: this registry allows tokens to live at most ${lifetimeLabel(maxMs!)}` };
  return { expiredAt: `${date}T00:00:00Z` };
}

/** The lifetime choice closest to a token's own (for "regenerate"), if one matches to the day. */
export function matchingChoice(choices: readonly ExpiryChoice[], createdAt: string, expiredAt: string | null): string | null {
  if (expiredAt === null) return choices.some((c) => c.value === 'never') ? 'never' : null;
  const days = Math.round((Date.parse(expiredAt) - Date.parse(createdAt)) / DAY_MS);
  return choices.find((c) => c.lifetimeMs !== null && Math.round(c.lifetimeMs / DAY_MS) === days)?.value ?? null;
}

/** `expired`, or `expires in 2 days` / `expires tomorrow` / `expires in 5 hours` within two weeks. */
export function expiryBadge(expiredAt: string | null, now: number): { text: string; tone: 'expired' | 'soon' } | null {
  if (expiredAt === null) return null;
  const left = Date.parse(expiredAt) - now;
  if (left <= 0) return { text: 'expired', tone: 'expired' };
  if (left > SOON_MS) return null;
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const [value, unit] = left >= DAY_MS ? [Math.round(left / DAY_MS), 'day'] as const
    : left >= HOUR_MS ? [Math.round(left / HOUR_MS), 'hour'] as const
      : [Math.max(1, Math.round(left / MINUTE_MS)), 'minute'] as const;
  return { text: `expires ${rtf.format(value, unit)}`, tone: 'soon' };
}

/**
 * Why a pattern is refused, or null when the server would accept it (or it is still empty).
 * Acceptance is decided by the registry's own `naming.parsePattern`, as on the server; the text
 * only explains it (in detail for cargo's rules).
 */
export function patternProblem(value: string, naming: PackageNaming = cargoNaming): string | null {
  if (value === '' || naming.parsePattern(value) !== null) return null;
  const shown = `\`${value}\``;
  if (naming !== cargoNaming) return `${shown} is not a ${naming.noun} pattern: use a ${naming.noun} name, optionally followed by \`*\``;
  const name = value.endsWith('*') ? value.slice(0, -1) : value;
  if (name.includes('*')) return `${shown}: \`*\` may only stand once, at the end (\`serde-*\`), or alone (\`*\`: every crate)`;
  if (name.length > 64) return `${shown}: a crate name has at most 64 characters`;
  const bad = [...name].find((c) => !/[A-Za-z0-9_-]/.test(c));
  if (bad !== undefined) return `${shown}: ${bad === ' ' ? 'spaces are' : `\`${bad}\` is`} not allowed; use ASCII letters, digits, \`-\` and \`_\``;
  if (!/^[A-Za-z]/.test(name)) return `${shown}: a crate name starts with a letter`;
  return `${shown} is not a crate pattern: use a crate name, optionally followed by \`*\``;
}

/**
 * Why a pasted credential cannot be a token, or null. It travels as the Authorization header, which
 * carries printable ASCII (all the gateway accepts, core/token-format.ts), and a browser will not
 * send a character beyond Latin-1 at all: `fetch` throws, and the page blamed the connection. Such a
 * character came with the copy (typographic quotes, a zero-width space from a chat message).
 */
export function credentialProblem(credential: string): string | null {
  const bad = [...credential].find((c) => !/[\x20-\x7e\t]/.test(c));
  if (bad === undefined) return null;
  const code = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const shown = /[\p{L}\p{N}\p{P}\p{S}]/u.test(bad) ? `“${bad}” (${code})` : code;
  return `This is not the token as your registry gave it: it contains ${shown}, which no token has. Copy the token again, without anything around it`;
}

/** `CARGO_REGISTRIES_<NAME>_TOKEN`, as cargo derives it from a registry name. */
export function cargoTokenVariable(registryName: string): string {
  return `CARGO_REGISTRIES_${registryName.toUpperCase().replaceAll('-', '_')}_TOKEN`;
}

/** What to put where so cargo uses a new token with this gateway. */
export function cargoSetup(policy: TokenPagePolicy, token: string): { config: string; env: string; login: string; publish: string } {
  const name = policy.registryName;
  return {
    config: `[registries.${name}]\nindex = ${JSON.stringify(policy.indexUrl ?? `sparse+${policy.publicUrl}/index/`)}`,
    env: `${cargoTokenVariable(name)}=${token}`,
    login: `cargo login --registry ${name}`,
    publish: `cargo publish --registry ${name}`,
  };
}

/**
 * What to put where so npm uses a new token with this gateway: the registry and the token's line
 * in `.npmrc`, keyed by the registry URL without its scheme as npm looks it up (`//host:port/path/`),
 * the token read from `NPM_TOKEN` (npm expands `${VAR}` there), so the file holds no secret.
 */
export function npmSetup(policy: TokenPagePolicy, token: string): { npmrc: string; env: string; publish: string } {
  const url = new URL(policy.publicUrl);
  const registry = `${url.origin}${url.pathname.replace(/\/*$/, '/')}`;
  const authKey = `//${url.host}${url.pathname.replace(/\/*$/, '/')}:_authToken`;
  return {
    npmrc: `registry=${registry}\n${authKey}=\${NPM_TOKEN}`,
    env: `NPM_TOKEN=${token}`,
    publish: 'npm publish',
  };
}

