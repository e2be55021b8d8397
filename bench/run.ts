/**
 * `npm run bench`: the performance suite (issue 5). Without `--target` it builds its own process
 * tree and writes bench/RESULTS.md and bench/results.json; with `--target <url> --token <token>` it
 * load-tests a running gateway and prints the same kind of table.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile } from './load.js';
import { EQUAL_LOAD, runLocal, type LocalResults } from './local.js';
import { formatSpread, keptUp, markdownTable, of, perRound, spread, unexpected, type LoadRun, type Target } from './report.js';
import { runTarget, TARGET_DEFAULTS } from './target.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    tokens: { type: 'string', default: '10000' },
    revocations: { type: 'string', default: '100' },
    'publish-concurrent': { type: 'string', default: '8' },
    'equal-rate': { type: 'string', default: '1000' },
    'equal-duration': { type: 'string', default: '2' },
    rate: { type: 'string' },
    only: { type: 'string', default: '' },
    profile: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    rerender: { type: 'boolean', default: false },
    target: { type: 'string' },
    token: { type: 'string' },
    route: { type: 'string', default: TARGET_DEFAULTS.route },
    'denied-route': { type: 'string', default: TARGET_DEFAULTS.deniedRoute },
    'read-route': { type: 'string', default: TARGET_DEFAULTS.readRoute },
    help: { type: 'boolean', default: false },
  },
});

const HELP = `npm run bench [-- options]
  local suite (default): starts redis-server, an upstream, a bare proxy and gateway processes
    --rounds N (5)  --duration S (3)  --warmup S (1)  --connections N (50)
    --tokens N (10000)  --revocations N (100)  --publish-concurrent N (8)
    --equal-rate N (1000)  --equal-duration S (2): the equal-load latency runs
    --only a,b      scenarios: direct bare allowed-cache allowed-nocache read rotating denied equal-load publish revocation,
                    and allowed-workers2 (only when named: \`workers: 2\`, not a target)
    --profile       run the gateways with --cpu-prof (profiles in bench/profiles/)
    --no-write      print only; do not write bench/RESULTS.md and bench/results.json
    --rerender      write bench/RESULTS.md again from bench/results.json (after editing profile-notes.md)
  against a running gateway:
    --target URL --token TOKEN [--route "METHOD /path"] [--denied-route "METHOD /path"] [--read-route "METHOD /path"]
    --rate N        evenly paced, N req/s, instead of as fast as it answers: latency at your usual traffic,
                    without saturating a gateway that serves users`;

const int = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
  return n;
};
const positive = (name: keyof typeof values): number => {
  const n = int(name);
  if (n === 0) throw new Error(`--${name} must be above 0`);
  return n;
};
const progress = (line: string): void => {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};
const here = (file: string): string => fileURLToPath(new URL(`../../bench/${file}`, import.meta.url));

async function main(): Promise<void> {
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  if (values.rerender) return rerender();
  const machine = describeMachine();
  const settings = {
    rounds: int('rounds'), durationSeconds: int('duration'), warmupSeconds: int('warmup'), connections: int('connections'), publishConcurrent: int('publish-concurrent'),
    equalLoadRate: int('equal-rate'), equalLoadSeconds: int('equal-duration'),
  };
  const started = Date.now();
  if (values.target !== undefined) {
    const { loads, scenarios } = await runTarget({
      target: values.target, token: values.token ?? null, route: values.route!, deniedRoute: values['denied-route']!, readRoute: values['read-route']!,
      rate: values.rate === undefined ? null : positive('rate'),
      ...settings, progress,
    });
    const rows = scenarios.map((s) => loadRow(loads, s.name, s.label, null, s.name === 'denied' ? 403 : 200));
    // No warm-up and no equal-load runs here: the gateway is the operator's, already running.
    const load = values.rate === undefined ? 'autocannon 8, as fast as the gateway answers' : `evenly paced at ${values.rate} req/s`;
    process.stdout.write(`\n${markdownTable(LOAD_HEADER, rows)}\n\n${settings.rounds} rounds × ${settings.durationSeconds} s per scenario, ${settings.connections} connections, ${load}; ${machine.summary}\n`);
    return;
  }
  progress(`scopegate bench: ${machine.summary}; ${settingsLine(settings)}`);
  const machineBefore = machineTicks();
  const results = await runLocal({
    ...settings,
    distinctTokens: int('tokens'), revocations: int('revocations'), publishConcurrent: int('publish-concurrent'),
    only: values.only!.split(',').map((s) => s.trim()).filter(Boolean),
    profileDir: values.profile ? here('profiles') : null,
    progress,
  });
  const elapsed = (Date.now() - started) / 1000;
  // After runLocal every server has exited and been reaped, so their CPU time is in our cutime.
  const machineAfter = { loadAverage: os.loadavg(), ...otherWork(machineBefore, machineTicks()) };
  const notes = await readFile(here('profile-notes.md'), 'utf8').catch(() => '');
  const report = renderLocal(results, machine, machineAfter, settings, elapsed, notes);
  process.stdout.write(`\n${report.markdown}\n`);
  if (!values['no-write']) {
    await writeFile(here('RESULTS.md'), report.markdown);
    await writeFile(here('results.json'), `${JSON.stringify({ machine, machineAfter, settings, elapsedSeconds: elapsed, targets: report.targets, ...results }, null, 2)}\n`);
    progress('wrote bench/RESULTS.md and bench/results.json');
  }
}

/** RESULTS.md from the last run's results.json, with the current profile notes. */
async function rerender(): Promise<void> {
  const saved = JSON.parse(await readFile(here('results.json'), 'utf8')) as {
    machine: Machine; machineAfter: { loadAverage: number[]; otherCpuSeconds: number; stealSeconds: number };
    settings: Record<string, number>; elapsedSeconds: number; publishConcurrent?: number;
  } & LocalResults;
  const notes = await readFile(here('profile-notes.md'), 'utf8').catch(() => '');
  const report = renderLocal(saved, saved.machine, saved.machineAfter, { publishConcurrent: 8, ...saved.settings }, saved.elapsedSeconds, notes);
  await writeFile(here('RESULTS.md'), report.markdown);
  progress('wrote bench/RESULTS.md from bench/results.json');
}

