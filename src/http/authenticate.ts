/**
 * Who is calling: nobody, a legacy (non-scopegate) credential, or a scopegate token with its
 * record. Unknown and revoked tokens are refused alike, here (`authentication failed`); Redis trouble is
 * a 503, never an allow.
 */
import { decide } from '../core/decide.js';
import { denialError } from '../core/denial.js';
import { gatewayError } from '../core/errors.js';
import { readCredential } from '../core/token-format.js';
import type { TokenRecord } from '../core/token-record.js';
import { hashToken } from '../store/token-secret.js';
import { StoreUnavailableError } from '../store/token-store.js';
import { Rejection, type GatewayDeps, type RequestContext } from './context.js';

export type Caller =
  | { readonly kind: 'none' }
  | { readonly kind: 'legacy'; readonly value: string }
  | { readonly kind: 'token'; readonly record: TokenRecord; readonly plaintext: string };

export const tokensUrl = (deps: GatewayDeps): string => `${deps.config.publicUrl}/tokens`;

/**
 * `legacyPolicy: false` is for token management, where a registry credential is how a user proves
 * who they are: `legacy_tokens: deny` governs what is forwarded, not who may create tokens.
 */
export async function identifyCaller(ctx: RequestContext, { legacyPolicy = true } = {}): Promise<Caller> {
  const { config } = ctx.deps;
  const presented = readCredential(ctx.req.headers.authorization, config.tokens.prefix);
  switch (presented.kind) {
    case 'none':
      return presented;
    case 'malformed':
      throw new Rejection(gatewayError('SG_AUTH_MALFORMED', { why: presented.why, tokensUrl: tokensUrl(ctx.deps) }), 'token-malformed');
    case 'legacy':
      if (legacyPolicy && config.legacyTokens === 'deny') {
        throw new Rejection(gatewayError('SG_AUTH_LEGACY_DENIED', { prefix: config.tokens.prefix, tokensUrl: tokensUrl(ctx.deps) }), 'legacy-denied');
      }
      return presented;
    case 'scopegate': {
      const record = await lookUp(ctx.deps, hashToken(presented.token));
      if (record === null) throw new Rejection(gatewayError('SG_AUTH_FAILED'), 'token-unknown');
      ctx.log['token.id'] = record.id;
      ctx.log['token.account'] = record.account;
      // Refused here, where the token is looked up, so that no handler can answer a revoked token
      // differently from an unknown one (DESIGN §1; crates.io's lookup filters `revoked = false`,
      // cratesio-tokens §1.3 step 5). decide() keeps its own check: the core stays whole.
      if (record.revokedAt !== null) throw new Rejection(gatewayError('SG_AUTH_FAILED'), 'token-revoked');
      // crates.io moves last_used_at on every successful lookup (neither revoked nor expired), even
      // when a later scope check denies (cratesio-tokens §1.3 step 5, §5). The recorder batches and
      // throttles the write (once a minute per token), off the request path.
      if (record.expiredAt === null || ctx.now < record.expiredAt) ctx.deps.usage.record(record.hash, ctx.now);
      return { kind: 'token', record, plaintext: presented.token };
    }
  }
}

/** One store round trip; a store failure ends the request with 503 (fail closed). */
export async function lookUp(deps: GatewayDeps, hash: string): Promise<TokenRecord | null> {
  try {
    return await deps.store.findByHash(hash);
  } catch (e) {
    throw storeRejection(e);
  }
}

/** Maps a store failure to the 503 rejection; anything else is a bug and is rethrown. */
export function storeRejection(e: unknown): unknown {
  return e instanceof StoreUnavailableError ? new Rejection(gatewayError('SG_STORE_UNAVAILABLE'), `store-unavailable: ${e.message}`) : e;
}

/**
 * {@link upstreamCredential}, opened on the first call and remembered for the rest of the request
 * only. Opening costs an HKDF and an AES-GCM decryption (~25 µs), which a denied request never needs.
 */
export function lazyCredential(deps: GatewayDeps, caller: Caller): () => string | null {
  let opened: { readonly value: string | null } | undefined;
  return () => (opened ??= { value: upstreamCredential(deps, caller) }).value;
}

/** The credential the upstream sees instead of the caller's: swapped, never the scopegate token. */
export function upstreamCredential(deps: GatewayDeps, caller: Caller): string | null {
  if (caller.kind === 'none') return deps.config.upstream.auth === 'static' ? deps.config.upstream.credential : null;
  if (caller.kind === 'legacy') return caller.value;
  if (deps.config.upstream.auth === 'static') return deps.config.upstream.credential;
  const sealed = caller.record.sealedCredential;
  const credential = sealed === null ? null : deps.credentials.open(sealed, caller.plaintext, caller.record.hash);
  if (credential === null) throw new Rejection(gatewayError('SG_CREDENTIAL_UNREADABLE', { tokensUrl: tokensUrl(deps) }), 'credential-unreadable');
  return credential;
}

/**
 * A public read needs no token, but cargo sends one on some (`cargo owner --list`), npm on all, and
 * a registry may want it there. A valid scopegate token is swapped for its upstream credential;
 * anything else (no token, a bad one, Redis down) reads anonymously, as it could without a token.
 * The scopegate token itself is never forwarded. `refused`: why the presented token was not used
 * (expired, revoked, malformed), for when the registry refuses the anonymous read in its stead.
 */
export async function publicReadCredential(ctx: RequestContext): Promise<{ credential: string | null; refused?: Rejection }> {
  const anonymous = { credential: upstreamCredential(ctx.deps, { kind: 'none' }) };
  if (ctx.req.headers.authorization === undefined) return anonymous;
  try {
    const caller = await identifyCaller(ctx);
    if (caller.kind === 'legacy') return { credential: caller.value };
    if (caller.kind === 'token') {
      // publicReadUsesToken's decision (core/decide.ts, which explain reports), kept whole for its reason.
      const decision = decide({ need: 'read', crate: null, token: caller.record, now: ctx.now });
      if (decision.verdict === 'allow') return { credential: upstreamCredential(ctx.deps, caller) };
      return { ...anonymous, refused: new Rejection(denialError(decision, { tokensUrl: tokensUrl(ctx.deps), noun: ctx.deps.adapter.naming.noun }), decision.reason) };
    }
  } catch (e) {
    if (e instanceof Rejection && e.error.status !== 503) return { ...anonymous, refused: e };
    if (!(e instanceof Rejection) && !(storeRejection(e) instanceof Rejection)) throw e;
  }
  return anonymous;
}
