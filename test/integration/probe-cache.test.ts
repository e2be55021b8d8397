/**
 * The existence probe's cache across gateway processes: a "new" answer one process cached must
 * not outlive a publish another process forwarded (`upstream.index_lag: 0s`, a registry whose
 * index shows a publish at once, so no publish is remembered in Redis).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { cargoError, startGateway, USERS, type TestGateway } from '../support/gateway.js';
import { uniquePrefix } from '../support/redis-server.js';

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