const LOAD_HEADER = ['scenario', 'req/s', '× bare proxy', 'p50 ms', 'p99 ms', 'p99 added over bare, ms', 'server CPU µs/response', 'unexpected answers'];

function loadRow(loads: readonly LoadRun[], scenario: string, label: string, baseline: string | null, expected: number): string[] {
  const runs = loads.filter((r) => r.scenario === scenario);
  const ratio = baseline === null || scenario === baseline ? null : spread(perRound(loads, scenario, baseline, (r, b) => r.requestsPerSecond / b.requestsPerSecond));
  const added = baseline === null || scenario === baseline ? null : spread(perRound(loads, scenario, baseline, (r, b) => r.p99 - b.p99));
  const odd = runs.map((r) => unexpected(r.statuses, expected, r.errors)).filter(Boolean).join('; ');
  return [
    label,
    formatSpread(spread(of(loads, scenario, (r) => r.requestsPerSecond)), 0),
    ratio === null ? '—' : formatSpread(ratio, 2),
    formatSpread(spread(of(loads, scenario, (r) => r.p50)), 2),
    formatSpread(spread(of(loads, scenario, (r) => r.p99)), 2),
    added === null ? '—' : formatSpread(added, 2),
    formatSpread(spread(of(loads, scenario, (r) => r.cpuMicrosPerResponse)), 0),
    odd || 'none',
  ];
}

const EQUAL_HEADER = ['scenario', 'req/s', 'p50 ms', 'p50 added over bare, ms', 'p99 ms', 'p99 added over bare, ms', 'server CPU µs/response', 'unexpected answers'];

const EQUAL_LABELS: Record<(typeof EQUAL_LOAD)[number], string> = {
  'equal-bare': 'bare proxy',
  'equal-cache': 'gateway: allowed yank, token cache on',
  'equal-nocache': 'gateway: allowed yank, cache off (one Redis round trip)',
};

