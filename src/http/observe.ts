/**
 * After a request is answered: its metrics, and its audit entries (DESIGN §5) — one per decision
 * on a write route (any route needing more than `read`), and `token.expired-used` when an expired
 * token was presented. Both are in-memory appends; nothing here waits on Redis.
 */
import type { RequestContext } from './context.js';

const TOKEN_API_ROUTE = 'token-api';

export function observeRequest(ctx: RequestContext, started: number): void {
  const { log, deps } = ctx;
  const route = log['route.id'] ?? 'none';
  const need = log['scope.need'];
  deps.metrics.request(route, need ?? 'none', log.verdict ?? 'none');
  if (ctx.decidedAt !== undefined) deps.metrics.decision((ctx.decidedAt - started) / 1000);
  if (log['upstream.status'] !== undefined) deps.metrics.upstream(log['upstream.status']);
  if (log.reason !== undefined && log.reason.startsWith('store-unavailable')) deps.metrics.redisError();

  if (need !== undefined && need !== 'read' && route !== TOKEN_API_ROUTE && log.verdict !== undefined) {
    deps.audit.append({
      ts: ctx.now, event: 'decision', verdict: log.verdict, reason: log.reason, route, scope: need,
      token: log['token.id'], account: log['token.account'], crate: log['crate.name'], status: log.status,
      method: log['req.method'], path: log['req.path'], req: log['req.id'],
    });
  }
  if (log.reason === 'token-expired') {
    deps.audit.append({ ts: ctx.now, event: 'token.expired-used', token: log['token.id'], account: log['token.account'], route, path: log['req.path'], req: log['req.id'] });
  }
}
