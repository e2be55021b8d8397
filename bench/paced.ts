/**
 * Load at a fixed, evenly paced request rate, for latency compared at equal load. autocannon's own
 * rate limit (`overallRate`) lets each connection fire its whole second's quota back to back and
 * then wait for the next second, so every second starts with a burst that queues like saturation
 * (measured: p50 ~5 ms for the bare proxy at a fifth of its capacity). Here requests are started on
 * a schedule, `rate` per second spread evenly, over at most `connections` keep-alive connections;
 * a request that finds every connection busy waits for one, and that wait counts in its latency.
 */
import http from 'node:http';
import { percentile, type LoadResult, type LoadSpec } from './load.js';

/** A {@link LoadSpec} with its rate; one request for all connections (no per-connection lists). */
export type PacedSpec = Omit<LoadSpec, 'perConnection' | 'rate'> & { readonly rate: number };

/** Timer ticks are ~1 ms apart; each starts every request whose time has come. */
const TICK_MS = 1;

export async function runPaced(spec: PacedSpec): Promise<LoadResult> {
  const total = Math.round(spec.rate * spec.durationSeconds);
  // With no request there is no last answer to end the run on.
  if (total < 1) throw new Error(`${spec.rate} req/s for ${spec.durationSeconds} s is no request to send: raise the rate or the duration`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const target = new URL(spec.path, spec.url);
  const times = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let sent = 0;
  let done = 0;
  let errors = 0;
  let inFlight = 0;
  let queued = 0;
  const started = performance.now();
  const cpuBefore = spec.server?.cpuSeconds() ?? Number.NaN;

  return new Promise((resolve) => {
    const finish = (): void => {
      const elapsed = (performance.now() - started) / 1000;
      const cpu = (spec.server?.cpuSeconds() ?? Number.NaN) - cpuBefore;
      agent.destroy();
      const answered = done - errors;
      const sorted = times.subarray(0, answered).sort();
      resolve({
        requestsPerSecond: answered / elapsed,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        responses: answered,
        statuses,
        errors,
        cpuMicrosPerResponse: (cpu * 1e6) / answered,
        queued,
      });
    };
    const send = (): void => {
      const at = performance.now();
      // Every connection busy: the server (or this generator) is not keeping up with the rate.
      if (inFlight++ >= spec.connections) queued++;
      let settled = false;
      /** Exactly once per request: answered in full (with its status), or failed (null). */
      const settle = (status: number | null): void => {
        if (settled) return;
        settled = true;
        inFlight--;
        if (status === null) errors++;
        else {
          times[done - errors] = performance.now() - at;
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
        if (++done === total) finish();
      };
      const req = http.request(target, { method: spec.method, headers: spec.headers ?? {}, agent }, (res) => {
        res.resume();
        res.on('end', () => settle(res.statusCode!));
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => settle(null));
      // A response cut off mid-body ends the request without 'end' or, always, an 'error'.
      req.on('close', () => settle(null));
      req.end();
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * spec.rate) + 1);
      while (sent < due) {
        sent++;
        send();
      }
      if (sent < total) setTimeout(tick, TICK_MS);
    };
    tick();
  });
}
