/**
 * `npm run bench -- --target <gateway url> --token <token>`: the same load runs against a gateway
 * an operator already runs. Only the scenarios that need nothing but HTTP apply: the token on a
 * route it may use, the token on a route it may not (checked with one request first: skipped
 * unless the gateway itself refuses it), and a read without a token.
 */
import { runLoad } from './load.js';
import { keptUp, type LoadRun } from './report.js';

export interface TargetOptions {
  readonly target: string;
  readonly token: string | null;
  /** `METHOD /path` the token may use (default: a search, which any valid token may run). */
  readonly route: string;
  /** `METHOD /path` the token may not use (default: changing owners of a crate that does not exist). */
  readonly deniedRoute: string;
  /** `METHOD /path` read without a token. */
  readonly readRoute: string;
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly connections: number;
  /**
   * Requests per second, evenly paced (`paced.ts`), instead of as many as the gateway answers: the
   * latency at a deployment's usual traffic, without saturating a gateway that serves real users.
   */
  readonly rate: number | null;
  readonly progress: (line: string) => void;
}

export const TARGET_DEFAULTS = {
  route: 'GET /api/v1/crates?q=scopegate-bench&per_page=1',
  deniedRoute: 'PUT /api/v1/crates/scopegate-bench-no-such-crate/owners',
  readRoute: 'GET /api/v1/crates?q=scopegate-bench&per_page=1',
} as const;

export interface TargetScenario {
  readonly name: string;
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
}

export async function runTarget(opts: TargetOptions): Promise<{ loads: LoadRun[]; scenarios: TargetScenario[] }> {
  const base = opts.target.replace(/\/+$/, '');
  const scenarios: TargetScenario[] = [];
  const auth = opts.token === null ? null : { authorization: opts.token };
  if (auth !== null) {
    scenarios.push({ name: 'allowed', label: `token allowed: ${opts.route}`, ...parseRoute(opts.route), headers: auth });
    const denied = { name: 'denied', label: `token denied: ${opts.deniedRoute}`, ...parseRoute(opts.deniedRoute), headers: auth };
    const status = await probe(base, denied);
    if (status === 403) scenarios.push(denied);
    else opts.progress(`skipping the denied scenario: ${opts.deniedRoute} answered ${status}, not 403 (give --denied-route a request this token may not make)`);
  }
  scenarios.push({ name: 'read', label: `no token: ${opts.readRoute}`, ...parseRoute(opts.readRoute), headers: {} });
  const loads: LoadRun[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const s of scenarios) {
      const result = await runLoad({
        url: base, method: s.method, path: s.path, headers: s.headers, connections: opts.connections, durationSeconds: opts.durationSeconds,
        ...(opts.rate === null ? {} : { rate: opts.rate }),
      });
      loads.push({ scenario: s.name, round, ...result });
      const behind = opts.rate !== null && !keptUp(result, opts.rate) ? ` — did not keep up with ${opts.rate} req/s: the latency is queueing` : '';
      opts.progress(`[round ${round}/${opts.rounds}] ${s.label}: ${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms ${JSON.stringify(result.statuses)}${behind}`);
    }
  }
  return { loads, scenarios };
}

export function parseRoute(text: string): { method: string; path: string } {
  const match = /^([A-Z]+)\s+(\/\S*)$/.exec(text.trim());
  if (match === null) throw new Error(`a route is "METHOD /path", e.g. "GET /index/3/f/foo"; got ${JSON.stringify(text)}`);
  return { method: match[1]!, path: match[2]! };
}

async function probe(base: string, s: { method: string; path: string; headers: Record<string, string> }): Promise<number> {
  const res = await fetch(base + s.path, { method: s.method, headers: s.headers });
  await res.arrayBuffer();
  return res.status;
}
