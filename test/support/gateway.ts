/**
 * `startGateway()`: a real gateway (the shipped config/cargo.yaml, real Redis under a private key
 * prefix) in front of the recording test registry, with its log lines captured and a movable clock.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { buildConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { createGateway, type Gateway } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { adapterFor } from '../../src/registries/select.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { withTokenCache } from '../../src/store/revocation-feed.js';
import type { TokenStore } from '../../src/store/token-store.js';
import { RedisAuditLog, type AuditLog } from '../../src/store/audit-log.js';
import { RedisPublishedCrates, type PublishedCrates } from '../../src/store/published-crates.js';
import { RedisAuthFailures, type AuthFailures } from '../../src/store/auth-failures.js';
import { startCargoRegistry, type CargoRegistry } from './cargo-registry.js';
import { freePort, sharedRedisUrl, uniquePrefix } from './redis-server.js';

export { freePort };

export const REPO_ROOT = new URL('../../../', import.meta.url);

/** Registry users: upstream credential → login. */
export const USERS = { 'alice-upstream-secret': 'alice', 'bob-upstream-secret': 'bob' } as const;

/** What a test gateway can front: any upstream with a URL (the cargo test registry, Verdaccio). */
export interface TestUpstream {
  readonly url: string;
  close(): Promise<void>;
}

/** A gateway in front of the cargo test registry. */
export type TestGateway = TestGatewayOn<CargoRegistry>;

