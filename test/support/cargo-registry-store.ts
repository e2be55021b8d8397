/**
 * In-memory state and crates.io-like rules of the test cargo registry: users, crates, owners,
 * versions. No HTTP here; every operation returns a {@link Reply} the server writes out.
 * Error wording follows crates.io (cratesio-tokens.md §7).
 */
import type { NewCrate } from './cargo-publish-body.js';
import {
  canonicalName,
  makeDepPath,
  toIndexLine,
  versionWithoutBuild,
  type IndexLine,
  type ParsedPublish,
} from './cargo-registry-index.js';

/** What the server should answer: a JSON value, or raw bytes with a content type. */
export interface Reply {
  status: number;
  /** A JSON value, or a Buffer / string sent as is. */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

interface VersionEntry {
  line: IndexLine;
  crate: Buffer;
}

interface CrateEntry {
  /** The name as first published; later publishes must spell it the same way. */
  name: string;
  owners: string[];
  /** Logins invited with `cargo owner --add` who have not accepted yet (see `ownerInvitations`). */
  invited: string[];
  description: string | null;
  versions: VersionEntry[];
  /**
   * Writes of the crate's index file, oldest first: the file as each change left it and when that
   * write lands. The index serves the newest one that has landed (none yet: no file, 404).
   */
  indexWrites: IndexWrite[];
}

interface IndexWrite {
  visibleAt: number;
  /** Epoch ms in whole seconds, as an HTTP date carries it (see {@link IndexFile}). */
  lastModified: number;
  content: string;
}

/** A sparse-index file as served: its bytes and its `Last-Modified`. */
export interface IndexFile {
  content: string;
  /**
   * When the write landed, in whole seconds; each write of a file is dated at least a second after
   * the one before, so a client revalidating with `If-Modified-Since` (HTTP dates have no
   * fractions) never gets a 304 for a file that changed within the same second.
   */
  lastModified: number;
}

/** Options for {@link RegistryStore}. */
export interface RegistryStoreOptions {
  /**
   * How long after a change (publish, yank, unyank) the crate's index file shows it; default 0.
   * crates.io commits a publish to its database and answers, then a background job writes the
   * index file, served behind a CDN: the index lags the API by seconds. Until the first write
   * lands, a new crate has no index file at all (404), though the API already knows it.
   */
  indexLagMs?: number;
  /** Epoch ms; default Date.now. */
  clock?: () => number;
  /**
   * Whether `cargo owner --add` invites (true, the default, as crates.io does: the user becomes an
   * owner only once they accept, {@link RegistryStore.acceptInvitation}) or adds at once (false).
   */
  ownerInvitations?: boolean;
  /**
   * Whether a publish needs a description and a license (true, the default, as crates.io). Other
   * registries take a package without them, and cargo uploads it without a word: false, as the demo
   * does, so that `cargo new` and `cargo publish` are all it takes.
   */
  requireMetadata?: boolean;
}

type Auth = { login: string } | { denied: Reply };

const NOT_OWNER_PUBLISH =
  "this crate exists but you don't seem to be an owner. If you believe this is a mistake, perhaps you need to accept an invitation to be an owner before publishing.";
/** crates.io's answer to a token that does not start with `cio` (cratesio-tokens §7). */
const TOKEN_FORMAT_ERROR =
  'The given API token does not match the format used by crates.io. Tokens generated before 2020-07-14 were generated with an insecure random number generator, and have been revoked. You can generate a new token at https://crates.io/me. For more information please see https://blog.rust-lang.org/2020/07/14/crates-io-security-advisory.html. We apologize for any inconvenience.';
/** crates.io's longest package description. */
const MAX_DESCRIPTION_LENGTH = 1000;
/** crates.io bounds the logins of one `PUT …/owners`. */
const MAX_INVITES = 10;
const LAST_OWNER =
  "cannot remove all individual owners of a crate. Team member don't have permission to modify owners, so at least one individual owner is required.";

/** A crates.io-style error: `{"errors":[{"detail":…}]}` (wire-facts §1.4). */
export function errorReply(status: number, detail: string): Reply {
  return { status, body: { errors: [{ detail }] } };
}

const ok = (body: unknown): Reply => ({ status: 200, body });

/** The registry's data and the rules that guard it. */
export class RegistryStore {
  private readonly logins = new Map<string, string>();
  private readonly ids = new Map<string, number>();
  private readonly crates = new Map<string, CrateEntry>();
  private readonly indexLagMs: number;
  private readonly clock: () => number;
  private readonly ownerInvitations: boolean;
  private readonly requireMetadata: boolean;

