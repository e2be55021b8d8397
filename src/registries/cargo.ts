/**
 * The cargo registry adapter (wire-facts §1). Pure: no I/O.
 */
import { cargoNaming, type CrateName } from '../core/crate-pattern.js';
import { gatewayError } from '../core/errors.js';
import { STRICT_PATH_RULES } from '../core/request-path.js';
import { describeDuplicateKey, parseStrictJson } from '../core/strict-json.js';
import type { ConfigRewriteContext, PublishHead, RegistryAdapter } from './registry.js';

const INDEX_PREFIX = '/index';
/** The sparse index's config, served rewritten (forward-step.ts). */
const CONFIG_PATH = `${INDEX_PREFIX}/config.json`;

/**
 * cargo's `make_dep_path` (wire-facts §1.5): lower-cased; 1 → `1/n`, 2 → `2/n`, 3 → `3/c/n`,
 * else `ab/cd/name`.
 */
export function indexFilePath(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${INDEX_PREFIX}/${n.length}/${n}`;
  if (n.length === 3) return `${INDEX_PREFIX}/3/${n[0]}/${n}`;
  return `${INDEX_PREFIX}/${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** Most separators whose every `-`/`_` spelling is probed (2^4 = 16 index files at most). */
const MAX_SPELLED_SEPARATORS = 4;

/**
 * The spellings of `name` one crate can be stored under, as far as its index file path goes: the
 * index is not `-`/`_`-insensitive (wire-facts §1.7), so `foo_bar-baz` is not found at the path of
 * an existing `foo-bar_baz`. Every spelling for up to {@link MAX_SPELLED_SEPARATORS} separators;
 * past that, the name as given, all-`-` and all-`_` (a mixed spelling of a longer name is missed,
 * and the registry's own check refuses that publish: crates.io's ``crate was previously named``).
 */
export function separatorSpellings(name: string): string[] {
  const parts = name.split(/[-_]/);
  const uniform = [name, name.replaceAll('_', '-'), name.replaceAll('-', '_')];
  if (parts.length - 1 > MAX_SPELLED_SEPARATORS) return uniform;
  let spellings = [parts[0]!];
  for (const part of parts.slice(1)) spellings = spellings.flatMap((s) => [`${s}-${part}`, `${s}_${part}`]);
  return [...new Set([...uniform, ...spellings])];
}

/**
 * Whether `line`, the first line of a sparse-index file, is a version of `crate`: every line of an
 * index file is one version's JSON object with its `name` (wire-facts §1.5), the stored spelling,
 * which may differ from `crate` in case and `-`/`_`.
 */
export function isIndexEntryOf(crate: CrateName, line: string): boolean {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return false;
  }
  const name = typeof entry === 'object' && entry !== null ? (entry as { name?: unknown }).name : undefined;
  return typeof name === 'string' && cargoNaming.canonical(name) === cargoNaming.canonical(crate);
}

/**
 * The publish body is `u32le J, J bytes JSON, u32le C, C bytes .crate` (wire-facts §1.2). Only the
 * JSON head is read (bounded by `jsonMax`); the whole length is checked against Content-Length
 * so a truncated or padded upload is refused before anything is forwarded.
 */
export function readCargoPublishHead(bytes: Buffer, contentLength: number | null, limits: { jsonMax: number; bodyMax: number }): PublishHead {
  const malformed = (why: string): PublishHead => ({ kind: 'error', error: gatewayError('SG_PUBLISH_MALFORMED', { why }) });
  if (contentLength === null) return malformed('cargo sends a Content-Length with every publish; this request had none');
  if (contentLength > limits.bodyMax) return { kind: 'error', error: gatewayError('SG_BODY_TOO_LARGE', { limit: `${limits.bodyMax} bytes` }) };
  if (contentLength < 8) return malformed(`the body is ${contentLength} bytes, shorter than the 8 bytes of its two length fields`);
  if (bytes.length < 4) return { kind: 'need-more', bytes: 4 };
  const jsonLength = bytes.readUInt32LE(0);
  if (jsonLength > limits.jsonMax) return { kind: 'error', error: gatewayError('SG_PUBLISH_JSON_TOO_LARGE', { limit: `${limits.jsonMax} bytes` }) };
  if (8 + jsonLength > contentLength) return malformed(`the JSON length field (${jsonLength}) runs past the end of the ${contentLength}-byte body`);
  if (bytes.length < 8 + jsonLength) return { kind: 'need-more', bytes: 8 + jsonLength };
  const crateLength = bytes.readUInt32LE(4 + jsonLength);
  if (8 + jsonLength + crateLength !== contentLength) {
    return malformed(`the length fields (${jsonLength} + ${crateLength} + 8) do not add up to the body's ${contentLength} bytes`);
  }
  const metadata = parseStrictJson(bytes.subarray(4, 4 + jsonLength).toString('utf8'));
  if (metadata.kind === 'invalid') return malformed(`the metadata is not JSON (${metadata.message})`);
  // The crate authorised must be the crate published: with a key twice, JSON.parse reads the last
  // copy while crates.io refuses the body and other registries may read the first (strict-json.ts).
  if (metadata.kind === 'duplicate-key') {
    return malformed(`the metadata has the ${describeDuplicateKey(metadata.duplicate)} twice; registries disagree on which copy counts, so scopegate refuses it`);
  }
  const name = (metadata.value as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') return malformed('the metadata has no string `name` field');
  return { kind: 'ok', name };
}

/**
 * Rewrites `config.json` so `dl` and `api` point at the gateway (wire-facts §1.5 "Gateway
 * implication"). A `dl` on the upstream itself keeps its path and markers with the gateway's URL
 * in place of the upstream's (`http://up/dl` → `<public_url>/dl`), so downloads arrive at the
 * path the registry serves them at and are forwarded there unchanged; the route table needs a
 * read route for that path. A `dl` elsewhere (a CDN) cannot be forwarded to, so it becomes
 * `<public_url>/api/v1/crates`, the download endpoint crates.io-compatible APIs answer.
 */
export function rewriteCargoConfig(upstreamBody: string, at: ConfigRewriteContext): string {
  const config = JSON.parse(upstreamBody) as Record<string, unknown>;
  const dl = onUpstreamPath(config.dl, at.upstreamUrl);
  const rewritten: Record<string, unknown> = { ...config, dl: `${at.publicUrl}${dl ?? API_DOWNLOADS}`, api: at.publicUrl };
  // `auth-required` makes cargo send its token on index and download requests (wire-facts §1.5).
  // The gateway decides (`reads: token`), except where it cannot make reads public: with
  // per-token credentials an anonymous read reaches the registry as nobody, so a registry that
  // requires auth on reads still needs cargo's token, which the gateway swaps for its owner's
  // credential. Dropping the upstream's flag there left every index fetch a 401.
  const upstreamRequiresAuth = config['auth-required'] === true && !at.anonymousReadsAuthenticated;
  if (at.readsNeedToken || upstreamRequiresAuth) rewritten['auth-required'] = true;
  else delete rewritten['auth-required'];
  return JSON.stringify(rewritten);
}

/** The download endpoint of crates.io's API, under which cargo appends `/{crate}/{version}/download`. */
const API_DOWNLOADS = '/api/v1/crates';

/**
 * `url`'s part below `upstreamUrl` (`''` or starting with `/` or `?`), or null when `url` is
 * not a string on the upstream's origin under its path. Compared as text past the origin, since a
 * template's `{crate}` markers are not URL syntax.
 */
function onUpstreamPath(url: unknown, upstreamUrl: string): string | null {
  if (typeof url !== 'string') return null;
  const split = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/is.exec(url);
  if (split === null) return null;
  const upstream = new URL(upstreamUrl);
  let origin: string;
  try {
    origin = new URL(split[1]!).origin;
  } catch {
    return null;
  }
  if (origin !== upstream.origin) return null;
  const base = upstream.pathname.replace(/\/+$/, '');
  const rest = split[2]!;
  if (!rest.startsWith(base)) return null;
  const below = rest.slice(base.length);
  return below === '' || /^[/?]/.test(below) ? below : null;
}

/** Values cargo could fill a `dl` template's markers with, for {@link sampleDownloadPath}. */
const SAMPLE_MARKERS: Readonly<Record<string, string>> = {
  '{crate}': 'sample', '{version}': '0.1.0', '{prefix}': 'sa/mp', '{lowerprefix}': 'sa/mp', '{sha256-checksum}': '0'.repeat(64),
};

/**
 * The gateway path one download would arrive at, given the rewritten config's `dl` (cargo fills
 * in the markers, or appends `/{crate}/{version}/download` when there are none), so the gateway
 * can check that its route table lets downloads through. Null when `dl` is not under `publicUrl`.
 */
export function sampleDownloadPath(rewrittenConfig: string, publicUrl: string): string | null {
  const dl = (JSON.parse(rewrittenConfig) as { dl?: unknown }).dl;
  if (typeof dl !== 'string' || !dl.startsWith(publicUrl)) return null;
  const template = dl.slice(publicUrl.length);
  const markers = Object.keys(SAMPLE_MARKERS).filter((marker) => template.includes(marker));
  const filled = markers.length === 0 ? `${template}/{crate}/{version}/download` : template;
  const url = filled.replace(/\{[a-z0-9-]+\}/g, (marker) => SAMPLE_MARKERS[marker] ?? marker);
  return url.split('?')[0]!;
}

/**
 * Appends `warning` to a 2xx publish answer's `warnings.other`, which cargo prints as
 * `warning: …` (wire-facts §1.1: any JSON or an empty body is accepted; the three `warnings`
 * lists are filled in so the answer keeps crates.io's shape). Anything but an empty body or a JSON
 * object is left alone.
 */
export function addCargoPublishWarning(status: number, contentType: string | undefined, body: string, warning: string): string | null {
  if (status < 200 || status > 299) return null;
  if (body.trim() !== '' && !/^application\/(.+\+)?json\b/i.test(contentType ?? '')) return null;
  let answer: unknown;
  try {
    answer = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return null;
  const found = (answer as { warnings?: unknown }).warnings;
  const warnings: Record<string, unknown> = typeof found === 'object' && found !== null && !Array.isArray(found) ? { ...found } : {};
  const list = (key: string): unknown[] => (Array.isArray(warnings[key]) ? (warnings[key] as unknown[]) : []);
  const rewritten = { ...answer, warnings: { ...warnings, invalid_categories: list('invalid_categories'), invalid_badges: list('invalid_badges'), other: [...list('other'), warning] } };
  return JSON.stringify(rewritten);
}

/** cargo reports a 2xx answer carrying an `errors` list as a failure (wire-facts §1.4). */
export function cargoPublishFailedDespiteStatus(_contentType: string | undefined, body: string): boolean {
  try {
    const answer: unknown = JSON.parse(body);
    const errors = typeof answer === 'object' && answer !== null ? (answer as { errors?: unknown }).errors : undefined;
    return Array.isArray(errors) && errors.length > 0;
  } catch {
    return false;
  }
}

export const cargoAdapter: RegistryAdapter = Object.freeze({
  name: 'cargo',
  naming: cargoNaming,
  // config.json is served rewritten (forward-step.ts); a look-alike must not reach the upstream.
  pathRules: Object.freeze({ ...STRICT_PATH_RULES, exactPaths: Object.freeze([CONFIG_PATH]) }),
  // Every cargo path starts with a fixed segment (`/api`, `/index`, the `dl` path).
  packagesAtRoot: false,
  logoutPath: null,
  // cargo needs no Host: the gateway rewrites `dl`/`api` in the index's config.json instead.
  forwardHeaders: () => ({}),
  // cargo's operations are told apart by method and path alone (wire-facts §4 item 6).
  bodyOperations: [],
  classifyBody: () => ({ kind: 'unrecognised', why: 'cargo routes classify no request bodies' }) as const,
  errorBody: (message: string) => JSON.stringify({ errors: [{ detail: message }] }),
  /**
   * A 401 on the index starts cargo's sparse-auth handshake: it retries with the token and shows
   * `login_url` in `cargo login` (wire-facts §1.5 "Authentication flow").
   */
  errorHeaders: (status: number, path: string, publicUrl: string): Record<string, string> =>
    status === 401 && path.startsWith(`${INDEX_PREFIX}/`) ? { 'www-authenticate': `Cargo login_url="${publicUrl}/tokens"` } : {},
  existencePaths: (crate: CrateName) => [...new Set(separatorSpellings(crate).map(indexFilePath))],
  isExistenceEntry: isIndexEntryOf,
  readPublishHead: readCargoPublishHead,
  configPath: CONFIG_PATH,
  rewriteConfig: rewriteCargoConfig,
  sampleDownloadPath,
  addPublishWarning: addCargoPublishWarning,
  publishFailedDespiteStatus: cargoPublishFailedDespiteStatus,
});
