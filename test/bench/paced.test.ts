/**
 * runPaced(): the equal-load latency runs depend on requests arriving evenly, not in autocannon's
 * once-a-second bursts, and on a saturated server showing up as a rate not kept.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runPaced } from '../../bench/paced.js';

/** A test server that answers after `delayMs`, or as `answer` says (`n`: the request's number, from 1). */
async function server(delayMs: number, answer?: (res: http.ServerResponse, n: number) => void): Promise<{ url: string; arrivals: number[]; close(): Promise<void> }> {
  const arrivals: number[] = [];
  const s = http.createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    if (answer !== undefined) answer(res, arrivals.length);
    else setTimeout(() => res.end(`{"ok":true}`), delayMs);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    arrivals,
    close: () => new Promise((resolve) => s.close(() => resolve())),
  };
}

test('requests arrive evenly spread over the run, every one answered and timed', async () => {
  const upstream = await server(0);
  try {
    // 50 connections, as the benchmark uses: a request finds all busy only if this process stalls for
    // 125 ms (a leaked connection still shows); with 10, a 25 ms stall of a busy test machine did.
    const result = await runPaced({ url: upstream.url, method: 'GET', path: '/', connections: 50, durationSeconds: 1, rate: 400 });
    assert.equal(result.responses, 400);
    assert.deepEqual(result.statuses, { 200: 400 });
    assert.equal(result.errors, 0);
    assert.equal(result.queued, 0, 'a fast server keeps a connection free');
    assert.ok(result.requestsPerSecond > 300 && result.requestsPerSecond < 450, `${result.requestsPerSecond} req/s`);
    // Evenly paced, 400/s is 20 per 50 ms; a burst sender would deliver the whole second's 400 at once.
    const first = upstream.arrivals[0]!;
    const perWindow = new Map<number, number>();
    for (const t of upstream.arrivals) perWindow.set(Math.floor((t - first) / 50), (perWindow.get(Math.floor((t - first) / 50)) ?? 0) + 1);
    const busiest = Math.max(...perWindow.values());
    assert.ok(busiest <= 60, `at most ${busiest} requests arrived within one 50 ms window`);
    assert.ok(perWindow.size >= 15, `requests arrived in only ${perWindow.size} of 20 windows`);
  } finally {
    await upstream.close();
  }
});

test('latency counts the time the server takes', async () => {
  const upstream = await server(30);
  try {
    const result = await runPaced({ url: upstream.url, method: 'GET', path: '/', connections: 20, durationSeconds: 0.5, rate: 100 });
    assert.equal(result.responses, 50);
    assert.ok(result.p50 >= 30 && result.p50 < 200, `p50 ${result.p50} ms`);
    assert.ok(result.p99 >= result.p50);
  } finally {
    await upstream.close();
  }
});

test('a server slower than the rate over the connections given falls behind it', async () => {
  // 2 connections × (1 request per 50 ms) = 40 req/s at most, against 200 offered.
  const upstream = await server(50);
  try {
    const result = await runPaced({ url: upstream.url, method: 'GET', path: '/', connections: 2, durationSeconds: 0.5, rate: 200 });
    assert.equal(result.responses, 100);
    assert.ok(result.requestsPerSecond < 100, `${result.requestsPerSecond} req/s`);
    assert.ok(result.p99 > 500, `waiting for a connection counts in the latency: p99 ${result.p99} ms`);
    assert.ok(result.queued! > 50, `${result.queued} of 100 requests found both connections busy`);
  } finally {
    await upstream.close();
  }
});

test('a response cut off mid-body counts as an error, once, and the run still ends', async () => {
  // Every other answer promises 100 bytes, sends 10 and drops the connection.
  const upstream = await server(0, (res, n) => {
    if (n % 2 === 1) return void res.end('{"ok":true}');
    res.writeHead(200, { 'content-length': '100' });
    res.write('0123456789', () => res.destroy());
  });
  try {
    const result = await runPaced({ url: upstream.url, method: 'GET', path: '/', connections: 4, durationSeconds: 0.2, rate: 100 });
    assert.equal(result.responses + result.errors, 20);
    assert.equal(result.errors, 10);
    assert.deepEqual(result.statuses, { 200: 10 });
  } finally {
    await upstream.close();
  }
});

test('a rate and duration that make no request are refused, not waited on forever', async () => {
  await assert.rejects(runPaced({ url: 'http://127.0.0.1:9', method: 'GET', path: '/', connections: 1, durationSeconds: 0, rate: 100 }), /no request to send/);
});