  constructor(options: RegistryStoreOptions = {}) {
    this.indexLagMs = options.indexLagMs ?? 0;
    this.clock = options.clock ?? Date.now;
    this.ownerInvitations = options.ownerInvitations ?? true;
    this.requireMetadata = options.requireMetadata ?? true;
  }

  /** Registers `token` as a credential of `login`, creating the user on first sight. */
  addUser(token: string, login: string): void {
    this.logins.set(token, login);
    if (!this.ids.has(login)) this.ids.set(login, this.ids.size + 1);
  }

  /**
   * crates.io's reading of `Authorization` (cratesio-tokens §1.3, §7): none → 403; not visible ASCII
   * → 401; split at the first space, the scheme must be empty or `Bearer` in any case (else 401),
   * the rest trimmed is the token. Cargo sends the raw token with no scheme (wire-facts §1.3). A
   * registered token is accepted whatever its shape (the tests' tokens are readable names); an
   * unknown one is judged as crates.io judges it: not `cio…` → 401 format error, else 403.
   */
  authenticate(header: string | undefined): Auth {
    if (header === undefined) return { denied: errorReply(403, 'this action requires authentication') };
    if (/[^\t\x20-\x7e]/.test(header)) return { denied: errorReply(401, 'Invalid `Authorization` header: Found unexpected non-ASCII characters') };
    const space = header.indexOf(' ');
    const scheme = space === -1 ? '' : header.slice(0, space);
    if (scheme !== '' && scheme.toLowerCase() !== 'bearer') {
      return { denied: errorReply(401, `Invalid \`Authorization\` header: Found unexpected authentication scheme \`${scheme}\``) };
    }
    const token = header.slice(space + 1).trim();
    const login = this.logins.get(token);
    if (login !== undefined) return { login };
    return { denied: token.startsWith('cio') ? errorReply(403, 'authentication failed') : errorReply(401, TOKEN_FORMAT_ERROR) };
  }

  /** `GET /api/v1/me`. */
  me(header: string | undefined): Reply {
    const auth = this.authenticate(header);
    if ('denied' in auth) return auth.denied;
    const id = this.ids.get(auth.login);
    return ok({ user: { id, login: auth.login, name: null, email: null, avatar: null } });
  }

  /** `PUT /api/v1/crates/new` after the body parsed; existence is canonical, as on crates.io. */
  publish(header: string | undefined, { meta, crate }: ParsedPublish): Reply {
    const auth = this.authenticate(header);
    if ('denied' in auth) return auth.denied;
    const unfit = this.requireMetadata ? packageMetadataProblem(meta) : undefined;
    if (unfit !== undefined) return errorReply(400, unfit);
    const existing = this.find(meta.name);
    if (existing !== undefined && !isOwner(existing, auth.login)) return errorReply(403, NOT_OWNER_PUBLISH);
    if (existing !== undefined && existing.name !== meta.name) {
      return errorReply(400, `crate was previously named \`${existing.name}\``);
    }
    const bare = versionWithoutBuild(meta.vers);
    if (existing?.versions.some((v) => versionWithoutBuild(v.line.vers) === bare)) {
      return errorReply(400, `crate version \`${meta.vers}\` is already uploaded`);
    }
    const entry = existing ?? this.create(meta, auth.login);
    entry.description = meta.description ?? null;
    // Stored before answering: cargo polls the index right after a 2xx (wire-facts §1.1). The
    // index file follows `indexLagMs` later; downloads and the API see the version at once, as
    // crates.io uploads the .crate and commits the row before it answers.
    entry.versions.push({ line: toIndexLine(meta, crate), crate: Buffer.from(crate) });
    this.scheduleIndexWrite(entry);
    return ok({ warnings: { invalid_categories: [], invalid_badges: [], other: [] } });
  }

  /** `DELETE …/yank` and `PUT …/unyank`: crates.io looks the version up before authenticating. */
  setYanked(header: string | undefined, name: string, version: string, yanked: boolean): Reply {
    const entry = this.find(name);
    if (entry === undefined) return errorReply(404, `crate \`${name}\` does not exist`);
    const found = entry.versions.find((v) => v.line.vers === version);
    if (found === undefined) return errorReply(404, `crate \`${name}\` does not have a version \`${version}\``);
    const auth = this.authenticate(header);
    if ('denied' in auth) return auth.denied;
    if (!isOwner(entry, auth.login)) return errorReply(403, 'must already be an owner to yank or unyank');
    // Yanking a yanked version (or unyanking a live one) is a success that changes nothing:
    // crates.io updates no row and queues no index write then (`version/update.rs`).
    if (found.line.yanked === yanked) return ok({ ok: true });
    found.line.yanked = yanked;
    this.scheduleIndexWrite(entry);
    return ok({ ok: true });
  }

