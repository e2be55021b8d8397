/**
 * Routes whose match depends on the body (a route `body` condition: npm's overloaded
 * `PUT /<package>`, wire-facts §3.3). The body is read whole, bounded by `limits.json_body_max`,
 * and must be JSON without duplicate keys (core/strict-json.ts) before anything is decided; the
 * adapter names the operation it performs (first asking the registry for the package's stored
 * document when the effect depends on it); the route is matched again with that operation; and
 * the very bytes read are forwarded, never a re-serialisation.
 */
import { PassThrough, type Readable } from 'node:stream';
import { decide } from '../core/decide.js';
import { denialError } from '../core/denial.js';
import { gatewayError } from '../core/errors.js';
import type { RouteMatch } from '../core/route-table.js';
import { describeDuplicateKey, parseStrictJson } from '../core/strict-json.js';
import type { TokenRecord } from '../core/token-record.js';
import { maskTokens } from '../core/token-format.js';
import type { BodyClassification } from '../registries/registry.js';
import { tokensUrl } from './authenticate.js';
import { BodyTooLargeError, readBody } from './body.js';
import { Rejection, type RequestContext } from './context.js';

/** The request target as normalised (`path` for messages, `segments` for routing). */
export interface RoutedTarget {
  readonly path: string;
  readonly segments: readonly string[];
}

export async function routeByBody(ctx: RequestContext, target: RoutedTarget, match: RouteMatch, token: TokenRecord, credential: string | null): Promise<{ match: RouteMatch; body?: Readable }> {
  if (match.route.body === null) return { match };
  const { adapter, config } = ctx.deps;
  // A token that can do nothing (revoked, expired) is refused before its body is read or the registry asked.
  const valid = decide({ need: 'read', crate: null, token, now: ctx.now });
  if (valid.verdict === 'deny') throw new Rejection(denialError(valid, { tokensUrl: tokensUrl(ctx.deps), noun: adapter.naming.noun }), valid.reason);
  const method = ctx.req.method ?? '';
  const unrecognised = (why: string): Rejection => new Rejection(gatewayError('SG_BODY_UNRECOGNISED', { method, path: maskTokens(target.path, config.tokens.prefix), why }), 'body-unrecognised');
  const encoding = ctx.req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') throw unrecognised(`its Content-Encoding is \`${encoding}\`; send the JSON uncompressed`);
  const bytes = await readWholeBody(ctx, config.limits.jsonBodyMaxBytes);
  const json = parseStrictJson(bytes.toString('utf8'));
  if (json.kind === 'invalid') throw unrecognised(`the body is not JSON (${json.message})`);
  // What is classified must be what the registry acts on: with a key twice (two `name`s, two
  // `versions`), JSON.parse reads the last copy and another registry's parser may read the first.
  if (json.kind === 'duplicate-key') throw unrecognised(`the body has the ${describeDuplicateKey(json.duplicate)} twice; registries disagree on which copy counts`);
  const parsed = json.value;
  let outcome: BodyClassification = adapter.classifyBody({ method, segments: target.segments, body: parsed });
  if (outcome.kind === 'needs-state') {
    const state = await readState(ctx, outcome, credential);
    outcome = adapter.classifyBody({ method, segments: target.segments, body: parsed, state });
  }
  if (outcome.kind === 'error') throw new Rejection(outcome.error, outcome.error.code);
  if (outcome.kind === 'unrecognised') throw unrecognised(outcome.why);
  if (outcome.kind === 'needs-state') throw new Rejection(gatewayError('SG_INTERNAL_ERROR'), 'body-classifier-asked-twice');
  const { operation } = outcome;
  const routed = config.routes.match(method, target.segments, operation);
  if (routed === null) throw new Rejection(gatewayError('SG_ROUTE_UNKNOWN', { method, path: maskTokens(target.path, config.tokens.prefix), operation }), `route-unknown: ${operation}`);
  ctx.log['route.id'] = routed.route.id;
  ctx.log['scope.need'] = routed.route.need;
  // The bytes read are exactly what is forwarded, so their length is the Content-Length, and they
  // are labelled as what they were read as: UTF-8 JSON. A client's `charset=utf-7` (which
  // Verdaccio's body-parser honours) would have the registry decode other JSON from the same
  // bytes than the one classified here: `+ACI-` is a quote in UTF-7, plain text in UTF-8.
  ctx.req.headers['content-length'] = String(bytes.length);
  ctx.req.headers['content-type'] = 'application/json';
  const body = new PassThrough();
  body.end(bytes);
  return { match: routed, body };
}

async function readWholeBody(ctx: RequestContext, max: number): Promise<Buffer> {
  const tooLarge = (): Rejection => new Rejection(gatewayError('SG_BODY_TOO_LARGE', { limit: `${max} bytes` }), 'body-too-large');
  const declared = ctx.req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) throw tooLarge();
  try {
    return await readBody(ctx.req, max);
  } catch (e) {
    throw e instanceof BodyTooLargeError ? tooLarge() : e;
  }
}

/**
 * The package's stored document, read with the credential the request will be forwarded with:
 * null when the registry has no such package; any other failure refuses (fail closed).
 */
async function readState(ctx: RequestContext, ask: Extract<BodyClassification, { kind: 'needs-state' }>, credential: string | null): Promise<unknown> {
  const { upstream, config } = ctx.deps;
  const fail = (why: string): Rejection => new Rejection(gatewayError('SG_STATE_UNAVAILABLE', { crate: ask.crate }), `state-unavailable: ${why}`);
  const answer = await upstream.get(ask.path, credential, config.upstream.probeTimeoutMs, config.limits.jsonBodyMaxBytes).catch((e: Error) => {
    throw fail(`GET ${ask.path}: ${e.message}`);
  });
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw fail(`GET ${ask.path} answered ${answer.status}`);
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    throw fail(`GET ${ask.path} answered with something other than JSON`);
  }
}
