/**
 * The admin API (DESIGN §3) on its own listener (`admin.listen`), for operators only. Every route
 * but the probes needs `Authorization: Bearer $SCOPEGATE_ADMIN_KEY`; without a key configured the
 * API is not started at all. JSON in, JSON out (`{"error": …}` on failure).
 *
 *   GET    /healthz                    200 while the process serves (no key)
 *   GET    /readyz                     200 when Redis answers, else 503 (no key)
 *   GET    /metrics                    Prometheus text format
 *   GET    /tokens[?account=A]         every token, or one account's, newest first
 *   GET    /tokens/:id                 one token
 *   DELETE /tokens/:id                 revoke one token
 *   DELETE /accounts/:account/tokens   revoke every token of an account (a leak response)
 *   GET    /explain?method=M&path=P[&token_id=N][&crate=C][&accept=A]   what the gateway would decide
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/types.js';
import { formatInstant } from '../core/denial.js';
import { maskTokens } from '../core/token-format.js';
import { explainRequest, type Explanation, type RoutedExplanation } from '../core/explain.js';
import type { Route } from '../core/route-table.js';
import { explainContext } from '../http/explain-context.js';
import type { GatewayMetrics } from '../http/metrics.js';
import { renderToken } from '../http/token-api.js';
import type { Logger } from '../log.js';
import type { AuditSink } from '../store/audit-log.js';
import type { ListedToken, TokenDirectory } from '../store/token-directory.js';
import { StoreUnavailableError, type TokenStore } from '../store/token-store.js';
import { adminKeyChecker } from './admin-key.js';

export interface AdminDeps {
  /** The running config (a SIGHUP reload changes it). */
  readonly config: () => GatewayConfig;
  readonly store: TokenStore;
  readonly directory: TokenDirectory;
  readonly audit: AuditSink;
  readonly metrics: GatewayMetrics;
  /**
   * The `/metrics` text; default: this process's registry. A cluster worker asks the primary for
   * the host's (src/cluster-metrics.ts), since a scrape reaches any one worker.
   */
  readonly metricsText?: () => Promise<string>;
  readonly logger: Logger;
  readonly clock?: () => number;
}

export interface AdminApi {
  readonly port: number;
  close(): Promise<void>;
}

type Answer = { status: number; body: unknown } | { status: number; text: string; type: string };