  /** `GET /api/v1/crates/:name/owners`. */
  listOwners(header: string | undefined, name: string): Reply {
    const auth = this.authenticate(header);
    if ('denied' in auth) return auth.denied;
    const entry = this.find(name);
    if (entry === undefined) return errorReply(404, `crate \`${name}\` does not exist`);
    return ok({ users: entry.owners.map((login) => ({ id: this.ids.get(login), login, name: null })) });
  }

  /**
   * `PUT` (add) or `DELETE` (remove) `/api/v1/crates/:name/owners`, as crates.io's `owners.rs`: an
   * added user is invited (msg `user … has been invited …`; again: `… already has a pending
   * invitation …`) and owns nothing until they accept, unless `ownerInvitations` is off. Cargo
   * requires `msg` in both answers (wire-facts §1.1). One bad login refuses the whole request.
   */
  changeOwners(header: string | undefined, name: string, requested: string[], add: boolean): Reply {
    if (add && requested.length > MAX_INVITES) return errorReply(400, `too many invites for this request - maximum ${MAX_INVITES}`);
    const auth = this.authenticate(header);
    if ('denied' in auth) return auth.denied;
    const entry = this.find(name);
    if (entry === undefined) return errorReply(404, `crate \`${name}\` does not exist`);
    if (!isOwner(entry, auth.login)) return errorReply(403, 'only owners have permission to modify owners');
    const users: string[] = [];
    for (const login of requested) {
      const user = this.userByLogin(login);
      // crates.io's `owner_remove` looks among the crate's owners: an unknown user and a
      // non-owner are one error there.
      if (!add && (user === undefined || !isOwner(entry, user))) return errorReply(400, `could not find owner with login \`${login}\``);
      if (user === undefined) return errorReply(400, `could not find user with login \`${login}\``);
      if (add && isOwner(entry, user)) return errorReply(400, `\`${login}\` is already an owner`);
      users.push(user);
    }
    if (!add) return this.removeOwners(entry, users);
    return this.ownerInvitations ? this.invite(entry, users) : this.addOwners(entry, users);
  }

  /** The invitee accepts (crates.io: on the website, or with the emailed token); false when none is pending. */
  acceptInvitation(login: string, name: string): boolean {
    const entry = this.find(name);
    const user = this.userByLogin(login);
    if (entry === undefined || user === undefined || !entry.invited.includes(user)) return false;
    entry.invited = entry.invited.filter((u) => u !== user);
    entry.owners.push(user);
    return true;
  }

  /** Logins with a pending invitation to own `name` (canonical lookup), for assertions. */
  invitationsOf(name: string): string[] {
    return [...(this.find(name)?.invited ?? [])];
  }

  /** `GET /api/v1/crates/:name/:version/download`: the stored `.crate` bytes. */
  download(name: string, version: string): Reply {
    const found = this.find(name)?.versions.find((v) => v.line.vers === version);
    if (found === undefined) return errorReply(404, 'Not Found');
    return { status: 200, body: found.crate, contentType: 'application/gzip' };
  }

  /** `GET /api/v1/crates?q=…&per_page=n`: unauthenticated (wire-facts §1.1). */
  search(query: string, perPage: number): Reply {
    const q = canonicalName(query);
    const hits = [...this.crates.values()]
      .filter((c) => canonicalName(c.name).includes(q) || (c.description ?? '').toLowerCase().includes(q))
      .sort((a, b) => a.name.localeCompare(b.name));
    const crates = hits.slice(0, perPage).map((c) => ({
      name: c.name,
      max_version: maxVersion(c),
      description: c.description,
    }));
    return ok({ crates, meta: { total: hits.length } });
  }

  /**
   * The sparse-index file at `path` (e.g. `se/rd/serde`) as last written, or undefined when none
   * exists yet (see `indexLagMs`).
   */
  indexFile(path: string): IndexFile | undefined {
    for (const entry of this.crates.values()) {
      if (makeDepPath(entry.name.toLowerCase()) === path) return this.landedIndexFile(entry);
    }
    return undefined;
  }

  /** Logins owning `name` (canonical lookup), for assertions. */
  ownersOf(name: string): string[] {
    return [...(this.find(name)?.owners ?? [])];
  }

  /** Copies of the index lines of `name` (canonical lookup), for assertions. */
  linesOf(name: string): IndexLine[] {
    return (this.find(name)?.versions ?? []).map((v) => structuredClone(v.line));
  }

  /** Canonical lookup: `Foo_Bar` finds `foo-bar`. */
  find(name: string): CrateEntry | undefined {
    return this.crates.get(canonicalName(name));
  }

