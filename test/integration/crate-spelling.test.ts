/**
 * A crate has one canonical name (`A_b-C` is `a-b-c`) but the cargo index is not `-`/`_`
 * insensitive: each spelling is its own index file. The gateway's view of whether a crate exists
 * (publish-new vs publish-update) must not come from asking about another spelling than the one
 * being published.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { cargoError, rawRequest, startGateway, USERS, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let newOnly: string;
/**
 * Five separators: past the four up to which the probe asks every `-`/`_` spelling, so it asks
 * only the name as given, all-`-` and all-`_` (2^5 spellings would be 32 requests per probe).
 * `OTHER` is then a spelling whose index files do not exist.
 */
const EXISTING = 'mix-ed_spel-l-cr-ate';
const OTHER = 'mix_ed-spel-l-cr-ate';

before(async () => {
  gw = await startGateway();
  const seeded = await fetch(`${gw.registry.url}/api/v1/crates/new`, {
    method: 'PUT', headers: { authorization: Object.keys(USERS)[0]! }, body: new Uint8Array(cargoPublishBody({ name: EXISTING, vers: '1.0.0' })),
  });
  assert.equal(seeded.status, 200, await seeded.text());
  newOnly = (await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
});
after(() => gw.close());

const publish = (name: string, vers: string): ReturnType<typeof rawRequest> =>
  rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: newOnly }, cargoPublishBody({ name, vers }));

test('a publish-new-only token cannot publish a version of an existing crate after asking about another spelling of its name', async () => {
  // Another spelling the probe does not find: it reads as new, and the registry refuses it for
  // the name the crate already has.
  const other = await publish(OTHER, '2.0.0');
  assert.equal(other.status, 400, other.text);
  assert.deepEqual(JSON.parse(other.text), cargoError(`crate was previously named \`${EXISTING}\``));

  gw.registry.clearRequests();
  const res = await publish(EXISTING, '2.0.0');
  assert.equal(res.status, 403, res.text);
  assert.deepEqual(JSON.parse(res.text), cargoError(`this token does not have the \`publish-update\` scope (\`${EXISTING}\` already exists); create a token with that scope`));
  // The upstream was asked whether the crate exists, at this spelling's index files, and nothing else.
  const asked = gw.registry.requests.map((r) => `${r.method} ${r.url}`);
  assert.ok(asked.includes(`GET /index/mi/x-/${EXISTING}`), asked.join(', '));
  assert.ok(asked.every((line) => line.startsWith('GET /index/mi/x')), asked.join(', '));
  assert.deepEqual(gw.registry.indexLines(EXISTING).map((l) => l.vers), ['1.0.0']);
});
