/**
 * combinePublishes(): the benchmark's A-B-B-A publish measurements of one side, combined as one.
 * Its MB/s decides the publish target, so the arithmetic is pinned here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combinePublishes, type PublishResult } from '../../bench/publish.js';

/** Equal within floating-point rounding (1 / (1 / x) need not be x exactly). */
const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-9 * expected, `${actual} ≠ ${expected}`);

const run = (megabytesPerSecond: number, cpuSecondsPerGB: number, rssGrowthMiB: number, statuses: Record<string, number>): PublishResult =>
  ({ megabytesPerSecond, cpuSecondsPerGB, rssGrowthMiB, statuses });

test('two measurements of the same bytes combine as all the bytes over all the time', () => {
  // 1 GB at 100 MB/s (10 s) and 1 GB at 300 MB/s (3.33 s): 2 GB in 13.33 s, 150 MB/s, not the mean 200.
  const combined = combinePublishes([run(100, 2, 5, { 200: 64 }), run(300, 1, 12, { 200: 63, 502: 1 })]);
  close(combined.megabytesPerSecond, 150);
  assert.equal(combined.cpuSecondsPerGB, 1.5);
  assert.equal(combined.rssGrowthMiB, 12, 'the largest growth, not a mean');
  assert.deepEqual(combined.statuses, { 200: 127, 502: 1 });
});

test('one measurement combines to itself', () => {
  const one = run(420, 1.2, 3, { 200: 16 });
  const { megabytesPerSecond, ...rest } = combinePublishes([one]);
  close(megabytesPerSecond, 420);
  assert.deepEqual(rest, { cpuSecondsPerGB: 1.2, rssGrowthMiB: 3, statuses: { 200: 16 } });
});
