/**
 * Does the package exist upstream? publish-new vs publish-update (DESIGN §1): the existence probe,
 * outvoted by publishes the gateway saw the upstream accept lately (`upstream.index_lag`).
 *
 * Why both. The probe reads the index (cargo) or package document (npm): the one thing every
 * registry of that kind must serve, with defined "does not exist" answers (cargo: 404/410/451,
 * wire-facts §1.5). It lags a publish: crates.io answers once its database has the version and
 * writes the index file afterwards, from a background job, behind a CDN. crates.io's
 * `GET /api/v1/crates/{name}` reads the database and does not lag, but it is not part of cargo's
 * registry protocol (the Cargo Book's web API lists publish, yank, owners and search only):
 * another registry may not serve it, or may answer its web UI's 200 for any path, which would
 * make every crate "exist" and let a publish-update-only token create crates. So the probe stays
 * on the index, and the lag is covered by what the gateway knows first hand: a publish it
 * forwarded and the upstream accepted, kept in Redis for every process and host.
 *
 * Not covered: a crate first published past the gateway (straight to the registry, or through it
 * with a legacy credential, whose body is never read) is new to the probe until the index shows it.
 */
import { randomUUID } from 'node:crypto';
import type { CrateName } from '../core/crate-pattern.js';
import { gatewayError } from '../core/errors.js';
import type { UpstreamAnswer } from '../upstream/forward.js';
import { storeRejection } from './authenticate.js';
import { Rejection, type RequestContext } from './context.js';

/**
 * Whether `crate` exists upstream. The probe first (often a cache hit); only when it says "new"
 * is Redis asked, one EXISTS, whether a publish of it was accepted lately: a "yes" there can only
 * turn "new" into "exists". A failed probe or a failed Redis call denies (fail closed: 503).
 */
export async function packageExists(ctx: RequestContext, crate: CrateName, credential: string | null): Promise<boolean> {
  let found: boolean;
  try {
    found = await ctx.deps.probe.exists(crate, credential);
  } catch (e) {
    throw new Rejection(gatewayError('SG_PROBE_FAILED', { crate }), `probe-failed: ${(e as Error).message}`);
  }
  if (found || ctx.deps.config.upstream.indexLagMs === 0) return found;
  try {
    return await ctx.deps.published.recentlyPublished(crate);
  } catch (e) {
    throw storeRejection(e);
  }
}

/**
 * The `settle` step of a request that may create `crate` (a publish): once the upstream has
 * accepted it, `crate` counts as existing, before the client sees the answer, so its next
 * request, to any process, finds it so. A failure to record it is logged on the request's line;
 * the publish itself stands (the upstream has it), and the index catches up within its lag.
 *
 * `claim`, the creation claim this publish holds (publish-new-only tokens), ends here, after the
 * record: the record takes over from it. When the record fails the claim is kept until its TTL,
 * not released: released, the next publish-new-only publish would hear "new" from an index
 * that does not show this publish yet, and add a version to the crate this one created.
 */
export function recordAcceptedPublish(ctx: RequestContext, crate: CrateName, claim?: CreationClaim): (answer: UpstreamAnswer) => Promise<void> {
  return async (answer) => {
    const recorded = recordPublish(ctx, crate, answer);
    await (claim === undefined ? recorded : claim.endAfter(recorded));
  };
}

/** Records an accepted publish; says what becomes of the creation claim: kept when the record failed. */
async function recordPublish(ctx: RequestContext, crate: CrateName, { status, contentType, body }: UpstreamAnswer): Promise<ClaimEnd> {
  const { adapter, published, config } = ctx.deps;
  if (status < 200 || status > 299) return 'release';
  if (body !== null && adapter.publishFailedDespiteStatus?.(contentType, body.toString('utf8')) === true) return 'release';
  try {
    await published.remember(crate, config.upstream.indexLagMs);
  } catch (e) {
    ctx.log['published.error'] = (e as Error).message;
    return 'keep';
  }
  return 'release';
}

/**
 * The `settle` step of a request that deletes `crate` whole (npm unpublish of a package): once the
 * upstream has done it, a publish of it no longer counts as recent, so the package is new again,
 * as the probe says. A failure to forget it is logged on the request's line; the deletion stands.
 */
export function recordDeletedPackage(ctx: RequestContext, crate: CrateName): (answer: UpstreamAnswer) => Promise<void> {
  return async ({ status }) => {
    if (status < 200 || status > 299) return;
    try {
      await ctx.deps.published.forget(crate);
    } catch (e) {
      ctx.log['published.error'] = (e as Error).message;
    }
  };
}

/** Longest a claim outlives a process that died holding it; a live publish releases it at once. */
const CLAIM_MIN_MS = 5 * 60_000;

/** How a creation claim ends: deleted, or kept in Redis to lapse on its TTL. */
type ClaimEnd = 'release' | 'keep';

/**
 * A creation claim ({@link claimCreation}), ended once: by `release`, or as `endAfter`'s outcome
 * says. Calls after the first return the first's end, so a `release` made while a settle step
 * is still deciding (the client left meanwhile, and the pipeline's `finally` ran) waits for that
 * decision instead of pre-empting it.
 */
export interface CreationClaim {
  release(): Promise<void>;
  endAfter(outcome: Promise<ClaimEnd>): Promise<void>;
}

/**
 * Claims the creation of `crate` for a publish by a token that may create crates but not publish
 * to existing ones, before the probe is asked: two such publishes at once would both hear "new",
 * and the second would add a version to the crate the first created. A publish that finished
 * before the claim was taken is seen by the probe (or the index-lag record, written before the
 * claim is released, and without which it is kept: recordAcceptedPublish); one still under way
 * holds the claim, and this one is refused (409). Claimed in Redis, so across processes and
 * hosts; a Redis failure refuses (503).
 */
export async function claimCreation(ctx: RequestContext, crate: CrateName): Promise<CreationClaim> {
  const { published, config, adapter } = ctx.deps;
  const owner = randomUUID();
  let claimed: boolean;
  try {
    claimed = await published.claim(crate, owner, Math.max(CLAIM_MIN_MS, 2 * config.upstream.timeoutMs));
  } catch (e) {
    throw storeRejection(e);
  }
  if (!claimed) throw new Rejection(gatewayError('SG_PUBLISH_IN_PROGRESS', { crate, noun: adapter.naming.noun }), 'publish-in-progress');
  let ended: Promise<void> | undefined;
  const release = (): Promise<void> => published.release(crate, owner).catch((e: unknown) => {
    ctx.log['published.error'] = (e as Error).message;
  });
  // Once only: the publish's settle step ends it before the client sees the answer, and the
  // pipeline's `finally` releases it for the requests that never reach settle (refused, upstream failed).
  return {
    release: () => ended ??= release(),
    // An outcome that failed says nothing about the record: kept, as when the record failed.
    endAfter: (outcome) => ended ??= outcome.catch(() => 'keep' as const).then((end) => (end === 'release' ? release() : undefined)),
  };
}
