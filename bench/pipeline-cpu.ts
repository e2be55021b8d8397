/**
 * `node dist/bench/pipeline-cpu.js`: CPU time per request of scopegate's own request pipeline
 * alone, with no sockets: the real handler (`createGateway`, shipped config/cargo.yaml, token cache
 * in front of the memory store, request line written to /dev/null) is called with stand-in request
 * and response objects, and forwarding is replaced by an immediate 200. It separates what the
 * gateway's code costs from what Node's HTTP stack, http-proxy-3 and the kernel cost around it,
 * which the load benchmark (`npm run bench`) cannot tell apart. Diagnostic only; prints, writes
 * nothing. Options: `--requests N` (200000).
 */
import type http from 'node:http';
import { openSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseScope, type Scope } from '../src/core/scope.js';
import { buildConfig } from '../src/config/load.js';
import { createGateway } from '../src/http/server.js';
import { createLineWriter } from '../src/log-writer.js';
import { createLogger } from '../src/log.js';
import { serialiseAuditEntry, type AuditEntry } from '../src/store/audit-log.js';
import { sealCredential } from '../src/store/credential-seal.js';
import { MemoryTokenStore } from '../src/store/memory-store.js';
import { MemoryPublishedCrates } from '../src/store/published-crates.js';
import { MemoryAuthFailures } from '../src/store/auth-failures.js';
import { CachingTokenStore } from '../src/store/token-cache.js';
import { hashToken, mintToken } from '../src/store/token-secret.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200000' } } });
const requests = Number(values.requests);
const DAY_MS = 86_400_000;

const yaml = readFileSync(new URL('../../config/cargo.yaml', import.meta.url), 'utf8');
const built = buildConfig(yaml, { SCOPEGATE_UPSTREAM: 'http://127.0.0.1:9', SCOPEGATE_PUBLIC_URL: 'http://127.0.0.1', REDIS_URL: 'memory' }, 'config/cargo.yaml');
if (!built.ok) throw new Error(built.problems.join('\n'));
const inner = new MemoryTokenStore();
const store = new CachingTokenStore(inner, { live: true, listen: () => undefined, close: async () => undefined }, { ttlMs: 30_000, maxEntries: 10_000 });
const token = mintToken('sg_');
const now = Date.now();
await inner.create({
  hash: hashToken(token), account: 'bench', name: 'pipeline', endpointScopes: [parseScope('yank') as Scope], crateScopes: null,
  createdAt: now, expiredAt: now + DAY_MS, sealedCredential: sealCredential('upstream-credential', token),
}, DAY_MS);
const logger = createLogger('info', createLineWriter(openSync('/dev/null', 'a'), { exitHook: false }));
// The audit entry is serialised as the Redis audit log does at append; the write itself is not counted.
const audit = { append: (entry: AuditEntry): void => void serialiseAuditEntry(entry) };
const gateway = createGateway(built.config, { store, published: new MemoryPublishedCrates(), authFailures: new MemoryAuthFailures(), logger, audit });
const forwarder = gateway.deps.forwarder as { forward: typeof gateway.deps.forwarder.forward };
forwarder.forward = async (_req, res) => {
  res.statusCode = 200;
  res.end();
  return { kind: 'answered', status: 200 };
};
const handler = gateway.server.listeners('request')[0] as http.RequestListener;

/** Stand-in request and response; `done` resolves when the response is ended (answered or forwarded). */
function stand(method: string, url: string): { req: http.IncomingMessage; res: http.ServerResponse; done: Promise<void> } {
  let ended = (): void => undefined;
  const done = new Promise<void>((resolve) => { ended = resolve; });
  const req = { method, url, headers: { host: 'gateway', authorization: token, 'user-agent': 'cargo/1.95.0' }, on() { return req; }, once() { return req; }, socket: {} };
  const res = {
    statusCode: 200, headersSent: false, writableFinished: false, socket: {},
    writeHead(status: number) { res.statusCode = status; res.headersSent = true; return res; },
    setHeader() { return res; }, end() { res.writableFinished = true; ended(); return res; }, destroy() { return res; }, once() { return res; }, on() { return res; },
  };
  return { req: req as unknown as http.IncomingMessage, res: res as unknown as http.ServerResponse, done };
}

/** One turn of the event loop: the request's log line and metrics (run after its answer) are done. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `n` requests, `batch` at a time, each batch to its end (answered, then logged), and returns
 * µs of CPU each. Answers are written in the check phase (batching.ts `afterPollPhase`), so waiting
 * one turn after calling the handler would read a response not yet answered. One at a time, every
 * request pays a log write(2) of its own (log-writer.ts flushes once per loop turn); under load
 * requests arrive in batches and share it, as they do here with `batch` > 1.
 */
async function measure(method: string, url: string, n: number, batch: number): Promise<{ micros: number; status: number }> {
  let status = 0;
  const started = process.cpuUsage();
  for (let i = 0; i < n; i += batch) {
    const stands = Array.from({ length: batch }, () => stand(method, url));
    for (const { req, res } of stands) handler(req, res);
    await Promise.all(stands.map((s) => s.done));
    await nextTurn();
    status = stands[0]!.res.statusCode;
  }
  const used = process.cpuUsage(started);
  return { micros: (used.user + used.system) / n, status };
}

const scenarios = [
  { label: 'allowed yank (forwarding replaced by an immediate 200)', method: 'DELETE', url: '/api/v1/crates/foo/1.0.0/yank' },
  { label: 'denied: change owners with a yank-only token', method: 'PUT', url: '/api/v1/crates/foo/owners' },
];
const loop = await (async () => {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) await nextTurn();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / requests;
})();
/** Requests per loop turn in the batched measurement: about what one poll phase brings at 50 connections. */
const BATCH = 32;
for (const s of scenarios) {
  await measure(s.method, s.url, Math.min(requests, 20_000), 1);
  const one = await measure(s.method, s.url, requests, 1);
  const batched = await measure(s.method, s.url, requests, BATCH);
  process.stdout.write(`${s.label}: ${(one.micros - loop).toFixed(1)} µs of CPU per request one at a time, ${(batched.micros - loop / BATCH).toFixed(1)} in batches of ${BATCH} per loop turn (status ${one.status}/${batched.status}; the harness's own loop, ${loop.toFixed(1)} µs per turn, subtracted)\n`);
}
process.exit(0);
