/**
 * The error catalogue: every error the gateway answers with, by code (`SG_<AREA>_<WHAT>`), with
 * its status and public message. Exactly one module (`src/http/respond.ts`) renders these, shaped
 * per registry. `docs/errors.md` lists the same codes; a test keeps the two in step.
 *
 * Public messages say what is wrong and how to fix it; they never confirm that an unknown token
 * exists (crates.io: unknown and revoked tokens both get `authentication failed`).
 */

interface Entry<P> {
  readonly status: number;
  /** One line for docs/errors.md. */
  readonly summary: string;
  readonly message: (p: P) => string;
}

const entry = <P = Record<string, never>>(status: number, summary: string, message: (p: P) => string): Entry<P> => ({ status, summary, message });

type TokensUrl = { tokensUrl: string };
/** What the registry calls a package (`crate` by default; npm: `package`). */
type Noun = { noun?: string };

export const CATALOGUE = {
  SG_AUTH_MISSING: entry<TokensUrl>(401, 'A route that needs a token was called without one.',
    (p) => `this request needs a scopegate token in the Authorization header; create one at ${p.tokensUrl}`),
  SG_AUTH_MALFORMED: entry<TokensUrl & { why: string }>(401, 'The Authorization header is not a well-formed token.',
    (p) => `the token in the Authorization header is malformed: ${p.why}; copy it again, or create a new one at ${p.tokensUrl}`),
  SG_AUTH_LEGACY_DENIED: entry<TokensUrl & { prefix: string }>(401, 'A non-scopegate credential was sent and `legacy_tokens: deny` is set.',
    (p) => `this registry only accepts scopegate tokens (starting with \`${p.prefix}\`); create one at ${p.tokensUrl}`),
  SG_AUTH_FAILED: entry(403, 'The token is unknown or revoked (the two are deliberately indistinguishable).',
    () => 'authentication failed'),
  SG_TOKEN_EXPIRED: entry<TokensUrl & { expiredAt: string }>(403, 'The token is past its `expired_at`.',
    (p) => `this token expired at ${p.expiredAt}; create a new one at ${p.tokensUrl}`),
  SG_SCOPE_MISSING: entry<{ scope: string; why: string }>(403, 'The token lacks the endpoint scope the route needs.',
    (p) => `this token does not have the ${p.scope} scope${p.why}; create a token with that scope`),
  SG_SCOPE_GENERIC_ROUTE: entry(403, 'A scoped token was used on a route that only unscoped (legacy-style) tokens may call.',
    () => 'this token is scoped, and this request needs an unscoped token; scoped tokens may only call routes that need one of their scopes'),
  SG_CRATE_NOT_ALLOWED: entry<{ patterns: string; crate: string } & Noun>(403, 'The crate is not matched by any of the token\'s crate patterns.',
    (p) => `this token may only act on ${p.noun ?? 'crate'}s matching ${p.patterns}; \`${p.crate}\` is not one of them`),
  SG_CRATE_REQUIRED: entry<{ patterns: string } & Noun>(403, 'A crate-scoped token was used on a route that names no crate.',
    (p) => `this token may only act on ${p.noun ?? 'crate'}s matching ${p.patterns}, and this request names no ${p.noun ?? 'crate'}`),
  SG_ROUTE_UNKNOWN: entry<{ method: string; path: string; operation?: string }>(404, 'No route in the table matches; scopegate forwards nothing it does not know.',
    (p) => `scopegate does not forward ${p.method} ${p.path}${p.operation ? ` (a \`${p.operation}\` request)` : ''}: no route in its table matches, and unmatched requests are denied`),
  SG_PAGE_NOT_FOUND: entry<{ method: string; path: string; tokensUrl: string }>(404, 'A request under `/tokens/` that is not one of the token page\'s files, or not a GET or HEAD (on npm, only a browser\'s page load and the page\'s assets are the page\'s: other `/tokens` requests are the package `tokens`\'s, and routed).',
    (p) => `the token page has nothing at ${p.method} ${p.path}; it is at ${p.tokensUrl}`),
  SG_PATH_INVALID: entry<{ why: string }>(400, 'The request path is ambiguous or unsafe (`..`, encoded `/`, bad escapes, or a look-alike of a path the gateway serves itself, such as `/index/config.json/`).',
    (p) => `the request path is invalid: ${p.why}`),
  SG_CRATE_NAME_INVALID: entry<{ name: string }>(400, 'The crate name is not 1–64 ASCII letters, digits, `-`, `_`, starting with a letter.',
    (p) => `\`${p.name}\` is not a valid crate name: use 1 to 64 ASCII letters, digits, \`-\` or \`_\`, starting with a letter`),
  SG_PACKAGE_NAME_INVALID: entry<{ name: string }>(400, 'The npm package name breaks npm\'s rules for new packages (lower-case, URL-safe, at most 214 characters, optionally `@scope/name`).',
    (p) => `\`${p.name}\` is not a valid npm package name: use lower-case letters, digits, \`-\`, \`.\` or \`_\` (not first), at most 214 characters, optionally as \`@scope/name\``),
  SG_BODY_UNRECOGNISED: entry<{ method: string; path: string; why: string }>(400, 'A body the route must classify (npm\'s `PUT /:package`) is not JSON with unique keys in a shape the adapter knows; nothing is forwarded.',
    (p) => `scopegate does not recognise this ${p.method} ${p.path} request, so it was not forwarded: ${p.why}`),
  SG_PUBLISH_MALFORMED: entry<{ why: string }>(400, 'The publish body does not follow cargo\'s framing (u32le JSON length, JSON, u32le crate length, crate), or its JSON metadata has no string `name` or has a key twice.',
    (p) => `invalid upload request: ${p.why}`),
  SG_PUBLISH_JSON_TOO_LARGE: entry<{ limit: string }>(413, 'The publish body\'s JSON metadata is over `limits.publish_json_max`.',
    (p) => `JSON metadata blob too large: the limit is ${p.limit}`),
  SG_BODY_TOO_LARGE: entry<{ limit: string }>(413, 'The request body is over the configured limit for its route.',
    (p) => `the request body is too large: the limit is ${p.limit}`),
  SG_BODY_FRAMING: entry<{ why: string }>(400, 'The body\'s framing is one the gateway cannot pass on unambiguously (a body on GET or HEAD, a chunked DELETE or OPTIONS, a transfer coding other than `chunked`); nothing is forwarded.',
    (p) => `the request body cannot be forwarded as sent: ${p.why}`),
  SG_REQUEST_MALFORMED: entry<{ why: string }>(400, 'Node\'s HTTP parser refused the request (bad header, conflicting or invalid lengths, bad characters); nothing is forwarded.',
    (p) => `the request is not valid HTTP/1.1 (${p.why}), so nothing was forwarded; check the client or any proxy in front of scopegate`),
  SG_REQUEST_HEADERS_TOO_LARGE: entry(431, 'The request line and headers are over Node\'s limit (`--max-http-header-size`, 16 KiB by default).',
    () => 'the request line and headers are too large, so nothing was forwarded; send a shorter path or fewer headers'),
  SG_REQUEST_TIMEOUT: entry(408, 'The client did not send a whole request in time: headers within 60 s, headers and body within `limits.request_timeout` (a request already forwarded is aborted upstream).',
    () => 'the request did not arrive in time, so nothing was forwarded; try again'),
  SG_BODY_INVALID: entry<{ why: string }>(400, 'A token-API request body is not the JSON it must be.',
    (p) => `invalid request body: ${p.why}`),
  SG_TOKEN_NAME_EMPTY: entry(400, 'Token creation without a name (crates.io wording).', () => 'name must have a value'),
  SG_TOKEN_NAME_INVALID: entry<{ why: string }>(400, 'Token creation with a name holding control or text-direction characters, or half a UTF-16 surrogate pair ★.',
    (p) => `invalid token name: ${p.why}`),
  SG_TOKEN_CRATE_SCOPE_INVALID: entry(400, 'A crate pattern is invalid (crates.io wording).', () => 'invalid crate scope'),
  SG_TOKEN_PACKAGE_SCOPE_INVALID: entry<{ pattern: string }>(400, 'An npm package pattern is invalid (the npm counterpart of `invalid crate scope`).',
    (p) => `invalid package scope ${p.pattern}: use \`*\`, a package name, \`name*\`, \`@scope/*\` or \`@scope/name*\` (npm package names are lower-case)`),
  SG_TOKEN_ENDPOINT_SCOPE_INVALID: entry(400, 'An endpoint scope is not one of the wire strings (crates.io wording).', () => 'invalid endpoint scope'),
  SG_TOKEN_EXPIRY_INVALID: entry<{ why: string }>(400, '`expired_at` is not an RFC 3339 date, is in the past, too far ahead, or missing where required.',
    (p) => `invalid expired_at: ${p.why}`),
  SG_TOKEN_CREATE_WITH_TOKEN: entry(403, 'A scopegate token was used to create a token.',
    () => 'a scopegate token cannot create tokens; authenticate with your own registry credential'),
  SG_TOKEN_LIMIT_REACHED: entry<{ max: number }>(400, 'The account already holds the most tokens it may (500, as crates.io; revoked and expired ones still stored count).',
    (p) => `maximum tokens per user is: ${p.max}`),
  SG_TOKEN_OPERATOR_ISSUED: entry(403, 'With `upstream.auth: static` the operator issues tokens: the token API creates none, and a registry credential cannot list, show or revoke them.',
    () => 'tokens on this registry are issued by its operator (`scopegate token create --account NAME`), not through the token API; to list or revoke tokens, sign in with an unscoped scopegate token the operator issued to your account'),
  SG_TOKEN_CURRENT_NOT_SCOPEGATE: entry<{ prefix: string }>(400, '`DELETE /api/v1/tokens/current` was called with a credential that is not a scopegate token.',
    (p) => `token not provided: only a scopegate token (starting with \`${p.prefix}\`) can revoke itself`),
  SG_TOKEN_LOGOUT_MISMATCH: entry(400, '`DELETE /-/user/token/<token>` (`npm logout`, npm only) named a token other than the one in its Authorization header.',
    () => 'this logout names another token than the one it was sent with, so nothing was revoked; log out with the token itself'),
  SG_TOKEN_API_METHOD: entry<{ method: string; path: string; allowed: string }>(405, 'A token API path called with a method it does not answer (crates.io: 405); the `Allow` header lists the ones it does.',
    (p) => `the token API does not answer ${p.method} at ${p.path}; it answers ${p.allowed} there`),
  SG_TOKEN_NOT_FOUND: entry(404, 'No token with that id belongs to the caller.', () => 'Not Found'),
  SG_IDENTITY_REJECTED: entry<{ status: number }>(403, 'The upstream registry did not accept the credential used to manage tokens.',
    (p) => `the registry did not accept this credential (its identity check answered ${p.status}${p.status === 200 ? ' without a login' : ''}); use a credential the registry itself accepts`),
  SG_AUTH_TOO_MANY_FAILURES: entry<{ failures: number; window: string; retryAfter: string }>(429, 'The client\'s address had `limits.auth_failures` credentials refused by the registry (identity probe, legacy credential) within `limits.auth_failures_window`; nothing is sent upstream until the window ends (`Retry-After`).',
    (p) => `too many failed credential checks from your address (${p.failures} within ${p.window}), so this request was not sent to the registry; check the credential, and try again in ${p.retryAfter}`),
  SG_IDENTITY_UNAVAILABLE: entry(502, 'The identity probe could not be made or answered without a login.',
    () => 'could not confirm your identity with the registry; try again shortly'),
  SG_PROBE_FAILED: entry<{ crate: string }>(503, 'The existence probe that tells publish-new from publish-update failed, or got a 200 that is not the crate\'s index file (fail closed).',
    (p) => `could not ask the registry whether \`${p.crate}\` already exists, so the publish was not forwarded; try again shortly`),
  SG_STATE_UNAVAILABLE: entry<{ crate: string }>(503, 'The package\'s current metadata, needed to tell what a change does (npm unpublish, deprecate), could not be read (fail closed).',
    (p) => `could not read \`${p.crate}\`'s current metadata from the registry to tell what this change does, so it was not forwarded; try again shortly`),
  SG_PUBLISH_IN_PROGRESS: entry<{ crate: string } & Noun>(409, 'Another publish of the same new crate, by a token without `publish-update`, is still under way; only one may create it.',
    (p) => `another publish of \`${p.crate}\`, a new ${p.noun ?? 'crate'}, is still under way; try again once it has finished`),
  SG_STORE_UNAVAILABLE: entry(503, 'Redis is down or slow; nothing is forwarded (fail closed).',
    () => 'the token store is unavailable, so nothing was forwarded; try again shortly'),
  SG_STORE_REVOKE_UNCONFIRMED: entry(503, 'A revocation through the token API (revoke by id, `DELETE /api/v1/tokens/current`, npm logout) could not be confirmed: Redis failed, or no replica acknowledged it in time, so a failover could undo it. Revoking again is safe.',
    () => 'the token store could not confirm the revocation, so it may not have taken effect; try again (repeating a revocation is safe)'),
  SG_CREDENTIAL_UNREADABLE: entry<TokensUrl>(500, 'The upstream credential sealed in the token record cannot be opened.',
    (p) => `this token's stored registry credential cannot be read; revoke it and create a new one at ${p.tokensUrl}`),
  SG_UPSTREAM_UNREACHABLE: entry(502, 'The upstream registry refused or dropped the connection.',
    () => 'the registry behind scopegate could not be reached; try again shortly'),
  SG_UPSTREAM_TIMEOUT: entry(504, 'The upstream registry did not answer within `upstream.timeout`.',
    () => 'the registry behind scopegate did not answer in time; try again shortly'),
  SG_INTERNAL_ERROR: entry(500, 'A bug in scopegate; the log line has the details.', () => 'internal error in scopegate'),
} as const;

export type ErrorCode = keyof typeof CATALOGUE;
type ParamsOf<C extends ErrorCode> = Parameters<(typeof CATALOGUE)[C]['message']>[0];

/** An error ready to render: code, status, public message. */
export interface GatewayError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly message: string;
  /** Seconds, for 503s and 429s (`Retry-After`). */
  readonly retryAfter?: number;
  /** The methods a 405 names (`Allow`). */
  readonly allow?: readonly string[];
}

/** Builds the catalogued error `code` with its message parameters. */
export function gatewayError<C extends ErrorCode>(code: C, ...params: ParamsOf<C> extends Record<string, never> ? [] : [ParamsOf<C>]): GatewayError {
  const e = CATALOGUE[code] as Entry<ParamsOf<C>>;
  const message = e.message((params[0] ?? {}) as ParamsOf<C>);
  return e.status === 503 ? { code, status: e.status, message, retryAfter: 1 } : { code, status: e.status, message };
}
