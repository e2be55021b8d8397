import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConfig, loadConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';

const DAY = 86_400_000;
const MiB = 1024 * 1024;
const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The smallest valid config: everything else takes the schema's defaults. */
const MINIMAL = `
public_url: http://gw.test
upstream: { url: http://registry.test }
routes:
  - { method: GET, path: /index/*, scope: read }
`;

function load(yaml: string, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  const result = buildConfig(yaml, env, 'test.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result.config;
}

test('the shipped cargo config loads, with its route table in order', async () => {
  const result = await loadConfig({ path: repoFile('config/cargo.yaml'), env: {} });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  const ids = result.config.routes.routes.map((r) => r.id);
  assert.deepEqual(ids, ['publish', 'yank', 'unyank', 'owners-change', 'owners-list', 'download', 'search', 'index']);
  assert.equal(result.config.upstream.url, 'http://127.0.0.1:8000');
  assert.equal(result.config.upstream.auth, 'per-token');
});

const cargoRequests: { method: string; path: string; route: string | null; need?: string; crate?: string }[] = [
  { method: 'PUT', path: '/api/v1/crates/new', route: 'publish', need: 'publish' },
  { method: 'DELETE', path: '/api/v1/crates/serde/1.0.0/yank', route: 'yank', need: 'yank', crate: 'serde' },
  { method: 'PUT', path: '/api/v1/crates/serde/1.0.0/unyank', route: 'unyank', need: 'yank', crate: 'serde' },
  { method: 'PUT', path: '/api/v1/crates/serde/owners', route: 'owners-change', need: 'change-owners', crate: 'serde' },
  { method: 'DELETE', path: '/api/v1/crates/serde/owners', route: 'owners-change', need: 'change-owners', crate: 'serde' },
  { method: 'GET', path: '/api/v1/crates/serde/owners', route: 'owners-list', need: 'read' },
  { method: 'GET', path: '/api/v1/crates/serde/1.0.0/download', route: 'download', need: 'read' },
  { method: 'GET', path: '/api/v1/crates', route: 'search', need: 'read' },
  { method: 'GET', path: '/index/config.json', route: 'index', need: 'read' },
  { method: 'GET', path: '/index/se/rd/serde', route: 'index', need: 'read' },
  { method: 'GET', path: '/index', route: null },
  { method: 'POST', path: '/api/v1/crates/new', route: null },
  { method: 'GET', path: '/api/v1/crates/serde/1.0.0/yank', route: null },
  { method: 'PUT', path: '/api/v1/me/tokens', route: null },
];

for (const { method, path, route, need, crate } of cargoRequests) {
  test(`the shipped cargo config routes ${method} ${path} to ${route ?? 'nothing (denied)'}`, async () => {
    const result = await loadConfig({ path: repoFile('config/cargo.yaml'), env: {} });
    assert.ok(result.ok);
    const match = result.config.routes.match(method, path);
    assert.equal(match?.route.id ?? null, route);
    if (match === null) return;
    assert.equal(match.route.need, need);
    const source = match.route.crate;
    assert.equal(source?.from === 'path' ? match.params[source.param] : undefined, crate);
  });
}

test('the static example loads when its credential variable is set', async () => {
  const env = { REGISTRY_SERVICE_TOKEN: 'service-secret' };
  const result = await loadConfig({ path: repoFile('config/examples/static.yaml'), env });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  assert.equal(result.config.upstream.auth, 'static');
  assert.equal(result.config.upstream.credential, 'service-secret');
  assert.equal(result.config.reads, 'token');
  assert.equal(result.config.legacyTokens, 'deny');
  assert.equal(result.config.tokens.prefix, 'acme_');
});

test('SCOPEGATE_CONFIG names the file to load when no path is given', async () => {
  const result = await loadConfig({ env: { SCOPEGATE_CONFIG: repoFile('config/cargo.yaml') } });
  assert.ok(result.ok);
});

test('a missing config file is a problem that says how to point at the right one, by where its path came from', async () => {
  const missing = "/nonexistent/scopegate.yaml cannot be read (ENOENT: no such file or directory, open '/nonexistent/scopegate.yaml')";
  assert.deepEqual(await loadConfig({ path: '/nonexistent/scopegate.yaml', env: {} }), {
    ok: false, problems: [`${missing}: check the path given (--config)`],
  });
  assert.deepEqual(await loadConfig({ env: { SCOPEGATE_CONFIG: '/nonexistent/scopegate.yaml' } }), {
    ok: false, problems: [`${missing}: set SCOPEGATE_CONFIG (or serve's --config) to the config file's path`],
  });
  const elsewhere = process.cwd();
  process.chdir('/');
  try {
    assert.deepEqual(await loadConfig({ env: {} }), {
      ok: false,
      problems: ["config/cargo.yaml cannot be read (ENOENT: no such file or directory, open 'config/cargo.yaml'): run from the repository's root, or point SCOPEGATE_CONFIG (or --config) at the config file"],
    });
  } finally {
    process.chdir(elsewhere);
  }
});

test('a config file that is not UTF-8 is reported where it stops being UTF-8, not as some other mistake', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-encoding-'));
  const latin1 = join(dir, 'latin1.yaml');
  // `é` in Latin-1 (0xe9), inside a value and, two lines on, inside a comment.
  await writeFile(latin1, Buffer.concat([Buffer.from(`${MINIMAL}tokens: { registry_name: caf`), Buffer.from([0xe9]), Buffer.from(' }\n# r'), Buffer.from([0xe9]), Buffer.from('sum\n')]));
  const utf16 = join(dir, 'utf16.yaml');
  await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(MINIMAL, 'utf16le')]));
  const utf8 = join(dir, 'utf8.yaml');
  await writeFile(utf8, `\ufeff${MINIMAL}# résumé\n`);
  try {
    assert.deepEqual(await loadConfig({ path: latin1, env: {} }), { ok: false, problems: [`${latin1}:6:29 is not UTF-8 text: save the file as UTF-8`] });
    assert.deepEqual(await loadConfig({ path: utf16, env: {} }), { ok: false, problems: [`${utf16} is UTF-16 text: save it as UTF-8`] });
    assert.equal((await loadConfig({ path: utf8, env: {} })).ok, true, 'UTF-8, with or without a byte order mark, loads');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every key left out takes the default documented in the schema', () => {
  const { routes, ...config } = load(MINIMAL);
  assert.deepEqual(config, {
    registry: 'cargo',
    listen: { host: '127.0.0.1', port: 8080 },
    publicUrl: 'http://gw.test',
    upstream: {
      url: 'http://registry.test',
      auth: 'per-token',
      identity: { path: '/api/v1/me', login: '/user/login' },
      credential: null,
      timeoutMs: 30_000,
      probeTimeoutMs: 2_000,
      probeCacheMs: 5_000,
      indexLagMs: 600_000,
    },
    redis: { url: 'redis://127.0.0.1:6379/0', commandTimeoutMs: 100, keyPrefix: 'sg:', sentinels: null, name: 'mymaster', clusterNodes: null },
    cache: { enabled: true, ttlMs: 10_000, maxEntries: 50_000 },
    workers: 1,
    reads: 'public',
    legacyTokens: 'pass',
    tokens: { prefix: 'sg_', registryName: 'scopegate', maxLifetimeMs: 365 * DAY, defaultLifetimeMs: 90 * DAY, allowNoExpiry: false, keepExpiredMs: 30 * DAY, remindBeforeMs: 3 * DAY },
    limits: { publishJsonMaxBytes: MiB, publishBodyMaxBytes: 128 * MiB, apiBodyMaxBytes: 64 * 1024, jsonBodyMaxBytes: 10 * MiB, requestTimeoutMs: 600_000, authFailures: 20, authFailuresWindowMs: 600_000, trustedProxies: [] },
    reminders: { webhookUrl: null, intervalMs: null },
    audit: { maxEntries: 100_000 },
    admin: { listen: { host: '127.0.0.1', port: 9090 }, key: null },
    log: { level: 'info' },
    routeSpecs: [{ method: 'GET', path: '/index/*', scope: 'read' }],
  });
  assert.equal(routes.routes[0]?.id, 'GET /index/*');
});

