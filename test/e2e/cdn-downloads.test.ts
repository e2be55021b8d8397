/**
 * Downloads as crates.io serves them, through the gateway, with the real cargo: the registry's
 * config.json names a static host as `dl`, which the gateway cannot forward to, so it writes its
 * own `/api/v1/crates` there; the registry's API answers that download with a 302 to the static
 * host, which must reach cargo unchanged (a Location elsewhere is not rewritten). The scopegate
 * token cargo sends on reads must not follow it there.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cargoPublish, cleanup, makeCargoHome, makeCrate, runCargo } from '../support/cargo-cli.js';
import { startCargoRegistry } from '../support/cargo-registry.js';
import { startGateway, USERS, type TestGateway } from '../support/gateway.js';

after(cleanup);

for (const reads of ['public', 'token'] as const) {
  describe(`reads: ${reads}`, () => {
    let gw: TestGateway | undefined;
    after(async () => {
      await gw?.close();
      await gw?.registry.close();
    });

    test('cargo fetches a dependency from the static host the registry redirects to', async () => {
      const registry = await startCargoRegistry({ users: { ...USERS }, cdn: true });
      gw = await startGateway({ registry, editYaml: (yaml) => yaml.replace('reads: public', `reads: ${reads}`) });
      const cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
      const base = `gw-cdn-${reads}-base`;
      const publisher = (await gw.createToken({ name: 'ci', endpoint_scopes: ['publish-new'] })).token;
      const published = await cargoPublish(await makeCrate(base, '0.1.0'), { cargoHome, token: publisher });
      assert.equal(published.code, 0, published.stderr);

      const reader = reads === 'token' ? (await gw.createToken({ name: 'build', endpoint_scopes: ['read'] })).token : undefined;
      const app = await makeCrate(`gw-cdn-${reads}-app`, '0.1.0', { dependencies: { [base]: '{ version = "0.1.0", registry = "gw" }' } });
      const fetched = await runCargo(['fetch'], { cargoHome, cwd: app, token: reader });
      assert.equal(fetched.code, 0, fetched.stderr);

      assert.ok(registry.requests.some((r) => r.url === `/api/v1/crates/${base}/0.1.0/download`), 'the download went through the gateway to the API');
      const cdn = registry.cdn!.requests;
      assert.deepEqual(cdn.map((r) => `${r.method} ${r.url}`), [`GET /crates/${base}/${base}-0.1.0.crate`]);
      assert.ok(cdn.every((r) => r.headers.authorization === undefined), 'a credential followed the redirect to the static host');
    });
  });
}
