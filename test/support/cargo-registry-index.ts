/**
 * Pure helpers of the test cargo registry: publish-body parsing, name rules, and the sparse-index
 * file layout and line format (wire-facts §1.2, §1.5, §1.7).
 */
import { createHash } from 'node:crypto';

import type { NewCrate, NewCrateDependency } from './cargo-publish-body.js';

/** One dependency in an index line (the Cargo Book, `registry-index.md`). */
export interface IndexDependency {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: string;
  registry?: string;
  package?: string;
  artifact?: string[];
  bindep_target?: string;
  lib?: boolean;
}

/** One line of a sparse-index file: one published version. */
export interface IndexLine {
  name: string;
  vers: string;
  deps: IndexDependency[];
  cksum: string;
  features: Record<string, string[]>;
  /** Features using `dep:` or `pkg?/feat` syntax, kept out of `features` for cargo older than 1.19. */
  features2?: Record<string, string[]>;
  yanked: boolean;
  links?: string;
  /** 2 when `features2` is present; absent (meaning 1) otherwise. */
  v?: 2;
  rust_version?: string;
}

/** A publish body that passed framing and metadata validation. */
export interface ParsedPublish {
  meta: NewCrate;
  crate: Buffer;
}

export type ParseResult = { ok: true; value: ParsedPublish } | { ok: false; detail: string };

const MAX_NAME_LENGTH = 64;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const IDENT = '[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*';
const SEMVER_RE = new RegExp(`^(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-${IDENT})?(?:\\+${IDENT})?$`);

/** crates.io's rule (wire-facts §1.7): ASCII, letter first, `[A-Za-z0-9_-]`, at most 64 characters. */
export function isValidCrateName(name: string): boolean {
  return NAME_RE.test(name);
}

/** True for a SemVer 2.0 version such as `1.0.0-rc.1+build.5`. */
export function isValidVersion(version: string): boolean {
  return SEMVER_RE.test(version);
}

/** crates.io decides existence case-insensitively with `-` equal to `_` (wire-facts §1.7). */
export function canonicalName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Versions must be unique ignoring `+build` metadata (wire-facts §1.5). */
export function versionWithoutBuild(version: string): string {
  const plus = version.indexOf('+');
  return plus === -1 ? version : version.slice(0, plus);
}

/** cargo's `make_dep_prefix`: `1`, `2`, `3/{c}` or `{ab}/{cd}`, from the name as given (a `dl` template's `{prefix}`). */
export function depPrefix(name: string): string {
  if (name.length <= 2) return String(name.length);
  if (name.length === 3) return `3/${name[0]}`;
  return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
}

/** cargo's `make_dep_path` for an already lower-cased name (wire-facts §1.5): its prefix, then the name. */
export function makeDepPath(lowerName: string): string {
  return `${depPrefix(lowerName)}/${lowerName}`;
}

/** Strong ETag of an index file's bytes, quoted as HTTP requires. */
export function etagOf(content: string): string {
  return `"${createHash('sha256').update(content).digest('hex').slice(0, 32)}"`;
}

/** True when an `If-None-Match` value (possibly a list, possibly weak) names `etag`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/**
 * Splits and validates the publish framing `u32le J | J bytes JSON | u32le C | C bytes .crate`,
 * requiring `8 + J + C === body.length` (wire-facts §1.2), then validates the metadata.
 */
export function parsePublishBody(body: Buffer): ParseResult {
  const bad = (why: string): ParseResult => ({ ok: false, detail: `invalid upload request: ${why}` });
  if (body.length < 4) return bad('body is too short to hold the metadata length');
  const jsonLen = body.readUInt32LE(0);
  if (4 + jsonLen + 4 > body.length) return bad('metadata length exceeds the body');
  const crateLen = body.readUInt32LE(4 + jsonLen);
  if (8 + jsonLen + crateLen !== body.length) return bad('crate length does not match the body length');
  let meta: unknown;
  try {
    meta = JSON.parse(body.subarray(4, 4 + jsonLen).toString('utf8'));
  } catch (err) {
    return bad(`metadata is not valid JSON (${(err as Error).message})`);
  }
  const duplicate = duplicateField(body.subarray(4, 4 + jsonLen).toString('utf8'));
  if (duplicate !== null) return bad(duplicate);
  const problem = metadataProblem(meta);
  if (problem !== undefined) return { ok: false, detail: problem };
  return { ok: true, value: { meta: meta as NewCrate, crate: body.subarray(8 + jsonLen) } };
}

/**
 * crates.io deserialises the metadata with serde's derived structs, which refuse a field given
 * twice (`duplicate field \`name\``) and report where serde_json stood: just past the key. Only
 * struct fields count: the metadata itself and each `deps[]` entry; the maps (`features`,
 * `badges`) keep the last copy, as serde's map impls do. The wording and position are from memory
 * of crates.io and serde_json, not captured from crates.io. A tokenizer of its own rather than the
 * gateway's strict-json.ts, so a bug there is not mirrored here. Call only on text JSON.parse took.
 */
