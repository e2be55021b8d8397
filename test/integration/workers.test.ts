/**
 * `workers: N` (DESIGN §6): the primary forks N worker processes that share one listener; each
 * serves requests with its own Redis connections and token cache; a worker that dies is replaced;
 * SIGTERM stops them all cleanly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS } from '../../src/runtime-flags.js';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { CLI_BIN, withKeyPrefix, writeConfig } from '../support/cli.js';
import { freePort, rawRequest, REPO_ROOT } from '../support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { eventually, waitFor } from '../support/poll.js';
import { sharedRedisUrl, startRedisServer, uniquePrefix } from '../support/redis-server.js';

const MAIN = fileURLToPath(new URL('dist/src/main.js', REPO_ROOT));
const ADMIN_KEY = 'workers-test-admin-key-0123456789';
let registry: CargoRegistry;
let gw: GatewayProcess;

const listening = (lines: readonly Record<string, unknown>[]): number => lines.filter((l) => l.msg === 'scopegate listening').length;

before(async () => {
  registry = await startCargoRegistry();
  gw = await startGatewayProcess({
    upstream: registry.url, redisUrl: sharedRedisUrl(), set: { workers: 2, 'redis.key_prefix': uniquePrefix() },
    ready: (lines) => listening(lines) >= 2, env: { SCOPEGATE_ADMIN_KEY: ADMIN_KEY },
  });
});
after(async () => {
  if (gw.child.exitCode === null) await gw.stop();
  await registry.close();
});

/** The pids that answered: each request's id starts with its process's pid in base 36. */
async function answeringPids(requests: number): Promise<Set<number>> {
  const before = gw.logLines().length;
  for (let i = 0; i < requests; i++) {
    // A new connection each time: the primary hands connections to the workers in turn.
    const res = await rawRequest(gw.port, 'GET', `/api/v1/crates?q=w${i}`);
    assert.equal(res.status, 200);
  }
  await sleep(100);
  const ids = gw.logLines().slice(before).filter((l) => l.msg === 'request').map((l) => String(l['req.id']));
  assert.equal(ids.length, requests);
  return new Set(ids.map((id) => parseInt(id.split('-')[0]!, 36)));
}

test('workers: 2 serves requests from two worker processes, neither of them the primary', async () => {
  const pids = await answeringPids(20);
  assert.equal(pids.size, 2, `pids: ${[...pids].join(', ')}`);
  assert.ok(!pids.has(gw.child.pid!), 'the primary only supervises');
});

