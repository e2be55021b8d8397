/**
 * The requests the gateway answers itself, before (or instead of) the route table: the token API,
 * the token page, and the registry's config document served rewritten. Pure, so the pipeline and
 * `explain` (CLI and admin API) make these decisions with the very same functions.
 */

const TOKENS = '/api/v1/me/tokens';
const CURRENT = '/api/v1/tokens/current';
const TOKEN_ID = /^\/api\/v1\/me\/tokens\/(\d{1,15})$/;
const PAGE_PATHS: ReadonlySet<string> = new Set(['/tokens', '/tokens/', '/tokens/new']);

/** Where the token page's files are served (`/tokens/assets/<build>/…`). */
export const TOKEN_PAGE_ASSETS = '/tokens/assets/';

/** The token API's operations (DESIGN §3); `id` for those on one token. */
export type TokenApiAction =
  | { readonly action: 'create' | 'list' | 'revoke-current' | 'logout' }
  | { readonly action: 'show' | 'revoke'; readonly id: number };

/** A request the gateway answers itself, never forwarded. */
export type GatewayAnswer =
  /**
   * `action` null: a path of the token API with no such operation. `allow` then names the methods
   * it answers at that path (405 `SG_TOKEN_API_METHOD`, with `Allow`), or is empty where it has
   * no operation at all (404 `SG_ROUTE_UNKNOWN`).
   */
  | { readonly kind: 'token-api'; readonly action: TokenApiAction | null; readonly allow?: readonly string[] }
  | { readonly kind: 'token-page' };

/** Whether the path belongs to the token API (every method on it is the gateway's). */
export function isTokenApiPath(path: string): boolean {
  return path === TOKENS || path.startsWith(`${TOKENS}/`) || path === CURRENT;
}

/** The token API operation a request names, or null (answered 404 by the token API). */
export function tokenApiAction(method: string, path: string): TokenApiAction | null {
  // HEAD is GET without the body, as on every route (route-table.ts).
  const get = method === 'GET' || method === 'HEAD';
  if (path === TOKENS && method === 'PUT') return { action: 'create' };
  if (path === TOKENS && get) return { action: 'list' };
  if (path === CURRENT && method === 'DELETE') return { action: 'revoke-current' };
  const id = TOKEN_ID.exec(path)?.[1];
  if (id !== undefined && get) return { action: 'show', id: Number(id) };
  if (id !== undefined && method === 'DELETE') return { action: 'revoke', id: Number(id) };
  return null;
}

/**
 * The methods the token API answers at `path`, for a request whose method it does not (405 with
 * `Allow`, as crates.io's router answers); empty where it has no operation at all (404).
 */
export function tokenApiMethods(path: string): readonly string[] {
  if (path === TOKENS) return ['GET', 'HEAD', 'PUT'];
  if (path === CURRENT) return ['DELETE'];
  return TOKEN_ID.test(path) ? ['GET', 'HEAD', 'DELETE'] : [];
}

/** Methods as a sentence names them: `GET`, `GET and PUT`, `GET, HEAD and PUT`. */
export function methodsInWords(methods: readonly string[]): string {
  return methods.length <= 1 ? (methods[0] ?? '') : `${methods.slice(0, -1).join(', ')} and ${methods.at(-1)!}`;
}

/** One of the page's own paths (not its assets). */
export function isTokenPagePath(path: string): boolean {
  return PAGE_PATHS.has(path);
}

/**
 * Whether the gateway answers this request with its token page rather than routing it. Where
 * packages sit at the root (npm), `/tokens` is also the package `tokens`: `PUT /tokens` publishes
 * it, `GET /tokens` is its packument, `/tokens/-/…` its tarballs, and the page once answered them
 * all (404 or HTML), so that package could not be used through the gateway. There the page keeps
 * only a browser's page load (an Accept naming `text/html`, which npm never sends) and its asset
 * files (`/tokens/assets/<build>/…`, deeper than any npm path under a package but a tarball's
 * `/-/`).
 */
export function isTokenPageRequest(path: string, method: string, accept: string | undefined, packagesAtRoot: boolean): boolean {
  if (path !== '/tokens' && !path.startsWith('/tokens/')) return false;
  if (!packagesAtRoot || path.startsWith(TOKEN_PAGE_ASSETS)) return true;
  return (method === 'GET' || method === 'HEAD') && PAGE_PATHS.has(path) && /\btext\/html\b/i.test(accept ?? '');
}

/**
 * The client's logout of one of the gateway's own tokens (`logout.path` + a token starting with
 * `logout.prefix`; npm logout, `DELETE /-/user/token/<token>`): the token API's to answer. Any
 * other credential's logout is routed, and matches no route: never forwarded either.
 */
function isLogout(path: string, logout: LogoutPath | null): boolean {
  return logout !== null && path.startsWith(logout.path) && path.slice(logout.path.length).startsWith(logout.prefix);
}

/** The registry adapter's `logoutPath` and the configured token prefix. */
export interface LogoutPath {
  readonly path: string;
  readonly prefix: string;
}

/** What the gateway answers itself for this (normalised) request, or null: it is routed. */
export function gatewayAnswer(method: string, path: string, accept: string | undefined, packagesAtRoot: boolean, logout: LogoutPath | null = null): GatewayAnswer | null {
  if (isTokenApiPath(path)) {
    const action = tokenApiAction(method, path);
    return action === null ? { kind: 'token-api', action, allow: tokenApiMethods(path) } : { kind: 'token-api', action };
  }
  if (isLogout(path, logout)) return method === 'DELETE' ? { kind: 'token-api', action: { action: 'logout' } } : { kind: 'token-api', action: null, allow: [] };
  if (isTokenPageRequest(path, method, accept, packagesAtRoot)) return { kind: 'token-page' };
  return null;
}

/**
 * Whether an allowed request is answered with the registry's config document rewritten to point
 * at the gateway (cargo's `config.json`: `dl`, `api`, `auth-required`) instead of forwarded as is.
 * Only the exact path is (request-path.ts refuses its look-alikes: `config.json/`, `;x`).
 */
export function servesRegistryConfig(method: string, path: string, configPath: string | null): boolean {
  return configPath !== null && (method === 'GET' || method === 'HEAD') && path === configPath;
}
