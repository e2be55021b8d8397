/**
 * The benchmark's ratios (bench/report.ts perRound): each run against the bare proxy measured
 * next to it in the same round, or the round's one baseline when runs carry no slot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keptUp, perRound } from '../../bench/report.js';

type Run = { scenario: string; round: number; slot?: number; rps: number };
const ratio = (r: Run, b: Run): number => r.rps / b.rps;

describe('perRound', () => {
  it('takes the mean of the ratios against the baseline runs right before and right after', () => {
    const runs: Run[] = [
      { scenario: 'bare', round: 1, slot: 0, rps: 100 },
      { scenario: 'gw', round: 1, slot: 1, rps: 50 },
      { scenario: 'bare', round: 1, slot: 2, rps: 200 },
      { scenario: 'other', round: 1, slot: 3, rps: 1 },
      { scenario: 'bare', round: 1, slot: 4, rps: 1000 },
      { scenario: 'bare', round: 2, slot: 0, rps: 10 },
      { scenario: 'gw', round: 2, slot: 1, rps: 10 },
      { scenario: 'bare', round: 2, slot: 2, rps: 10 },
    ];
    assert.deepEqual(perRound(runs, 'gw', 'bare', ratio), [(0.5 + 0.25) / 2, 1]);
  });

  it('uses the one neighbour there is at either end of a round', () => {
    const runs: Run[] = [{ scenario: 'gw', round: 1, slot: 0, rps: 30 }, { scenario: 'bare', round: 1, slot: 1, rps: 60 }];
    assert.deepEqual(perRound(runs, 'gw', 'bare', ratio), [0.5]);
  });

  it('without slots (older results, publishes), compares with the round\'s baseline run', () => {
    const runs: Run[] = [{ scenario: 'bare', round: 1, rps: 80 }, { scenario: 'gw', round: 1, rps: 20 }, { scenario: 'gw', round: 2, rps: 20 }];
    assert.deepEqual(perRound(runs, 'gw', 'bare', ratio), [0.25]);
  });
});

describe('keptUp', () => {
  it('holds for a run that served the offered rate with connections to spare', () => {
    assert.equal(keptUp({ requestsPerSecond: 998, queued: 0, responses: 2000 }, 1000), true);
    assert.equal(keptUp({ requestsPerSecond: 1000, queued: 20, responses: 2000 }, 1000), true, '1 % waiting is tolerated');
  });

  it('fails a run that served less than the offered rate', () => {
    assert.equal(keptUp({ requestsPerSecond: 960, queued: 0, responses: 1920 }, 1000), false);
  });

  it('fails a run that served the rate but made requests wait for a connection', () => {
    // A queue that built up and drained within the run: the rate looks kept, the latency is queueing.
    assert.equal(keptUp({ requestsPerSecond: 999, queued: 21, responses: 2000 }, 1000), false);
  });
});
