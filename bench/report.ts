/**
 * Turns the runs of every round into the summary table: each figure the median over rounds with
 * its min–max, each ratio computed within a round against the bare proxy measured next to it in
 * that same round (so a noisy neighbour slows both sides of a ratio alike), and each target
 * checked against the median.
 */
import { median } from './load.js';

export interface LoadRun {
  readonly scenario: string;
  readonly round: number;
  /**
   * Its place in the round's sequence. The local suite measures the bare proxy before and after
   * every other scenario, and a ratio is then taken against those two neighbours.
   */
  readonly slot?: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly cpuMicrosPerResponse: number;
  /** Paced runs: requests that waited for a free connection, out of `responses`. */
  readonly queued?: number;
  readonly responses?: number;
}

export interface PublishRun {
  readonly scenario: string;
  readonly round: number;
  readonly megabytesPerSecond: number;
  readonly rssGrowthMiB: number;
  readonly cpuSecondsPerGB: number;
  readonly statuses: Readonly<Record<string, number>>;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface Target {
  readonly what: string;
  readonly limit: string;
  readonly measured: number;
  readonly met: boolean;
}

export interface Row {
  readonly scenario: string;
  readonly label: string;
  readonly cells: readonly string[];
}

export const spread = (values: readonly number[]): Spread => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});

/**
 * Per round, `value(run) ⊘ value(baseline run of the same round)`. Runs with a `slot` are
 * compared with the baseline runs right before and right after them in the round (the mean of
 * the two), so a host whose speed drifts over tens of seconds moves both sides of a ratio alike;
 * without slots, with the round's one baseline run.
 */
export function perRound<R extends { scenario: string; round: number; slot?: number }>(runs: readonly R[], scenario: string, baseline: string, combine: (run: R, base: R) => number): number[] {
  const out: number[] = [];
  for (const run of runs.filter((r) => r.scenario === scenario)) {
    const bases = runs.filter((r) => r.scenario === baseline && r.round === run.round);
    const neighbours = run.slot === undefined ? [] : [nearest(bases, run.slot, -1), nearest(bases, run.slot, 1)].filter((b): b is R => b !== undefined);
    if (neighbours.length > 0) out.push(neighbours.reduce((sum, base) => sum + combine(run, base), 0) / neighbours.length);
    else if (bases[0] !== undefined) out.push(combine(run, bases[0]));
  }
  return out;
}

/** A paced run served less than this share of the offered rate: saturated. */
const KEPT_UP = 0.97;
/** A paced run had more than this share of its requests wait for a free connection: saturated. */
const QUEUED_SHARE = 0.01;

/**
 * Whether a run at a fixed `rate` kept up with it. One that did not was saturated, and its
 * latency is queueing again, not the server's time per request (the equal-load table flags it).
 */
export function keptUp(run: Pick<LoadRun, 'requestsPerSecond' | 'queued' | 'responses'>, rate: number): boolean {
  return run.requestsPerSecond >= KEPT_UP * rate && (run.queued ?? 0) <= QUEUED_SHARE * (run.responses ?? 0);
}

/** The run closest to `slot` on one side (`direction` -1: before it, 1: after it). */
function nearest<R extends { slot?: number }>(runs: readonly R[], slot: number, direction: -1 | 1): R | undefined {
  let best: R | undefined;
  for (const r of runs) {
    if (r.slot === undefined || Math.sign(r.slot - slot) !== direction) continue;
    if (best === undefined || Math.abs(r.slot - slot) < Math.abs(best.slot! - slot)) best = r;
  }
  return best;
}

export const of = <R extends { scenario: string }>(runs: readonly R[], scenario: string, pick: (run: R) => number): number[] =>
  runs.filter((r) => r.scenario === scenario).map(pick);

export function formatSpread(s: Spread, digits: number, unit = ''): string {
  if (Number.isNaN(s.median)) return '—';
  const f = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Statuses other than the expected one, e.g. `503×12`; empty when none. */
export function unexpected(statuses: Readonly<Record<string, number>>, expected: number, errors = 0): string {
  const odd = Object.entries(statuses).filter(([code]) => Number(code) !== expected).map(([code, n]) => `${code}×${n}`);
  if (errors > 0) odd.push(`errors×${errors}`);
  return odd.join(', ');
}