test('the loaded config is frozen all the way down', () => {
  const config = load(MINIMAL);
  const unfrozen: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null) return;
    if (!Object.isFrozen(value)) unfrozen.push(path);
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
  };
  walk(config, 'config');
  assert.deepEqual(unfrozen, []);
  assert.throws(() => {
    (config.upstream as { url: string }).url = 'http://evil.test';
  }, TypeError);
});

test('trailing slashes are stripped from public_url and upstream.url', () => {
  const config = load(MINIMAL.replace('http://gw.test', 'https://gw.test/cargo//').replace('http://registry.test', 'http://registry.test/'));
  assert.equal(config.publicUrl, 'https://gw.test/cargo');
  assert.equal(config.upstream.url, 'http://registry.test');
});

test('listen accepts a bracketed IPv6 address and port 0', () => {
  const config = load(`${MINIMAL}listen: "[::1]:0"\n`);
  assert.deepEqual(config.listen, { host: '::1', port: 0 });
});

test('tokens.max_lifetime: null means no maximum', () => {
  assert.equal(load(`${MINIMAL}tokens: { max_lifetime: null }\n`).tokens.maxLifetimeMs, null);
});

test('sizes may be plain byte counts', () => {
  assert.equal(load(`${MINIMAL}limits: { api_body_max: 4096, publish_json_max: "2048" }\n`).limits.apiBodyMaxBytes, 4096);
});

