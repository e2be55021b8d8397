/**
 * A faithful in-process cargo registry (sparse index + web API) that the real `cargo` binary can
 * use directly. It stands in for crates.io and friends as the gateway's upstream in tests.
 * Protocol: wire-facts §1; error wording: cratesio-tokens.md §7.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { downloadMatcher, redirectToCdn, templateDownload, type TemplateDownload } from './cargo-registry-downloads.js';
import { etagMatches, etagOf, isValidVersion, parsePublishBody, type IndexLine } from './cargo-registry-index.js';
import { startStaticHost, type StaticHost } from './cargo-registry-cdn.js';
import { errorReply, RegistryStore, type Reply } from './cargo-registry-store.js';

/** One request as the registry received it. */
export interface RecordedRequest {
  method: string;
  /** The raw `req.url`: path and query exactly as sent, not normalised. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A running test registry. */
export interface CargoRegistry {
  /** `http://127.0.0.1:PORT`, no trailing slash. The index is at `${url}/index/`. */
  url: string;
  port: number;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** With `cdn`: the static host's URL and the requests it received (not in `requests`); else null. */
  cdn: { url: string; requests: RecordedRequest[] } | null;
  clearRequests(): void;
  /** Lets `token` act as `login` (creating the user if new). */
  addUser(token: string, login: string): void;
  /** While on, requests are read and recorded but never answered (for gateway timeout tests). */
  setHang(on: boolean): void;
  /** Stops listening and destroys open sockets, keep-alive and hung ones included. */
  close(): Promise<void>;
  /** Whether a crate exists, compared canonically (`Foo_bar` equals `foo-bar`). */
  crateExists(name: string): boolean;
  owners(name: string): string[];
  /** Logins invited to own `name` who have not accepted yet. */
  invitations(name: string): string[];
  /** `login` accepts a pending invitation to own `name`, as on crates.io's website; false if none is pending. */
  acceptInvitation(login: string, name: string): boolean;
  /** The crate's index lines, parsed; empty for an unknown crate. */
  indexLines(name: string): IndexLine[];
}

/** Options for {@link startCargoRegistry}. */
export interface CargoRegistryOptions {
  /** Upstream token → login. */
  users?: Record<string, string>;
  /**
   * The download URL template after the registry's own URL, announced as config.json's `dl`
   * (wire-facts §1.5): markers `{crate}`, `{version}`, `{prefix}`, `{lowerprefix}` and
   * `{sha256-checksum}`; with none, cargo appends `/{crate}/{version}/download`. Default
   * `/api/v1/crates`, crates.io's API endpoint, which is served whatever this says.
   */
  dl?: string;
  /**
   * How long a publish (or yank) takes to show in the sparse index; default 0, at once. The API
   * (`/api/v1/…`: owners, search, downloads, a repeated publish) knows the change at once, as
   * crates.io's database does while its index file is still being written and its CDN refreshed.
   */
  indexLagMs?: number;
  /**
   * A private registry (wire-facts §1.5, RFC 3139): config.json says `"auth-required": true`, and
   * every request without a known user's token, config.json, index files and downloads included,
   * gets 401 with `WWW-Authenticate: Cargo login_url=…`, the answer cargo's sparse-auth handshake
   * retries with the token on. Default false, as crates.io.
   */
  authRequired?: boolean;
  /**
   * crates.io's `cargo_compat` middleware (`CARGO_COMPAT_STATUS_CODES`, cratesio-tokens §7):
   * `adjust-all`, crates.io's default, answers every error on its cargo endpoints with 200 and the
   * `{"errors":…}` body intact, which cargo still reports as a failure (wire-facts §1.4). As
   * crates.io's code stands, only `PUT /api/v1/crates/new` and `GET /api/v1/crates` match.
   * Default `disabled`: the real status codes, as crates.io's own tests run.
   */
  statusCodes?: 'disabled' | 'adjust-all';
  /**
   * crates.io answers `cargo owner --add bob` with `user bob has been invited to be an owner of
   * crate …`: bob owns the crate only once he accepts ({@link CargoRegistry.acceptInvitation}).
   * Default true, as crates.io; false adds at once (`… has been added as an owner …`).
   */
  ownerInvitations?: boolean;
  /** Whether a publish needs a description and a license; default true, as crates.io (RegistryStoreOptions). */
  requireMetadata?: boolean;
  /**
   * Downloads as crates.io serves them: config.json's `dl` names a static host of its own
   * (static.crates.io; here a second listener, {@link CargoRegistry.cdn}), and the API's
   * `GET /api/v1/crates/:name/:version/download` answers 302 to the `.crate` there, without
   * looking it up. Default false: `dl` (on this listener) serves the bytes itself. Overrides `dl`.
   */
  cdn?: boolean;
}

/** Bodies above this get 413, like crates.io's upload cap (wire-facts §1.2: "set size caps"). */
const MAX_BODY_BYTES = 20 * 1024 * 1024;
const DEFAULT_PER_PAGE = 10;
const MAX_PER_PAGE = 100;

/** Starts a registry on 127.0.0.1 with an ephemeral port. */
export async function startCargoRegistry(options: CargoRegistryOptions = {}): Promise<CargoRegistry> {
  const store = new RegistryStore({ indexLagMs: options.indexLagMs ?? 0, ownerInvitations: options.ownerInvitations ?? true, requireMetadata: options.requireMetadata ?? true });
  const dl = options.dl ?? '/api/v1/crates';
  const templateDownload = downloadMatcher(dl);
  for (const [token, login] of Object.entries(options.users ?? {})) store.addUser(token, login);
  const requests: RecordedRequest[] = [];
  const staticHost: StaticHost | null = options.cdn === true ? await startStaticHost(store) : null;
  const sockets = new Set<Socket>();
  let hang = false;
  let url = '';
  // config.json's Last-Modified: it never changes while the registry runs.
  const startedAt = Math.floor(Date.now() / 1000) * 1000;

  // No 'upgrade' listener: cargo's h2c upgrade headers are then served as HTTP/1.1 (wire-facts §1.5).
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body ?? Buffer.alloc(0) });
      if (hang) return;
      const site = { base: url, dl, templateDownload, authRequired: options.authRequired === true, startedAt, cdn: staticHost?.url ?? null };
      const reply = body === undefined ? errorReply(413, `max upload size is: ${MAX_BODY_BYTES}`) : safeRoute(store, site, req, body);
      send(res, options.statusCodes === 'adjust-all' && isCargoCompatEndpoint(req) && reply.status !== 304 ? { ...reply, status: 200 } : reply);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    requests,
    cdn: staticHost === null ? null : { url: staticHost.url, requests: staticHost.requests },
    clearRequests: () => {
      requests.splice(0);
      staticHost?.requests.splice(0);
    },
    addUser: (token, login) => store.addUser(token, login),
    setHang: (on) => void (hang = on),
    close: async () => {
      await Promise.all([closeServer(server, sockets), staticHost?.close()]);
    },
    crateExists: (name) => store.find(name) !== undefined,
    owners: (name) => store.ownersOf(name),
    invitations: (name) => store.invitationsOf(name),
    acceptInvitation: (login, name) => store.acceptInvitation(login, name),
    indexLines: (name) => store.linesOf(name),
  };
}

