/**
 * The publish scenario: large cargo publish bodies streamed through a proxy, several at once,
 * while the proxy process's resident memory is watched. A dedicated driver rather than autocannon:
 * autocannon deep-copies its options (and so the body) into every connection and builds each
 * request as one buffer, which would distort both the timing and the load generator's memory.
 */
import http from 'node:http';
import type { Child } from './processes.js';

export interface PublishSpec {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly concurrent: number;
  /** Publishes each connection sends one after the other. */
  readonly each: number;
  /** The process whose memory is watched. */
  readonly proxy: Child;
}

export interface PublishResult {
  /** Request bodies moved per second, in MB (10^6 bytes). */
  readonly megabytesPerSecond: number;
  /** Largest resident-set growth over the process's RSS just before the run, in MiB. */
  readonly rssGrowthMiB: number;
  /**
   * CPU time (user + system, all threads) the proxy process used per GB moved. The proxy saturates a
   * core, so MB/s is roughly its inverse; this varies less with what else the machine is doing.
   */
  readonly cpuSecondsPerGB: number;
  readonly statuses: Readonly<Record<string, number>>;
}

const SAMPLE_MS = 5;

export async function runPublish(spec: PublishSpec): Promise<PublishResult> {
  const before = spec.proxy.rss().now;
  const peakReset = spec.proxy.resetPeak();
  let sampled = before;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, spec.proxy.rss().now);
  }, SAMPLE_MS);
  const statuses: Record<string, number> = {};
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrent });
  const cpuBefore = spec.proxy.cpuSeconds();
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: spec.concurrent }, async () => {
      for (let i = 0; i < spec.each; i++) {
        const status = await put(spec, agent);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }));
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = spec.proxy.cpuSeconds() - cpuBefore;
  const { now, peak } = spec.proxy.rss();
  const highest = Math.max(sampled, now, peakReset ? peak : 0);
  const bytes = spec.body.length * spec.concurrent * spec.each;
  return {
    megabytesPerSecond: bytes / 1e6 / seconds,
    cpuSecondsPerGB: cpuSeconds / (bytes / 1e9),
    rssGrowthMiB: (highest - before) / 1024 / 1024,
    statuses,
  };
}

/**
 * Measurements of the same bytes as one: all the bytes over all the time (the harmonic mean of
 * MB/s), the mean CPU per GB, the largest RSS growth, every status.
 */
export function combinePublishes(results: readonly PublishResult[]): PublishResult {
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  return {
    megabytesPerSecond: results.length / results.reduce((sum, r) => sum + 1 / r.megabytesPerSecond, 0),
    cpuSecondsPerGB: results.reduce((sum, r) => sum + r.cpuSecondsPerGB, 0) / results.length,
    rssGrowthMiB: Math.max(...results.map((r) => r.rssGrowthMiB)),
    statuses,
  };
}

function put(spec: PublishSpec, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { ...spec.headers, 'content-length': String(spec.body.length), 'content-type': 'application/octet-stream' };
    const req = http.request(`${spec.url}/api/v1/crates/new`, { method: 'PUT', headers, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(spec.body);
  });
}

/** A cargo publish body (`u32le J`, JSON, `u32le C`, .crate bytes) of exactly `total` bytes. */
export function publishBody(name: string, total: number): Buffer {
  const json = Buffer.from(JSON.stringify({ name, vers: '1.0.0', deps: [], features: {}, authors: [], description: 'bench', license: 'MIT' }));
  const crateLength = total - 8 - json.length;
  const body = Buffer.alloc(total, 0x61);
  body.writeUInt32LE(json.length, 0);
  json.copy(body, 4);
  body.writeUInt32LE(crateLength, 4 + json.length);
  return body;
}