  /** Queues a write of the index file as it is now, landing `indexLagMs` from now. */
  private scheduleIndexWrite(entry: CrateEntry): void {
    const visibleAt = this.clock() + this.indexLagMs;
    const previous = entry.indexWrites.at(-1)?.lastModified ?? -Infinity;
    const lastModified = Math.max(Math.floor(visibleAt / 1000) * 1000, previous + 1000);
    entry.indexWrites.push({ visibleAt, lastModified, content: renderIndexFile(entry) });
  }

  /** The newest landed write; the ones it supersedes are dropped. */
  private landedIndexFile(entry: CrateEntry): IndexFile | undefined {
    const now = this.clock();
    let landed = -1;
    entry.indexWrites.forEach((w, i) => { if (w.visibleAt <= now) landed = i; });
    if (landed === -1) return undefined;
    entry.indexWrites.splice(0, landed);
    const { content, lastModified } = entry.indexWrites[0]!;
    return { content, lastModified };
  }

  private create(meta: NewCrate, login: string): CrateEntry {
    const entry: CrateEntry = { name: meta.name, owners: [login], invited: [], description: null, versions: [], indexWrites: [] };
    this.crates.set(canonicalName(meta.name), entry);
    return entry;
  }

  private userByLogin(login: string): string | undefined {
    return [...this.ids.keys()].find((known) => known.toLowerCase() === login.toLowerCase());
  }

  private addOwners(entry: CrateEntry, users: string[]): Reply {
    entry.owners.push(...users);
    const msgs = users.map((u) => `user ${u} has been added as an owner of crate ${entry.name}`);
    return ok({ ok: true, msg: msgs.join(',') });
  }

  private invite(entry: CrateEntry, users: string[]): Reply {
    const msgs = users.map((u) => {
      if (entry.invited.includes(u)) return `user ${u} already has a pending invitation to be an owner of crate ${entry.name}`;
      entry.invited.push(u);
      return `user ${u} has been invited to be an owner of crate ${entry.name}`;
    });
    return ok({ ok: true, msg: msgs.join(',') });
  }

  private removeOwners(entry: CrateEntry, users: string[]): Reply {
    const remaining = entry.owners.filter((o) => !users.includes(o));
    if (remaining.length === 0) return errorReply(400, LAST_OWNER);
    entry.owners = remaining;
    return ok({ ok: true, msg: 'owners successfully removed' });
  }
}

/**
 * crates.io's checks of the package's own metadata, after authentication and before the crate is
 * looked at (`publish.rs`): a description and a license (or license file) are required, which
 * cargo 1.95 does not check before uploading to a registry other than crates.io. crates.io reads them from the tarball's Cargo.toml; cargo sends the same
 * values in the metadata JSON, which is what is read here.
 */
function packageMetadataProblem(meta: NewCrate): string | undefined {
  const empty = (v: unknown): boolean => typeof v !== 'string' || v === '';
  const missing = [
    ...(empty(meta.description) ? ['description'] : []),
    ...(empty(meta.license) && empty(meta.license_file) ? ['license'] : []),
  ];
  if (missing.length > 0) {
    return `missing or empty metadata fields: ${missing.join(', ')}. Please see https://doc.rust-lang.org/cargo/reference/manifest.html for more information on configuring these fields`;
  }
  // Rust's `len()`: bytes, not characters.
  if (Buffer.byteLength(meta.description ?? '') > MAX_DESCRIPTION_LENGTH) {
    return `The \`description\` is too long. A maximum of ${MAX_DESCRIPTION_LENGTH} characters are currently allowed.`;
  }
  return undefined;
}

function isOwner(entry: CrateEntry, login: string): boolean {
  return entry.owners.some((o) => o.toLowerCase() === login.toLowerCase());
}

/** One JSON object per line, newline-terminated (wire-facts §1.5). */
function renderIndexFile(entry: CrateEntry): string {
  return entry.versions.map((v) => `${JSON.stringify(v.line)}\n`).join('');
}

/** The highest non-yanked version (else the highest of all); pre-release tags compare as strings. */
function maxVersion(entry: CrateEntry): string | null {
  const live = entry.versions.filter((v) => !v.line.yanked);
  const pool = (live.length > 0 ? live : entry.versions).map((v) => v.line.vers);
  return pool.reduce<string | null>((best, v) => (best === null || compareVersions(v, best) > 0 ? v : best), null);
}

function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = versionWithoutBuild(a).split(/-(.*)/s);
  const [coreB = '', preB] = versionWithoutBuild(b).split(/-(.*)/s);
  const numsA = coreA.split('.').map(Number);
  const numsB = coreB.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const diff = (numsA[i] ?? 0) - (numsB[i] ?? 0);
    if (diff !== 0) return diff;
  }
  if (preA === undefined || preB === undefined) return (preA === undefined ? 1 : 0) - (preB === undefined ? 1 : 0);
  return preA.localeCompare(preB);
}
