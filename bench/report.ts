/**
 * Turns the runs of every round into the summary table: each figure the median over rounds with
 * its min–max, each ratio computed within a round against the bare proxy of that same round (so a
 * noisy neighbour slows both sides of a ratio alike), and each target checked against the median.
 */
import { median } from './load.js';

export interface LoadRun {
  readonly scenario: string;
  readonly round: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly cpuMicrosPerResponse: number;
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

/** Per round, `value(run) ⊘ value(baseline run of the same round)`. */
export function perRound<R extends { scenario: string; round: number }>(runs: readonly R[], scenario: string, baseline: string, combine: (run: R, base: R) => number): number[] {
  const out: number[] = [];
  for (const run of runs.filter((r) => r.scenario === scenario)) {
    const base = runs.find((r) => r.scenario === baseline && r.round === run.round);
    if (base !== undefined) out.push(combine(run, base));
  }
  return out;
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