function equalLoadRow(loads: readonly LoadRun[], scenario: (typeof EQUAL_LOAD)[number], rate: number): string[] {
  const runs = loads.filter((r) => r.scenario === scenario);
  const added = (pick: (r: LoadRun) => number) => (scenario === 'equal-bare' ? '—' : formatSpread(spread(perRound(loads, scenario, 'equal-bare', (r, b) => pick(r) - pick(b))), 2));
  const behind = runs.filter((r) => !keptUp(r, rate));
  const odd = [...runs.map((r) => unexpected(r.statuses, 200, r.errors)).filter(Boolean), ...(behind.length === 0 ? [] : [`fell behind the rate (saturated) in ${behind.length} of ${runs.length} rounds`])];
  return [
    EQUAL_LABELS[scenario],
    formatSpread(spread(of(loads, scenario, (r) => r.requestsPerSecond)), 0),
    formatSpread(spread(of(loads, scenario, (r) => r.p50)), 2),
    added((r) => r.p50),
    formatSpread(spread(of(loads, scenario, (r) => r.p99)), 2),
    added((r) => r.p99),
    formatSpread(spread(of(loads, scenario, (r) => r.cpuMicrosPerResponse)), 0),
    odd.join('; ') || 'none',
  ];
}

const LABELS: Record<string, string> = {
  direct: 'direct to the upstream',
  bare: 'bare proxy (http-proxy-3, keep-alive agent, no auth) — the limit',
  'allowed-cache': 'gateway: allowed yank, token cache on',
  'allowed-nocache': 'gateway: allowed yank, cache off (one Redis round trip)',
  read: 'gateway: public read, no token',
  rotating: 'gateway: allowed yank, 10,000 tokens in rotation, cache on',
  denied: 'gateway: denied (wrong scope), no upstream hop',
  'allowed-workers2': 'gateway: allowed yank, cache on, `workers: 2` (not a target: two processes against one; CPU summed over both workers and the primary)',
};

/** Busy and steal clock ticks of the whole machine (/proc/stat), and this process tree's own. */
function machineTicks(): { busy: number; steal: number; ours: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  const self = readFileSync('/proc/self/stat', 'utf8');
  const fields = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
  // utime, stime, cutime, cstime: the 14th to 17th fields.
  return { busy: user + nice + system + irq + softirq, steal, ours: fields[11]! + fields[12]! + fields[13]! + fields[14]! };
}

/** CPU seconds other processes used while the benchmark ran (machine busy time minus ours). */
function otherWork(before: ReturnType<typeof machineTicks>, after: ReturnType<typeof machineTicks>): { otherCpuSeconds: number; stealSeconds: number } {
  const ticks = 100;
  return {
    otherCpuSeconds: Math.max(0, (after.busy - before.busy - (after.ours - before.ours)) / ticks),
    stealSeconds: (after.steal - before.steal) / ticks,
  };
}

