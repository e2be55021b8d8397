/**
 * End to end with the real `cargo` binary: cargo knows only the gateway's sparse index
 * (`sparse+http://127.0.0.1:<gateway>/index/`), the gateway rewrites `dl` and `api` in config.json
 * to point back at itself, and every upstream request is proven to have come through the gateway.
 * Denials are in cargo-denials.test.ts.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cargoPublish, cleanup, makeCargoHome, makeCrate, runCargo, type CargoResult } from '../support/cargo-cli.js';
import { startCargoRegistry } from '../support/cargo-registry.js';
import { startGateway, USERS, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let cargoHome: string;
let unique = 0;
/** A crate name no other test (or earlier run against the same registry) has used. */
const crateName = (what: string): string => `gw-e2e-${what}-${process.pid}-${++unique}`;

before(async () => {
  gw = await startGateway();
  cargoHome = await makeCargoHome(`sparse+${gw.url}/index/`);
});
after(async () => {
  await gw?.close();
  await cleanup();
});

const cargo = (args: string[], token?: string, cwd?: string): Promise<CargoResult> => runCargo(args, { cargoHome, token, cwd });
const publish = async (name: string, version: string, token: string): Promise<CargoResult> => cargoPublish(await makeCrate(name, version), { cargoHome, token });
const token = async (endpoint_scopes: string[] | null, crate_scopes: string[] | null = ['gw-e2e*']): Promise<string> =>
  (await gw.createToken({ name: `e2e-${++unique}`, endpoint_scopes, crate_scopes })).token;
const succeeded = (r: CargoResult): void => assert.equal(r.code, 0, `cargo failed:\n${r.stderr}`);

/**
 * cargo never talked to the registry directly: no upstream request carries a scopegate token
 * (`sg_…`), and each request cargo itself made that reached the registry (cargo's User-Agent; the
 * gateway's own probes have none) is matched one-for-one by a request the gateway logged as forwarded.
 */
function assertCargoWentThroughGateway(on: TestGateway = gw): void {
  for (const r of on.registry.requests) {
    assert.ok(!JSON.stringify(r.headers).includes('sg_'), `a scopegate token reached the upstream: ${r.method} ${r.url}`);
  }
  const forwarded = new Map<string, number>();
  for (const line of on.logLines()) {
    if (line.msg !== 'request' || line['upstream.status'] === undefined) continue;
    const key = `${String(line['req.method'])} ${String(line['req.path'])}`;
    forwarded.set(key, (forwarded.get(key) ?? 0) + 1);
  }
  const fromCargo = on.registry.requests.filter((r) => String(r.headers['user-agent'] ?? '').startsWith('cargo/'));
  assert.ok(fromCargo.length > 0, 'no cargo request reached the registry at all');
  for (const r of fromCargo) {
    const key = `${r.method} ${r.url.split('?')[0]}`;
    const left = forwarded.get(key) ?? 0;
    assert.ok(left > 0, `the registry received "${key}" from cargo without the gateway forwarding it`);
    forwarded.set(key, left - 1);
  }
}

