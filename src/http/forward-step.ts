/** The last step: hand an allowed request to the upstream, and turn transport failures into errors. */
import type { Readable } from 'node:stream';
import { gatewayError } from '../core/errors.js';
import { expiresSoon, expiryWarning } from '../core/expiry-reminder.js';
import type { TokenRecord } from '../core/token-record.js';
import type { ForwardRequest, ResponseRewrite, UpstreamAnswer } from '../upstream/forward.js';
import { Rejection, type RequestContext } from './context.js';
import { answeredTimedOut, sendError, sendJsonText } from './respond.js';

/** The publish answer is buffered (for a warning, or to tell a failure) only up to this size; a larger one passes unchanged. */
const PUBLISH_ANSWER_MAX = 64 * 1024;

/**
 * ★ The warning a publish with a token close to expiry carries (cargo prints it), or null.
 * Pure apart from reading the config: `tokens.remind_before` decides what "close" means.
 */
export function publishWarning(ctx: RequestContext, token: TokenRecord): string | null {
  const { config } = ctx.deps;
  return expiresSoon(token, ctx.now, config.tokens.remindBeforeMs) ? expiryWarning(token, ctx.now, config.publicUrl) : null;
}

/** Upstream statuses that refuse a read for want of a user: answered by {@link refusedInstead}. */
const REFUSES_ANONYMOUS = new Set([401, 403]);

/**
 * `refused`: why the token the client presented was not used (it was read anonymously instead).
 * Should the registry refuse that anonymous read, the client gets the token's refusal rather than
 * the registry's, which would be misleading: `this action requires authentication` to a cargo user
 * who sent a token, npm's "your authentication token seems to be invalid" with no reason.
 */
function refusedInstead(ctx: RequestContext, refused: Rejection | undefined): ForwardRequest['replace'] {
  if (refused === undefined) return undefined;
  return (status) => {
    if (!REFUSES_ANONYMOUS.has(status)) return null;
    return () => {
      ctx.log['upstream.status'] = status;
      ctx.log.verdict = 'deny';
      ctx.log.reason = `${refused.reason} (read anonymously; the registry refused it)`;
      ctx.log['error.code'] = refused.error.code;
      sendError(ctx.res, ctx.deps.adapter, refused.error, ctx.log['req.path'], ctx.deps.config.publicUrl);
    };
  };
}

/**
 * The gateway's own login challenge for a 401 the registry answers (cargo: on the index), in place
 * of the registry's: cargo shows its `login_url` in `cargo login`, and scopegate tokens come from
 * the gateway's token page, not from the registry's login behind it. Undefined when the adapter has none.
 */
function loginChallenge(ctx: RequestContext): Readonly<Record<string, string>> | undefined {
  const challenge = ctx.deps.adapter.errorHeaders(401, ctx.log['req.path'], ctx.deps.config.publicUrl);
  return Object.keys(challenge).length > 0 ? challenge : undefined;
}

/** `settle`: runs when the upstream has answered, before the client sees it (ForwardRequest.settle). */
export async function forwardRequest(ctx: RequestContext, upstreamPath: string, credential: string | null, body?: Readable, warning: string | null = null, settle?: (answer: UpstreamAnswer) => Promise<void>, refused?: Rejection): Promise<void> {
  const { addPublishWarning: add, publishFailedDespiteStatus } = ctx.deps.adapter;
  const warns = warning !== null && add !== undefined;
  // A settled answer is also read (bounded) when the registry may report a failure with a 2xx
  // (crates.io's `adjust-all` answers a refused publish 200 with `errors`): settle must see that,
  // or it records a crate the registry never created.
  const rewrite: ResponseRewrite | undefined = !warns && (settle === undefined || publishFailedDespiteStatus === undefined) ? undefined : {
    maxBytes: PUBLISH_ANSWER_MAX,
    rewrite: (status, contentType, answer) => {
      const text = warns ? add(status, contentType, answer.toString('utf8'), warning) : null;
      return text === null ? null : Buffer.from(text);
    },
  };
  const headers = ctx.deps.adapter.forwardHeaders(ctx.deps.config.publicUrl);
  const outcome = await ctx.deps.forwarder.forward(ctx.req, ctx.res, { path: upstreamPath, credential, body, rewrite, headers, settle, replace: refusedInstead(ctx, refused), challenge: loginChallenge(ctx) });
  if (answeredTimedOut(ctx.res)) {
    // The gateway's own 408 finished the response, not an upstream answer (server.ts).
    ctx.log['error.code'] = 'SG_REQUEST_TIMEOUT';
    ctx.log['upstream.error'] = 'the request body did not arrive within limits.request_timeout; upstream request aborted';
    return;
  }
  switch (outcome.kind) {
    case 'answered':
      ctx.log['upstream.status'] ??= outcome.status;
      return;
    case 'client-gone':
      ctx.log['upstream.error'] = 'client closed the connection; upstream request aborted';
      return;
    case 'timeout':
      throw new Rejection(gatewayError('SG_UPSTREAM_TIMEOUT'), 'upstream-timeout');
    case 'unreachable':
      throw new Rejection(gatewayError('SG_UPSTREAM_UNREACHABLE'), `upstream-unreachable: ${outcome.cause}`);
  }
}

