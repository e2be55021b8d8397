/**
 * The identity probe (DESIGN §2): ask the upstream who a registry credential belongs to, e.g.
 * cargo `GET /api/v1/me` → `/user/login`. The login becomes the account that owns new tokens.
 * A client whose credentials the registry refused too often is not let probe (auth-limit.ts).
 */
import { gatewayError } from '../core/errors.js';
import type { GatewayConfig } from '../config/types.js';
import type { UpstreamClient } from '../upstream/client.js';
import { countCheck } from './auth-limit.js';
import { Rejection, type RequestContext } from './context.js';

export async function identifyAccount(ctx: RequestContext, credential: string): Promise<{ account: string }> {
  const { upstream, config } = ctx.deps;
  const check = await countCheck(ctx);
  const outcome = await lookUpLogin(upstream, config, credential);
  // Only the registry's "not valid" stays counted; a probe that failed says nothing of the credential.
  await check.settle(outcome.kind === 'rejected');
  if (outcome.kind === 'rejected') throw new Rejection(gatewayError('SG_IDENTITY_REJECTED', { status: outcome.status }), 'identity-rejected');
  if (outcome.kind === 'unavailable') throw new Rejection(gatewayError('SG_IDENTITY_UNAVAILABLE'), outcome.why);
  ctx.log['token.account'] = outcome.account;
  return { account: outcome.account };
}

/** What the identity probe said about a credential (shared with `scopegate token create`). */
export type IdentityOutcome =
  | { readonly kind: 'ok'; readonly account: string }
  | { readonly kind: 'rejected'; readonly status: number }
  | { readonly kind: 'unavailable'; readonly why: string };

export async function lookUpLogin(upstream: UpstreamClient, config: GatewayConfig, credential: string): Promise<IdentityOutcome> {
  const { path, login } = config.upstream.identity;
  let answer: { status: number; body: string };
  try {
    answer = await upstream.get(path, credential, config.upstream.probeTimeoutMs);
  } catch (e) {
    return { kind: 'unavailable', why: `identity-probe-failed: ${(e as Error).message}` };
  }
  if (answer.status === 401 || answer.status === 403) return { kind: 'rejected', status: answer.status };
  let document: unknown;
  try {
    document = answer.status === 200 ? JSON.parse(answer.body) : undefined;
  } catch {
    document = undefined;
  }
  const account = readPointer(document, login);
  // Verdaccio answers an unknown credential as anonymous: `GET /-/whoami` → 200 `{}` (wire-facts §3.2).
  if (answer.status === 200 && isObject(document) && account === undefined) return { kind: 'rejected', status: 200 };
  if (typeof account !== 'string' || account === '') return { kind: 'unavailable', why: `identity-probe-answered-${answer.status}-without-login` };
  return { kind: 'ok', account };
}

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 6901 JSON pointer lookup. */
export function readPointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let current = value;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