test('limits.trusted_proxies takes IPv4 and IPv6 addresses and CIDR ranges; anything else is reported with its index', () => {
  const config = load(`${MINIMAL}limits: { auth_failures: 0, auth_failures_window: 1h, trusted_proxies: [10.0.0.0/8, "2001:db8::/32", 192.0.2.10] }\n`);
  assert.deepEqual([config.limits.authFailures, config.limits.authFailuresWindowMs, config.limits.trustedProxies], [0, 3_600_000, ['10.0.0.0/8', '2001:db8::/32', '192.0.2.10']]);
  const result = buildConfig(`${MINIMAL}limits: { auth_failures: -1, trusted_proxies: [10.0.0.0/33, "10.0.0.300", "2001:db8::/129"] }\n`, {}, 'test.yaml');
  assert.ok(!result.ok);
  assert.equal(result.problems.length, 2, result.problems.join('\n'));
  assert.match(result.problems[0]!, /^limits\.auth_failures -1 /);
  assert.equal(result.problems[1], 'limits.trusted_proxies[0] "10.0.0.0/33" is out of range: expected a prefix length from 0 to 32');
  const bad = buildConfig(`${MINIMAL}limits: { trusted_proxies: ["10.0.0.300"] }\n`, {}, 'test.yaml');
  assert.deepEqual(bad.ok ? [] : bad.problems, ['limits.trusted_proxies[0] "10.0.0.300" is not an IP address or CIDR range: expected e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.10']);
});

test('YAML merge keys share route fields: a route written once, another that only changes what differs', () => {
  const config = load(`
public_url: http://gw.test
upstream: { url: http://registry.test }
routes:
  - &yank { id: yank, method: DELETE, path: /api/v1/crates/:crate/:version/yank, scope: yank, crate: { from: path } }
  - { <<: *yank, id: unyank, method: PUT, path: /api/v1/crates/:crate/:version/unyank }
`);
  assert.deepEqual(config.routes.routes.map((r) => [r.id, [...r.methods].join(','), r.need, r.crate?.from]), [
    ['yank', 'DELETE', 'yank', 'path'],
    ['unyank', 'PUT', 'yank', 'path'],
  ]);
});

test('redis.url: memory selects the in-process store', () => {
  assert.equal(load(`${MINIMAL}redis: { url: memory }\n`).redis.url, 'memory');
});

const overrides: { variable: string; value: string; read: (c: GatewayConfig) => unknown; expected: unknown }[] = [
  { variable: 'SCOPEGATE_LISTEN', value: '0.0.0.0:3000', read: (c) => c.listen, expected: { host: '0.0.0.0', port: 3000 } },
  { variable: 'SCOPEGATE_PUBLIC_URL', value: 'https://crates.example.com/', read: (c) => c.publicUrl, expected: 'https://crates.example.com' },
  { variable: 'SCOPEGATE_UPSTREAM', value: 'http://10.0.0.2:8000', read: (c) => c.upstream.url, expected: 'http://10.0.0.2:8000' },
  { variable: 'REDIS_URL', value: 'redis://redis.internal:6379/2', read: (c) => c.redis.url, expected: 'redis://redis.internal:6379/2' },
  { variable: 'SCOPEGATE_ADMIN_LISTEN', value: '127.0.0.1:9999', read: (c) => c.admin.listen, expected: { host: '127.0.0.1', port: 9999 } },
  { variable: 'SCOPEGATE_ADMIN_KEY', value: 'admin-secret-0123456789abcd', read: (c) => c.admin.key, expected: 'admin-secret-0123456789abcd' },
  { variable: 'SCOPEGATE_ADMIN_KEY', value: 'a'.repeat(24), read: (c) => c.admin.key, expected: 'a'.repeat(24) },
];

for (const { variable, value, read, expected } of overrides) {
  test(`${variable} overrides the config file`, () => {
    const withAll = `${MINIMAL}listen: 127.0.0.1:1\nredis: { url: memory }\nadmin: { listen: 127.0.0.1:2 }\n`;
    assert.deepEqual(read(load(withAll, { [variable]: value })), expected);
  });
}

test('an override supplies a value the file leaves out', () => {
  const config = load('routes: [{ method: GET, path: /index/*, scope: read }]\n', {
    SCOPEGATE_PUBLIC_URL: 'http://gw.test',
    SCOPEGATE_UPSTREAM: 'http://registry.test',
  });
  assert.equal(config.publicUrl, 'http://gw.test');
  assert.equal(config.upstream.url, 'http://registry.test');
});

test('static mode reads the credential from the variable upstream.credential_env names', () => {
  const yaml = `${MINIMAL.replace('{ url: http://registry.test }', '{ url: http://registry.test, auth: static, credential_env: SVC_TOKEN }')}`;
  assert.equal(load(yaml, { SVC_TOKEN: 'svc' }).upstream.credential, 'svc');
  assert.equal(load(MINIMAL.replace('}', ', auth: static }'), { SCOPEGATE_UPSTREAM_CREDENTIAL: 'dflt' }).upstream.credential, 'dflt');
});

test('per-token mode ignores the credential variable', () => {
  assert.equal(load(MINIMAL, { SCOPEGATE_UPSTREAM_CREDENTIAL: 'unused' }).upstream.credential, null);
});
