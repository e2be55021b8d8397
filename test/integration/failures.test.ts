/**
 * Fail closed: Redis down or hung means 503 + Retry-After and nothing forwarded, never an allow;
 * an unreachable or silent upstream means 502 / 504 in cargo's error format.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startCargoRegistry } from '../support/cargo-registry.js';
import { cargoError, freePort, rawRequest, startGateway, type TestGateway } from '../support/gateway.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const STORE_DOWN = cargoError('the token store is unavailable, so nothing was forwarded; try again shortly');

describe('with its own redis-server, stopped and hung mid-run', () => {
  let redis: RedisServer;
  let gw: TestGateway;
  let token: string;

  before(async () => {
    redis = await startRedisServer();
    gw = await startGateway({ env: { REDIS_URL: redis.url }, commandTimeoutMs: 100 });
    token = (await gw.createToken({ name: 'ci', endpoint_scopes: ['yank'] })).token;
  });
  after(async () => {
    await gw.close();
    await redis.stop();
  });

  async function yank(): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
    gw.registry.clearRequests();
    return rawRequest(gw.port, 'DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: token });
  }

  test('a working Redis lets the token through to the upstream', async () => {
    const res = await yank();
    assert.equal(res.status, 404, res.text); // the upstream has no such crate: it was reached
    assert.equal(gw.registry.requests.length, 1);
  });

  test('a stopped Redis gives 503 with Retry-After, fast, and nothing reaches the upstream', async () => {
    await redis.stop();
    const started = performance.now();
    const res = await yank();
    const elapsed = performance.now() - started;
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.deepEqual(JSON.parse(res.text), STORE_DOWN);
    assert.deepEqual(gw.registry.requests, []);
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  });

  test('token creation also fails closed while Redis is down', async () => {
    const res = await rawRequest(gw.port, 'PUT', '/api/v1/me/tokens', { authorization: 'alice-upstream-secret' }, JSON.stringify({ api_token: { name: 'x' } }));
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.text), STORE_DOWN);
  });

  test('once Redis is back the gateway recovers by itself (an empty Redis knows no tokens)', async () => {
    await redis.start();
    let res = await yank();
    for (let i = 0; i < 40 && res.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await yank();
    }
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.text), cargoError('authentication failed'));
  });

  test('a hung Redis gives 503 within the command timeout, not a hang', async () => {
    token = (await gw.createToken({ name: 'ci2', endpoint_scopes: ['yank'] })).token;
    const paused = redis.pause(1500);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    const res = await yank();
    const elapsed = performance.now() - started;
    await paused;
    assert.equal(res.status, 503);
    assert.deepEqual(gw.registry.requests, []);
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  });
});

describe('upstream trouble', () => {
  let gw: TestGateway;
  let token: string;

  before(async () => {
    gw = await startGateway({ editYaml: (y) => y.replace(/^(\s*)timeout: .*$/m, '$1timeout: 300ms').replace(/probe_timeout: .*$/m, 'probe_timeout: 200ms') });
    token = (await gw.createToken({ name: 'ci', endpoint_scopes: ['yank'] })).token;
  });
  after(() => gw.close());

  test('an upstream that never answers gives 504 in cargo format after upstream.timeout', async () => {
    gw.registry.setHang(true);
    const res = await rawRequest(gw.port, 'DELETE', '/api/v1/crates/foo/1.0.0/yank', { authorization: token });
    gw.registry.setHang(false);
    assert.equal(res.status, 504);
    assert.deepEqual(JSON.parse(res.text), cargoError('the registry behind scopegate did not answer in time; try again shortly'));
  });

  test('a publish whose upload takes longer than upstream.timeout is not cut off while it is still arriving', async () => {
    const { token: full } = await gw.createToken({ name: 'full', endpoint_scopes: ['publish-new', 'publish-update'] });
    const body = cargoPublishBody({ name: 'slow-upload', vers: '0.1.0' }, Buffer.alloc(64 * 1024, 7));
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'PUT', path: '/api/v1/crates/new', headers: { authorization: full, 'content-length': String(body.length) } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      // 8 chunks 150 ms apart: over a second in all, four times upstream.timeout (300 ms), never 300 ms without progress.
      let sent = 0;
      const next = (): void => {
        req.write(body.subarray(sent, sent + 8 * 1024));
        sent += 8 * 1024;
        if (sent < body.length) setTimeout(next, 150);
        else req.end();
      };
      next();
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(JSON.parse(res.text), { warnings: { invalid_categories: [], invalid_badges: [], other: [] } });
    assert.deepEqual(gw.registry.indexLines('slow-upload').map((l) => l.vers), ['0.1.0']);
  });

  test('a failed existence probe denies a publish (fail closed) instead of guessing new or update', async () => {
    const { token: publishNew } = await gw.createToken({ name: 'new-only', endpoint_scopes: ['publish-new'] });
    gw.registry.setHang(true);
    gw.registry.clearRequests();
    const body = cargoPublishBody({ name: 'probed-crate', vers: '1.0.0' });
    const res = await rawRequest(gw.port, 'PUT', '/api/v1/crates/new', { authorization: publishNew, 'content-length': String(body.length) }, body);
    gw.registry.setHang(false);
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.text), cargoError('could not ask the registry whether `probed-crate` already exists, so the publish was not forwarded; try again shortly'));
    assert.ok(gw.registry.requests.every((r) => r.method === 'GET'), 'only the probe reached the upstream');
  });

  test('an unreachable upstream gives 502 in cargo format', async () => {
    const port = await freePort();
    const other = await startGateway({ registry: await startCargoRegistry(), env: { SCOPEGATE_UPSTREAM: `http://127.0.0.1:${port}` } });
    try {
      const res = await rawRequest(other.port, 'GET', '/api/v1/crates?q=x', {});
      assert.equal(res.status, 502);
      assert.deepEqual(JSON.parse(res.text), cargoError('the registry behind scopegate could not be reached; try again shortly'));
    } finally {
      await other.close();
      await other.registry.close();
    }
  });
});

test('a client that goes away aborts the upstream request instead of leaving it hanging', async () => {
  let upstreamClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => { upstreamClosed = resolve; });
  // A silent upstream that notices when the gateway hangs up on it.
  const silent = http.createServer((req) => req.socket.once('close', () => upstreamClosed()));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const gw = await startGateway({ env: { SCOPEGATE_UPSTREAM: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` } });
  try {
    const client = http.request({ host: '127.0.0.1', port: gw.port, method: 'GET', path: '/api/v1/crates?q=slow' });
    client.on('error', () => undefined);
    client.end();
    await new Promise((r) => setTimeout(r, 150));
    client.destroy();
    const outcome = await Promise.race([closed.then(() => 'aborted'), new Promise((r) => setTimeout(() => r('still open'), 2000))]);
    assert.equal(outcome, 'aborted');
    await new Promise((r) => setTimeout(r, 50));
    const line = gw.logLines().find((l) => l['req.path'] === '/api/v1/crates');
    assert.equal(line?.['upstream.error'], 'client closed the connection; upstream request aborted');
  } finally {
    await gw.close();
    silent.closeAllConnections();
    silent.close();
  }
});

describe('a client slower than limits.request_timeout', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway({ editYaml: (y) => y.replace(/^(\s*)request_timeout: .*$/m, '$1request_timeout: 2s') });
  });
  after(() => gw.close());

  test('a publish still arriving after limits.request_timeout is answered 408 in cargo format, and the registry keeps nothing', async () => {
    const { token } = await gw.createToken({ name: 'full', endpoint_scopes: ['publish-new', 'publish-update'] });
    const body = cargoPublishBody({ name: 'dripped', vers: '0.1.0' }, Buffer.alloc(256 * 1024, 7));
    let uploadFinished = false;
    const res = await new Promise<{ status: number; text: string; early: boolean }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'PUT', path: '/api/v1/crates/new', headers: { authorization: token, 'content-length': String(body.length) } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), early: !uploadFinished }));
      });
      req.on('error', reject);
      // 32 chunks 250 ms apart: 8 s in all, four times the limit.
      let sent = 0;
      const next = (): void => {
        if (req.destroyed) return;
        req.write(body.subarray(sent, sent + 8 * 1024));
        sent += 8 * 1024;
        if (sent < body.length) setTimeout(next, 250);
        else {
          uploadFinished = true;
          req.end();
        }
      };
      next();
    });
    assert.equal(res.status, 408, res.text);
    assert.deepEqual(JSON.parse(res.text), cargoError('the request did not arrive in time, so nothing was forwarded; try again'));
    assert.ok(res.early, 'answered while the upload was still arriving');
    assert.deepEqual(gw.registry.indexLines('dripped'), []);
    // One line for the request, saying what happened: the gateway's 408, no upstream answer.
    const lines = gw.logLines().filter((l) => l['req.path'] === '/api/v1/crates/new');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!.status, 408);
    assert.equal(lines[0]!['error.code'], 'SG_REQUEST_TIMEOUT');
    assert.equal(lines[0]!['upstream.status'], undefined);
  });
});
