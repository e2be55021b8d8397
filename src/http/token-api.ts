/**
 * The crates.io-compatible token API (DESIGN §3, cratesio-tokens §6), answered by the gateway
 * itself and never forwarded. Tokens are created by proving who you are with your own registry
 * credential (per-token mode) — a scopegate token cannot create tokens. With `upstream.auth: static`
 * the operator issues them (CLI, admin API) and this API only lists, shows and revokes them.
 */
import { gatewayError } from '../core/errors.js';
import { methodsInWords, type GatewayAnswer } from '../core/gateway-answers.js';
import { formatInstant } from '../core/denial.js';
import type { TokenRecord } from '../core/token-record.js';
import { decide } from '../core/decide.js';
import { denialError } from '../core/denial.js';
import { identifyCaller, lookUp, storeRejection, tokensUrl } from './authenticate.js';
import { maskTokens, readCredential } from '../core/token-format.js';
import { hashToken } from '../store/token-secret.js';
import { StoreUnavailableError } from '../store/token-store.js';
import { Rejection, type RequestContext } from './context.js';
import { createToken } from './token-create.js';
import { identifyAccount } from './identity.js';
import { sendEmpty, sendJson } from './respond.js';

const DAY_MS = 86_400_000;

/** `answer`: the operation the path and method name (core/gateway-answers.ts, which `explain` reads too). */
export async function handleTokenApi(ctx: RequestContext, { action, allow = [] }: Extract<GatewayAnswer, { kind: 'token-api' }>, path: string, query: string): Promise<void> {
  const method = ctx.req.method ?? '';
  ctx.log['route.id'] = 'token-api';
  ctx.log.verdict = 'allow';
  if (action === null) throw noSuchOperation(ctx, method, path, allow);
  try {
    switch (action.action) {
      case 'create': return await createToken(ctx);
      case 'list': return await listTokens(ctx, query);
      case 'revoke-current': return await revokeCurrent(ctx);
      case 'logout': return await logout(ctx, path.slice((ctx.deps.adapter.logoutPath ?? '').length));
      case 'show': return await showToken(ctx, action.id);
      case 'revoke': return await revokeToken(ctx, action.id);
    }
  } catch (e) {
    throw storeRejection(e);
  }
}

/** A path of the token API with another method (405, naming those it answers), or none at all (404). */
function noSuchOperation(ctx: RequestContext, method: string, path: string, allowed: readonly string[]): Rejection {
  const masked = maskTokens(path, ctx.deps.config.tokens.prefix);
  if (allowed.length === 0) return new Rejection(gatewayError('SG_ROUTE_UNKNOWN', { method, path: masked }), 'route-unknown');
  return new Rejection({ ...gatewayError('SG_TOKEN_API_METHOD', { method, path: masked, allowed: methodsInWords(allowed) }), allow: allowed }, 'method-not-allowed');
}

/** The JSON shape crates.io returns for a token (never the plaintext, never the credential). */
export function renderToken(r: TokenRecord): Record<string, unknown> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.id, name: r.name, created_at: iso(r.createdAt), last_used_at: iso(r.lastUsedAt),
    endpoint_scopes: r.endpointScopes, crate_scopes: r.crateScopes === null ? null : r.crateScopes.map((p) => p.source),
    expired_at: r.expiredAt === null ? null : formatInstant(r.expiredAt),
  };
}

/**
 * The account of a token-management request: a registry credential (per-token mode), or an
 * unscoped scopegate token. With `upstream.auth: static` registry logins do not name accounts
 * (the operator does, DESIGN §2), so a registry credential manages none.
 */
async function managingAccount(ctx: RequestContext): Promise<string> {
  const caller = await identifyCaller(ctx, { legacyPolicy: false });
  if (caller.kind === 'none') throw new Rejection(gatewayError('SG_AUTH_MISSING', { tokensUrl: tokensUrl(ctx.deps) }), 'token-missing');
  if (caller.kind === 'legacy' && ctx.deps.config.upstream.auth === 'static') {
    throw new Rejection(gatewayError('SG_TOKEN_OPERATOR_ISSUED'), 'tokens-operator-issued');
  }
  if (caller.kind === 'legacy') return (await identifyAccount(ctx, caller.value)).account;
  const decision = decide({ need: 'authenticated', crate: null, token: caller.record, now: ctx.now });
  if (decision.verdict === 'deny') throw new Rejection(denialError(decision, { tokensUrl: tokensUrl(ctx.deps) }), decision.reason);
  return caller.record.account;
}

