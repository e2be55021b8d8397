/**
 * `npm run demo` as a newcomer would use it: start it, wait for its instructions (within 30 s),
 * follow them literally — the printed ~/.cargo/config.toml snippet and the printed shell commands,
 * with the real cargo binary — and publish a crate through the gateway; then Ctrl-C stops
 * everything the demo started.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { REPO_ROOT } from '../support/gateway.js';

const DEMO = fileURLToPath(new URL('dist/demo/demo.js', REPO_ROOT));
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CARGO_')));

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `set -e\n${script}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

test('npm run demo prints a working token and cargo setup within 30 s; following it publishes a crate; Ctrl-C stops it all', async () => {
  const started = Date.now();
  const demo = spawn(process.execPath, [DEMO], { cwd: fileURLToPath(REPO_ROOT), env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  demo.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  demo.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const work = await mkdtemp(join(tmpdir(), 'sg-demo-'));
  try {
    while (!/cargo publish --registry/.test(stdout) && Date.now() - started < 30_000 && demo.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(stdout, /cargo publish --registry/, `no instructions within 30 s:\n${stdout}\n${stderr}`);

    const lines = stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('[registries.'));
    const snippet = lines.slice(at, lines.indexOf('', at)).join('\n');
    assert.match(snippet, /^\[registries\.scopegate-demo\]\nindex = "sparse\+http:\/\/127\.0\.0\.1:\d+\/index\/"$/);
    const from = lines.findIndex((l) => l.startsWith('Then publish a crate')) + 2;
    const commands = lines.slice(from, lines.indexOf('', from)).map((l) => l.trim());
    assert.equal(commands.length, 2, commands.join('\n'));
    assert.match(commands[1]!, /^CARGO_REGISTRIES_SCOPEGATE_DEMO_TOKEN=sg_[0-9A-Za-z]{38} cargo publish --registry scopegate-demo --allow-dirty$/);
    assert.match(stdout, /token page\s+http:\/\/127\.0\.0\.1:\d+\/tokens/);

    const cargoHome = join(work, 'cargo-home');
    await mkdir(cargoHome);
    await writeFile(join(cargoHome, 'config.toml'), `${snippet}\n`);
    const published = await sh(commands.join('\n'), work, { ...cleanEnv(), CARGO_HOME: cargoHome, CARGO_TERM_COLOR: 'never' });
    assert.equal(published.code, 0, published.output);
    assert.match(published.output, /Published demo-hello v0\.1\.0 at registry `scopegate-demo`/);
  } finally {
    const redisPort = Number(/redis\s+redis:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1] ?? 0);
    demo.kill('SIGINT');
    const [code] = await once(demo, 'exit');
    await rm(work, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
    if (redisPort !== 0) assert.equal(await answers(redisPort), false, 'the demo\'s redis-server is still running');
  }
});

test('without redis-server the demo still runs, on the in-memory store, and says so loudly', async () => {
  const demo = spawn(process.execPath, [DEMO], { cwd: fileURLToPath(REPO_ROOT), env: { ...cleanEnv(), PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  demo.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  demo.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  try {
    for (let i = 0; i < 300 && !/cargo publish --registry/.test(stdout) && demo.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /WARNING: redis-server is not installed, so this demo keeps its tokens IN MEMORY/);
    assert.match(stdout, /redis\s+none: in-memory store/);
    const gateway = /gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    const token = /^\s+(sg_[0-9A-Za-z]{38})$/m.exec(stdout)?.[1];
    assert.ok(gateway && token, stdout);
    const listed = await fetch(`${gateway}/api/v1/me/tokens`, { headers: { authorization: 'demo-registry-credential' } });
    assert.deepEqual(((await listed.json()) as { api_tokens: { name: string }[] }).api_tokens.map((t) => t.name), ['demo']);
  } finally {
    demo.kill('SIGINT');
    const [code] = await once(demo, 'exit');
    assert.equal(code, 0, stderr);
  }
});
