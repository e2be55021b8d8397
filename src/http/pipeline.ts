/**
 * The request pipeline, top to bottom like a lifecycle diagram:
 * normalise path → classify route → read token → look up → (route by body) → resolve scope →
 * decide → swap credential → forward. "Route by body" runs only for routes with a `body` condition
 * (npm's overloaded `PUT /<package>`, `body-step.ts`). Each step either hands on or throws a
 * {@link Rejection}; the request is answered and logged once, at the end.
 */
import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { CrateName } from '../core/crate-pattern.js';
import { decide, isPublicRead, publishProbeMatters } from '../core/decide.js';
import { denialError } from '../core/denial.js';
import { gatewayError } from '../core/errors.js';
import { gatewayAnswer, servesRegistryConfig } from '../core/gateway-answers.js';
import { normaliseRequestTarget } from '../core/request-path.js';
import { maskTokens } from '../core/token-format.js';
import type { RouteMatch } from '../core/route-table.js';
import type { RouteNeed } from '../core/scope.js';
import type { UpstreamAnswer } from '../upstream/forward.js';
import { identifyCaller, lazyCredential, publicReadCredential, storeRejection, tokensUrl, type Caller } from './authenticate.js';
import { countCheck, refusesCredential } from './auth-limit.js';
import { afterPollPhase, loopTurns } from './batching.js';
import { framingProblem, stillAwaitingContinue } from './body.js';
import { routeByBody } from './body-step.js';
import { claimCreation, packageExists, recordAcceptedPublish, recordDeletedPackage, type CreationClaim } from './existence-step.js';
import { Rejection, type GatewayDeps, type RequestContext } from './context.js';
import { forwardRequest, publishWarning, serveRegistryConfig } from './forward-step.js';
import { logRequest } from '../log.js';
import { observeRequest } from './observe.js';
import { readPublishCrate } from './publish-step.js';
import { answeredTimedOut, sendError } from './respond.js';
import { handleTokenApi } from './token-api.js';
import { serveTokenPage } from './web.js';

/** `currentDeps` is read once per request, so a reload never changes a request half-way. */
export function createRequestHandler(currentDeps: () => GatewayDeps): http.RequestListener {
  let sequence = 0;
  const idPrefix = process.pid.toString(36);
  return (req, res) => {
    const started = performance.now();
    const deps = currentDeps();
    const ctx: RequestContext = {
      deps, req, res, now: deps.clock(), arrivedInTurn: loopTurns.mark(),
      log: { 'req.id': `${idPrefix}-${(++sequence).toString(36)}`, 'req.method': req.method ?? '', 'req.path': loggedPath(req.url ?? '', deps.config.tokens.prefix) },
    };
    run(ctx)
      .catch((e: unknown) => {
        // The verdict is reached now; the answer waits for the batch (afterPollPhase).
        ctx.decidedAt ??= performance.now();
        return Promise.resolve(afterPollPhase(ctx)).then(() => answerRejection(ctx, e));
      })
      .finally(() => {
        ctx.log.status = res.statusCode;
        ctx.log.duration_ms = Math.round((performance.now() - started) * 1000) / 1000;
        logRequest(deps.logger, ctx.log);
        observeRequest(ctx, started);
      });
  };
}

/**
 * The request target as logged (and audited): no query (a client may put anything there), at most
 * 512 characters, and no credential a client put in the target itself: an absolute-form target's
 * userinfo (`http://user:sg_…@host/…`, refused, but logged first) and any well-formed token.
 */
function loggedPath(url: string, prefix: string): string {
  let path = url.split('?')[0]!.slice(0, 512);
  if (path.charCodeAt(0) !== 0x2f) path = path.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1[redacted]@');
  return maskTokens(path, prefix);
}