async function listTokens(ctx: RequestContext, query: string): Promise<void> {
  const account = await managingAccount(ctx);
  const days = Number(new URLSearchParams(query).get('expired_days') ?? 0);
  const since = ctx.now - (Number.isFinite(days) && days > 0 ? days * DAY_MS : 0);
  const records = await ctx.deps.store.listByAccount(account);
  const visible = records.filter((r) => r.revokedAt === null && (r.expiredAt === null || r.expiredAt > since));
  sendJson(ctx.res, 200, { api_tokens: visible.map(renderToken) });
}

async function showToken(ctx: RequestContext, id: number): Promise<void> {
  const account = await managingAccount(ctx);
  const record = await ctx.deps.store.findById(id);
  if (record === null || record.account !== account) throw new Rejection(gatewayError('SG_TOKEN_NOT_FOUND'), 'token-not-found');
  sendJson(ctx.res, 200, { api_token: renderToken(record) });
}

/** crates.io answers 200 `{}` whether or not the id was the caller's; so do we. */
async function revokeToken(ctx: RequestContext, id: number): Promise<void> {
  const account = await managingAccount(ctx);
  const record = await ctx.deps.store.findById(id);
  if (record !== null && record.account === account) {
    await revokeConfirmed(ctx, id);
    ctx.log['token.id'] = id;
    ctx.deps.audit.append({ ts: ctx.now, event: 'token.revoked', token: id, account, via: 'api', req: ctx.log['req.id'] });
  }
  sendJson(ctx.res, 200, {});
}

/** First aid for a leak ★: any scopegate token, scoped or expired, may revoke itself. */
async function revokeCurrent(ctx: RequestContext): Promise<void> {
  const caller = await identifyCaller(ctx);
  if (caller.kind === 'none') throw new Rejection(gatewayError('SG_AUTH_MISSING', { tokensUrl: tokensUrl(ctx.deps) }), 'token-missing');
  if (caller.kind === 'legacy') throw new Rejection(gatewayError('SG_TOKEN_CURRENT_NOT_SCOPEGATE', { prefix: ctx.deps.config.tokens.prefix }), 'not-a-scopegate-token');
  await revokeConfirmed(ctx, caller.record.id);
  ctx.deps.audit.append({ ts: ctx.now, event: 'token.revoked', token: caller.record.id, account: caller.record.account, via: 'api', req: ctx.log['req.id'] });
  sendEmpty(ctx.res, 204);
}

/**
 * The client's logout (npm logout: `DELETE /-/user/token/<token>`) ★: revokes the token it names,
 * which must be the one it was sent with (npm sends both). A token already unknown, revoked or
 * malformed has nothing left to revoke, and the logout still succeeds (the answer is the same for
 * all, so it confirms no token's existence): npm then removes it from the user's config. The
 * answer is Verdaccio's own, `{"ok":"Logged out"}`.
 */
async function logout(ctx: RequestContext, named: string): Promise<void> {
  // npm sends `Bearer <token>`; cargo-style raw tokens are accepted too (token-format.ts).
  const sent = (ctx.req.headers.authorization?.trim() ?? '').replace(/^bearer\s+/i, '');
  if (sent !== named) throw new Rejection(gatewayError('SG_TOKEN_LOGOUT_MISMATCH'), 'logout-token-mismatch');
  const presented = readCredential(named, ctx.deps.config.tokens.prefix);
  const record = presented.kind === 'scopegate' ? await lookUp(ctx.deps, hashToken(presented.token)) : null;
  if (record !== null && record.revokedAt === null) {
    await revokeConfirmed(ctx, record.id);
    ctx.log['token.id'] = record.id;
    ctx.deps.audit.append({ ts: ctx.now, event: 'token.revoked', token: record.id, account: record.account, via: 'api', req: ctx.log['req.id'] });
  }
  sendJson(ctx.res, 200, { ok: 'Logged out' });
}

/**
 * Revokes, or says plainly that the revocation may not have taken effect: a store failure here
 * (Redis failed, or no replica confirmed the write, which a failover could then undo) is not the
 * generic "nothing was forwarded" 503, since the caller has to revoke again.
 */
async function revokeConfirmed(ctx: RequestContext, id: number): Promise<void> {
  try {
    await ctx.deps.store.revoke(id, ctx.now, ctx.deps.config.tokens.keepExpiredMs);
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) throw e;
    throw new Rejection(gatewayError('SG_STORE_REVOKE_UNCONFIRMED'), `store-unavailable: ${e.message}`);
  }
}