/** The endpoints crates.io's `cargo_compat` rewrites, as its code stands (cratesio-tokens §7). */
function isCargoCompatEndpoint(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  return (req.method === 'PUT' && path === '/api/v1/crates/new') || (req.method === 'GET' && path === '/api/v1/crates');
}

/** Reads the whole body; resolves undefined (after draining) when it exceeds the cap. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', () => resolve(undefined));
  });
}

/** Where the registry is and where it serves downloads. */
interface Site {
  readonly base: string;
  readonly dl: string;
  /** A download at the template's path (null: not such a path), checked against the store. */
  readonly templateDownload: (pathAndQuery: string) => TemplateDownload | null;
  readonly authRequired: boolean;
  /** Epoch ms (whole seconds) the registry started: config.json's `Last-Modified`. */
  readonly startedAt: number;
  /** The static host's URL with `cdn`, else null. */
  readonly cdn: string | null;
}

function safeRoute(store: RegistryStore, site: Site, req: IncomingMessage, body: Buffer): Reply {
  try {
    return route(store, site, req, body);
  } catch {
    return errorReply(500, 'Internal Server Error');
  }
}

/**
 * Dispatches on the raw path. Nothing is normalised: `//api/v1/…` is a 404 here, as it would be on
 * a real registry, so a gateway that forwards a doubled slash is caught (wire-facts §1.1).
 */
