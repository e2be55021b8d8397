/**
 * The local suite (`npm run bench`): a private redis-server, the tiny upstream, the bare proxy and
 * three gateway processes (cache on, cache off, and a second cache-on process for revocation),
 * then every scenario once per round, in a rotating order, for several rounds.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { startRedisServer } from '../test/support/redis-server.js';
import { runLoad, type LoadResult, type LoadSpec } from './load.js';
import { forkServer, startGatewayProcess, type Child } from './processes.js';
import { combinePublishes, publishBody, runPublish, type PublishResult } from './publish.js';
import type { LoadRun, PublishRun } from './report.js';
import { runRevocations, type RevocationResult } from './revocation.js';
import { openSeeder } from './tokens.js';

export interface LocalOptions {
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly distinctTokens: number;
  readonly revocations: number;
  readonly publishConcurrent: number;
  /** The fixed request rate of the equal-load scenarios (req/s across all connections). */
  readonly equalLoadRate: number;
  /** Seconds per equal-load measurement. */
  readonly equalLoadSeconds: number;
  /** Scenario names to run; empty: all. */
  readonly only: readonly string[];
  /** Directory for `--cpu-prof` output; null: no profiling. */
  readonly profileDir: string | null;
  readonly progress: (line: string) => void;
}

export interface LocalResults {
  readonly loads: LoadRun[];
  readonly publishes: PublishRun[];
  readonly revocation: RevocationResult | null;
}

const YANK = { method: 'DELETE', path: '/api/v1/crates/foo/1.0.0/yank' };
const READ = { method: 'GET', path: '/index/3/f/foo' };
/** The yank token lacks change-owners: refused by the gateway, never forwarded. */
const DENIED = { method: 'PUT', path: '/api/v1/crates/foo/owners' };
const MiB = 1024 * 1024;

interface Scenario {
  readonly name: string;
  readonly label: string;
  readonly spec: (opts: LocalOptions) => Omit<LoadSpec, 'connections' | 'durationSeconds'>;
}

/**
 * The equal-load scenarios, selected together as `equal-load`: the bare proxy and the gateway
 * (cache on, cache off) each at the same fixed request rate, below what any of them can serve, so
 * the latency each adds is its own work per request, not its lower throughput showing up as
 * queueing (at saturation, p50 ≈ connections ÷ req/s).
 */
export const EQUAL_LOAD = ['equal-bare', 'equal-cache', 'equal-nocache'] as const;

