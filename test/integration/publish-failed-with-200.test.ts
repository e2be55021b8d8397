/**
 * crates.io may answer a refused publish 200 with an `errors` body (its `cargo_compat` middleware,
 * `CARGO_COMPAT_STATUS_CODES=adjust-all`, cratesio-tokens §7), which cargo reports as a failure
 * (wire-facts §1.4). Such a publish created nothing, so the gateway must not remember the crate as
 * existing (`upstream.index_lag`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { cargoError, startGateway, USERS, type TestGateway } from '../support/gateway.js';

let registry: CargoRegistry;
let gw: TestGateway;

before(async () => {
  registry = await startCargoRegistry({ users: { ...USERS }, statusCodes: 'adjust-all' });
  gw = await startGateway({ registry });
});
after(async () => {
  await gw.close();
  await registry.close();
});

function publish(token: string, name: string, vers: string): Promise<{ status: number; json: unknown }> {
  return fetch(`${gw.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body: new Uint8Array(cargoPublishBody({ name, vers })) })
    .then(async (res) => ({ status: res.status, json: await res.json() as unknown }));
}

test('a publish the registry refused with 200 and an errors body is not remembered: a publish-update-only token still cannot create the crate', async () => {
  const { token: full } = await gw.createToken({ name: 'full', endpoint_scopes: ['publish-new', 'publish-update'] });
  const { token: updateOnly } = await gw.createToken({ name: 'update only', endpoint_scopes: ['publish-update'] });
  const refused = await publish(full, 'refused-200', '1.0');
  assert.deepEqual(refused, { status: 200, json: cargoError('"1.0" is an invalid semver version') });
  assert.equal(registry.crateExists('refused-200'), false);
  const puts = registry.requests.filter((r) => r.method === 'PUT').length;
  const res = await publish(updateOnly, 'refused-200', '0.1.0');
  assert.equal(res.status, 403, JSON.stringify(res.json));
  assert.deepEqual(res.json, cargoError('this token does not have the `publish-new` scope (`refused-200` is a new crate); create a token with that scope'));
  assert.equal(registry.requests.filter((r) => r.method === 'PUT').length, puts, 'a denied publish reached the upstream');
  assert.equal(registry.crateExists('refused-200'), false);
});
