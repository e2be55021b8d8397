/**
 * `npm run bench -- --target`: the load runs against a gateway someone already runs (here a real
 * gateway process in front of the test cargo registry), as fast as it answers or paced.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runTarget, TARGET_DEFAULTS } from '../../bench/target.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let token: string;

before(async () => {
  gw = await startGateway();
  ({ token } = await gw.createToken({ name: 'bench', endpoint_scopes: ['yank'] }));
});
after(async () => {
  await gw.close();
});

const options = (rate: number | null, progress: string[]) => ({
  target: `${gw.url}/`, token, ...TARGET_DEFAULTS, rounds: 1, durationSeconds: 0.5, connections: 20, rate, progress: (line: string) => void progress.push(line),
});

test('paced: every scenario at the given rate, the denied one refused by the gateway itself', async () => {
  const progress: string[] = [];
  const { loads, scenarios } = await runTarget(options(100, progress));
  assert.deepEqual(scenarios.map((s) => s.name), ['allowed', 'denied', 'read']);
  for (const run of loads) {
    assert.equal(run.responses, 50, `${run.scenario}: 100 req/s for 0.5 s`);
    assert.ok(run.requestsPerSecond > 30 && run.requestsPerSecond <= 110, `${run.scenario}: ${run.requestsPerSecond} req/s`);
    assert.equal(typeof run.queued, 'number', 'a paced run');
  }
  assert.deepEqual(loads.find((r) => r.scenario === 'denied')!.statuses, { 403: 50 });
  assert.equal(loads.find((r) => r.scenario === 'allowed')!.statuses[403], undefined);
  assert.equal(progress.length, 3, 'a progress line per run');
});

test('unpaced: as fast as the gateway answers (autocannon)', async () => {
  const { loads } = await runTarget({ ...options(null, []), durationSeconds: 0.3 });
  assert.equal(loads.length, 3);
  for (const run of loads) {
    assert.equal(run.queued, undefined, 'not a paced run');
    assert.ok(run.responses! > 0 && run.errors === 0, `${run.scenario}: ${run.responses} answers, ${run.errors} errors`);
  }
});
