/**
 * What the existence probe makes of the registry's index answers: a crate with a large index file
 * (crates such as `web-sys` or `windows` carry hundreds of features on every line) still exists;
 * a 200 that is not an index file of the crate (a web UI's page served for every path, an empty
 * answer) says nothing, so the publish is refused as a failed probe, never counted as "exists".
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { indexFilePath } from '../../src/registries/cargo.js';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { cargoError, startGateway, USERS, type TestGateway } from '../support/gateway.js';

function publish(url: string, token: string, name: string, vers: string, features: Record<string, string[]> = {}): Promise<{ status: number; json: unknown }> {
  return fetch(`${url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body: new Uint8Array(cargoPublishBody({ name, vers, features })) })
    .then(async (res) => ({ status: res.status, json: await res.json() as unknown }));
}

/** About 800 KB of features on one index line, as a crate with very many features has. */
function manyFeatures(): Record<string, string[]> {
  const features: Record<string, string[]> = {};
  for (let i = 0; i < 12_000; i++) features[`Win32_Feature_Number_${i}`] = [`Win32_Feature_Number_${i + 1}`];
  return features;
}

describe('the existence probe and large index files', () => {
  let gw: TestGateway;
  let updateOnly: string;
  let newOnly: string;

  before(async () => {
    gw = await startGateway();
    updateOnly = (await gw.createToken({ name: 'update only', endpoint_scopes: ['publish-update'] })).token;
    newOnly = (await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
    // Published straight to the registry: the gateway's publish_json_max is per publish, not per index file.
    const alice = Object.keys(USERS)[0]!;
    for (const vers of ['0.1.0', '0.2.0', '0.3.0']) assert.equal((await publish(gw.registry.url, alice, 'big-index', vers, manyFeatures())).status, 200);
    const file = await fetch(`${gw.registry.url}${indexFilePath('big-index')}`);
    const size = (await file.arrayBuffer()).byteLength;
    assert.ok(size > 1024 * 1024, `the index file is ${size} bytes, not over 1 MiB (${file.status})`);
  });
  after(() => gw.close());

  test('a publish-update-only token may publish the next version of a crate whose index file is over 1 MiB', async () => {
    gw.registry.clearRequests();
    const res = await publish(gw.url, updateOnly, 'big-index', '0.4.0');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(gw.registry.indexLines('big-index').map((l) => l.vers), ['0.1.0', '0.2.0', '0.3.0', '0.4.0']);
  });

  test('a publish-new-only token is told such a crate already exists, and the upstream sees no publish', async () => {
    gw.registry.clearRequests();
    const res = await publish(gw.url, newOnly, 'big-index', '0.5.0');
    assert.equal(res.status, 403);
    assert.deepEqual(res.json, cargoError('this token does not have the `publish-update` scope (`big-index` already exists); create a token with that scope'));
    assert.ok(gw.registry.requests.every((r) => r.method === 'GET'), 'a denied publish reached the upstream');
  });
});

describe('a crate stored under another mix of `-` and `_`', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway();
    assert.equal((await publish(gw.registry.url, Object.keys(USERS)[0]!, 'mixed-spell_ing', '0.1.0')).status, 200);
  });
  after(() => gw.close());

  test('exists to the probe: a publish-new-only token is refused, and the upstream sees no publish', async () => {
    const { token: newOnly } = await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] });
    gw.registry.clearRequests();
    const res = await publish(gw.url, newOnly, 'mixed_spell-ing', '0.2.0');
    assert.equal(res.status, 403, JSON.stringify(res.json));
    assert.deepEqual(res.json, cargoError('this token does not have the `publish-update` scope (`mixed_spell-ing` already exists); create a token with that scope'));
    assert.ok(gw.registry.requests.every((r) => r.method === 'GET'), 'a denied publish reached the upstream');
  });
});

/**
 * The test registry behind a front that answers 200 where the registry has no index file, as a
 * single-page web app's catch-all does: `body` for every name.
 */
