/**
 * The token page's only way to the server: the crates.io-compatible token API, same origin, with
 * the registry credential the user pasted sent as `Authorization` (cargo's raw form, no scheme).
 * The credential lives in `sessionStorage` — this tab only, gone when it closes — and never in a
 * cookie or a URL, so no other site can make the browser use it (no CSRF) and no log records it.
 */
import type { Scope } from '../core/scope.js';

const SESSION_KEY = 'scopegate.credential';

/** The path prefix of the gateway's public URL (the policy's `basePath`), set once at start. */
let basePath = '';

/** Makes every call, and {@link pagePath}, go through `policy.basePath` (`''` or e.g. `/reg`). */
export function useBasePath(path: string): void {
  basePath = path;
}

/** A path of the gateway (`/tokens/new`) as the browser reaches it, behind the public URL's prefix. */
export const pagePath = (path: string): string => basePath + path;

export const session = {
  credential: (): string | null => sessionStorage.getItem(SESSION_KEY),
  signIn: (credential: string): void => sessionStorage.setItem(SESSION_KEY, credential),
  signOut: (): void => sessionStorage.removeItem(SESSION_KEY),
};

/** A token as the API renders it (`renderToken` in src/http/token-api.ts). */
export interface ApiToken {
  readonly id: number;
  readonly name: string;
  readonly created_at: string;
  readonly last_used_at: string | null;
  readonly endpoint_scopes: readonly Scope[] | null;
  readonly crate_scopes: readonly string[] | null;
  readonly expired_at: string | null;
  /** The plaintext: only in the answer to a create, once. */
  readonly token?: string;
}

export interface NewToken {
  readonly name: string;
  readonly endpoint_scopes: readonly Scope[];
  readonly crate_scopes: readonly string[] | null;
  readonly expired_at: string | null;
}

/** A refused or failed call; `message` is the server's own (cargo's `errors[0].detail`, npm's `error`). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * How long the page waits for an answer. The gateway bounds its own waits (upstream probes,
 * Redis) to a few seconds, so this only ends a call that something between them has stalled,
 * instead of leaving the page waiting for ever.
 */
export const ANSWER_TIMEOUT_MS = 20_000;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const credential = session.credential();
  if (credential !== null) headers.authorization = credential;
  if (body !== undefined) headers['content-type'] = 'application/json';
  // A timer rather than AbortSignal.timeout, so that the browser tests' fake clock drives it.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ANSWER_TIMEOUT_MS);
  let res: Response;
  let text: string;
  try {
    res = await fetch(pagePath(path), { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store', credentials: 'omit', signal: abort.signal });
    text = await res.text();
  } catch (e) {
    if (abort.signal.aborted) throw new ApiError(0, `the gateway did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; try again`);
    throw new ApiError(0, `could not reach the gateway (${(e as Error).message}); check your connection and try again`);
  } finally {
    clearTimeout(timer);
  }
  let json: unknown = null;
  try { json = text === '' ? null : JSON.parse(text); } catch { /* an error page that is not JSON */ }
  if (!res.ok) throw new ApiError(res.status, serverMessage(json) ?? `the gateway answered ${res.status} ${res.statusText}`.trim());
  return json as T;
}

function serverMessage(json: unknown): string | null {
  const body = json as { errors?: { detail?: unknown }[]; error?: unknown } | null;
  const detail = body?.errors?.[0]?.detail ?? body?.error;
  return typeof detail === 'string' && detail !== '' ? detail : null;
}

/** Live tokens and those expired in the last 30 days (so the list can say "expired"), newest first. */
export const listTokens = async (): Promise<ApiToken[]> =>
  (await call<{ api_tokens: ApiToken[] }>('GET', '/api/v1/me/tokens?expired_days=30')).api_tokens;

export const showToken = async (id: number): Promise<ApiToken> =>
  (await call<{ api_token: ApiToken }>('GET', `/api/v1/me/tokens/${id}`)).api_token;

export const createToken = async (input: NewToken): Promise<ApiToken & { token: string }> =>
  (await call<{ api_token: ApiToken & { token: string } }>('PUT', '/api/v1/me/tokens', { api_token: input })).api_token;

export const revokeToken = async (id: number): Promise<void> => {
  await call<unknown>('DELETE', `/api/v1/me/tokens/${id}`);
};