/** Searches answered so far, from one scrape on a new connection (the primary hands each to a worker in turn). */
async function searches(): Promise<number> {
  const res = await rawRequest(gw.adminPort(), 'GET', '/metrics', { authorization: `Bearer ${ADMIN_KEY}` });
  assert.equal(res.status, 200, res.text);
  return res.text.split('\n').filter((l) => l.startsWith('scopegate_requests_total{route="search"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

test('/metrics counts the requests of every worker, whichever worker the scrape reaches', async () => {
  const pids = await answeringPids(10);
  assert.equal(pids.size, 2, 'both workers served searches');
  const scrapes: number[] = [];
  for (let i = 0; i < 4; i++) scrapes.push(await searches());
  assert.ok(scrapes[0]! >= 10, `scrapes: ${scrapes.join(', ')}`);
  assert.deepEqual(scrapes, scrapes.map(() => scrapes[0]), 'every scrape gives the host\'s total, not one worker\'s');
  await answeringPids(6);
  assert.equal(await searches(), scrapes[0]! + 6);
});

test('/metrics answers 503 naming the worker when one does not report (it is not a partial sum)', async () => {
  const admin = gw.adminPort();
  const [frozen] = await answeringPids(4);
  process.kill(frozen!, 'SIGSTOP');
  try {
    let answer: { status: number; text: string } | null = null;
    // A connection handed to the frozen worker hangs; the next one goes to the other worker.
    for (let i = 0; i < 4 && answer === null; i++) {
      const res = await fetch(`http://127.0.0.1:${admin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, connection: 'close' }, signal: AbortSignal.timeout(4_000) }).catch(() => null);
      if (res !== null) answer = { status: res.status, text: await res.text() };
    }
    assert.ok(answer !== null, 'some scrape was answered');
    assert.equal(answer.status, 503, answer.text);
    assert.deepEqual(JSON.parse(answer.text), { error: `the workers' metrics could not be collected: worker ${frozen} did not report within 2000 ms` });
  } finally {
    process.kill(frozen!, 'SIGCONT');
  }
});

test('a worker that dies is replaced, and requests keep being served', async () => {
  const [victim] = await answeringPids(4);
  process.kill(victim!, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (listening(gw.logLines()) < 3 && Date.now() < deadline) await sleep(50);
  assert.equal(listening(gw.logLines()), 3, 'a third worker started');
  assert.ok(gw.logLines().some((l) => l.msg === 'worker died; starting a new one' && l.pid === victim));
  const pids = await answeringPids(20);
  assert.equal(pids.size, 2);
  assert.ok(!pids.has(victim!));
});

test('summed counters never go down when a worker is replaced: its counts are kept, not dropped', async () => {
  const [victim] = await answeringPids(10);
  const before = await searches();
  assert.ok(before >= 10, `before: ${before}`);
  const started = listening(gw.logLines());
  process.kill(victim!, 'SIGKILL');
  await waitFor(() => listening(gw.logLines()) > started, 10_000);
  // Prometheus reads any fall in a counter as a reset; the victim's searches must still be in the sum.
  const after = await searches();
  assert.ok(after >= before, `the sum fell from ${before} to ${after} when worker ${victim} was replaced`);
  await answeringPids(4);
  assert.equal(await searches(), after + 4);
});

test('workers run with the gateway\'s Node flags and malloc settings even when the primary was started without them', async () => {
  const bare = await startGatewayProcess({
    upstream: registry.url, redisUrl: sharedRedisUrl(), set: { workers: 2, 'redis.key_prefix': uniquePrefix() },
    ready: (lines) => listening(lines) >= 2, plain: true,
  });
  try {
    assertWorkersHaveSettings(bare.child.pid!, 2);
  } finally {
    await bare.stop();
  }
});

/** Asserts that `primary` lacks the gateway's runtime settings and its `count` children have them. */
function assertWorkersHaveSettings(primary: number, count: number): void {
  const workers = readdirSync(`/proc/${primary}/task`)
    .flatMap((task) => readFileSync(`/proc/${primary}/task/${task}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number));
  assert.equal(workers.length, count);
  const argv = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const variables = Object.entries(GATEWAY_ENV).map(([name, value]) => `${name}=${value}`);
  assert.ok(!GATEWAY_NODE_FLAGS.some((flag) => argv(primary).includes(flag)), 'the primary itself had no flags');
  assert.ok(!variables.some((variable) => environ(primary).includes(variable)), 'the primary itself had no malloc settings');
  for (const pid of workers) {
    for (const flag of GATEWAY_NODE_FLAGS) assert.ok(argv(pid).includes(flag), `worker ${pid}: ${argv(pid).join(' ')}`);
    for (const variable of variables) assert.ok(environ(pid).includes(variable), `worker ${pid} lacks ${variable}`);
  }
}

test('scopegate serve, whose command line cannot carry the runtime settings, serves through one worker that has them', async () => {
  const port = await freePort();
  const config = await writeConfig(withKeyPrefix(uniquePrefix()));
  const env: Record<string, string | undefined> = {
    ...process.env, SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`,
    SCOPEGATE_UPSTREAM: registry.url, REDIS_URL: sharedRedisUrl(),
  };
  for (const name of Object.keys(GATEWAY_ENV)) delete env[name];
  const child = spawn(CLI_BIN, ['serve', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = once(child, 'exit');
  try {
    for (let i = 0; i < 200 && !stdout.includes('scopegate listening'); i++) await sleep(50);
    const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.some((l) => l.msg === 'scopegate listening'), `${stdout}\n${stderr}`);
    assert.ok(lines.some((l) => String(l.msg).startsWith('serving through one worker process started with the gateway\'s runtime settings')), stdout);
    assert.ok(!lines.some((l) => l.level === 40), `no warning: ${stdout}`);
    assertWorkersHaveSettings(child.pid!, 1);
    assert.equal((await rawRequest(port, 'GET', '/api/v1/crates?q=serve')).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  assert.deepEqual((await exited).slice(0, 2), [0, null], stderr);
});

test('a lone gateway started without its runtime settings says which are missing; with them it says nothing', async () => {
  const started = async (plain: boolean) => {
    const lone = await startGatewayProcess({ upstream: registry.url, redisUrl: sharedRedisUrl(), set: { 'redis.key_prefix': uniquePrefix() }, plain });
    // Up to 'scopegate listening' (stopping warns that the revocation feed went down).
    const warned = lone.logLines().filter((l) => l.level === 40);
    await lone.stop();
    return warned;
  };
  const warned = await started(true);
  assert.equal(warned.length, 1);
  const variables = Object.entries(GATEWAY_ENV).map(([name, value]) => `${name}=${value}`);
  assert.deepEqual(warned[0]!.missing, [...GATEWAY_NODE_FLAGS, ...variables]);
  assert.ok(String(warned[0]!.msg).includes(`Run \`${[...variables, 'node', ...GATEWAY_NODE_FLAGS].join(' ')} dist/src/main.js\` (npm start does)`), String(warned[0]!.msg));
  assert.deepEqual(await started(false), []);
});

test('SIGTERM stops the primary and its workers with exit code 0', async () => {
  assert.equal(await gw.stop(), 0);
});

test('workers: 2 on a port already in use exits with code 1 and says so, instead of restarting its workers for ever', async () => {
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as AddressInfo).port;
  const config = await writeConfig((yaml) => yaml.replace(/^workers: 1$/m, 'workers: 2'));
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, SCOPEGATE_CONFIG: config, SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: registry.url, REDIS_URL: sharedRedisUrl() },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  try {
    // A worker restart takes 1 s or more, so a primary that restarts them is still running here.
    assert.ok(await eventually(() => child.exitCode !== null, 15_000), `the primary is still running:\n${stderr}`);
    assert.equal(child.exitCode, 1);
    assert.match(stderr, new RegExp(`^scopegate: listen \\(SCOPEGATE_LISTEN\\) 127\\.0\\.0\\.1:${port} is already in use`, 'm'));
  } finally {
    child.kill('SIGKILL');
    taken.close();
  }
});

test('/metrics answers while a replacement worker is still starting (it has served nothing to report)', async () => {
  const redis = await startRedisServer();
  const own = await startGatewayProcess({
    upstream: registry.url, redisUrl: redis.url, set: { workers: 2 }, ready: (lines) => listening(lines) >= 2, env: { SCOPEGATE_ADMIN_KEY: ADMIN_KEY },
  });
  const redisErrors = (lines: readonly Record<string, unknown>[]): number => lines.filter((l) => String(l.msg).startsWith('redis connection error')).length;
  try {
    const admin = own.adminPort();
    // Without Redis a starting worker waits 2 s for it before it serves. Each process logs one
    // connection error per 10 s, so once both workers have, the next one is the replacement's.
    await redis.stop();
    await waitFor(() => redisErrors(own.logLines()) === 2, 10_000);
    const pid = own.child.pid!;
    const [victim] = readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number));
    process.kill(victim!, 'SIGKILL');
    await waitFor(() => redisErrors(own.logLines()) === 3, 10_000);
    assert.equal(listening(own.logLines()), 2, 'the replacement does not serve yet');
    const res = await fetch(`http://127.0.0.1:${admin}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, connection: 'close' } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(listening(own.logLines()), 2, 'the scrape was answered before the replacement served');
  } finally {
    await own.stop();
    await redis.stop();
  }
});
