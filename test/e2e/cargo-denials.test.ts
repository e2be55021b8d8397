/**
 * End to end with the real `cargo` binary: what cargo shows when the gateway refuses a write.
 * Each refusal must reach the user verbatim in cargo's stderr, make cargo exit non-zero, and never
 * reach the registry. Successful flows are in cargo.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cargoPublish, cleanup, makeCargoHome, makeCrate, runCargo, type CargoResult } from '../support/cargo-cli.js';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

const DAY = 86_400_000;
const ALICE = 'alice-upstream-secret';
const ALL_SCOPES = ['publish-new', 'publish-update', 'yank', 'change-owners'];

let gw: TestGateway;
let cargoHome: string;
let unique = 0;
const crateName = (what: string): string => `gw-e2e-${what}-${process.pid}-${++unique}`;

before(async () => {
  gw = await startGateway();
  cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
});
after(async () => {
  gw?.setNow(null);
  await gw?.close();
  await cleanup();
});

const token = async (endpoint_scopes: string[] | null, crate_scopes: string[] | null = ['gw-e2e*'], expired_at?: string): Promise<string> =>
  (await gw.createToken({ name: `e2e-deny-${++unique}`, endpoint_scopes, crate_scopes, ...(expired_at ? { expired_at } : {}) })).token;

/** A crate alice owns, put straight into the registry (the operation under test is what cargo runs next). */
async function seeded(what: string): Promise<string> {
  const name = crateName(what);
  const res = await fetch(`${gw.registry.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: ALICE }, body: new Uint8Array(cargoPublishBody({ name, vers: '1.0.0' })) });
  assert.equal(res.status, 200, `seeding ${name} failed`);
  return name;
}

type Op = { args: (crate: string) => string[]; write: (crate: string) => string; publish?: true };
const OPS = {
  publish: { args: () => [], write: () => 'PUT /api/v1/crates/new', publish: true },
  yank: { args: (c) => ['yank', '--registry', 'gw', c, '--version', '1.0.0'], write: (c) => `DELETE /api/v1/crates/${c}/1.0.0/yank` },
  unyank: { args: (c) => ['yank', '--registry', 'gw', c, '--version', '1.0.0', '--undo'], write: (c) => `PUT /api/v1/crates/${c}/1.0.0/unyank` },
  'owner-add': { args: (c) => ['owner', '--registry', 'gw', '--add', 'bob', c], write: (c) => `PUT /api/v1/crates/${c}/owners` },
  // A read: what must not reach the registry is the token, which assertRefused checks on every request.
  'owner-list': { args: (c) => ['owner', '--registry', 'gw', '--list', c], write: () => 'nothing is written' },
} satisfies Record<string, Op>;

/**
 * Runs `op` with `presented` and asserts the refusal: cargo exits 101 and prints the gateway's
 * message after the status it came with, and the registry received neither the write nor the token.
 */
async function assertRefused(op: Op, crate: string, presented: string, detail: string, status = '403 Forbidden'): Promise<CargoResult> {
  const mark = gw.registry.requests.length;
  const result = op.publish
    ? await cargoPublish(await makeCrate(crate, '2.0.0'), { cargoHome, token: presented })
    : await runCargo(op.args(crate), { cargoHome, token: presented });
  assert.equal(result.code, 101, `cargo did not fail:\n${result.stderr}`);
  assert.ok(result.stderr.includes(`the remote server responded with an error (status ${status}): ${detail}`), `cargo's stderr lacks the gateway's message:\n${result.stderr}`);
  const received = gw.registry.requests.slice(mark);
  assert.deepEqual(received.filter((r) => `${r.method} ${r.url}` === op.write(crate)).map((r) => r.url), [], 'the refused write reached the registry');
  for (const r of received) assert.ok(!JSON.stringify(r.headers).includes(presented), `the presented token reached the registry: ${r.method} ${r.url}`);
  return result;
}

const scopeMissing = (scope: string): string => `this token does not have the ${scope} scope; create a token with that scope`;

describe('cargo shows the gateway\'s refusal and the registry never sees the write', () => {
  test('a token without the needed endpoint scope is refused for publish, yank, unyank and owner changes', async () => {
    const cases: [keyof typeof OPS, string[], string][] = [
      ['publish', ['yank'], '`publish-new` or `publish-update`'],
      ['yank', ['publish-update'], '`yank`'],
      ['unyank', ['change-owners'], '`yank`'],
      ['owner-add', ['yank', 'publish-new', 'publish-update'], '`change-owners`'],
    ];
    for (const [op, scopes, needed] of cases) {
      const crate = op === 'publish' ? crateName('noscope') : await seeded('noscope');
      await assertRefused(OPS[op], crate, await token(scopes), scopeMissing(needed));
    }
    assert.equal(gw.registry.requests.filter((r) => r.method === 'PUT' && r.url === '/api/v1/crates/new').length, 3, 'only the three seeds were uploaded');
  });

  test('a token limited to tokio* is refused on a gw-e2e crate, naming its pattern and the crate', async () => {
    const tokio = await token(ALL_SCOPES, ['tokio*']);
    const fresh = crateName('tokio');
    const existing = await seeded('tokio');
    const notMine = (crate: string): string => `this token may only act on crates matching \`tokio*\`; \`${crate}\` is not one of them`;
    await assertRefused(OPS.publish, fresh, tokio, notMine(fresh));
    await assertRefused(OPS.yank, existing, tokio, notMine(existing));
    await assertRefused(OPS['owner-add'], existing, tokio, notMine(existing));
    assert.deepEqual(gw.registry.indexLines(fresh), []);
    assert.deepEqual(gw.registry.owners(existing), ['alice']);
  });

  test('an expired token is refused with its expiry instant and where to create a new one', async () => {
    const expiry = Math.floor((Date.now() + 3 * DAY) / 1000) * 1000;
    const expiring = await token(ALL_SCOPES, null, new Date(expiry).toISOString());
    const crate = await seeded('expired');
    const detail = `this token expired at ${new Date(expiry).toISOString().replace('.000Z', 'Z')}; create a new one at http://127.0.0.1:${gw.port}/tokens`;
    try {
      gw.setNow(expiry - 1000);
      assert.equal((await runCargo(OPS.yank.args(crate), { cargoHome, token: expiring })).code, 0, 'the token did not work before it expired');
      gw.setNow(expiry + DAY);
      await assertRefused(OPS.unyank, crate, expiring, detail);
      await assertRefused(OPS.publish, crateName('expired'), expiring, detail);
    } finally {
      gw.setNow(null);
    }
    assert.equal(gw.registry.indexLines(crate)[0]?.yanked, true);
  });

  // cargo sends its token on `owner --list`, a public read: the gateway reads anonymously for a
  // token it refuses, and the registry (which wants a user there) refuses that read. cargo must
  // print why the token was refused, not the registry's "this action requires authentication".
  test('an expired or revoked token on cargo owner --list gets its own refusal, not the registry\'s anonymous one', async () => {
    const crate = await seeded('list-expired');
    const expiry = Math.floor((Date.now() + 3 * DAY) / 1000) * 1000;
    const expiring = await token(['change-owners'], null, new Date(expiry).toISOString());
    const list = OPS['owner-list'];
    try {
      gw.setNow(expiry - 1000);
      const listed = await runCargo(list.args(crate), { cargoHome, token: expiring });
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim(), 'alice');
      gw.setNow(expiry + DAY);
      await assertRefused(list, crate, expiring, `this token expired at ${new Date(expiry).toISOString().replace('.000Z', 'Z')}; create a new one at ${gw.url}/tokens`);
    } finally {
      gw.setNow(null);
    }
    const revoked = await token(['yank']);
    assert.equal((await fetch(`${gw.url}/api/v1/tokens/current`, { method: 'DELETE', headers: { authorization: revoked } })).status, 204);
    await assertRefused(list, crate, revoked, 'authentication failed');
  });

  test('a token revoked with DELETE /api/v1/tokens/current is refused with authentication failed', async () => {
    const revoked = await token(['yank']);
    const crate = await seeded('revoked');
    assert.equal((await runCargo(OPS.yank.args(crate), { cargoHome, token: revoked })).code, 0, 'the token did not work before it was revoked');

    const res = await fetch(`${gw.url}/api/v1/tokens/current`, { method: 'DELETE', headers: { authorization: revoked } });
    assert.equal(res.status, 204);
    await assertRefused(OPS.unyank, crate, revoked, 'authentication failed');
    assert.equal(gw.registry.indexLines(crate)[0]?.yanked, true);
  });

  test('a garbage sg_ token with a wrong checksum is refused as malformed, naming the checksum', async () => {
    const real = await token(ALL_SCOPES);
    const flipped = real.slice(0, 10) + (real[10] === 'a' ? 'b' : 'a') + real.slice(11);
    const crate = await seeded('garbage');
    const malformed = `the token in the Authorization header is malformed: its checksum does not match (a character was changed or lost when it was copied); copy it again, or create a new one at ${gw.url}/tokens`;
    await assertRefused(OPS.yank, crate, flipped, malformed, '401 Unauthorized');
    await assertRefused(OPS.publish, crateName('garbage'), `sg_${'x'.repeat(38)}`, malformed, '401 Unauthorized');
  });
});
