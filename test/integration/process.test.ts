/**
 * The shipped entry point (`npm start` runs `node dist/src/main.js`): an invalid config exits 2
 * with every problem listed; a valid one serves cargo through the gateway.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { startCargoRegistry } from '../support/cargo-registry.js';
import { freePort, REPO_ROOT } from '../support/gateway.js';
import { waitFor } from '../support/poll.js';
import { sharedRedisUrl, startRedisServer } from '../support/redis-server.js';

const MAIN = fileURLToPath(new URL('dist/src/main.js', REPO_ROOT));

function run(env: Record<string, string>): { child: ReturnType<typeof spawn>; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, cwd: fileURLToPath(REPO_ROOT) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  return { child, output: () => ({ stdout, stderr }) };
}

test('an invalid config file stops the gateway with exit code 2 and lists every problem with its path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-config-'));
  const file = join(dir, 'bad.yaml');
  await writeFile(file, [
    'registry: cargo', 'listen: 127.0.0.1:8080', 'public_url: http://127.0.0.1:8080', 'upstream: { url: http://127.0.0.1:8000 }',
    'reads: sometimes', 'routes:', '  - { method: DELETE, path: /api/v1/crates/:crate/:version/yank, scope: yanks }',
  ].join('\n'));
  const { child, output } = run({ SCOPEGATE_CONFIG: file });
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  const { stderr } = output();
  assert.match(stderr, /the configuration is invalid \(2 problems\)/);
  assert.match(stderr, /reads "sometimes" is not .*: expected one of public, token/);
  assert.match(stderr, /routes\[0\]\.scope "yanks" is not a scope: expected one of read, publish-new, publish-update, yank, change-owners, publish, authenticated/);
});

test('the shipped config starts a gateway that serves the registry\'s index rewritten to itself', async () => {
  const registry = await startCargoRegistry();
  const port = await freePort();
  const { child, output } = run({ SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: registry.url, REDIS_URL: sharedRedisUrl() });
  try {
    for (let i = 0; i < 100 && !output().stdout.includes('scopegate listening'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(output().stdout, /scopegate listening/, output().stderr);
    const res = await fetch(`http://127.0.0.1:${port}/index/config.json`);
    assert.deepEqual(await res.json(), { dl: `http://127.0.0.1:${port}/api/v1/crates`, api: `http://127.0.0.1:${port}` });
  } finally {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    await registry.close();
    assert.equal(code, 0, 'SIGTERM is a clean shutdown');
  }
});

test('SIGHUP reloads the config, and keeps the running one when the new file is invalid', async () => {
  const registry = await startCargoRegistry();
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sg-reload-'));
  const file = join(dir, 'gateway.yaml');
  const shipped = await readFile(new URL('config/cargo.yaml', REPO_ROOT), 'utf8');
  await writeFile(file, shipped);
  const { child, output } = run({ SCOPEGATE_CONFIG: file, SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: registry.url, REDIS_URL: sharedRedisUrl() });
  const waitFor = async (text: string): Promise<void> => {
    for (let i = 0; i < 100 && !output().stdout.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(output().stdout, new RegExp(text), output().stderr);
  };
  const search = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/api/v1/crates?q=x`)).status;
  try {
    await waitFor('scopegate listening');
    assert.equal(await search(), 200);
    await writeFile(file, shipped.replace('reads: public', 'reads: sometimes'));
    child.kill('SIGHUP');
    await waitFor('config reload refused');
    assert.equal(await search(), 200, 'the running config was kept');
    await writeFile(file, shipped.replace(/^ {2}- \{ id: search.*$/m, ''));
    child.kill('SIGHUP');
    await waitFor('config reloaded');
    assert.equal(await search(), 404, 'the reloaded route table no longer has the search route');
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    await registry.close();
  }
});

test('a second SIGTERM during shutdown does not cut it short (systemd and cluster primaries signal twice)', async () => {
  // A frozen Redis holds the shutdown at its last Redis call (QUIT, until the command timeout),
  // so the second signal is certain to arrive while the first one's shutdown is still running.
  const registry = await startCargoRegistry();
  const redis = await startRedisServer();
  const port = await freePort();
  const { child, output } = run({ SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: registry.url, REDIS_URL: redis.url });
  try {
    for (let i = 0; i < 100 && !output().stdout.includes('scopegate listening'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(output().stdout, /scopegate listening/, output().stderr);
    const paused = redis.pause(1_000);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    for (let i = 0; i < 100 && !output().stdout.includes('shutting down'); i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    await paused;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output().stderr);
    assert.equal(output().stdout.match(/shutting down/g)?.length, 1, 'the shutdown ran once');
  } finally {
    child.kill('SIGKILL');
    await registry.close();
    await redis.stop();
  }
});

test('SIGTERM lets a request in flight finish before the gateway exits (a deploy does not cut off a publish)', async () => {
  // The upstream holds its answer until the gateway has begun shutting down.
  let arrived = false;
  let answer: (() => void) | undefined;
  const upstream = createServer((_req, res) => {
    arrived = true;
    answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"crates":[],"meta":{"total":0}}');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const port = await freePort();
  const { child, output } = run({
    SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`,
    SCOPEGATE_UPSTREAM: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, REDIS_URL: sharedRedisUrl(),
  });
  try {
    await waitFor(() => output().stdout.includes('scopegate listening'), 10_000);
    const response = fetch(`http://127.0.0.1:${port}/api/v1/crates?q=x`);
    await waitFor(() => arrived, 10_000);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await waitFor(() => output().stdout.includes('shutting down'), 10_000);
    answer!();
    const res = await response;
    assert.equal(res.status, 200, output().stdout);
    assert.equal(res.headers.get('connection'), 'close', 'the client is told to reconnect elsewhere');
    assert.deepEqual(await res.json(), { crates: [], meta: { total: 0 } });
    const [code] = await exited;
    assert.equal(code, 0, output().stderr);
  } finally {
    child.kill('SIGKILL');
    upstream.closeAllConnections();
    upstream.close();
  }
});

test('a listen address already in use stops the gateway with exit code 1, naming the setting to change', async () => {
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as AddressInfo).port;
  const free = await freePort();
  try {
    const cases: { env: Record<string, string>; expected: string }[] = [
      { env: { SCOPEGATE_LISTEN: `127.0.0.1:${port}` }, expected: `scopegate: listen (SCOPEGATE_LISTEN) 127.0.0.1:${port} is already in use: stop what listens there (\`ss -ltnp 'sport = :${port}'\` names it), or set listen to a free port\n` },
      {
        env: { SCOPEGATE_LISTEN: `127.0.0.1:${free}`, SCOPEGATE_ADMIN_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_ADMIN_KEY: 'process-test-admin-key-0123456789' },
        expected: `scopegate: admin.listen (SCOPEGATE_ADMIN_LISTEN) 127.0.0.1:${port} is already in use: stop what listens there (\`ss -ltnp 'sport = :${port}'\` names it), or set admin.listen to a free port\n`,
      },
    ];
    for (const { env, expected } of cases) {
      const { child, output } = run({ SCOPEGATE_UPSTREAM: 'http://127.0.0.1:1', REDIS_URL: sharedRedisUrl(), ...env });
      const [code] = await once(child, 'exit');
      assert.equal(code, 1);
      assert.equal(output().stderr, expected);
    }
  } finally {
    taken.close();
  }
});

test('a SIGHUP while the gateway starts does not end it, and the reload it asked for happens once it runs', async () => {
  // Nothing listens on this Redis port, so the gateway waits for it (2 s) before it serves.
  const redisPort = await freePort();
  const port = await freePort();
  const { child, output } = run({
    SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: 'http://127.0.0.1:1',
    REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
  });
  try {
    await waitFor(() => output().stdout.includes('redis connection error'), 10_000);
    assert.doesNotMatch(output().stdout, /scopegate listening/, 'still starting');
    child.kill('SIGHUP');
    await waitFor(() => output().stdout.includes('config reloaded') || child.exitCode !== null || child.signalCode !== null, 10_000);
    assert.deepEqual({ code: child.exitCode, signal: child.signalCode }, { code: null, signal: null }, output().stderr);
    assert.match(output().stdout, /scopegate listening[^\n]*\n(.*\n)*.*config reloaded/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

test('a SIGHUP reload names the changed settings that only a restart puts in effect', async () => {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sg-reload-'));
  const file = join(dir, 'gateway.yaml');
  const shipped = await readFile(new URL('config/cargo.yaml', REPO_ROOT), 'utf8');
  await writeFile(file, shipped);
  const { child, output } = run({ SCOPEGATE_CONFIG: file, SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: 'http://127.0.0.1:1', REDIS_URL: sharedRedisUrl() });
  try {
    await waitFor(() => output().stdout.includes('scopegate listening'), 10_000);
    await writeFile(file, shipped.replace('  timeout: 30s', '  timeout: 5s').replace('  level: info', '  level: debug').replace('reads: public', 'reads: token'));
    child.kill('SIGHUP');
    await waitFor(() => output().stdout.includes('config reloaded'), 10_000);
    const warning = output().stdout.split('\n').filter((l) => l.includes('restart_needed')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(warning.map((l) => l.restart_needed), [['upstream.timeout', 'log.level']], output().stdout);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('a listener moved without its public_url is warned about at start (clients are sent to public_url)', async () => {
  const port = await freePort();
  const { child, output } = run({ SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: 'http://127.0.0.1:1', REDIS_URL: sharedRedisUrl() });
  try {
    await waitFor(() => output().stdout.includes('scopegate listening'), 10_000);
    const warnings = output().stdout.split('\n').filter((l) => l.includes('"level":40')).map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(warnings.includes(`public_url http://127.0.0.1:8080 is on this host but not on the port the gateway listens on (${port}): clients are sent to public_url, so set public_url (SCOPEGATE_PUBLIC_URL) to the URL they reach the gateway at`), warnings.join('\n'));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
