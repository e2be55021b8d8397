/**
 * One load run with autocannon: a fixed number of connections for a fixed time, every response
 * time kept at full (sub-millisecond) resolution. autocannon's own latency histogram records whole
 * milliseconds, too coarse for targets stated in fractions of one, so percentiles are computed
 * here from its per-response events.
 */
import autocannon, { type AutocannonRequest } from 'autocannon';
import { runPaced } from './paced.js';

export interface LoadSpec {
  readonly url: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly connections: number;
  readonly durationSeconds: number;
  /**
   * Requests per second across all connections together, evenly paced (`paced.ts`, not
   * autocannon, whose rate limit sends in bursts); absent: as fast as the server answers. At a
   * fixed rate below every server's limit, latencies compare the servers' work per request, not
   * their throughput (at saturation, latency is roughly connections ÷ req/s).
   */
  readonly rate?: number;
  /**
   * Distinct requests per connection (e.g. one token each), cycled through in order. Built once
   * when the connection starts, so rotating costs the load generator nothing per request.
   */
  readonly perConnection?: (index: number) => AutocannonRequest[];
  /** The server under test, whose CPU time per response is measured. */
  readonly server?: { cpuSeconds(): number };
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly responses: number;
  /** Responses per status code, e.g. `{ "200": 41234 }`. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Connection errors and timeouts. */
  readonly errors: number;
  /**
   * CPU time the server under test spent per response, in µs (NaN if not measured). Unlike req/s it
   * barely depends on what else the machine is doing, so it is the figure to compare across runs.
   */
  readonly cpuMicrosPerResponse: number;
  /** Paced runs only: requests that found every connection busy and waited for one (saturation). */
  readonly queued?: number;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.rate !== undefined) return runPaced({ ...spec, rate: spec.rate });
  let times = new Float64Array(1 << 16);
  let count = 0;
  let clientIndex = 0;
  const started = performance.now();
  const cpuBefore = spec.server?.cpuSeconds() ?? Number.NaN;
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      // autocannon takes the path from the URL (a separate `path` applies only inside `requests`).
      url: spec.url + spec.path,
      method: spec.method,
      headers: spec.headers ?? {},
      connections: spec.connections,
      duration: spec.durationSeconds,
      timeout: 10,
      ...(spec.perConnection ? { setupClient: (client) => client.setRequests(spec.perConnection!(clientIndex++)) } : {}),
    }, (error, result) => {
      const elapsed = (performance.now() - started) / 1000;
      const cpu = (spec.server?.cpuSeconds() ?? Number.NaN) - cpuBefore;
      if (error) return reject(error);
      const sorted = times.subarray(0, count).sort();
      const statuses: Record<string, number> = {};
      for (const [code, { count: n }] of Object.entries(result.statusCodeStats)) statuses[code] = n;
      resolve({
        requestsPerSecond: count / elapsed,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        responses: count,
        statuses,
        errors: result.errors + result.timeouts,
        cpuMicrosPerResponse: (cpu * 1e6) / count,
      });
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      if (count === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      times[count++] = responseTime;
    });
  });
}

/** Nearest-rank percentile of sorted values; NaN for none. */
export function percentile(sorted: Float64Array | readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