function route(store: RegistryStore, site: Site, req: IncomingMessage, body: Buffer): Reply {
  // HEAD is answered as GET, as axum (crates.io) and any CDN do; Node sends the headers only.
  const method = req.method === 'HEAD' ? 'GET' : req.method ?? '';
  const rawUrl = req.url ?? '';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
  if (site.authRequired && 'denied' in store.authenticate(req.headers.authorization)) {
    return { ...errorReply(401, 'this registry requires authentication: configure a token for it'), headers: { 'WWW-Authenticate': `Cargo login_url="${site.base}/me"` } };
  }
  if (path.startsWith('/index/') && method === 'GET') {
    return indexReply(store, site, path.slice('/index/'.length), req.headers);
  }
  const templated = method === 'GET' && site.cdn === null ? site.templateDownload(rawUrl) : null;
  if (templated !== null) return templateDownload(store, templated);
  if (!path.startsWith('/api/v1/')) return notFound();
  const segments = decodeSegments(path.slice('/api/v1/'.length));
  if (segments === undefined) return errorReply(400, 'invalid percent-encoding in the URL path');
  return apiRoute(store, method, segments, query, req.headers, body, site.cdn);
}

function apiRoute(
  store: RegistryStore,
  method: string,
  segments: string[],
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  body: Buffer,
  cdn: string | null,
): Reply {
  const auth = headers.authorization;
  const [root, name = '', second, third] = segments;
  // `call` is "METHOD root/segment-count": `GET crates/1` is `GET /api/v1/crates`.
  const call = `${method} ${root}/${segments.length}`;
  if (call === 'GET me/1') return store.me(auth);
  if (call === 'GET crates/1') return store.search(query.get('q') ?? '', perPage(query.get('per_page')));
  if (call === 'PUT crates/2' && name === 'new') return publish(store, auth, body);
  if (root !== 'crates' || second === undefined) return notFound();
  if (segments.length === 3 && second === 'owners') return owners(store, method, headers, name, body);
  if (segments.length !== 4) return notFound();
  const yank = method === 'DELETE' && third === 'yank';
  if (yank || (method === 'PUT' && third === 'unyank')) {
    // crates.io's `CrateVersionPath` parses `{version}` as semver while axum extracts the path,
    // before the handler looks anything up: a rejection, 400 `Invalid URL: …` (the rest is ours).
    if (!isValidVersion(second)) return errorReply(400, `Invalid URL: \`${second}\` is not a semver version`);
    return store.setYanked(auth, name, second, yank);
  }
  if (method === 'GET' && third === 'download') return cdn === null ? store.download(name, second) : redirectToCdn(cdn, name, second);
  return notFound();
}

/** Metadata is validated before authentication, as crates.io does (cratesio-tokens.md §7). */
function publish(store: RegistryStore, auth: string | undefined, body: Buffer): Reply {
  const parsed = parsePublishBody(body);
  return parsed.ok ? store.publish(auth, parsed.value) : errorReply(400, parsed.detail);
}

function owners(store: RegistryStore, method: string, headers: IncomingHttpHeaders, name: string, body: Buffer): Reply {
  if (method === 'GET') return store.listOwners(headers.authorization, name);
  if (method !== 'PUT' && method !== 'DELETE') return notFound();
  const parsed = parseOwnersBody(headers['content-type'], body);
  if ('refused' in parsed) return parsed.refused;
  return store.changeOwners(headers.authorization, name, parsed.logins, method === 'PUT');
}