class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Starts the admin API, or returns null (with a log line) when no key is configured. */
export async function startAdminApi(deps: AdminDeps): Promise<AdminApi | null> {
  const { key, listen } = deps.config().admin;
  if (key === null) {
    deps.logger.info('admin API disabled: SCOPEGATE_ADMIN_KEY is not set');
    return null;
  }
  const authorised = adminKeyChecker(key);
  const server = http.createServer((req, res) => {
    const started = performance.now();
    // handle() answers every failure itself; the catch is a backstop, because a rejection here
    // would be unhandled and end the process, public listener and all.
    void handle(deps, authorised, req).catch((e: unknown): Answer => {
      deps.logger.error({ err: e }, 'admin API error');
      return { status: 500, body: { error: 'internal error' } };
    }).then((answer) => {
      const body = 'text' in answer ? answer.text : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'text' in answer ? answer.type : 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      logAdminRequest(deps.logger, req, answer.status, started, deps.config().tokens.prefix);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deps.logger.info({ listen: `${listen.host}:${port}` }, 'admin API listening');
  return {
    port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Prometheus text; 503 (JSON, with the reason) when a cluster's workers did not all report. */
async function metrics(deps: AdminDeps): Promise<Answer> {
  if (deps.metricsText === undefined) return { status: 200, text: await deps.metrics.registry.metrics(), type: deps.metrics.registry.contentType };
  try {
    return { status: 200, text: await deps.metricsText(), type: deps.metrics.registry.contentType };
  } catch (e) {
    return { status: 503, body: { error: `the workers' metrics could not be collected: ${(e as Error).message}` } };
  }
}

async function handle(deps: AdminDeps, authorised: (h: string | undefined) => boolean, req: http.IncomingMessage): Promise<Answer> {
  // Only origin-form targets (`/path?query`): an absolute-form one (`http://a:b/`) can fail to
  // parse, and is no way to call this API anyway.
  const target = req.url ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) return { status: 400, body: { error: 'the request target must be a path starting with a single `/`' } };
  const url = new URL(target, 'http://admin');
  // HEAD is GET without the body (Node drops it), as on the gateway's routes: `curl -I` and
  // load balancers' HEAD health checks reach the probes without a key.
  const method = req.method === 'HEAD' ? 'GET' : req.method ?? '';
  const route = `${method} ${url.pathname}`;
  try {
    if (route === 'GET /healthz') return { status: 200, body: { status: 'ok' } };
    if (route === 'GET /readyz') return await ready(deps);
    if (!authorised(req.headers.authorization)) throw new AdminError(401, 'missing or wrong admin key: send Authorization: Bearer $SCOPEGATE_ADMIN_KEY');
    if (route === 'GET /metrics') return await metrics(deps);
    return await operate(deps, method, url);
  } catch (e) {
    if (e instanceof AdminError) return { status: e.status, body: { error: e.message } };
    if (e instanceof StoreUnavailableError) return { status: 503, body: { error: `the token store is unavailable: ${e.message}` } };
    deps.logger.error({ err: e, 'admin.route': route }, 'admin API error');
    return { status: 500, body: { error: 'internal error' } };
  }
}

/** Answered often and with nothing to audit: the probes and a successful scrape are logged at debug. */
const ROUTINE = new Set(['GET /healthz', 'GET /readyz', 'GET /metrics']);

/**
 * One line per admin request, once answered (STYLE: Logs), whatever the outcome: a wrong or
 * missing key at warn, so that someone trying keys shows in the log; a refused operation (404,
 * 400, 503) at info like a successful one. Only the path is logged, never the query nor a target
 * that is not a path.
 */
function logAdminRequest(logger: Logger, req: http.IncomingMessage, status: number, started: number, tokenPrefix: string): void {
  // A target handle() refused (`http://user:pass@host/`, `//user:pass@host/`) may carry userinfo,
  // and a path a token pasted into it (`/tokens/sg_…`), masked as on the gateway's request lines.
  const target = req.url ?? '';
  const path = target.startsWith('/') && !target.startsWith('//') ? maskTokens(target.split('?')[0]!.slice(0, 512), tokenPrefix) : '[not a path]';
  const route = `${req.method ?? ''} ${path}`;
  const fields = { 'admin.route': route, status, duration_ms: Math.round((performance.now() - started) * 1000) / 1000, 'client.address': req.socket.remoteAddress };
  if (status === 401) logger.warn(fields, 'admin request refused: missing or wrong admin key');
  else if (status < 400 && ROUTINE.has(route.replace(/^HEAD /, 'GET '))) logger.debug(fields, 'admin request');
  else logger.info(fields, 'admin request');
}

async function ready(deps: AdminDeps): Promise<Answer> {
  try {
    await deps.store.ping();
    return { status: 200, body: { status: 'ready' } };
  } catch (e) {
    return { status: 503, body: { status: 'unavailable', error: (e as Error).message } };
  }
}

async function operate(deps: AdminDeps, method: string, url: URL): Promise<Answer> {
  const path = url.pathname;
  const id = /^\/tokens\/(\d{1,15})$/.exec(path)?.[1];
  const account = /^\/accounts\/([^/]+)\/tokens$/.exec(path)?.[1];
  if (method === 'GET' && path === '/tokens') return { status: 200, body: { tokens: (await listTokens(deps, url.searchParams.get('account'))).map(renderListed) } };
  if (method === 'GET' && id !== undefined) return { status: 200, body: { token: renderListed(await findToken(deps, Number(id))) } };
  if (method === 'DELETE' && id !== undefined) return { status: 200, body: { token: renderListed(await revoke(deps, Number(id))) } };
  if (method === 'DELETE' && account !== undefined) return revokeAccount(deps, decodeAccount(account));
  if (method === 'GET' && path === '/explain') return explain(deps, url.searchParams);
  throw new AdminError(404, `no admin route ${method} ${path}`);
}

function decodeAccount(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminError(400, `the account \`${segment}\` in the path is not valid percent-encoding`);
  }
}

async function listTokens(deps: AdminDeps, account: string | null): Promise<ListedToken[]> {
  const all = await deps.directory.listAll();
  return account === null ? all : all.filter((t) => t.record.account === account);
}

async function findToken(deps: AdminDeps, id: number): Promise<ListedToken> {
  const found = await deps.directory.findListed(id);
  if (found === null) throw new AdminError(404, `no token with id ${id}`);
  return found;
}

async function revoke(deps: AdminDeps, id: number): Promise<ListedToken> {
  const now = (deps.clock ?? Date.now)();
  const record = await deps.store.revoke(id, now, deps.config().tokens.keepExpiredMs);
  if (record === null) throw new AdminError(404, `no token with id ${id}`);
  deps.audit.append({ ts: now, event: 'token.revoked', token: id, account: record.account, via: 'admin' });
  return { record, remindedAt: null };
}

/**
 * Revokes each live token of the account, carrying on past a failure: in a leak response one
 * token that Redis did not answer for must not leave the rest usable. Any failure makes the
 * answer 503 (so a script retries; revoking again is safe), listing what was revoked and what not.
 */
async function revokeAccount(deps: AdminDeps, account: string): Promise<Answer> {
  const live = (await deps.store.listByAccount(account)).filter((r) => r.revokedAt === null);
  const revoked: number[] = [];
  const failed: { id: number; error: string }[] = [];
  for (const record of live) {
    await revoke(deps, record.id).then(() => revoked.push(record.id), (e: unknown) => {
      if (e instanceof StoreUnavailableError) failed.push({ id: record.id, error: e.message });
      else if (!(e instanceof AdminError)) throw e; // an AdminError: dropped meanwhile, nothing to revoke
    });
  }
  if (failed.length === 0) {
    deps.logger.warn({ 'token.account': account, revoked }, 'revoked every token of an account');
    return { status: 200, body: { account, revoked } };
  }
  deps.logger.error({ 'token.account': account, revoked, failed }, 'revoking every token of an account failed for some: retry');
  const error = `${failed.length} of the account's ${live.length} live tokens could not be revoked (the token store is unavailable); revoking the account again is safe`;
  return { status: 503, body: { error, account, revoked, failed } };
}

async function explain(deps: AdminDeps, query: URLSearchParams): Promise<Answer> {
  const method = query.get('method');
  const target = query.get('path');
  if (method === null || target === null) throw new AdminError(400, 'give method and path, e.g. /explain?method=PUT&path=/api/v1/crates/new&crate=serde&token_id=7');
  const tokenId = query.get('token_id');
  if (tokenId !== null && !/^\d{1,15}$/.test(tokenId)) throw new AdminError(400, `token_id must be a token id (a positive whole number), got ${JSON.stringify(tokenId)}`);
  const token = tokenId === null ? null : (await findToken(deps, Number(tokenId))).record;
  const explanation = explainRequest({
    ...explainContext(deps.config()), method, target, accept: query.get('accept') ?? undefined,
    publishCrate: query.get('crate') ?? undefined, token, now: (deps.clock ?? Date.now)(),
  });
  return { status: 200, body: withRouteSummaries(explanation) };
}

/** The explanation as JSON, each compiled route shown as its id, index and need. */
function withRouteSummaries(e: Explanation): unknown {
  const summary = (route: Route) => ({ id: route.id, index: route.index, need: route.need });
  const routed = (r: RoutedExplanation): unknown => (r.kind === 'no-route' ? r : { ...r, route: summary(r.route) });
  if (e.kind === 'by-body') return { ...e, cases: e.cases.map((c) => ({ operation: c.operation, outcome: routed(c.outcome) })) };
  if (e.kind === 'matched' || e.kind === 'crate-invalid' || e.kind === 'no-route') return routed(e);
  return e;
}

function renderListed({ record, remindedAt }: ListedToken): Record<string, unknown> {
  const iso = (ms: number | null): string | null => (ms === null ? null : formatInstant(ms));
  return { ...renderToken(record), account: record.account, revoked_at: iso(record.revokedAt), reminded_at: iso(remindedAt) };
}