describe('cargo through the gateway, with tokens that hold the right scope', () => {
  test('cargo learns dl and api from the index config.json rewritten to the gateway, never the registry', async () => {
    succeeded(await cargo(['search', '--registry', 'gw', 'anything']));
    const indexDir = join(cargoHome, 'registry', 'index');
    const [registryDir] = await readdir(indexDir);
    assert.ok(registryDir !== undefined, 'cargo cached no sparse index');
    const config = JSON.parse(await readFile(join(indexDir, registryDir, 'config.json'), 'utf8')) as { dl: string; api: string };
    assert.deepEqual({ dl: config.dl, api: config.api }, { dl: `${gw.url}/api/v1/crates`, api: gw.url });
    assert.ok(!JSON.stringify(config).includes(gw.registry.url), 'the cached config still names the registry');
  });

  test('a publish-new token publishes a new crate, and only a publish-update token may publish its next version', async () => {
    const name = crateName('pub');
    const first = await publish(name, '0.1.0', await token(['publish-new']));
    succeeded(first);
    assert.doesNotMatch(first.stderr, /timed out waiting/);
    assert.deepEqual(gw.registry.indexLines(name).map((l) => l.vers), ['0.1.0']);

    const mark = gw.registry.requests.length;
    const newOnly = await publish(name, '0.2.0', await token(['publish-new']));
    assert.notEqual(newOnly.code, 0);
    assert.ok(
      newOnly.stderr.includes(`this token does not have the \`publish-update\` scope (\`${name}\` already exists); create a token with that scope`),
      newOnly.stderr,
    );
    assert.ok(!gw.registry.requests.slice(mark).some((r) => r.method === 'PUT'), 'the refused upload reached the registry');

    succeeded(await publish(name, '0.2.0', await token(['publish-update'])));
    assert.deepEqual(gw.registry.indexLines(name).map((l) => l.vers), ['0.1.0', '0.2.0']);
    const uploads = gw.registry.requests.filter((r) => r.method === 'PUT' && r.url === '/api/v1/crates/new');
    assert.ok(uploads.length >= 2 && uploads.every((r) => r.headers.authorization === 'alice-upstream-secret'), 'uploads did not carry the swapped credential');
    assertCargoWentThroughGateway();
  });

  test('a yank token yanks a version with cargo yank --version and restores it with --undo', async () => {
    const name = crateName('yank');
    succeeded(await publish(name, '1.0.0', await token(['publish-new'])));
    const yank = await token(['yank']);

    succeeded(await cargo(['yank', '--registry', 'gw', name, '--version', '1.0.0'], yank));
    assert.equal(gw.registry.indexLines(name)[0]?.yanked, true);
    succeeded(await cargo(['yank', '--registry', 'gw', name, '--version', '1.0.0', '--undo'], yank));
    assert.equal(gw.registry.indexLines(name)[0]?.yanked, false);
    assertCargoWentThroughGateway();
  });

  test('a change-owners token invites an owner with cargo owner, and removes them once they accepted', async () => {
    const name = crateName('own');
    succeeded(await publish(name, '0.1.0', await token(['publish-new'])));
    const owners = await token(['change-owners']);

    const added = await cargo(['owner', '--registry', 'gw', '--add', 'bob', name], owners);
    succeeded(added);
    assert.match(added.stderr, new RegExp(`Owner user bob has been invited to be an owner of crate ${name}`));
    assert.deepEqual(gw.registry.invitations(name), ['bob']);
    assert.ok(gw.registry.acceptInvitation('bob', name));
    assert.deepEqual(gw.registry.owners(name), ['alice', 'bob']);

    succeeded(await cargo(['owner', '--registry', 'gw', '--remove', 'bob', name], owners));
    assert.deepEqual(gw.registry.owners(name), ['alice']);
    assertCargoWentThroughGateway();
  });

  // cargo sends its token on `owner --list`, a public read; the test registry (like some private
  // registries) requires a credential there, so the gateway must swap the token, not drop it.
  test('any valid token, whatever its scopes and crate patterns, lists the owners with cargo owner --list', async () => {
      const name = crateName('list');
      succeeded(await publish(name, '0.1.0', await token(['publish-new'])));
      succeeded(await cargo(['owner', '--registry', 'gw', '--add', 'bob', name], await token(['change-owners'])));
      assert.ok(gw.registry.acceptInvitation('bob', name));

      const listed = await cargo(['owner', '--registry', 'gw', '--list', name], await token(['yank'], ['other-crate']));
      succeeded(listed);
      assert.deepEqual(listed.stdout.trim().split('\n'), ['alice', 'bob']);
      assertCargoWentThroughGateway();
    });

  test('cargo search finds a published crate through the gateway without any token', async () => {
    const name = crateName('find');
    succeeded(await publish(name, '0.3.0', await token(['publish-new'])));
    const found = await cargo(['search', '--registry', 'gw', name]);
    succeeded(found);
    assert.match(found.stdout, new RegExp(`^${name} = "0\\.3\\.0"`, 'm'));
    assert.ok(gw.registry.requests.some((r) => r.url.startsWith('/api/v1/crates?q=') && r.headers.authorization === undefined));
    assertCargoWentThroughGateway();
  });

  test('a crate depending on another crate of the registry publishes (the dependency verified through the gateway), and resolves', async () => {
    const base = crateName('dep-base');
    const mid = crateName('dep-mid');
    const publisher = await token(['publish-new']);
    succeeded(await publish(base, '0.1.0', publisher));
    // Without --no-verify: cargo builds the package, downloading the dependency through the gateway.
    const midDir = await makeCrate(mid, '0.1.0', { dependencies: { [base]: '{ version = "0.1.0", registry = "gw" }' } });
    succeeded(await runCargo(['publish', '--registry', 'gw', '--allow-dirty'], { cargoHome, token: publisher, cwd: midDir }));
    // The same registry's dependency carries no `registry` in the index (registry-index.md).
    assert.deepEqual(gw.registry.indexLines(mid)[0]?.deps.map((d) => [d.name, d.req, d.registry]), [[base, '^0.1.0', undefined]]);
    const app = await makeCrate(crateName('dep-app'), '0.1.0', { publish: false, dependencies: { [mid]: '{ version = "0.1.0", registry = "gw" }' } });
    succeeded(await cargo(['generate-lockfile'], undefined, app));
    const lock = await readFile(join(app, 'Cargo.lock'), 'utf8');
    for (const name of [base, mid]) assert.match(lock, new RegExp(`name = "${name}"\\nversion = "0\\.1\\.0"\\nsource = "sparse\\+${gw.url}/index/"`));
    assertCargoWentThroughGateway();
  });

  test('cargo login stores a token that then works, and cargo logout forgets it', async () => {
    const name = crateName('login');
    succeeded(await publish(name, '0.1.0', await token(['publish-new'])));
    const home = await makeCargoHome(`sparse+${gw.url}/index/`);
    const yank = await token(['yank']);
    succeeded(await runCargo(['login', '--registry', 'gw'], { cargoHome: home, input: `${yank}\n` }));
    assert.match(await readFile(join(home, 'credentials.toml'), 'utf8'), new RegExp(`token = "${yank}"`));
    succeeded(await runCargo(['yank', '--registry', 'gw', `${name}@0.1.0`], { cargoHome: home }));
    assert.equal(gw.registry.indexLines(name)[0]?.yanked, true);
    succeeded(await runCargo(['logout', '--registry', 'gw'], { cargoHome: home }));
    const after = await runCargo(['yank', '--undo', '--registry', 'gw', `${name}@0.1.0`], { cargoHome: home });
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /no token found for `gw`/);
  });

  test('a crate depending on a published crate fetches it through the rewritten dl URL', async () => {
    const base = crateName('base');
    succeeded(await publish(base, '0.1.0', await token(['publish-new'])));
    const app = await makeCrate(crateName('app'), '0.1.0', { publish: false, dependencies: { [base]: '{ version = "0.1.0", registry = "gw" }' } });

    const fetched = await cargo(['fetch'], undefined, app);
    succeeded(fetched);
    const lock = await readFile(join(app, 'Cargo.lock'), 'utf8');
    assert.match(lock, new RegExp(`name = "${base}"\\nversion = "0\\.1\\.0"\\nsource = "sparse\\+${gw.url}/index/"`));
    const downloads = gw.registry.requests.filter((r) => r.url === `/api/v1/crates/${base}/0.1.0/download`);
    assert.equal(downloads.length, 1);
    const logged = gw.logLines().filter((l) => l['req.path'] === `/api/v1/crates/${base}/0.1.0/download`);
    assert.deepEqual(logged.map((l) => [l['route.id'], l.status]), [['download', 200]]);
    assertCargoWentThroughGateway();
  });
});

