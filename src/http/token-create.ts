/**
 * `PUT /api/v1/me/tokens`, validated in crates.io's order (cratesio-tokens §6.1): body shape, name,
 * authentication (a scopegate token is refused; a registry credential is checked with the
 * identity probe), the per-account token count, crate scopes, endpoint scopes — then scopegate's
 * expiry policy ★. So a credential the registry rejects learns nothing about its request body.
 * With `upstream.auth: static` nothing is created here at all (DESIGN §2: the operator issues tokens).
 */
import type { CratePattern } from '../core/crate-pattern.js';
import { gatewayError } from '../core/errors.js';
import { parseExpiredAt, resolveExpiry } from '../core/expiry-policy.js';
import { parseScope, type Scope } from '../core/scope.js';
import { describeDuplicateKey, parseStrictJson } from '../core/strict-json.js';
import { tokenNameProblem } from '../core/token-name.js';
import type { TokenRecord } from '../core/token-record.js';
import { sealCredential } from '../store/credential-seal.js';
import { hashToken, mintToken } from '../store/token-secret.js';
import { AccountFullError } from '../store/token-store.js';
import { identifyCaller, tokensUrl } from './authenticate.js';
import { BodyTooLargeError, readBody } from './body.js';
import { Rejection, type RequestContext } from './context.js';
import { identifyAccount } from './identity.js';
import { sendJson } from './respond.js';
import { renderToken } from './token-api.js';

/**
 * crates.io refuses to create a user's token when they already hold this many, counting every row,
 * revoked and expired ones too (cratesio-tokens §6.1 step 6, `maximum tokens per user is: 500`).
 * Here that is every record still stored: a revoked or expired one is dropped `tokens.keep_expired`
 * later and stops counting then (crates.io keeps its rows for ever).
 */
export const MAX_TOKENS_PER_ACCOUNT = 500;

const invalid = (why: string): Rejection => new Rejection(gatewayError('SG_BODY_INVALID', { why }), 'body-invalid');

interface TokenRequest {
  readonly name: string;
  readonly endpointScopes: readonly Scope[] | null;
  readonly crateScopes: readonly CratePattern[] | null;
  readonly expiredAt: number | null;
}

export async function createToken(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx);
  const input = (body as { api_token?: unknown } | null)?.api_token;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('expected {"api_token":{"name":…}}');
  const fields = input as Record<string, unknown>;
  if (typeof fields.name !== 'string') throw invalid('api_token.name must be a string');
  // crates.io refuses only "" (cratesio-tokens §6.1 step 2): a name of spaces is still a name.
  if (fields.name === '') throw new Rejection(gatewayError('SG_TOKEN_NAME_EMPTY'), 'token-name-empty');
  const nameProblem = tokenNameProblem(fields.name);
  if (nameProblem !== null) throw new Rejection(gatewayError('SG_TOKEN_NAME_INVALID', { why: nameProblem }), 'token-name-invalid');
  const caller = await identifyCaller(ctx, { legacyPolicy: false });
  // DESIGN §2: with `upstream.auth: static` the operator names accounts (CLI, admin API). A token
  // made here would belong to whatever login the caller proved and act upstream as the service
  // account, so none is made, for anyone; the registry is not asked who the caller is.
  if (ctx.deps.config.upstream.auth === 'static') throw new Rejection(gatewayError('SG_TOKEN_OPERATOR_ISSUED'), 'tokens-operator-issued');
  if (caller.kind === 'none') throw new Rejection(gatewayError('SG_AUTH_MISSING', { tokensUrl: tokensUrl(ctx.deps) }), 'token-missing');
  if (caller.kind === 'token') throw new Rejection(gatewayError('SG_TOKEN_CREATE_WITH_TOKEN'), 'token-creates-token');
  const { account } = await identifyAccount(ctx, caller.value);
  // Counted here for crates.io's order (the count before the scopes are checked). Creation is rare
  // and an account's tokens few, so a listing (three round trips) is cheap enough, and exact: the
  // account index may still hold ids of dropped records until a listing prunes them.
  if ((await ctx.deps.store.listByAccount(account)).length >= MAX_TOKENS_PER_ACCOUNT) throw limitReached();
  const request = parseTokenRequest(ctx, fields);
  const plaintext = mintToken(ctx.deps.config.tokens.prefix);
  const record = await storeToken(ctx, account, caller.value, plaintext, request);
  ctx.log['token.id'] = record.id;
  ctx.deps.audit.append({ ts: ctx.now, event: 'token.created', token: record.id, account, via: 'api', req: ctx.log['req.id'] });
  sendJson(ctx.res, 200, { api_token: { ...renderToken(record), token: plaintext } });
}

