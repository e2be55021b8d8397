/**
 * `npm run demo`: a complete local setup in one command — Redis (its own `redis-server` on a free
 * port when one is installed, else the in-memory store, loudly), the test cargo registry with a
 * demo user, the gateway with its admin API — then it prints a ready-made scoped token and the
 * exact cargo configuration and commands to publish through the gateway. Ctrl-C stops everything
 * it started. The gateway is the server's own code (`createGateway`, `openBackends`), in process.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startAdminApi } from '../src/admin/server.js';
import { buildConfig } from '../src/config/load.js';
import { createMetrics } from '../src/http/metrics.js';
import { createGateway } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { openBackends } from '../src/store/open-store.js';
import { startCargoRegistry } from '../test/support/cargo-registry.js';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';

const ROOT = new URL('../../', import.meta.url);
const USER = 'demo';
const CREDENTIAL = 'demo-registry-credential';
const REGISTRY_NAME = 'scopegate-demo';
const CRATE_PATTERN = 'demo-*';

const say = (text = ''): void => void process.stdout.write(`${text}\n`);

async function main(): Promise<void> {
  const redis = await startRedis();
  // As a private registry would, it takes `cargo new`'s package without description or license.
  const registry = await startCargoRegistry({ users: { [CREDENTIAL]: USER }, requireMetadata: false });
  const port = (await portIsFree(8080)) ? 8080 : 0;
  const adminKey = randomBytes(18).toString('base64url');
  const yaml = await readFile(new URL('config/cargo.yaml', ROOT), 'utf8');
  const built = buildConfig(yaml, {
    SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: `http://127.0.0.1:${port}`, SCOPEGATE_UPSTREAM: registry.url,
    REDIS_URL: redis?.url ?? 'memory', SCOPEGATE_ADMIN_LISTEN: '127.0.0.1:0', SCOPEGATE_ADMIN_KEY: adminKey,
  }, 'config/cargo.yaml');
  if (!built.ok) throw new Error(`config/cargo.yaml is invalid:\n${built.problems.join('\n')}`);
  let config = built.config;
  if (port === 0) {
    // 8080 is taken: any free port, and public_url follows it (cargo must reach the gateway there).
    const free = await freePort();
    config = { ...config, listen: { ...config.listen, port: free }, publicUrl: `http://127.0.0.1:${free}` };
  }
  // Request log lines go to stderr, so the instructions on stdout stay readable (and parseable).
  const logger = createLogger('info', process.stderr);
  const backends = await openBackends(config, logger);
  const metrics = createMetrics();
  const gateway = createGateway(config, { store: backends.store, published: backends.published, authFailures: backends.authFailures, logger, audit: backends.audit, metrics });
  await gateway.listen();
  const admin = await startAdminApi({ config: () => config, store: backends.store, directory: backends.directory, audit: backends.audit, metrics, logger });
  const { token, id } = await createDemoToken(config.publicUrl);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    say('\nstopping the demo: gateway, admin API, registry, redis');
    void Promise.allSettled([gateway.close(), admin?.close()])
      .then(() => backends.close())
      .then(() => registry.close())
      .then(() => redis?.stop())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  printInstructions({ publicUrl: config.publicUrl, registryUrl: registry.url, redisUrl: redis?.url ?? null, adminPort: admin?.port ?? null, adminKey, token, tokenId: id, upstream: registry.url });
}

/** A private redis-server, or null (after a loud warning) when none is installed. */
async function startRedis(): Promise<RedisServer | null> {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.error === undefined && probe.status === 0) return startRedisServer();
  process.stderr.write([
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '!! WARNING: redis-server is not installed, so this demo keeps its tokens IN MEMORY.',
    '!! They vanish when the demo stops, and the scopegate CLI cannot see them.',
    '!! Install Redis (e.g. apt-get install redis-server) for the real thing.',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    '',
  ].join('\n') + '\n');
  return null;
}

/** Creates the demo token the way a user would: the token API, with the registry credential. */
async function createDemoToken(publicUrl: string): Promise<{ token: string; id: number }> {
  const res = await fetch(`${publicUrl}/api/v1/me/tokens`, {
    method: 'PUT',
    headers: { authorization: CREDENTIAL, 'content-type': 'application/json' },
    body: JSON.stringify({ api_token: { name: 'demo', endpoint_scopes: ['publish-new', 'publish-update', 'yank'], crate_scopes: [CRATE_PATTERN] } }),
  });
  const body = (await res.json()) as { api_token?: { token?: string; id?: number } };
  const { token, id } = body.api_token ?? {};
  if (res.status !== 200 || token === undefined || id === undefined) throw new Error(`the demo token could not be created: ${res.status} ${JSON.stringify(body)}`);
  return { token, id };
}

interface Shown {
  readonly publicUrl: string;
  readonly registryUrl: string;
  readonly redisUrl: string | null;
  readonly adminPort: number | null;
  readonly adminKey: string;
  readonly token: string;
  readonly tokenId: number;
  readonly upstream: string;
}

function printInstructions(s: Shown): void {
  const envName = `CARGO_REGISTRIES_${REGISTRY_NAME.toUpperCase().replaceAll('-', '_')}_TOKEN`;
  const cli = `node ${fileURLToPath(new URL('dist/src/cli/main.js', ROOT))}`;
  const cliEnv = `SCOPEGATE_UPSTREAM=${s.upstream} REDIS_URL=${s.redisUrl ?? 'memory'}`;
  say('scopegate demo is running; Ctrl-C stops everything it started.');
  say();
  say(`  gateway     ${s.publicUrl}`);
  say(`  token page  ${s.publicUrl}/tokens   (sign in with the registry credential ${CREDENTIAL})`);
  say(`  registry    ${s.registryUrl}   (test cargo registry; user "${USER}", credential ${CREDENTIAL})`);
  say(`  redis       ${s.redisUrl ?? 'none: in-memory store (see the warning above)'}`);
  if (s.adminPort !== null) say(`  admin API   http://127.0.0.1:${s.adminPort}   (Authorization: Bearer ${s.adminKey})`);
  say();
  say(`A token that may publish new crates, publish updates and yank, only on crates named ${CRATE_PATTERN}, for 90 days:`);
  say();
  say(`  ${s.token}`);
  say();
  say('Add this to ~/.cargo/config.toml:');
  say();
  say(`[registries.${REGISTRY_NAME}]`);
  say(`index = "sparse+${s.publicUrl}/index/"`);
  say();
  say('Then publish a crate through the gateway:');
  say();
  say('  cargo new --lib demo-hello && cd demo-hello');
  say(`  ${envName}=${s.token} cargo publish --registry ${REGISTRY_NAME} --allow-dirty`);
  say();
  say(`A crate outside ${CRATE_PATTERN} (cargo new --lib other-crate) is refused with the reason, before the registry sees it.`);
  if (s.redisUrl !== null) {
    say();
    say('The CLI works on the same store:');
    say(`  ${cliEnv} ${cli} token list`);
    say(`  ${cliEnv} ${cli} audit`);
    say(`  ${cliEnv} ${cli} routes explain PUT /api/v1/crates/new --crate other-crate --token-id ${s.tokenId}`);
  }
  say();
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
