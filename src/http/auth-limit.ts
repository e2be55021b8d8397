/**
 * The bound on failed credential checks per client (`limits.auth_failures` in
 * `limits.auth_failures_window`). Where the gateway sends a client's own registry credential
 * upstream — the token API's identity probe, a legacy credential passed through — each guess would
 * reach the registry from the gateway's address: unbounded, a client could brute-force
 * credentials through the gateway, and a registry that bans addresses would ban the gateway, for
 * every user. Over the limit the client is refused (429) before anything is sent upstream.
 *
 * Only failures stay counted: a check is counted while it is under way (so guesses sent at once
 * cannot all pass) and given back when the registry accepts the credential, so a CI fleet behind
 * one NAT creating tokens is never refused for succeeding. That costs these rare paths two Redis
 * round trips; requests with scopegate tokens never come here (none added to the registry path).
 * The counter lives in Redis (store/auth-failures.ts), which these
 * paths need anyway (tokens are stored there): when it does not answer, the request fails closed
 * with 503, as every other Redis failure does, rather than sending a guess nobody counts.
 */
import { gatewayError } from '../core/errors.js';
import { clientAddress } from './client-address.js';
import { storeRejection } from './authenticate.js';
import type { Reservation } from '../store/auth-failures.js';
import { Rejection, type RequestContext } from './context.js';

/** A check of the client's credential, counted while it is made (store/auth-failures.ts `reserve`). */
export interface CountedCheck {
  /** `refused`: the registry said the credential is not valid; it stays counted. Otherwise it is given back. */
  settle(refused: boolean): Promise<void>;
}

const NOT_COUNTED: CountedCheck = { settle: async () => undefined };

/**
 * Counts a check of the client's credential about to be sent upstream, or refuses it (429, with
 * `Retry-After`) when `limits.auth_failures` are counted already; 503 when Redis does not answer.
 * Counted before it is sent, so guesses sent at once cannot all pass.
 */
export async function countCheck(ctx: RequestContext): Promise<CountedCheck> {
  const { authFailures: max, authFailuresWindowMs: windowMs } = ctx.deps.config.limits;
  if (max === 0) return NOT_COUNTED;
  const client = clientOf(ctx);
  let reservation: Reservation;
  try {
    reservation = await ctx.deps.authFailures.reserve(client, max, windowMs);
  } catch (e) {
    throw storeRejection(e);
  }
  if ('blockedMs' in reservation) {
    const retryAfter = Math.max(1, Math.ceil(reservation.blockedMs / 1000));
    const error = gatewayError('SG_AUTH_TOO_MANY_FAILURES', { failures: max, window: inWords(windowMs), retryAfter: inWords(retryAfter * 1000) });
    throw new Rejection({ ...error, retryAfter }, 'auth-failures-limit');
  }
  return { settle: (refused) => settle(ctx, client, refused, reservation.count === max) };
}

/**
 * The refusal that reaches the limit is audited (once per client and window: an entry per refused
 * request would let a flood push real entries out of the capped stream). A check given back that
 * Redis does not take back stays counted, the safe way round; a warning line says so.
 */
async function settle(ctx: RequestContext, client: string, refused: boolean, reachesLimit: boolean): Promise<void> {
  if (refused) {
    if (reachesLimit) ctx.deps.audit.append({ ts: ctx.now, event: 'auth.limited', client, method: ctx.log['req.method'], path: ctx.log['req.path'], req: ctx.log['req.id'] });
    return;
  }
  try {
    await ctx.deps.authFailures.refund(client);
  } catch (e) {
    // Its own line: on a legacy pass-through the request's line is written by now (pipeline.ts).
    ctx.deps.logger.warn({ 'req.id': ctx.log['req.id'], 'client.address': client, err: { message: (e as Error).message } }, 'a credential check the registry accepted could not be given back: it stays counted until its window ends');
  }
}

/** What a registry answers a credential it does not accept (crates.io: 403 `authentication failed`). */
export const refusesCredential = (status: number | undefined): boolean => status === 401 || status === 403;

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