export interface TestGatewayOn<R extends TestUpstream> {
  readonly url: string;
  readonly port: number;
  readonly registry: R;
  readonly gateway: Gateway;
  readonly store: TokenStore;
  /** The gateway's audit trail (a stream under the gateway's key prefix). */
  readonly audit: AuditLog;
  readonly config: GatewayConfig;
  /** Every log line written so far, raw (to prove no secret leaks) and parsed. */
  readonly logText: () => string;
  readonly logLines: () => Record<string, unknown>[];
  /** Moves the gateway's clock (epoch ms); `null` returns to real time. */
  setNow(ms: number | null): void;
  /** Creates a token through the real token API with `credential` (default alice's). */
  createToken(apiToken: Record<string, unknown>, credential?: string): Promise<{ token: string; id: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Extra env overrides (e.g. REDIS_URL for a private redis-server). */
  readonly env?: Record<string, string>;
  /** Edits to the YAML text before it is loaded. */
  readonly editYaml?: (yaml: string) => string;
  /** The config file to load, relative to the repo root (default config/cargo.yaml). */
  readonly configFile?: string;
  /** Redis key prefix (default: a fresh one); gateways given the same one share tokens and revocations. */
  readonly keyPrefix?: string;
  /** The revocation feed subscribes here instead of on the token store's Redis (to take it down alone). */
  readonly feedRedisUrl?: string;
  /** Accepted publishes are remembered here instead of on the token store's Redis (to take it down alone). */
  readonly publishedRedisUrl?: string;
  /** Revocations confirmed by a replica (RedisTokenStoreOptions.confirmRevocations); default: by topology. */
  readonly confirmRevocations?: boolean;
  /** Wraps the counter of failed credential checks (to slow or watch its calls). */
  readonly wrapAuthFailures?: (counter: AuthFailures) => AuthFailures;
  /** Wraps the store of accepted publishes and creation claims (to slow or watch its calls). */
  readonly wrapPublished?: (published: PublishedCrates) => PublishedCrates;
  /** Use this registry instead of starting one. */
  readonly registry?: CargoRegistry;
  /**
   * The Redis command timeout (default {@link PATIENT_COMMAND_TIMEOUT_MS}, not the shipped
   * 100 ms); it wins over `redis.command_timeout` in the YAML. The suite shares two cores with
   * npm, cargo and Verdaccio, and this process can go unscheduled for longer than 100 ms: a CI
   * run once answered a token creation 503 that way. Tests of a hung Redis set 100 ms.
   */
  readonly commandTimeoutMs?: number;
}

/** Test gateways' Redis command timeout, in-process and as processes (gateway-process.ts). */
export const PATIENT_COMMAND_TIMEOUT_MS = 1_000;

export async function startGateway(options: GatewayOptions = {}): Promise<TestGateway> {
  const registry = options.registry ?? (await startCargoRegistry({ users: { ...USERS } }));
  return startGatewayOn(registry, { ...options, closeRegistry: !options.registry });
}

/**
 * The gateway builder for any upstream (`startNpmGateway` uses it with Verdaccio): the config
 * file (`configFile`) is loaded with the listener, public URL, upstream and Redis overridden.
 */
export async function startGatewayOn<R extends TestUpstream>(
  registry: R,
  options: Omit<GatewayOptions, 'registry'> & { closeRegistry?: boolean; defaultCredential?: string },
): Promise<TestGatewayOn<R>> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const configFile = options.configFile ?? 'config/cargo.yaml';
  const yaml = await readFile(new URL(configFile, REPO_ROOT), 'utf8');
  const env = { SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: url, SCOPEGATE_UPSTREAM: registry.url, REDIS_URL: sharedRedisUrl(), ...options.env };
  const built = buildConfig((options.editYaml ?? ((y) => y))(yaml), env, configFile);
  if (!built.ok) throw new Error(`test config invalid:\n${built.problems.join('\n')}`);
  const config: GatewayConfig = { ...built.config, redis: { ...built.config.redis, keyPrefix: options.keyPrefix ?? uniquePrefix(), commandTimeoutMs: options.commandTimeoutMs ?? PATIENT_COMMAND_TIMEOUT_MS }, log: { level: 'info' } };
  const client = createRedisClient({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs });
  await waitForReady(client, 2_000).catch(() => undefined);
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });
  const logger = createLogger('info', sink);
  // As in production: the token cache (on unless the YAML says `cache: { enabled: false }`).
  const naming = adapterFor(config.registry).naming;
  const feedConfig = options.feedRedisUrl === undefined ? config : { ...config, redis: { ...config.redis, url: options.feedRedisUrl } };
  // As in production (open-store.ts): revocations on a connection of their own.
  const revocations = createRedisClient({ url: config.redis.url, commandTimeoutMs: config.redis.commandTimeoutMs });
  const store = withTokenCache(new RedisTokenStore(client, { keyPrefix: config.redis.keyPrefix, naming, revocations, confirmRevocations: options.confirmRevocations }), feedConfig, client, logger);
  const audit = new RedisAuditLog(client, { keyPrefix: config.redis.keyPrefix, maxEntries: config.audit.maxEntries });
  const publishedClient = options.publishedRedisUrl === undefined ? client : createRedisClient({ url: options.publishedRedisUrl, commandTimeoutMs: config.redis.commandTimeoutMs });
  const redisPublished = new RedisPublishedCrates(publishedClient, { keyPrefix: config.redis.keyPrefix, naming });
  const published = options.wrapPublished?.(redisPublished) ?? redisPublished;
  const wrapAuthFailures = options.wrapAuthFailures ?? ((counter: AuthFailures) => counter);
  let now: number | null = null;
  const gateway = createGateway(config, { store, published, audit, authFailures: wrapAuthFailures(new RedisAuthFailures(client, { keyPrefix: config.redis.keyPrefix })), logger, clock: () => now ?? Date.now() });
  await gateway.listen();
  const tg: TestGatewayOn<R> = {
    url, port, registry, gateway, store, audit, config,
    logText: () => lines.join(''),
    logLines: () => lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    setNow: (ms) => { now = ms; },
    createToken: async (apiToken, credential = options.defaultCredential ?? 'alice-upstream-secret') => {
      const res = await fetch(`${url}/api/v1/me/tokens`, { method: 'PUT', headers: { authorization: credential, 'content-type': 'application/json' }, body: JSON.stringify({ api_token: apiToken }) });
      const body = (await res.json()) as { api_token?: { token: string; id: number } };
      if (res.status !== 200 || !body.api_token) throw new Error(`token creation failed: ${res.status} ${JSON.stringify(body)}`);
      return { token: body.api_token.token, id: body.api_token.id, body: body.api_token as unknown as Record<string, unknown> };
    },
    close: async () => {
      await gateway.close();
      await audit.close();
      await store.close();
      if (publishedClient !== client) publishedClient.disconnect();
      if (options.closeRegistry) await registry.close();
    },
  };
  return tg;
}

/** Sends a request with Node's fetch and returns status, headers and parsed JSON (or text). */
export async function call(url: string, init: RequestInit & { path: string }): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const res = await fetch(url + init.path, init);
  const text = await res.text();
  let json: unknown = undefined;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}


/**
 * A raw HTTP/1.1 request with the path sent exactly as given (fetch would normalise `//`, `..`
 * and escapes away before the gateway ever saw them).
 */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** cargo's error envelope for `detail`. */
export const cargoError = (detail: string): { errors: { detail: string }[] } => ({ errors: [{ detail }] });