const limitReached = (): Rejection => new Rejection(gatewayError('SG_TOKEN_LIMIT_REACHED', { max: MAX_TOKENS_PER_ACCOUNT }), 'token-limit-reached');

/**
 * Stores the token, the account's tokens counted again by the store as one step with the write:
 * creations racing each other had all passed the first count (an account reached 514 that way).
 */
async function storeToken(ctx: RequestContext, account: string, credential: string, plaintext: string, request: TokenRequest): Promise<TokenRecord> {
  try {
    return await ctx.deps.store.create({
      hash: hashToken(plaintext), account, name: request.name,
      endpointScopes: request.endpointScopes, crateScopes: request.crateScopes,
      createdAt: ctx.now, expiredAt: request.expiredAt,
      sealedCredential: sealCredential(credential, plaintext), // per-token mode: static was refused before
    }, ctx.deps.config.tokens.keepExpiredMs, { perAccount: MAX_TOKENS_PER_ACCOUNT });
  } catch (e) {
    throw e instanceof AccountFullError ? limitReached() : e;
  }
}

async function readJson(ctx: RequestContext): Promise<unknown> {
  const max = ctx.deps.config.limits.apiBodyMaxBytes;
  let raw: Buffer;
  try {
    raw = await readBody(ctx.req, max);
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw new Rejection(gatewayError('SG_BODY_TOO_LARGE', { limit: `${max} bytes` }), 'body-too-large');
    throw e;
  }
  const json = parseStrictJson(raw.toString('utf8'));
  if (json.kind === 'invalid') throw invalid(`it is not JSON (${json.message})`);
  // JSON.parse keeps the last copy of a repeated key, so `"endpoint_scopes":["yank"],
  // "endpoint_scopes":null` made a full-access token from a body whose first reading is scoped.
  // crates.io (serde) refuses a field given twice; so does this, rather than pick a copy.
  if (json.kind === 'duplicate-key') throw invalid(`it has the ${describeDuplicateKey(json.duplicate)} twice; give each field once`);
  return json.value;
}

function parseTokenRequest(ctx: RequestContext, fields: Record<string, unknown>): TokenRequest {
  // Patterns follow the configured registry's name rules (cargo: `invalid crate scope`, npm: `invalid package scope …`).
  const naming = ctx.deps.adapter.naming;
  const crateScopes = parseList(fields.crate_scopes, (v) => naming.parsePattern(v));
  if (crateScopes === undefined) {
    const bad = Array.isArray(fields.crate_scopes) ? fields.crate_scopes.find((v) => naming.parsePattern(v) === null) : fields.crate_scopes;
    throw new Rejection(naming.patternError(bad), 'crate-scope-invalid');
  }
  const endpointScopes = parseList(fields.endpoint_scopes, parseScope);
  if (endpointScopes === undefined) throw new Rejection(gatewayError('SG_TOKEN_ENDPOINT_SCOPE_INVALID'), 'endpoint-scope-invalid');
  return { name: fields.name as string, crateScopes, endpointScopes, expiredAt: parseExpiry(ctx, fields) };
}

/** Absent or null → null; an array whose every item parses → the list; otherwise undefined. */
function parseList<T>(value: unknown, parseItem: (v: unknown) => T | null): readonly T[] | null | undefined {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) return undefined;
  const items = value.map(parseItem);
  return items.every((i): i is T => i !== null) ? items : undefined;
}

/** ★ The expiry policy (core/expiry-policy.ts, shared with `scopegate token create`). */
function parseExpiry(ctx: RequestContext, fields: Record<string, unknown>): number | null {
  const fail = (why: string): Rejection => new Rejection(gatewayError('SG_TOKEN_EXPIRY_INVALID', { why }), 'expiry-invalid');
  const request = parseExpiredAt('expired_at' in fields, fields.expired_at);
  if ('invalid' in request) throw fail(request.invalid);
  const outcome = resolveExpiry(request, ctx.deps.config.tokens, ctx.now);
  if (!outcome.ok) throw fail(outcome.why);
  return outcome.expiredAt;
}