async function run(ctx: RequestContext): Promise<void> {
  const framing = framingProblem(ctx.req);
  if (framing !== null) throw new Rejection(gatewayError('SG_BODY_FRAMING', { why: framing }), 'body-framing');
  const target = normaliseRequestTarget(ctx.req.url ?? '', ctx.deps.adapter.pathRules);
  if (!target.ok) throw new Rejection(gatewayError('SG_PATH_INVALID', { why: target.why }), 'path-invalid');
  const { adapter, config } = ctx.deps;
  const logout = adapter.logoutPath === null ? null : { path: adapter.logoutPath, prefix: config.tokens.prefix };
  const own = gatewayAnswer(ctx.req.method ?? '', target.path, ctx.req.headers.accept, adapter.packagesAtRoot, logout);
  if (own?.kind === 'token-api') return handleTokenApi(ctx, own, target.path, target.query);
  if (own?.kind === 'token-page') return serveTokenPage(ctx, target.path);
  const match = classifyRoute(ctx, target.path, target.segments);
  const upstreamPath = target.forwardPath + target.query;
  if (isPublicRead(match.route.need, ctx.deps.config.reads === 'public')) {
    const { credential, refused } = await publicReadCredential(ctx);
    // The registry's "who am I" (the identity probe's path, npm's `/-/whoami`) answers an anonymous
    // read as nobody, with a 200 (Verdaccio: `{}`, which npm reports as "need auth … npm adduser"):
    // for a token the gateway refused, only the refusal is a true answer.
    if (refused !== undefined && target.path === ctx.deps.config.upstream.identity.path) throw refused;
    return forwardAllowed(ctx, target.path, upstreamPath, credential, 'public-read', undefined, null, undefined, refused);
  }
  const caller = await identifyCaller(ctx);
  if (caller.kind === 'none') throw new Rejection(gatewayError('SG_AUTH_MISSING', { tokensUrl: tokensUrl(ctx.deps) }), 'token-missing');
  if (caller.kind === 'legacy') {
    // Passed through, a legacy credential is checked by the registry itself: a guess like the identity probe's.
    const check = await countCheck(ctx);
    ctx.log.verdict = 'pass';
    ctx.log.reason = 'legacy-credential';
    try {
      return await forwardAllowed(ctx, target.path, upstreamPath, caller.value, 'legacy-credential');
    } finally {
      // Not waited for: the client has its answer, and the request's log line and audit entry,
      // written when this returns, must not wait on a Redis call made after it (settle logs its own failure).
      void check.settle(refusesCredential(ctx.log['upstream.status']));
    }
  }
  // Opened on first use: a request denied before it needs the credential never pays for the crypto.
  const credential = lazyCredential(ctx.deps, caller);
  const routed = match.route.body === null ? { match } : await routeByBody(ctx, target, match, caller.record, credential());
  const { crate, body = routed.body } = await readCrate(ctx, routed.match);
  const { need, claim } = await resolveNeed(ctx, routed.match.route.need, caller, crate, credential);
  try {
    authorise(ctx, caller, need, crate, need !== routed.match.route.need);
    const warning = routed.match.route.crate?.from === 'publish-body' ? publishWarning(ctx, caller.record) : null;
    await forwardAllowed(ctx, target.path, upstreamPath, credential(), 'allowed', body, warning, settleAfter(ctx, routed.match.route.need, crate, target.segments, claim));
  } finally {
    await claim?.release();
  }
}

/**
 * What the gateway records once the upstream has answered, before the client sees it: an accepted
 * publish, or a deleted package. A creation claim ends there too, after the record: a client that
 * has its answer finds the claim gone (or kept, when the record failed), and the request's log line
 * and audit entry, written when the pipeline returns, wait on no Redis call made after the answer was sent.
 */
function settleAfter(ctx: RequestContext, need: RouteNeed, crate: CrateName | null, segments: readonly string[], claim?: CreationClaim): ((answer: UpstreamAnswer) => Promise<void>) | undefined {
  if (crate === null) return undefined;
  // Whoever publishes (any token), the crate may be new, and the index will not say so for a while.
  if (need === 'publish' || need === 'publish-new') return recordAcceptedPublish(ctx, crate, claim);
  if (ctx.deps.adapter.deletesPackage?.(ctx.req.method ?? '', segments) === true) return recordDeletedPackage(ctx, crate);
  return undefined;
}

function classifyRoute(ctx: RequestContext, path: string, segments: readonly string[]): RouteMatch {
  const method = ctx.req.method ?? '';
  const match = ctx.deps.config.routes.match(method, segments);
  // The path is echoed to the client, whose terminal or CI log must not show a token pasted into it.
  if (match === null) throw new Rejection(gatewayError('SG_ROUTE_UNKNOWN', { method, path: maskTokens(path, ctx.deps.config.tokens.prefix) }), 'route-unknown');
  ctx.log['route.id'] = match.route.id;
  ctx.log['scope.need'] = match.route.need;
  return match;
}

/** The crate the request acts on: a `:param` of the path, or the name inside a publish body. */
async function readCrate(ctx: RequestContext, match: RouteMatch): Promise<{ crate: CrateName | null; body?: Readable }> {
  const source = match.route.crate;
  if (source === null) return { crate: null };
  const published = source.from === 'publish-body' ? await readPublishCrate(ctx) : null;
  const raw = published ? published.name : match.params[source.from === 'path' ? source.param : '']!;
  const naming = ctx.deps.adapter.naming;
  const crate = naming.parseName(raw);
  if (crate === null) throw new Rejection(naming.nameError(raw), 'crate-name-invalid');
  // A crate "named" like a token is one a client pasted its token into: it is not logged either.
  ctx.log['crate.name'] = maskTokens(crate, ctx.deps.config.tokens.prefix);
  return published ? { crate, body: published.body } : { crate };
}