/**
 * Serves the registry's config document with `dl`/`api` rewritten to the gateway, so that every
 * later cargo request comes back through it (wire-facts §1.5 "Gateway implication").
 */
export async function serveRegistryConfig(ctx: RequestContext, upstreamPath: string, credential: string | null, refused?: Rejection): Promise<void> {
  const { upstream, adapter, config } = ctx.deps;
  const answer = await upstream.get(upstreamPath, credential, config.upstream.timeoutMs).catch((e: Error) => {
    const timedOut = /no answer within/.test(e.message);
    throw new Rejection(gatewayError(timedOut ? 'SG_UPSTREAM_TIMEOUT' : 'SG_UPSTREAM_UNREACHABLE'), `upstream-config: ${e.message}`);
  });
  ctx.log['upstream.status'] = answer.status;
  if (refused !== undefined && REFUSES_ANONYMOUS.has(answer.status)) throw refused;
  if (answer.status !== 200) {
    // A 401 here is cargo's cue to retry with its token (wire-facts §1.5): with the gateway's challenge.
    ctx.res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(answer.status === 401 ? loginChallenge(ctx) : undefined) });
    ctx.res.end(answer.body);
    return;
  }
  let rewritten: string;
  try {
    rewritten = adapter.rewriteConfig(answer.body, { publicUrl: config.publicUrl, upstreamUrl: config.upstream.url, readsNeedToken: config.reads === 'token', anonymousReadsAuthenticated: config.upstream.auth === 'static' });
  } catch {
    throw new Rejection(gatewayError('SG_UPSTREAM_UNREACHABLE'), 'upstream-config-not-json');
  }
  warnIfDownloadsUnrouted(ctx, rewritten);
  // Already JSON text (the adapter parsed the upstream's and wrote its own): sent as it is.
  sendJsonText(ctx.res, 200, rewritten);
}

/** Download paths already checked against a route table (one warning per path and config). */
const checkedDownloads = new WeakMap<object, Set<string>>();

/**
 * The registry's download path is its own (`dl`, kept when it is on the upstream), so the route
 * table may not know it: downloads would then be denied as unrouted. Says so once, naming the
 * path, when the config document that sends cargo there is served.
 */
function warnIfDownloadsUnrouted(ctx: RequestContext, rewritten: string): void {
  const { adapter, config, logger } = ctx.deps;
  const path = adapter.sampleDownloadPath?.(rewritten, config.publicUrl) ?? null;
  if (path === null) return;
  let checked = checkedDownloads.get(config.routes);
  if (checked === undefined) checkedDownloads.set(config.routes, (checked = new Set()));
  if (checked.has(path)) return;
  checked.add(path);
  const route = config.routes.match('GET', path)?.route;
  if (route?.need === 'read') return;
  logger.warn(
    { download_path: path, route: route?.id ?? null },
    route === undefined
      ? `the registry serves downloads at ${path} (its config.json's dl), which no route matches, so downloads are denied: add a route for it with scope: read`
      : `the registry serves downloads at ${path} (its config.json's dl), and route ${route.id} asks ${route.need} for it, not read`,
  );
}
