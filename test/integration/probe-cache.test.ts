/**
 * publish-new vs publish-update across gateway processes, with `upstream.index_lag: 0s` (a
 * registry whose index shows a publish at once, so no publish is remembered in Redis): a "new"
 * answer one process cached must not outlive a publish another process forwarded, and of several
 * publishes creating one crate at once only one may go through.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { cargoError, startGateway, USERS, type TestGateway } from '../support/gateway.js';
import { uniquePrefix } from '../support/redis-server.js';
import type { PublishedCrates } from '../../src/store/published-crates.js';

function publish(gw: TestGateway, token: string, name: string, vers: string): Promise<{ status: number; json: unknown }> {
  return fetch(`${gw.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body: new Uint8Array(cargoPublishBody({ name, vers })) })
    .then(async (res) => ({ status: res.status, json: await res.json() as unknown }));
}

const upstreamPuts = (registry: CargoRegistry): number => registry.requests.filter((r) => r.method === 'PUT').length;

describe('two gateways on one Redis with index_lag: 0s, in front of a registry whose index shows a publish at once', () => {
  let registry: CargoRegistry;
  let a: TestGateway;
  let b: TestGateway;
  let newOnly: string;

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS } });
    const keyPrefix = uniquePrefix();
    const editYaml = (y: string): string => y.replace(/index_lag: .*$/m, 'index_lag: 0s');
    [a, b] = await Promise.all([startGateway({ registry, keyPrefix, editYaml }), startGateway({ registry, keyPrefix, editYaml })]);
    newOnly = (await a.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await registry.close();
  });

  test('of several publishes of one new crate at once by a publish-new-only token, through both gateways, exactly one creates it and no other adds a version', async () => {
    const versions = ['0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0', '0.6.0'];
    const putsBefore = upstreamPuts(registry);
    const answers = await Promise.all(versions.map((vers, i) => publish(i % 2 === 0 ? a : b, newOnly, 'racing-new', vers)));
    assert.equal(answers.filter((r) => r.status === 200).length, 1, JSON.stringify(answers));
    for (const res of answers.filter((r) => r.status !== 200)) {
      assert.ok(
        isDeepStrictEqual(res, { status: 409, json: cargoError('another publish of `racing-new`, a new crate, is still under way; try again once it has finished') })
          || isDeepStrictEqual(res, { status: 403, json: cargoError('this token does not have the `publish-update` scope (`racing-new` already exists); create a token with that scope') }),
        JSON.stringify(res),
      );
    }
    assert.equal(registry.indexLines('racing-new').length, 1);
    assert.equal(upstreamPuts(registry), 1 + putsBefore, 'a refused publish reached the upstream');
  });

  test('a publish-new-only token cannot publish a second version through a gateway that probed the crate before the other one published it', async () => {
    // Gateway b asks the registry about the crate and learns it is new; the registry refuses this publish itself (not semver).
    assert.equal((await publish(b, newOnly, 'cached-new', '1.0')).status, 400);
    assert.equal((await publish(a, newOnly, 'cached-new', '0.1.0')).status, 200);
    assert.equal(registry.crateExists('cached-new'), true);
    const puts = upstreamPuts(registry);
    const res = await publish(b, newOnly, 'cached-new', '0.2.0');
    assert.equal(res.status, 403, JSON.stringify(res.json));
    assert.deepEqual(res.json, cargoError('this token does not have the `publish-update` scope (`cached-new` already exists); create a token with that scope'));
    assert.equal(upstreamPuts(registry), puts, 'a denied publish reached the upstream');
    assert.deepEqual(registry.indexLines('cached-new').map((l) => l.vers), ['0.1.0']);
  });
});

describe('a publish-new-only token\'s creation claim, on a Redis slow to release it', () => {
  const RELEASE_DELAY_MS = 300;
  let gw: TestGateway;
  let released = 0;
  before(async () => {
    gw = await startGateway({
      wrapPublished: (published) => Object.assign(Object.create(published) as PublishedCrates, {
        release: async (name: string, owner: string) => {
          await new Promise((resolve) => setTimeout(resolve, RELEASE_DELAY_MS));
          await published.release(name, owner);
          released++;
        },
      }),
    });
  });
  after(() => gw.close());

  test('is released, and the publish logged and audited, before the client has the answer', async () => {
    const { token, id } = await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] });
    const res = await publish(gw, token, 'claimed-crate', '0.1.0');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(released, 1, 'the claim was still held when the client had its answer');
    const line = gw.logLines().find((l) => l['req.path'] === '/api/v1/crates/new');
    assert.equal(line?.status, 200, 'no log line for the publish when its answer arrived');
    await gw.audit.flush();
    const decisions = (await gw.audit.read({ event: 'decision' }, 10)).map((e) => [e.route, e.verdict, e.token, e.crate]);
    assert.deepEqual(decisions, [['publish', 'allow', id, 'claimed-crate']]);
  });

  test('is released once when the publish is refused upstream, and the crate stays new', async () => {
    const { token } = await gw.createToken({ name: 'new only, refused', endpoint_scopes: ['publish-new'] });
    const before = released;
    assert.equal((await publish(gw, token, 'refused-crate', '1.0')).status, 400);
    assert.equal(released, before + 1);
    assert.equal((await publish(gw, token, 'refused-crate', '1.0.0')).status, 200);
    assert.equal(released, before + 2);
  });
});