function renderLocal(results: LocalResults, machine: Machine, after: { loadAverage: number[]; otherCpuSeconds: number; stealSeconds: number }, settings: Record<string, number>, elapsed: number, notes: string): { markdown: string; targets: Target[] } {
  const { loads, publishes, revocation } = results;
  const present = Object.keys(LABELS).filter((s) => loads.some((r) => r.scenario === s));
  const loadRows = present.map((s) => loadRow(loads, s, LABELS[s]!, 'bare', s === 'denied' ? 403 : 200));
  const equalRows = EQUAL_LOAD.filter((s) => loads.some((r) => r.scenario === s)).map((s) => equalLoadRow(loads, s, settings.equalLoadRate!));
  const publishRows: string[][] = [];
  for (const size of [10, 50]) {
    const bare = `publish-${size}MiB-bare`;
    const gw = `publish-${size}MiB-gateway`;
    if (!publishes.some((r) => r.scenario === gw)) continue;
    publishRows.push([
      `publish ${size} MiB × ${settings.publishConcurrent} concurrent`,
      formatSpread(spread(of(publishes, bare, (r) => r.megabytesPerSecond)), 0),
      formatSpread(spread(of(publishes, gw, (r) => r.megabytesPerSecond)), 0),
      formatSpread(spread(perRound(publishes, gw, bare, (r, b) => r.megabytesPerSecond / b.megabytesPerSecond)), 2),
      formatSpread(spread(of(publishes, bare, (r) => r.cpuSecondsPerGB)), 2),
      formatSpread(spread(of(publishes, gw, (r) => r.cpuSecondsPerGB)), 2),
      formatSpread(spread(of(publishes, bare, (r) => r.rssGrowthMiB)), 1),
      formatSpread(spread(of(publishes, gw, (r) => r.rssGrowthMiB)), 1),
      publishes.filter((r) => r.scenario === gw || r.scenario === bare).map((r) => unexpected(r.statuses, 200)).filter(Boolean).join('; ') || 'none',
    ]);
  }
  const targets = checkTargets(results);
  const revocationLine = revocation === null ? 'not run' : (() => {
    const sorted = [...revocation.delays].sort((a, b) => a - b);
    return `${revocation.delays.length} revocations across 2 gateway processes: p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms; not seen within 2 s: ${revocation.timedOut}`;
  })();
  const markdown = [
    '# scopegate benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts). Every figure is the median over rounds with the min–max in',
    'brackets; every ratio is computed within a round against the bare proxy measured right before and right after it (the mean of the two ratios).',
    '',
    '## Requests (small JSON upstream)',
    '',
    markdownTable(LOAD_HEADER, loadRows),
    '',
    ...(equalRows.length === 0 ? [] : [
      `## Latency at equal load (${settings.equalLoadRate} req/s offered to each, ${settings.connections} connections)`,
      '',
      'At saturation (the table above) a slower server queues more, so its p99 there is mostly its lower throughput again',
      '(p50 ≈ connections ÷ req/s); the p99 targets are checked there. Here every server gets the same evenly paced request',
      'rate, meant to be well below what any of them can serve, so what is added is the time the gateway itself takes per',
      'request (not a target, and not a substitute for one). A run that could not keep up (fewer answers than offered, or',
      'more than 1 % of requests waiting for a free connection) is flagged: its latency is queueing again. At such rates',
      'every process sleeps between requests, and the CPU column includes what this host charges for each wake-up',
      '(see "Latency at equal load" below), so it is not comparable with the saturated table\'s.',
      '',
      markdownTable(EQUAL_HEADER, equalRows),
      '',
    ]),
    `## Publish (${settings.publishConcurrent} concurrent cargo publishes)`,
    '',
    markdownTable(['scenario', 'bare proxy MB/s', 'gateway MB/s', 'gateway × bare', 'bare CPU s/GB', 'gateway CPU s/GB', 'bare RSS growth MiB', 'gateway RSS growth MiB', 'unexpected answers'], publishRows),
    '',
    '## Revocation',
    '',
    revocationLine,
    '',
    '## Targets',
    '',
    markdownTable(['target', 'limit', 'measured: median (min–max)', 'met'], targets.map((t) => [t.what, t.limit, t.measured === undefined ? '—' : t.limit.includes('MiB') || t.limit.includes('ms') ? t.measured.toFixed(2) : t.measured.toFixed(3), t.met ? 'yes' : '**no**'])),
    '',
    '## Machine and settings',
    '',
    `- ${machine.summary}`,
    `- load average (1, 5, 15 min) before: ${machine.loadAverage.map((n) => n.toFixed(2)).join(', ')}; after: ${after.loadAverage.map((n) => n.toFixed(2)).join(', ')}`,
    `- ${otherWorkLine(after.otherCpuSeconds, after.stealSeconds, elapsed, machine.cpus)}`,
    `- ${settingsLine(settings)}; whole run ${elapsed.toFixed(0)} s`,
    '- every server in its own process: upstream (tiny JSON, drains bodies), bare proxy, gateways (`dist/src/main.js` with `npm start`\'s Node flag and malloc settings, `workers: 1`, request log to /dev/null), private redis-server; autocannon in the benchmark process. The bare proxy and the upstream run with the same malloc settings as the gateways (`MALLOC_TRIM_THRESHOLD_`, `MALLOC_TOP_PAD_`; src/runtime-flags.ts)',
    `- publish: ${settings.publishConcurrent} connections, each sending 8 × 10 MiB or 2 × 50 MiB bodies back to back (per round and size: A-B-B-A, A alternating between bare proxy and gateway; each side's two measurements combined as total bytes over total time); proxy CPU per GB from /proc; RSS sampled every 5 ms from /proc (and VmHWM after a reset)`,
    '- server CPU µs/response: user + system time of the process under test (/proc/<pid>/stat) over the run, divided by its responses; it varies far less with a busy machine than req/s does',
    '',
    ...(notes === '' ? [] : [notes.trimEnd(), '']),
  ].join('\n');
  return { markdown, targets };
}

