/**
 * The bound on failed credential checks per client (`limits.auth_failures` in
 * `limits.auth_failures_window`). Where the gateway sends a client's own registry credential
 * upstream — the token API's identity probe, a legacy credential passed through — each guess would
 * reach the registry from the gateway's address: unbounded, a client could brute-force
 * credentials through the gateway, and a registry that bans addresses would ban the gateway, for
 * every user. Over the limit the client is refused (429) before anything is sent upstream.
 *
 * Only failures are counted, and only there: a CI fleet behind one NAT creating tokens is never
 * refused for succeeding, and requests with scopegate tokens never come here (no Redis round trip
 * added to the registry path). The counter lives in Redis (store/auth-failures.ts), which these
 * paths need anyway (tokens are stored there): when it does not answer, the request fails closed
 * with 503, as every other Redis failure does, rather than sending a guess nobody counts.
 */
import { gatewayError } from '../core/errors.js';
import { clientAddress } from './client-address.js';
import { storeRejection } from './authenticate.js';
import { Rejection, type RequestContext } from './context.js';

/** Refuses (429, with `Retry-After`) a client with `limits.auth_failures` failures in its window; 503 when Redis does not answer. */
export async function refuseIfTooManyFailures(ctx: RequestContext): Promise<void> {
  const { authFailures: max, authFailuresWindowMs: windowMs } = ctx.deps.config.limits;
  if (max === 0) return;
  const client = clientOf(ctx);
  let blockedMs: number | null;
  try {
    blockedMs = await ctx.deps.authFailures.blockedFor(client, max);
  } catch (e) {
    throw storeRejection(e);
  }
  if (blockedMs === null) return;
  const retryAfter = Math.max(1, Math.ceil(blockedMs / 1000));
  const error = gatewayError('SG_AUTH_TOO_MANY_FAILURES', { failures: max, window: inWords(windowMs), retryAfter: inWords(retryAfter * 1000) });
  throw new Rejection({ ...error, retryAfter }, 'auth-failures-limit');
}

/**
 * Counts a failed check of the client's credential. The failure that reaches the limit is audited
 * (once per client and window: a refused flood would otherwise push real entries out of the capped stream).
 */
export async function countAuthFailure(ctx: RequestContext): Promise<void> {
  const { authFailures: max, authFailuresWindowMs: windowMs } = ctx.deps.config.limits;
  if (max === 0) return;
  const client = clientOf(ctx);
  const count = await ctx.deps.authFailures.recordFailure(client, windowMs);
  if (count === max) {
    ctx.deps.audit.append({ ts: ctx.now, event: 'auth.limited', client, method: ctx.log['req.method'], path: ctx.log['req.path'], req: ctx.log['req.id'] });
  }
}

/** What a registry answers a credential it does not accept (crates.io: 403 `authentication failed`). */
const REFUSED = new Set([401, 403]);

/**
 * After a legacy credential was passed through: counts it when the registry refused it. The
 * client has its answer already, so a Redis failure can only be logged (`auth_failures.error`);
 * the next request's check fails closed while Redis is down.
 */
export async function countIfRefused(ctx: RequestContext): Promise<void> {
  const status = ctx.log['upstream.status'];
  if (status === undefined || !REFUSED.has(status)) return;
  try {
    await countAuthFailure(ctx);
  } catch (e) {
    ctx.log['auth_failures.error'] = (e as Error).message;
  }
}

/** The client's address, computed once per request and logged as `client.address`. */
function clientOf(ctx: RequestContext): string {
  return (ctx.log['client.address'] ??= clientAddress(ctx.req, ctx.deps.config.limits.trustedProxies));
}

/** 90_000 → "1 minute 30 seconds", to the second (also for `routes explain`). */
export function inWords(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  const parts: string[] = [];
  const units: [number, string][] = [[86_400, 'day'], [3_600, 'hour'], [60, 'minute'], [1, 'second']];
  let left = seconds;
  for (const [size, name] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
  }
  return parts.length === 0 ? '0 seconds' : parts.join(' ');
}