describe('a registry that serves downloads at a dl template of its own', () => {
  // The template cargo fills in (wire-facts §1.5), on the registry's own host: the gateway keeps
  // its path and markers and swaps in its own URL, so downloads reach the registry where it
  // serves them. The operator's route table says what that path needs (here: a read).
  const template = '/files/{prefix}/{lowerprefix}/{crate}-{version}.crate?sum={sha256-checksum}';
  let own: TestGateway;
  let home: string;

  before(async () => {
    const registry = await startCargoRegistry({ users: { ...USERS }, dl: template });
    own = await startGateway({ registry, editYaml: (y) => y.replace(/^ {2}- \{ id: download, .*$/m, '$&\n  - { id: files, method: GET, path: /files/*, scope: read }') });
    home = await makeCargoHome(`sparse+${own.url}/index/`);
  });
  after(async () => {
    await own?.close();
    await own?.registry.close();
  });

  test('config.json announces the template at the gateway, and cargo fetch downloads through it', async () => {
    const config = await (await fetch(`${own.url}/index/config.json`)).json() as { dl: string };
    assert.equal(config.dl, `${own.url}${template}`);

    const base = crateName('tmpl');
    const publishToken = (await own.createToken({ name: `e2e-${++unique}`, endpoint_scopes: ['publish-new'], crate_scopes: ['gw-e2e*'] })).token;
    succeeded(await cargoPublish(await makeCrate(base, '0.1.0'), { cargoHome: home, token: publishToken }));
    const app = await makeCrate(crateName('tmpl-app'), '0.1.0', { publish: false, dependencies: { [base]: '{ version = "0.1.0", registry = "gw" }' } });
    succeeded(await runCargo(['fetch'], { cargoHome: home, cwd: app }));

    const cksum = own.registry.indexLines(base)[0]!.cksum;
    const prefix = `${base.slice(0, 2)}/${base.slice(2, 4)}`;
    const expected = `/files/${prefix}/${prefix}/${base}-0.1.0.crate?sum=${cksum}`;
    assert.deepEqual(own.registry.requests.filter((r) => r.url.startsWith('/files/')).map((r) => r.url), [expected]);
    const logged = own.logLines().filter((l) => String(l['req.path']).startsWith('/files/'));
    assert.deepEqual(logged.map((l) => [l['route.id'], l.status]), [['files', 200]]);
    assert.equal(own.registry.requests.filter((r) => r.url.endsWith('/download')).length, 0, 'nothing went to the API download endpoint');
    assert.deepEqual(own.logLines().filter((l) => l.level === 40 && l.download_path !== undefined), [], 'the route table covers the download path');
    assertCargoWentThroughGateway(own);
  });

  test('without a route for that path the gateway says so once, and cargo is denied the download with the reason', async () => {
    const bare = await startGateway({ registry: own.registry });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await fetch(`${bare.url}/index/config.json`)).status, 200);
      const warned = bare.logLines().filter((l) => l.level === 40 && l.download_path !== undefined);
      assert.deepEqual(warned.map((l) => [l.download_path, l.route]), [[`/files/sa/mp/sa/mp/sample-0.1.0.crate`, null]]);
      assert.match(String(warned[0]!.msg), /no route matches, so downloads are denied: add a route for it with scope: read/);

      const base = crateName('unrouted');
      const publishToken = (await bare.createToken({ name: `e2e-${++unique}`, endpoint_scopes: ['publish-new'], crate_scopes: ['gw-e2e*'] })).token;
      const bareHome = await makeCargoHome(`sparse+${bare.url}/index/`);
      succeeded(await cargoPublish(await makeCrate(base, '0.1.0'), { cargoHome: bareHome, token: publishToken }));
      const app = await makeCrate(crateName('unrouted-app'), '0.1.0', { publish: false, dependencies: { [base]: '{ version = "0.1.0", registry = "gw" }' } });
      const before = own.registry.requests.filter((r) => r.url.startsWith('/files/')).length;
      const fetched = await runCargo(['fetch'], { cargoHome: bareHome, cwd: app });
      assert.notEqual(fetched.code, 0);
      assert.match(fetched.stderr, /scopegate does not forward GET \/files\/.*no route in its table matches/);
      assert.equal(own.registry.requests.filter((r) => r.url.startsWith('/files/')).length, before, 'the denied download was not forwarded');
    } finally {
      await bare.close();
    }
  });
});