/**
 * `publish` becomes publish-new or publish-update by asking the upstream, only when that matters.
 * A token that may only create holds the creation claim (existence-step.ts) until it is ended.
 */
async function resolveNeed(ctx: RequestContext, need: RouteNeed, caller: Extract<Caller, { kind: 'token' }>, crate: CrateName | null, credential: () => string | null): Promise<{ need: RouteNeed; claim?: CreationClaim }> {
  if (need !== 'publish' || !publishProbeMatters(caller.record)) return { need };
  // Unreachable with a loaded table (compileRouteTable requires a crate source); fail closed anyway.
  if (crate === null) throw new Rejection(gatewayError('SG_INTERNAL_ERROR'), 'publish-route-without-crate');
  // An expired or revoked token is refused before the upstream is asked anything. (A wrong crate
  // pattern still waits for the probe: crates.io reports a missing scope before a crate mismatch,
  // and which scope is missing is what the probe tells.) `read` checks exactly those two.
  authorise(ctx, caller, 'read', crate, false);
  const claim = caller.record.endpointScopes?.includes('publish-new') === true ? await claimCreation(ctx, crate) : undefined;
  let exists: boolean;
  try {
    exists = await packageExists(ctx, crate, credential());
  } catch (e) {
    await claim?.release();
    throw e;
  }
  if (exists) await claim?.release();
  const resolved = exists ? 'publish-update' : 'publish-new';
  ctx.log['scope.need'] = resolved;
  return exists ? { need: resolved } : { need: resolved, claim };
}

/** `probed`: the need came from the existence probe, so the message says why (new, or already exists). */
function authorise(ctx: RequestContext, caller: Extract<Caller, { kind: 'token' }>, need: RouteNeed, crate: CrateName | null, probed: boolean): void {
  const decision = decide({ need, crate, token: caller.record, now: ctx.now });
  if (decision.verdict === 'deny') {
    const crateForMessage = probed ? crate ?? undefined : undefined;
    throw new Rejection(denialError(decision, { tokensUrl: tokensUrl(ctx.deps), crate: crateForMessage, noun: ctx.deps.adapter.naming.noun }), decision.reason);
  }
}

/** `refused`: a presented token read anonymously (publicReadCredential), answered instead of the registry's 401 or 403. */
async function forwardAllowed(ctx: RequestContext, path: string, upstreamPath: string, credential: string | null, reason: string, body?: Readable, warning: string | null = null, settle?: (answer: UpstreamAnswer) => Promise<void>, refused?: Rejection): Promise<void> {
  ctx.log.verdict ??= 'allow';
  ctx.log.reason ??= reason;
  ctx.decidedAt = performance.now();
  await afterPollPhase(ctx);
  if (servesRegistryConfig(ctx.req.method ?? '', path, ctx.deps.adapter.configPath)) return serveRegistryConfig(ctx, upstreamPath, credential, refused);
  return forwardRequest(ctx, upstreamPath, credential, body, warning, settle, refused);
}

function answerRejection(ctx: RequestContext, e: unknown): void {
  if (answeredTimedOut(ctx.res)) {
    // Answered 408 already (server.ts): its body did not arrive within limits.request_timeout.
    ctx.log.verdict = 'deny';
    ctx.log.reason = 'request-timeout';
    ctx.log['error.code'] = 'SG_REQUEST_TIMEOUT';
    return;
  }
  const rejection = e instanceof Rejection ? e : storeRejection(e);
  if (!(rejection instanceof Rejection) && clientWentAway(ctx)) {
    // Its body stopped half-way (a publish whose head was being read): nothing was forwarded, and
    // no one is left to answer. Not an internal error; 499 in the log, as nginx has it.
    ctx.log.verdict = 'deny';
    ctx.log.reason = 'client-gone';
    ctx.log['client.error'] = 'the client closed the connection before its request body arrived';
    ctx.res.statusCode = 499;
    ctx.res.destroy();
    return;
  }
  if (!(rejection instanceof Rejection)) {
    ctx.deps.logger.error({ 'req.id': ctx.log['req.id'], err: e }, 'unexpected error');
    return answerRejection(ctx, new Rejection(gatewayError('SG_INTERNAL_ERROR'), 'internal-error'));
  }
  ctx.log.verdict = 'deny';
  ctx.log.reason = rejection.reason;
  ctx.log['error.code'] = rejection.error.code;
  if (stillAwaitingContinue(ctx.req)) ctx.res.setHeader('connection', 'close');
  sendError(ctx.res, ctx.deps.adapter, rejection.error, ctx.log['req.path'], ctx.deps.config.publicUrl);
}

/** The client closed its connection while the gateway was still reading the request body. */
function clientWentAway(ctx: RequestContext): boolean {
  return ctx.req.destroyed && !ctx.req.complete;
}
