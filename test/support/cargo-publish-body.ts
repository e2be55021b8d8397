/**
 * Builders for the binary body of `cargo publish` (`PUT /api/v1/crates/new`), wire-facts §1.2.
 */

/** One `deps[]` entry of cargo's publish metadata (`NewCrateDependency`, wire-facts §1.2). */
export interface NewCrateDependency {
  optional: boolean;
  default_features: boolean;
  /** The ORIGINAL package name, even when the dependency is renamed. */
  name: string;
  features: string[];
  version_req: string;
  target: string | null;
  kind: 'normal' | 'dev' | 'build';
  /** Omitted when the dependency lives in the registry being published to. */
  registry?: string;
  /** The rename (`foo = { package = "bar" }` gives `foo` here and `bar` in `name`). */
  explicit_name_in_toml?: string;
  artifact?: string[];
  bindep_target?: string;
  /** Omitted when false. */
  lib?: boolean;
}

/** The JSON metadata cargo 1.95 sends before the `.crate` bytes (`NewCrate`, wire-facts §1.2). */
export interface NewCrate {
  name: string;
  vers: string;
  deps: NewCrateDependency[];
  features: Record<string, string[]>;
  authors: string[];
  description: string | null;
  documentation: string | null;
  homepage: string | null;
  /** The README's content, not its path. */
  readme: string | null;
  readme_file: string | null;
  keywords: string[];
  categories: string[];
  license: string | null;
  license_file: string | null;
  repository: string | null;
  badges: Record<string, unknown>;
  links: string | null;
  rust_version: string | null;
}

/** Bytes standing in for a `.crate` tarball when a test does not care about its content. */
const PLACEHOLDER_CRATE = Buffer.from('not really a gzip tarball, but registries do not unpack it');

/**
 * Builds the exact body cargo sends for `cargo publish`: `u32le J`, J bytes of compact JSON,
 * `u32le C`, C bytes of `.crate` (wire-facts §1.2). Fields not given take cargo's values for a
 * bare crate, in cargo's field order (see the "Real example" in wire-facts §1.2).
 */
export function cargoPublishBody(
  meta: Partial<NewCrate> & { name: string; vers: string },
  crate: Buffer = PLACEHOLDER_CRATE,
): Buffer {
  const { name, vers, ...rest } = meta;
  const full: NewCrate = {
    name,
    vers,
    deps: [],
    features: {},
    authors: [],
    description: 'a test crate',
    documentation: null,
    homepage: null,
    readme: null,
    readme_file: null,
    keywords: [],
    categories: [],
    license: 'MIT',
    license_file: null,
    repository: null,
    badges: {},
    links: null,
    rust_version: null,
    ...rest,
  };
  return rawFraming(Buffer.from(JSON.stringify(full), 'utf8'), crate);
}

/**
 * Frames arbitrary JSON bytes and crate bytes with correct length prefixes, for tests that
 * need malformed metadata inside a well-formed frame. Slice or extend the result to break the frame.
 */
export function rawFraming(json: Buffer, crate: Buffer): Buffer {
  return Buffer.concat([u32le(json.length), json, u32le(crate.length), crate]);
}

function u32le(n: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(n, 0);
  return buf;
}