export async function runLocal(opts: LocalOptions): Promise<LocalResults> {
  const work = await mkdtemp(join(tmpdir(), 'scopegate-bench-'));
  const redis = await startRedisServer();
  const started: Child[] = [];
  try {
    const upstream = await forkServer('upstream.js');
    const profile = (name: string): string[] => (opts.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]);
    const bare = await forkServer('bare-proxy.js', [upstream.url], profile('bare-proxy'));
    started.push(upstream, bare);
    const seeder = await openSeeder(redis.url);
    const [yankToken] = await seeder.create(1, ['yank']);
    const [publishToken] = await seeder.create(1, ['publish-new', 'publish-update']);
    const rotating = await seeder.create(opts.distinctTokens, ['yank']);
    const revocable = await seeder.create(opts.revocations, ['yank']);
    await seeder.close();
    opts.progress(`seeded ${opts.distinctTokens + opts.revocations + 2} tokens`);

    const gateway = async (name: string, cache: boolean, workers = 1): Promise<Child> => {
      const yaml = await gatewayYaml({ 'cache.enabled': cache, 'log.level': 'info', workers });
      const child = await startGatewayProcess(join(work, `${name}.yaml`), {
        yaml,
        env: { REDIS_URL: redis.url, SCOPEGATE_UPSTREAM: upstream.url, SCOPEGATE_PUBLIC_URL: 'http://127.0.0.1', SCOPEGATE_ADMIN_LISTEN: '127.0.0.1:0' },
        nodeFlags: profile(name),
      });
      started.push(child);
      return child;
    };
    const gwCache = await gateway('gateway-cache', true);
    const gwNoCache = await gateway('gateway-nocache', false);
    const gwPeer = await gateway('gateway-peer', true);
    // Not a target, and run only when named (`--only allowed-workers2`): the bare proxy is one
    // process. Shows what a second core buys (`workers: 2`).
    const gwWorkers = opts.only.includes('allowed-workers2') ? await gateway('gateway-workers2', true, 2) : null;

    const auth = { authorization: yankToken! };
    const all: Scenario[] = [
      { name: 'direct', label: 'direct to the upstream', spec: () => ({ url: upstream.url, ...YANK, headers: auth, server: upstream }) },
      { name: 'bare', label: 'bare proxy (http-proxy-3, keep-alive, no auth)', spec: () => ({ url: bare.url, ...YANK, headers: auth, server: bare }) },
      { name: 'allowed-cache', label: 'gateway: allowed yank, cache on', spec: () => ({ url: gwCache.url, ...YANK, headers: auth, server: gwCache }) },
      { name: 'allowed-nocache', label: 'gateway: allowed yank, cache off (1 Redis round trip)', spec: () => ({ url: gwNoCache.url, ...YANK, headers: auth, server: gwNoCache }) },
      { name: 'read', label: 'gateway: public read, no token', spec: () => ({ url: gwCache.url, ...READ, server: gwCache }) },
      {
        name: 'rotating', label: `gateway: allowed yank, ${opts.distinctTokens.toLocaleString('en-US')} tokens in rotation, cache on`,
        spec: (o) => ({ url: gwCache.url, ...YANK, server: gwCache, perConnection: (i) => sliceFor(rotating, i, o.connections).map((token) => ({ ...YANK, headers: { authorization: token } })) }),
      },
      { name: 'denied', label: 'gateway: denied (wrong scope), cache on', spec: () => ({ url: gwCache.url, ...DENIED, headers: auth, server: gwCache }) },
      ...(gwWorkers === null ? [] : [{ name: 'allowed-workers2', label: 'gateway: allowed yank, cache on, workers: 2', spec: () => ({ url: gwWorkers.url, ...YANK, headers: auth, server: gwWorkers }) }]),
    ];
    // The bare proxy always runs: every ratio is taken against it.
    const scenarios = all.filter((s) => wanted(opts, s.name) || s.name === 'bare');
    const atRate = (spec: Omit<LoadSpec, 'connections' | 'durationSeconds'>) => ({ ...spec, rate: opts.equalLoadRate });
    const equalLoad: Scenario[] = !wanted(opts, 'equal-load') ? [] : [
      { name: 'equal-bare', label: `bare proxy at ${opts.equalLoadRate} req/s`, spec: () => atRate({ url: bare.url, ...YANK, headers: auth, server: bare }) },
      { name: 'equal-cache', label: `gateway: allowed yank, cache on, at ${opts.equalLoadRate} req/s`, spec: () => atRate({ url: gwCache.url, ...YANK, headers: auth, server: gwCache }) },
      { name: 'equal-nocache', label: `gateway: allowed yank, cache off, at ${opts.equalLoadRate} req/s`, spec: () => atRate({ url: gwNoCache.url, ...YANK, headers: auth, server: gwNoCache }) },
    ];

    const loads: LoadRun[] = [];
    const publishes: PublishRun[] = [];
    const runOne = async (s: Scenario, seconds: number) => runLoad({ ...s.spec(opts), connections: opts.connections, durationSeconds: seconds });

    if (opts.warmupSeconds > 0) {
      for (const s of [...scenarios, ...equalLoad]) await runOne(s, opts.warmupSeconds);
      opts.progress(`warmed up (${opts.warmupSeconds} s per scenario)`);
    }
    const publishing = wanted(opts, 'publish');
    // ~0.7-0.8 GB per measurement, four per size and round (A-B-B-A below).
    const bodies = publishing ? [{ size: 10, body: publishBody('foo', 10 * MiB), each: 8 }, { size: 50, body: publishBody('foo', 50 * MiB), each: 2 }] : [];
    const publishVia = (target: 'bare' | 'gateway', body: Buffer, each: number) =>
      runPublish({ url: target === 'bare' ? bare.url : gwCache.url, headers: target === 'bare' ? {} : { authorization: publishToken! }, body, concurrent: opts.publishConcurrent, each, proxy: target === 'bare' ? bare : gwCache });
    if (publishing && opts.warmupSeconds > 0) {
      for (const target of ['bare', 'gateway'] as const) await publishVia(target, bodies[0]!.body, 1);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      // Rotate the order each round, so no scenario always runs right after the same neighbour.
      const others = scenarios.filter((s) => s.name !== 'bare');
      const baseline = scenarios.find((s) => s.name === 'bare')!;
      const rotated = others.map((_, i) => others[(i + round - 1) % others.length]!);
      // The bare proxy before and after every other scenario: each ratio is taken against the
      // two measurements next to it (report.ts perRound), seconds apart rather than a round apart.
      const order = [baseline, ...rotated.flatMap((s) => [s, baseline])];
      for (const [slot, s] of order.entries()) {
        const result = await runOne(s, opts.durationSeconds);
        loads.push({ scenario: s.name, round, slot, ...result });
        opts.progress(loadLine(round, opts.rounds, s.label, result));
      }
      // The equal-load trio back to back, in a rotating order; each gateway run is compared with
      // the bare run next to it (report.ts perRound), so their slots follow the round's last one.
      for (const [i, s] of equalLoad.map((_, i) => equalLoad[(i + round - 1) % equalLoad.length]!).entries()) {
        const result = await runOne(s, opts.equalLoadSeconds);
        loads.push({ scenario: s.name, round, slot: order.length + i, ...result });
        opts.progress(loadLine(round, opts.rounds, s.label, result));
      }
      for (const { size, body, each } of bodies) {
        // A-B-B-A within the round, A alternating between rounds: a machine whose speed drifts
        // during the round slows both sides alike, and neither always runs first after the load scenarios.
        const [a, b] = round % 2 === 1 ? (['bare', 'gateway'] as const) : (['gateway', 'bare'] as const);
        const measured: Record<'bare' | 'gateway', PublishResult[]> = { bare: [], gateway: [] };
        for (const target of [a, b, b, a]) {
          const result = await publishVia(target, body, each);
          measured[target].push(result);
          opts.progress(`[round ${round}/${opts.rounds}] publish ${size} MiB ×${opts.publishConcurrent} via ${target}: ${result.megabytesPerSecond.toFixed(0)} MB/s, CPU ${result.cpuSecondsPerGB.toFixed(2)} s/GB, RSS +${result.rssGrowthMiB.toFixed(1)} MiB ${JSON.stringify(result.statuses)}`);
        }
        for (const target of [a, b]) publishes.push({ scenario: `publish-${size}MiB-${target}`, round, ...combinePublishes(measured[target]) });
      }
    }

    let revocation: RevocationResult | null = null;
    if (opts.revocations > 0 && wanted(opts, 'revocation')) {
      revocation = await runRevocations({ gateways: [gwCache.url, gwPeer.url], tokens: revocable, ...YANK, timeoutMs: 2_000 });
      opts.progress(`revocation: ${revocation.delays.length} revocations, slowest ${Math.max(...revocation.delays).toFixed(2)} ms`);
    }
    return { loads, publishes, revocation };
  } finally {
    for (const child of started.reverse()) await child.stop();
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}

function loadLine(round: number, rounds: number, label: string, result: LoadResult): string {
  return `[round ${round}/${rounds}] ${label}: ${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, server CPU ${result.cpuMicrosPerResponse.toFixed(0)} µs/response ${JSON.stringify(result.statuses)}`;
}

const wanted = (opts: LocalOptions, scenario: string): boolean => opts.only.length === 0 || opts.only.includes(scenario);

/** The shipped config/cargo.yaml with some keys set (dotted paths). */
async function gatewayYaml(set: Record<string, unknown>): Promise<string> {
  const text = await readFile(new URL('../../config/cargo.yaml', import.meta.url), 'utf8');
  const document = parseDocument(text);
  for (const [path, value] of Object.entries(set)) document.setIn(path.split('.'), value);
  return document.toString();
}

/** The `index`-th of `parts` equal slices of `items`. */
function sliceFor<T>(items: readonly T[], index: number, parts: number): T[] {
  const size = Math.ceil(items.length / parts);
  return items.slice(index * size, (index + 1) * size);
}
