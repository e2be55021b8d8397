/**
 * Fidelity of the test registry, proven with the real `cargo` binary talking to it directly
 * (no gateway). HTTP-level behaviour is in cargo-registry-http.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cargoPublish, cleanup, makeCargoHome, makeCrate, runCargo, type CargoResult } from './cargo-cli.js';
import { parsePublishBody } from './cargo-registry-index.js';
import { startCargoRegistry, type CargoRegistry } from './cargo-registry.js';

const ALICE = 'alice-upstream-token';
const BOB = 'bob-upstream-token';

describe('test cargo registry driven by the real cargo binary', () => {
  let registry: CargoRegistry;
  let cargoHome: string;

  before(async () => {
    registry = await startCargoRegistry({ users: { [ALICE]: 'alice', [BOB]: 'bob' } });
    cargoHome = await makeCargoHome(`sparse+${registry.url}/index/`);
  });
  after(async () => {
    await registry.close();
    await cleanup();
  });

  const cargo = (args: string[], token: string): Promise<CargoResult> =>
    runCargo(args, { cargoHome, token });
  const publish = async (name: string, version: string, token: string): Promise<CargoResult> =>
    cargoPublish(await makeCrate(name, version), { cargoHome, token });
  const assertSucceeded = (result: CargoResult): void => assert.equal(result.code, 0, result.stderr);

  it('publishes a new crate whose index line carries the sha256 of the uploaded .crate', async () => {
    registry.clearRequests();
    const result = await publish('gw-alpha', '0.1.0', ALICE);

    assertSucceeded(result);
    assert.doesNotMatch(result.stderr, /timed out waiting/);
    const upload = registry.requests.find((r) => r.method === 'PUT');
    const parsed = upload === undefined ? undefined : parsePublishBody(upload.body);
    assert.ok(parsed?.ok, 'cargo sent a well-framed publish body');
    const [line, ...rest] = registry.indexLines('gw-alpha');
    assert.deepEqual(rest, []);
    assert.equal(line?.vers, '0.1.0');
    assert.equal(line?.yanked, false);
    assert.equal(line?.cksum, createHash('sha256').update(parsed.value.crate).digest('hex'));
    assert.deepEqual(registry.owners('gw-alpha'), ['alice']);
  });

  it('follows the observed publish sequence: config, index miss, upload, then an index poll that hits', async () => {
    registry.clearRequests();
    assertSucceeded(await publish('gw-sequence', '1.0.0', ALICE));

    const calls = registry.requests.map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(calls.slice(0, 3), [
      'GET /index/config.json',
      'GET /index/gw/-s/gw-sequence',
      'PUT /api/v1/crates/new',
    ]);
    assert.equal(calls.at(-1), 'GET /index/gw/-s/gw-sequence');
    assert.equal(registry.requests.find((r) => r.method === 'PUT')?.headers.authorization, ALICE);
  });

  it("refuses another user's publish of an existing crate, even spelled with _ instead of -", async () => {
    assertSucceeded(await publish('gw-beta', '0.1.0', ALICE));

    const result = await publish('gw_beta', '0.2.0', BOB);

    assert.equal(result.code, 101);
    assert.match(result.stderr, /status 403 Forbidden\): this crate exists but you don't seem to be an owner/);
    assert.deepEqual(registry.indexLines('gw-beta').map((l) => l.vers), ['0.1.0']);
  });

  it('flips yanked with cargo yank --version and back with --undo, for owners only', async () => {
    assertSucceeded(await publish('gw-gamma', '0.1.0', ALICE));

    assertSucceeded(await cargo(['yank', '--registry', 'gw', 'gw-gamma', '--version', '0.1.0'], ALICE));
    assert.equal(registry.indexLines('gw-gamma')[0]?.yanked, true);

    const denied = await cargo(['yank', '--registry', 'gw', 'gw-gamma', '--version', '0.1.0', '--undo'], BOB);
    assert.equal(denied.code, 101);
    assert.match(denied.stderr, /must already be an owner to yank or unyank/);
    assert.equal(registry.indexLines('gw-gamma')[0]?.yanked, true);

    assertSucceeded(await cargo(['yank', '--registry', 'gw', 'gw-gamma', '--version', '0.1.0', '--undo'], ALICE));
    assert.equal(registry.indexLines('gw-gamma')[0]?.yanked, false);
  });

  it('invites an owner with cargo owner --add, as crates.io does, then lists and removes them once they accept', async () => {
    assertSucceeded(await publish('gw-delta', '0.1.0', ALICE));

    const added = await cargo(['owner', '--registry', 'gw', '--add', 'bob', 'gw-delta'], ALICE);
    assertSucceeded(added);
    assert.match(added.stderr, /Owner user bob has been invited to be an owner of crate gw-delta/);
    assert.deepEqual(registry.owners('gw-delta'), ['alice']);
    assert.deepEqual(registry.invitations('gw-delta'), ['bob']);

    const again = await cargo(['owner', '--registry', 'gw', '--add', 'bob', 'gw-delta'], ALICE);
    assertSucceeded(again);
    assert.match(again.stderr, /Owner user bob already has a pending invitation to be an owner of crate gw-delta/);

    const early = await cargo(['yank', '--registry', 'gw', 'gw-delta@0.1.0'], BOB);
    assert.equal(early.code, 101);
    assert.match(early.stderr, /must already be an owner to yank or unyank/);

    assert.equal(registry.acceptInvitation('bob', 'gw-delta'), true);
    assert.deepEqual(registry.owners('gw-delta'), ['alice', 'bob']);
    assert.deepEqual(registry.invitations('gw-delta'), []);

    const listed = await cargo(['owner', '--registry', 'gw', '--list', 'gw-delta'], BOB);
    assertSucceeded(listed);
    assert.deepEqual(listed.stdout.trim().split('\n'), ['alice', 'bob']);

    assertSucceeded(await cargo(['owner', '--registry', 'gw', '--remove', 'bob', 'gw-delta'], ALICE));
    assert.deepEqual(registry.owners('gw-delta'), ['alice']);
  });

  it('reports unknown logins and non-owners through cargo owner', async () => {
    assertSucceeded(await publish('gw-epsilon', '0.1.0', ALICE));

    const unknown = await cargo(['owner', '--registry', 'gw', '--add', 'nobody', 'gw-epsilon'], ALICE);
    assert.equal(unknown.code, 101);
    assert.match(unknown.stderr, /status 400 Bad Request\): could not find user with login `nobody`/);

    const outsider = await cargo(['owner', '--registry', 'gw', '--add', 'bob', 'gw-epsilon'], BOB);
    assert.equal(outsider.code, 101);
    assert.match(outsider.stderr, /only owners have permission to modify owners/);
    assert.deepEqual(registry.owners('gw-epsilon'), ['alice']);
  });

  it('serves a published crate that another crate fetches and publishes as a renamed dependency', async () => {
    assertSucceeded(await publish('gw-base', '0.1.0', ALICE));
    const dependency = '{ package = "gw-base", version = "0.1.0", registry = "gw" }';
    const app = await makeCrate('gw-app', '0.1.0', { dependencies: { base: dependency } });

    assertSucceeded(await runCargo(['fetch'], { cargoHome, cwd: app, token: BOB }));
    assert.ok(registry.requests.some((r) => r.url === '/api/v1/crates/gw-base/0.1.0/download'));

    assertSucceeded(await cargoPublish(app, { cargoHome, token: BOB }));
    const dep = registry.indexLines('gw-app')[0]?.deps[0];
    assert.deepEqual(dep, {
      name: 'base',
      package: 'gw-base',
      req: '^0.1.0',
      features: [],
      optional: false,
      default_features: true,
      target: null,
      kind: 'normal',
    });
  });

  it('indexes a dep: feature in features2 with v 2, as crates.io does, and cargo resolves through it', async () => {
    assertSucceeded(await publish('gw-fbase', '0.1.0', ALICE));
    const lib = await makeCrate('gw-feat', '0.1.0', { dependencies: { fbase: '{ package = "gw-fbase", version = "0.1.0", registry = "gw", optional = true }' } });
    await appendFile(join(lib, 'Cargo.toml'), '[features]\nextra = ["dep:fbase"]\nplain = []\n');
    assertSucceeded(await cargoPublish(lib, { cargoHome, token: ALICE }));
    const [line] = registry.indexLines('gw-feat');
    assert.deepEqual([line?.features, line?.features2, line?.v], [{ plain: [] }, { extra: ['dep:fbase'] }, 2]);

    const app = await makeCrate('gw-feat-app', '0.1.0', { dependencies: { feat: '{ package = "gw-feat", version = "0.1.0", registry = "gw", features = ["extra"] }' } });
    assertSucceeded(await runCargo(['generate-lockfile'], { cargoHome, cwd: app, token: BOB }));
    assert.match(await readFile(join(app, 'Cargo.lock'), 'utf8'), /name = "gw-fbase"/);
  });

  it('refuses a crate without description or license, which cargo uploads anyway to a registry other than crates.io', async () => {
    const dir = await makeCrate('gw-bare', '0.1.0');
    const manifest = await readFile(join(dir, 'Cargo.toml'), 'utf8');
    await writeFile(join(dir, 'Cargo.toml'), manifest.replace(/^(license|description) = .*\n/gm, ''));
    const result = await cargoPublish(dir, { cargoHome, token: ALICE });
    assert.equal(result.code, 101);
    assert.match(result.stderr, /Uploading gw-bare v0\.1\.0/);
    assert.match(result.stderr, /status 400 Bad Request\): missing or empty metadata fields: description, license\./);
    assert.equal(registry.crateExists('gw-bare'), false);
  });
});

describe('test cargo registry with a static host for downloads (cdn), driven by the real cargo binary', () => {
  it('lets cargo fetch a dependency from the static host that config.json names', async () => {
    const registry = await startCargoRegistry({ users: { [ALICE]: 'alice' }, cdn: true });
    try {
      const cargoHome = await makeCargoHome(`sparse+${registry.url}/index/`);
      const published = await cargoPublish(await makeCrate('gw-cdn-base', '0.1.0'), { cargoHome, token: ALICE });
      assert.equal(published.code, 0, published.stderr);
      const app = await makeCrate('gw-cdn-app', '0.1.0', { dependencies: { 'gw-cdn-base': '{ version = "0.1.0", registry = "gw" }' } });
      const fetched = await runCargo(['fetch'], { cargoHome, cwd: app });
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.deepEqual(registry.cdn?.requests.map((r) => `${r.method} ${r.url}`), ['GET /crates/gw-cdn-base/0.1.0/download']);
      assert.ok(registry.requests.every((r) => !r.url.includes('/download')), 'the registry itself served no download');
    } finally {
      await registry.close();
      await cleanup();
    }
  });
});
