/**
 * Prometheus metrics (prom-client), served by the admin API at `/metrics`. Recorded on the hot
 * path, so recording is a counter increment or a histogram observe on a label child looked up in
 * nested Maps (no label objects, no key strings built per request); a child is made once per
 * route × scope × verdict, a small set fixed by the route table.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Counter as CounterType } from 'prom-client';
import type { TokenCacheStats } from '../store/token-cache.js';

type Child = CounterType.Internal;

export interface GatewayMetrics {
  readonly registry: Registry;
  /** One request finished: its route (`none`: unmatched), the scope it needed, the verdict. */
  request(route: string, scope: string, verdict: string): void;
  /** Seconds from the request's arrival to its verdict. */
  decision(seconds: number): void;
  /** The upstream answered with this status. */
  upstream(status: number): void;
  /** A request failed on Redis (and was answered 503). */
  redisError(): void;
  /** Counts failures off the request path (`audit`, `usage`) from a running total, read at scrape time. */
  trackRedisErrors(source: 'audit' | 'usage', total: () => number): void;
  /** Counts audit entries whose write timed out (maybe written) from a running total, read at scrape time. */
  trackAuditUnconfirmed(total: () => number): void;
  /** An expiry reminder was announced (`sent`) or failed and will be retried (`failed`). */
  reminder(outcome: 'sent' | 'failed'): void;
  /** Reports the token cache's counters, read at scrape time (nothing is counted per request here). */
  trackTokenCache(stats: () => TokenCacheStats): void;
}

/** Decision latency buckets, in seconds: a cached decision is sub-millisecond, Redis adds ~1 ms. */
const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function createMetrics(options: { processMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'scopegate_' });
  const requests = new Counter({
    name: 'scopegate_requests_total', help: 'Requests answered, by route id, scope needed and verdict (allow, deny, pass).',
    labelNames: ['route', 'scope', 'verdict'] as const, registers: [registry],
  });
  const decisions = new Histogram({
    name: 'scopegate_decision_duration_seconds', help: 'Time from a request\'s arrival to its verdict (lookup, probe and decide; not the upstream).',
    buckets: DECISION_BUCKETS, registers: [registry],
  });
  const upstream = new Counter({
    name: 'scopegate_upstream_responses_total', help: 'Upstream answers to forwarded requests, by status class.',
    labelNames: ['class'] as const, registers: [registry],
  });
  const tracked: { source: string; total: () => number; seen: number }[] = [];
  const redisErrors = new Counter({
    name: 'scopegate_redis_errors_total',
    help: 'Failed Redis commands: on a request (answered 503); audit entries not written (refused, not sent, or dropped with the buffer full; a timed-out write is scopegate_audit_unconfirmed_total); last_used_at updates not written.',
    labelNames: ['source'] as const, registers: [registry],
    collect() {
      for (const t of tracked) t.seen = catchUp(this.labels(t.source), t.total(), t.seen);
    },
  });
  const requestRedisErrors = redisErrors.labels('request');
  const unconfirmed = { total: (): number => 0, seen: 0 };
  new Counter({
    name: 'scopegate_audit_unconfirmed_total',
    help: 'Audit entries whose write got no answer within the command timeout: Redis may still have written them (a hung Redis runs queued commands when it resumes), so they are not counted as errors.',
    registers: [registry],
    collect() {
      unconfirmed.seen = catchUp(this, unconfirmed.total(), unconfirmed.seen);
    },
  });
  const reminders = new Counter({
    name: 'scopegate_expiry_reminders_total', help: 'Expiry reminders announced, or failed and left for a later run.',
    labelNames: ['outcome'] as const, registers: [registry],
  });
  const classChildren = STATUS_CLASSES.map((c) => upstream.labels(c));
  const byRoute = new Map<string, Map<string, Map<string, Child>>>();

  function requestChild(route: string, scope: string, verdict: string): Child {
    let byScope = byRoute.get(route);
    if (byScope === undefined) byRoute.set(route, (byScope = new Map()));
    let byVerdict = byScope.get(scope);
    if (byVerdict === undefined) byScope.set(scope, (byVerdict = new Map()));
    let child = byVerdict.get(verdict);
    if (child === undefined) byVerdict.set(verdict, (child = requests.labels(route, scope, verdict)));
    return child;
  }

  return {
    registry,
    request: (route, scope, verdict) => requestChild(route, scope, verdict).inc(),
    decision: (seconds) => decisions.observe(seconds),
    upstream: (status) => {
      const child = classChildren[Math.floor(status / 100) - 1];
      if (child !== undefined) child.inc();
    },
    redisError: () => requestRedisErrors.inc(),
    trackRedisErrors: (source, total) => void tracked.push({ source, total, seen: 0 }),
    trackAuditUnconfirmed: (total) => {
      unconfirmed.total = total;
    },
    reminder: (outcome) => reminders.labels(outcome).inc(),
    trackTokenCache: (stats) => trackTokenCache(registry, stats),
  };
}

/** The token cache's metrics, registered only for a gateway that has the cache on. */
function trackTokenCache(registry: Registry, stats: () => TokenCacheStats): void {
  const seen = { hit: 0, miss: 0, bypassed: 0 };
  new Counter({
    name: 'scopegate_token_cache_lookups_total',
    help: 'Token lookups by the per-process cache: hit, miss (asked Redis), or bypassed (asked Redis because the revocation feed was down).',
    labelNames: ['result'] as const, registers: [registry],
    collect() {
      const now = stats();
      for (const [result, total] of [['hit', now.hits], ['miss', now.misses], ['bypassed', now.bypassed]] as const) {
        seen[result] = catchUp(this.labels(result), total, seen[result]);
      }
    },
  });
  new Gauge({
    name: 'scopegate_token_cache_entries', help: 'Token records (and "no such token" answers) held by the per-process caches.',
    registers: [registry],
    collect() { this.set(stats().size); },
  });
  new Gauge({
    name: 'scopegate_revocation_feed_live',
    help: '1 while the revocation feed is subscribed and answering its heartbeat, so the token cache is in use; 0 while lookups go to Redis. With workers: 1 only if every worker\'s is.',
    registers: [registry], aggregator: 'min',
    collect() { this.set(stats().live ? 1 : 0); },
  });
}

/** Moves a counter up to a running total it last saw at `seen`; returns the new `seen`. */
function catchUp(counter: Child, total: number, seen: number): number {
  if (total > seen) counter.inc(total - seen);
  return total;
}