function duplicateField(json: string): string | null {
  const tokens = [...json.matchAll(/"(?:[^"\\]|\\[^])*"|[{}[\]:,]|[^{}[\]:,"\s]+/g)];
  let next = 0;
  // Where a value sits: the metadata and dependencies are structs, everything else is not.
  type Shape = 'metadata' | 'dependencies' | 'dependency' | 'other';
  const walk = (shape: Shape): string | null => {
    const open = tokens[next++]?.[0];
    if (open !== '{' && open !== '[') return null;
    const seen = new Set<string>();
    while (next < tokens.length && tokens[next]![0] !== (open === '{' ? '}' : ']')) {
      if (tokens[next]![0] === ',') next++;
      if (open === '[') {
        const found = walk(shape === 'dependencies' ? 'dependency' : 'other');
        if (found !== null) return found;
        continue;
      }
      const keyToken = tokens[next]!;
      const key = JSON.parse(keyToken[0]) as string;
      if ((shape === 'metadata' || shape === 'dependency') && seen.has(key)) {
        const end = keyToken.index! + keyToken[0].length;
        const line = json.slice(0, end).split('\n').length;
        return `duplicate field \`${key}\` at line ${line} column ${end - json.lastIndexOf('\n', end - 1) - 1}`;
      }
      seen.add(key);
      next += 2;
      const found = walk(shape === 'metadata' && key === 'deps' ? 'dependencies' : 'other');
      if (found !== null) return found;
    }
    next++;
    return null;
  };
  return walk('metadata');
}

/**
 * What crates.io refuses in the metadata, as its whole `detail`: the shape (a serde error there,
 * `invalid upload request: …`), then the name (`validate_crate_name`), then the version. The
 * shape of `deps` and `features` is checked here to build the index line; crates.io reads those
 * from the tarball's Cargo.toml instead.
 */
function metadataProblem(meta: unknown): string | undefined {
  const shape = (why: string): string => `invalid upload request: ${why}`;
  if (!isObject(meta)) return shape('metadata must be a JSON object');
  if (typeof meta.name !== 'string') return shape('expected a string `name`');
  if (typeof meta.vers !== 'string') return shape('expected a string `vers`');
  if (meta.deps !== undefined && !Array.isArray(meta.deps)) return shape('`deps` must be an array');
  for (const dep of (meta.deps ?? []) as unknown[]) {
    if (!isObject(dep) || typeof dep.name !== 'string' || typeof dep.version_req !== 'string') {
      return shape('every dependency needs a string `name` and `version_req`');
    }
  }
  if (meta.features !== undefined && !isObject(meta.features)) return shape('`features` must be an object');
  const badName = crateNameProblem(meta.name);
  if (badName !== undefined) return badName;
  if (!isValidVersion(meta.vers)) return `"${meta.vers}" is an invalid semver version`;
  return undefined;
}

/** crates.io's `validate_crate_name("crate", …)` and its wording (`crates_io_validation`). */
export function crateNameProblem(name: string): string | undefined {
  const chars = [...name];
  if (chars.length > MAX_NAME_LENGTH) return `the crate name \`${name}\` is too long (max ${MAX_NAME_LENGTH} characters)`;
  if (chars.length === 0) return 'crate name cannot be empty';
  const [first, ...rest] = chars as [string, ...string[]];
  if (/^[0-9]$/.test(first)) return `the name \`${name}\` cannot be used as a crate name, the name cannot start with a digit`;
  if (!/^[A-Za-z]$/.test(first)) return `invalid character \`${first}\` in crate name: \`${name}\`, the first character must be an ASCII character`;
  const other = rest.find((c) => !/^[A-Za-z0-9_-]$/.test(c));
  if (other !== undefined) return `invalid character \`${other}\` in crate name: \`${name}\`, characters must be an ASCII alphanumeric characters, \`-\`, or \`_\``;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Converts publish metadata to an index line as crates.io writes it (its `crates_io_index::Crate`;
 * wire-facts §1.2, "Index-line differences"): `version_req` becomes `req`; a renamed dependency is
 * indexed under its rename with `package` holding the original name; the registry adds `cksum`
 * (sha256 hex of the `.crate` bytes) and `yanked: false`. Features whose values use `dep:` or
 * `?/` go to `features2`, which then sets `v: 2`; `v`, `features2`, `links` and `rust_version`
 * are left out when there is nothing to say.
 */
export function toIndexLine(meta: NewCrate, crate: Buffer): IndexLine {
  const features: Record<string, string[]> = {};
  const features2: Record<string, string[]> = {};
  // Sorted by name, as crates.io's BTreeMap writes them.
  const sorted = Object.entries(meta.features ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, values] of sorted) {
    const extended = Array.isArray(values) && values.some((v) => typeof v === 'string' && (v.startsWith('dep:') || v.includes('?/')));
    (extended ? features2 : features)[name] = values;
  }
  const extended = Object.keys(features2).length > 0;
  // In the order of crates.io's struct, which is the order of its index lines.
  return {
    name: meta.name,
    vers: meta.vers,
    deps: (meta.deps ?? []).map(toIndexDependency),
    cksum: createHash('sha256').update(crate).digest('hex'),
    features,
    ...(extended ? { features2 } : {}),
    yanked: false,
    ...(typeof meta.links === 'string' ? { links: meta.links } : {}),
    ...(typeof meta.rust_version === 'string' ? { rust_version: meta.rust_version } : {}),
    ...(extended ? { v: 2 as const } : {}),
  };
}

function toIndexDependency(dep: NewCrateDependency): IndexDependency {
  const renamed = typeof dep.explicit_name_in_toml === 'string';
  const out: IndexDependency = {
    name: renamed ? (dep.explicit_name_in_toml as string) : dep.name,
    req: dep.version_req,
    features: dep.features ?? [],
    optional: dep.optional ?? false,
    default_features: dep.default_features ?? true,
    target: dep.target ?? null,
    kind: dep.kind ?? 'normal',
  };
  if (dep.registry !== undefined) out.registry = dep.registry;
  if (renamed) out.package = dep.name;
  if (dep.artifact !== undefined) out.artifact = dep.artifact;
  if (dep.bindep_target !== undefined) out.bindep_target = dep.bindep_target;
  if (dep.lib !== undefined) out.lib = dep.lib;
  return out;
}