/**
 * The owners body as crates.io's axum `Json` extractor takes it (cratesio-tokens §6.1 step 1),
 * before anything else: a Content-Type other than `application/json` (or `…+json`) is 415, text
 * that is not JSON 400, and anything but `{"owners":[string, …]}` (alias `users`, what cargo
 * sends with `Content-Type: application/json`, wire-facts §1.1) 422. The prefixes and statuses
 * are crates.io's; the explanation after them is ours, not serde's.
 */
function parseOwnersBody(contentType: string | undefined, body: Buffer): { logins: string[] } | { refused: Reply } {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!/^application\/([^/]+\+)?json$/.test(mime)) return { refused: errorReply(415, 'Expected request with `Content-Type: application/json`') };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { refused: errorReply(400, `Failed to parse the request body as JSON: ${(err as Error).message}`) };
  }
  const unfit = (why: string): { refused: Reply } => ({ refused: errorReply(422, `Failed to deserialize the JSON body into the target type: ${why}`) });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return unfit('expected an object with an `owners` list');
  const fields = json as { owners?: unknown; users?: unknown };
  // serde's alias: `users` is `owners` by another name, so both is the field twice.
  if (Object.hasOwn(fields, 'owners') && Object.hasOwn(fields, 'users')) return unfit('duplicate field `owners`');
  const list = Object.hasOwn(fields, 'owners') ? fields.owners : fields.users;
  if (list === undefined) return unfit('missing field `owners`');
  if (!Array.isArray(list) || !list.every((l) => typeof l === 'string')) return unfit('owners: expected a sequence of strings');
  return { logins: list };
}

/**
 * `config.json` and index files, with both validators a CDN such as index.crates.io's sends:
 * `ETag` (cargo replays it as `If-None-Match`) and `Last-Modified` (cargo replays it as
 * `If-Modified-Since` when there was no ETag), wire-facts §1.5. As RFC 9110 §13.2.2 orders them,
 * `If-Modified-Since` counts only without `If-None-Match`.
 */
function indexReply(store: RegistryStore, { base, dl, authRequired, startedAt, cdn }: Site, file: string, request: IncomingHttpHeaders): Reply {
  const isConfig = file === 'config.json';
  // `api` has no trailing slash: cargo would otherwise send `//api/v1/…` (wire-facts §1.1).
  const config = () => ({ content: JSON.stringify({ dl: cdn === null ? `${base}${dl}` : `${cdn}/crates`, api: base, ...(authRequired ? { 'auth-required': true } : {}) }), lastModified: startedAt });
  const found = isConfig ? config() : store.indexFile(file);
  if (found === undefined) return notFound();
  const etag = etagOf(found.content);
  const headers = { ETag: etag, 'Last-Modified': new Date(found.lastModified).toUTCString() };
  const ifNoneMatch = request['if-none-match'];
  const notModified = ifNoneMatch !== undefined ? etagMatches(ifNoneMatch, etag) : unmodifiedSince(request['if-modified-since'], found.lastModified);
  if (notModified) return { status: 304, body: '', headers };
  const contentType = isConfig ? 'application/json' : 'text/plain; charset=utf-8';
  return { status: 200, body: found.content, contentType, headers };
}

/** True when `ifModifiedSince` is a valid HTTP date no earlier than `lastModified`. */
function unmodifiedSince(ifModifiedSince: string | undefined, lastModified: number): boolean {
  const since = ifModifiedSince === undefined ? NaN : Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && lastModified <= since;
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

function perPage(raw: string | null): number {
  const n = Number(raw ?? DEFAULT_PER_PAGE);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
}

function notFound(): Reply {
  return errorReply(404, 'Not Found');
}

function send(res: ServerResponse, reply: Reply): void {
  const { body } = reply;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.status !== 304) {
    headers['Content-Type'] = reply.contentType ?? 'application/json';
    headers['Content-Length'] = bytes.length;
  }
  res.writeHead(reply.status, headers);
  res.end(reply.status === 304 ? undefined : bytes);
}

function closeServer(server: ReturnType<typeof createServer>, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}