async function behindCatchAll(registry: CargoRegistry, body: (path: string) => string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      void fetch(registry.url + (req.url ?? ''), { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined }).then(async (answer) => {
        const text = await answer.text();
        if (answer.status === 404 && req.method === 'GET' && req.url?.startsWith('/index/')) {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(body(req.url));
          return;
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

describe('a registry that answers 200 for index files it does not have', () => {
  let registry: CargoRegistry;
  let front: { url: string; close: () => Promise<void> };
  let gw: TestGateway;
  let updateOnly: string;

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS } });
    front = await behindCatchAll(registry, (path) => (path.includes('empty') ? '' : '<!doctype html><html><body><div id="app"></div></body></html>'));
    gw = await startGateway({ registry, env: { SCOPEGATE_UPSTREAM: front.url } });
    updateOnly = (await gw.createToken({ name: 'update only', endpoint_scopes: ['publish-update'] })).token;
  });
  after(async () => {
    await gw.close();
    await front.close();
    await registry.close();
  });

  for (const [what, name] of [['a web page', 'spa-fallback'], ['an empty body', 'empty-answer']] as const) {
    test(`a 200 with ${what} is not "the crate exists": a publish-update-only token cannot create the crate with it`, async () => {
      registry.clearRequests();
      const res = await publish(gw.url, updateOnly, name, '0.1.0');
      assert.equal(res.status, 503, JSON.stringify(res.json));
      assert.deepEqual(res.json, cargoError(`could not ask the registry whether \`${name}\` already exists, so the publish was not forwarded; try again shortly`));
      assert.ok(registry.requests.every((r) => r.method === 'GET'), 'a denied publish reached the upstream');
      assert.equal(registry.crateExists(name), false);
    });
  }

  test('an index file of the crate, its name spelled in another case, still counts as the crate', async () => {
    const alice = Object.keys(USERS)[0]!;
    assert.equal((await publish(registry.url, alice, 'SpaExists', '0.1.0')).status, 200);
    const res = await publish(gw.url, updateOnly, 'spaexists', '0.2.0');
    // The registry then refuses the other spelling itself; the gateway let it through as an update.
    assert.deepEqual(res, { status: 400, json: cargoError('crate was previously named `SpaExists`') });
    assert.equal(gw.logLines().at(-1)?.['scope.need'], 'publish-update');
  });
});

describe('a registry that drips its index answer a byte at a time', () => {
  let registry: CargoRegistry;
  let front: http.Server;
  let gw: TestGateway;
  let updateOnly: string;
  const drips = new Set<NodeJS.Timeout>();

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS } });
    // Index files: 200 at once, then a byte every 100 ms, never a line break. Everything else: the registry.
    front = http.createServer((req, res) => {
      if (req.url?.startsWith('/index/') === true && req.url !== '/index/config.json') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const drip = setInterval(() => res.write('{'), 100);
        drips.add(drip);
        res.on('close', () => clearInterval(drip));
        return;
      }
      void fetch(registry.url + (req.url ?? ''), { method: req.method, headers: { authorization: req.headers.authorization ?? '' } }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(await answer.text());
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    gw = await startGateway({ registry, env: { SCOPEGATE_UPSTREAM: url }, editYaml: (y) => y.replace(/probe_timeout: .*$/m, 'probe_timeout: 300ms') });
    updateOnly = (await gw.createToken({ name: 'update only', endpoint_scopes: ['publish-update'] })).token;
  });
  after(async () => {
    for (const drip of drips) clearInterval(drip);
    await gw.close();
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await registry.close();
  });

  test('the probe gives up after probe_timeout in all, though bytes keep coming, and the publish is refused', async () => {
    registry.clearRequests();
    const started = Date.now();
    const res = await fetch(`${gw.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: updateOnly }, body: new Uint8Array(cargoPublishBody({ name: 'dripped', vers: '0.1.0' })), signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), cargoError('could not ask the registry whether `dripped` already exists, so the publish was not forwarded; try again shortly'));
    assert.ok(Date.now() - started < 2_000, `answered after ${Date.now() - started} ms`);
    assert.ok(registry.requests.every((r) => r.method === 'GET'), 'a denied publish reached the upstream');
  });
});
