/**
 * afterPollPhase(): a request decided in the turn it arrived in is answered in that turn's check
 * phase, together with the others that arrived alongside it; one that already waited on I/O in an
 * earlier turn is not deferred a second time. Real event loop, no mocked timers.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs';
import { describe, it } from 'node:test';
import type { RequestContext } from '../../src/http/context.js';
import { afterPollPhase, loopTurns } from '../../src/http/batching.js';

/** Resumes in the poll phase, where a request's bytes arrive (an fs callback is an I/O callback). */
const pollPhase = (): Promise<void> => new Promise((resolve) => stat('.', () => resolve()));
const checkPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What createRequestHandler does on arrival; afterPollPhase reads nothing else of the context. */
const arrive = (): RequestContext => ({ arrivedInTurn: loopTurns.mark() }) as RequestContext;

async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('afterPollPhase', () => {
  it('answers the requests decided in their arrival turn together, in that turn\'s check phase', async () => {
    await pollPhase();
    const events: string[] = [];
    setTimeout(() => events.push('next turn\'s timers'), 0);
    const first = arrive();
    const second = arrive();
    // As in createRequestHandler: the answer waits for whatever afterPollPhase returns.
    void Promise.resolve(afterPollPhase(first)).then(() => events.push('first answered'));
    await Promise.resolve(); // the second is decided a little later, after a cache hit (microtasks only)
    void Promise.resolve(afterPollPhase(second)).then(() => events.push('second answered'));
    await drainMicrotasks();
    // A copy: deepEqual asserts its argument's type, which would narrow `events` to never[].
    assert.deepEqual([...events], [], 'nothing is answered before the check phase');
    await new Promise<void>((resolve) => setImmediate(() => {
      events.push('check phase, queued after both');
      resolve();
    }));
    assert.deepEqual(events, ['first answered', 'second answered', 'check phase, queued after both']);
  });

  it('does not defer again a request that arrived in an earlier turn (it waited on I/O)', async () => {
    const ctx = arrive();
    await checkPhase();
    assert.equal(afterPollPhase(ctx), undefined);
  });

  it('advances the turn once per check phase, however many requests arrived in it', async () => {
    const turn = arrive().arrivedInTurn;
    for (let i = 0; i < 5; i++) assert.equal(arrive().arrivedInTurn, turn);
    await checkPhase();
    const later = arrive();
    assert.equal(later.arrivedInTurn, turn + 1);
    const wait = afterPollPhase(later);
    assert.ok(wait instanceof Promise, 'a request arriving in the later turn still waits for its check phase');
    await wait;
    assert.equal(loopTurns.count, turn + 2);
  });
});