function checkTargets(results: LocalResults): Target[] {
  const { loads, publishes, revocation } = results;
  const targets: Target[] = [];
  const ratio = (s: string) => spread(perRound(loads, s, 'bare', (r, b) => r.requestsPerSecond / b.requestsPerSecond));
  const added = (s: string) => spread(perRound(loads, s, 'bare', (r, b) => r.p99 - b.p99));
  const add = (what: string, limit: string, measured: number, met: boolean): void => {
    if (!Number.isNaN(measured)) targets.push({ what, limit, measured, met });
  };
  add('allowed, cache on: req/s × bare proxy', '≥ 0.95', ratio('allowed-cache').median, ratio('allowed-cache').median >= 0.95);
  add('allowed, cache off: req/s × bare proxy', '≥ 0.85', ratio('allowed-nocache').median, ratio('allowed-nocache').median >= 0.85);
  add('allowed, cache on: p99 added over bare proxy', '≤ 1 ms', added('allowed-cache').median, added('allowed-cache').median <= 1);
  add('allowed, cache off: p99 added over bare proxy', '≤ 2 ms', added('allowed-nocache').median, added('allowed-nocache').median <= 2);
  add('denied: req/s × bare proxy', '≥ 2', ratio('denied').median, ratio('denied').median >= 2);
  for (const size of [10, 50]) {
    const r = spread(perRound(publishes, `publish-${size}MiB-gateway`, `publish-${size}MiB-bare`, (g, b) => g.megabytesPerSecond / b.megabytesPerSecond));
    add(`publish ${size} MiB: MB/s × bare proxy`, '≥ 0.9', r.median, r.median >= 0.9);
  }
  const rss = spread(of(publishes, 'publish-50MiB-gateway', (r) => r.rssGrowthMiB));
  if (rss.max !== -Infinity) add('publish 50 MiB ×8: gateway peak RSS growth (worst round)', '< 64 MiB', rss.max, rss.max < 64);
  if (revocation !== null) {
    const p99 = percentile([...revocation.delays].sort((a, b) => a - b), 0.99);
    add('revocation visible in every process, p99', '≤ 100 ms', p99, p99 <= 100 && revocation.timedOut === 0);
  }
  return targets;
}

function otherWorkLine(otherSeconds: number, stealSeconds: number, elapsed: number, cpus: number): string {
  const share = (100 * otherSeconds) / (elapsed * cpus);
  const steal = stealSeconds > 0.5 ? `; the hypervisor stole ${stealSeconds.toFixed(1)} CPU-seconds` : '';
  if (share < 2) return `the machine was otherwise quiet: other processes used ${otherSeconds.toFixed(1)} CPU-seconds during the run${steal}`;
  return `**other work was running on this machine**: processes outside the benchmark used ${otherSeconds.toFixed(0)} CPU-seconds during the run, ${share.toFixed(0)} % of the ${cpus} CPUs${steal}. Absolute figures are depressed and noisy; the per-round ratios and the CPU µs/response column hold up better; re-run on a quiet machine for the record`;
}

interface Machine {
  readonly summary: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly loadAverage: number[];
}

function describeMachine(): Machine {
  const cpus = os.cpus();
  const m = {
    cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version, os: `${os.type()} ${os.release()}`, loadAverage: os.loadavg(),
  };
  return { ...m, summary: `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}` };
}

function settingsLine(s: Record<string, number>): string {
  const equal = s.equalLoadRate === undefined ? '' : `; equal-load runs ${s.equalLoadSeconds} s at ${s.equalLoadRate} req/s`;
  return `${s.rounds} rounds × ${s.durationSeconds} s per scenario (after ${s.warmupSeconds ?? 0} s warm-up), ${s.connections} connections, autocannon 8${equal}`;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
