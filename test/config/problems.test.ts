import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load.js';

const SCOPES = 'read, publish-new, publish-update, yank, change-owners, publish, authenticated';
const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ROOT_KEYS = 'registry, listen, public_url, upstream, redis, cache, workers, reads, legacy_tokens, tokens, limits, reminders, audit, admin, log, routes';

const VALID = `
public_url: http://gw.test
upstream: { url: http://registry.test }
routes:
  - { method: GET, path: /index/*, scope: read }
`;

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  const result = buildConfig(yaml, env, 'test.yaml');
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.problems;
}

test('a config with many mistakes reports every one of them at once, one line each, in file order', () => {
  const yaml = `
registry: pypi
lisen: 127.0.0.1:8080
public_url: ftp://gw.test
upstream: { auth: static, timeout: 30d, identity: { login: user.login } }
redis: { url: mysql://db, command_timeout: 0ms }
reads: private
tokens: { prefix: SG_, keep_expired: 30 days, max_lifetime: 30d, default_lifetime: 90d, allow_no_expiry: yes }
limits: { api_body_max: 1MB, publish_json_max: 256MiB }
routes:
  - { id: publish, method: PUT, path: /api/v1/crates/new, scope: publish, crate: { from: body } }
  - { id: yank, method: DELETE, path: /api/v1/crates/:crate/:version/yank, scope: yanks }
  - { id: search, method: GTE, path: /api/v1/crates, scope: read }
  - { id: index, method: GET, path: /index/*, scope: read }
  - { id: config, method: GET, path: /index/config.json, scope: read }
  - { id: index, method: [GET, HEAD, GET], path: /index2/*, scope: read }
  - { id: Owners, method: GET, path: /api/v1/crates/:name/owners, scope: read, crate: { from: path } }
`;
  assert.deepEqual(problems(yaml, { SCOPEGATE_LISTEN: 'localhost' }), [
    'SCOPEGATE_LISTEN "localhost" is not a host:port: expected e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080',
    'registry "pypi" is not a registry: expected one of cargo, npm',
    'lisen is not a known property: did you mean listen?',
    'public_url "ftp://gw.test" is not an http(s) URL: expected e.g. http://127.0.0.1:8000, https://crates.example.com',
    'upstream.url is required',
    'upstream.auth is static but SCOPEGATE_UPSTREAM_CREDENTIAL is not set: set SCOPEGATE_UPSTREAM_CREDENTIAL to the credential scopegate sends upstream',
    'upstream.timeout "30d" is out of range: expected at most 24d',
    'upstream.identity.login "user.login" is not a JSON pointer: expected e.g. /user/login, /username',
    'redis.url "mysql://db" is not a Redis URL: expected e.g. redis://127.0.0.1:6379/0, rediss://:secret@redis.internal:6380/1, memory',
    'redis.command_timeout "0ms" is out of range: expected at least 1ms',
    'reads "private" is not a reads mode: expected one of public, token',
    'tokens.prefix "SG_" is not a token prefix: expected e.g. sg_, acme_',
    'tokens.keep_expired "30 days" is not a duration: expected e.g. 30d, 12h, 100ms',
    'tokens.default_lifetime "90d" is out of range: expected at most tokens.max_lifetime (30d)',
    'tokens.allow_no_expiry "yes" is not a boolean: expected true or false',
    'limits.api_body_max "1MB" is not a size: expected e.g. 64KiB, 1MiB, 1048576',
    'limits.publish_json_max "256MiB" is out of range: expected at most limits.publish_body_max (128MiB)',
    'routes[0].crate.from "body" is not a crate source: expected one of path, publish-body',
    `routes[1].scope "yanks" is not a scope: expected one of ${SCOPES}`,
    `routes[2].method "GTE" is not an HTTP method: expected one of ${METHODS}`,
    'routes[4] route "config" can never match: routes[3] ("index") matches every request it would; move it above or remove it',
    'routes[5].method lists "GET" twice',
    'routes[6].id "Owners" is not a route id: expected e.g. publish, owners-change',
  ]);
});

test('an unknown key is named with its path, with the likely intended key when there is one', () => {
  const yaml = `${VALID}lisen: 127.0.0.1:8080\nupstream_url: x\ntokens: { prefx: sg_, colour: blue }\n`;
  assert.deepEqual(problems(yaml), [
    'lisen is not a known property: did you mean listen?',
    `upstream_url is not a known property: expected one of ${ROOT_KEYS}`,
    'tokens.prefx is not a known property: did you mean prefix?',
    'tokens.colour is not a known property: expected one of prefix, registry_name, max_lifetime, default_lifetime, allow_no_expiry, keep_expired, remind_before',
  ]);
});

test('a route scope that is not a scope lists the scopes', () => {
  const yaml = VALID.replace('scope: read', 'scope: yanks');
  assert.deepEqual(problems(yaml), [`routes[0].scope "yanks" is not a scope: expected one of ${SCOPES}`]);
});

test('a route that an earlier route shadows is reported with its path', () => {
  const yaml = `${VALID}  - { method: GET, path: /index/config.json, scope: read }\n`;
  assert.deepEqual(problems(yaml), [
    'routes[1] route "GET /index/config.json" can never match: routes[0] ("GET /index/*") matches every request it would; move it above or remove it',
  ]);
});

test('route problems keep their indices when an earlier route is rejected by the schema', () => {
  const yaml = `${VALID}  - { method: GET, path: /x, scope: nope }\n  - { method: GET, path: /index/a, scope: read }\n  - { method: GET, path: /a/:id, scope: read, crate: { from: path } }\n`;
  assert.deepEqual(problems(yaml), [
    `routes[1].scope "nope" is not a scope: expected one of ${SCOPES}`,
    'routes[2] route "GET /index/a" can never match: routes[0] ("GET /index/*") matches every request it would; move it above or remove it',
    'routes[3].crate.param path "/a/:id" has no ":crate" segment to take the crate name from',
  ]);
});

test('two routes with one id are reported', () => {
  const yaml = `${VALID.replace('{ method', '{ id: index, method')}  - { id: index, method: GET, path: /api/v1/crates, scope: read }\n`;
  assert.deepEqual(problems(yaml), ['routes[1].id "index" is already used by routes[0]: expected a unique id']);
});

test('a method that is neither a method nor a list says what is expected', () => {
  assert.deepEqual(problems(VALID.replace('method: GET', 'method: 5')), [
    'routes[0].method 5 is not an HTTP method or list of methods: expected e.g. GET, [PUT, DELETE]',
  ]);
  assert.deepEqual(problems(VALID.replace('method: GET', 'method: [GET, 5]')), [
    `routes[0].method[1] 5 is not an HTTP method: expected one of ${METHODS}`,
  ]);
  assert.deepEqual(problems(VALID.replace('method: GET', 'method: []')), ['routes[0].method is empty: expected at least 1 entry']);
});

test('required keys, wrong types and an empty route table are reported', () => {
  assert.deepEqual(problems('routes: []\nupstream: http://registry.test\ntokens: 5\n'), [
    'public_url is required',
    'routes is empty: expected at least 1 entry',
    'upstream "http://registry.test" is not a mapping: expected a mapping with keys url, auth, identity, credential_env, timeout, probe_timeout, probe_cache, index_lag',
    'tokens 5 is not a mapping: expected a mapping with keys prefix, registry_name, max_lifetime, default_lifetime, allow_no_expiry, keep_expired, remind_before',
  ]);
  assert.deepEqual(problems('public_url: http://gw.test\nupstream: {}\nroutes:\n  - { path: /x }\n'), [
    'upstream.url is required',
    'routes[0].method is required',
    'routes[0].scope is required',
  ]);
});

test('a YAML syntax error is reported with its line and column', () => {
  assert.deepEqual(problems('public_url: http://gw.test\nupstream: { url: http://registry.test\nroutes: []\n'), [
    'test.yaml:3:1 is not valid YAML: flow map in block collection must be sufficiently indented and end with a }',
  ]);
  assert.deepEqual(problems('listen: 127.0.0.1:8080\nlisten: 127.0.0.1:8081\n'), ['test.yaml:2:1 is not valid YAML: map keys must be unique']);
});

test('a second YAML document is reported in the config\'s terms, not the YAML library\'s', () => {
  assert.deepEqual(problems('public_url: http://gw.test\n---\nreads: token\n'), [
    'test.yaml:2:1 starts a second YAML document: a config is one document, so remove this `---` and what follows, or merge it into the first',
  ]);
});

test('an empty file or one that is not a mapping is reported', () => {
  assert.deepEqual(problems('# nothing\n'), [`test.yaml is empty: expected a mapping with keys ${ROOT_KEYS}`]);
  assert.deepEqual(problems('- a\n- b\n'), [`test.yaml ["a","b"] is not a scopegate config: expected a mapping with keys ${ROOT_KEYS}`]);
});

test('static mode without the credential variable says which variable to set', () => {
  const yaml = VALID.replace('{ url: http://registry.test }', '{ url: http://registry.test, auth: static, credential_env: SVC_TOKEN }');
  const expected = ['upstream.auth is static but SVC_TOKEN is not set: set SVC_TOKEN to the credential scopegate sends upstream'];
  assert.deepEqual(problems(yaml), expected);
  assert.deepEqual(problems(yaml, { SVC_TOKEN: '' }), expected);
});

const invalidOverrides: { env: NodeJS.ProcessEnv; expected: string }[] = [
  { env: { SCOPEGATE_LISTEN: '8080' }, expected: 'SCOPEGATE_LISTEN "8080" is not a host:port: expected e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080' },
  { env: { SCOPEGATE_LISTEN: '0.0.0.0:80800' }, expected: 'SCOPEGATE_LISTEN "0.0.0.0:80800" is out of range: expected a port from 0 to 65535' },
  { env: { SCOPEGATE_PUBLIC_URL: 'gw.test' }, expected: 'SCOPEGATE_PUBLIC_URL "gw.test" is not an http(s) URL: expected e.g. http://127.0.0.1:8000, https://crates.example.com' },
  { env: { SCOPEGATE_UPSTREAM: 'http://svc:hunter2@registry.test' }, expected: 'SCOPEGATE_UPSTREAM has a user or password in it: put none in a URL; a credential for the registry goes in upstream.auth: static with upstream.credential_env' },
  { env: { SCOPEGATE_PUBLIC_URL: 'https://user@gw.test' }, expected: 'SCOPEGATE_PUBLIC_URL has a user or password in it: put none in a URL; a credential for the registry goes in upstream.auth: static with upstream.credential_env' },
  { env: { SCOPEGATE_UPSTREAM: 'http://127.0.0.1:0' }, expected: 'SCOPEGATE_UPSTREAM "http://127.0.0.1:0" has port 0: expected the port it listens on, e.g. http://127.0.0.1:8000, https://crates.example.com' },
  { env: { SCOPEGATE_UPSTREAM: 'http://registry.test/?x=1' }, expected: 'SCOPEGATE_UPSTREAM "http://registry.test/?x=1" has a query or fragment: expected a base URL, e.g. http://127.0.0.1:8000, https://crates.example.com' },
  { env: { REDIS_URL: '' }, expected: 'REDIS_URL "" is not a Redis URL: expected e.g. redis://127.0.0.1:6379/0, rediss://:secret@redis.internal:6380/1, memory' },
  { env: { REDIS_URL: 'redis://127.0.0.1:6379/abc' }, expected: 'REDIS_URL "redis://127.0.0.1:6379/abc" names database "abc": expected a database number, e.g. redis://127.0.0.1:6379/0' },
  { env: { REDIS_URL: 'rediss://redis.internal:6380/-1' }, expected: 'REDIS_URL "rediss://redis.internal:6380/-1" names database "-1": expected a database number, e.g. redis://127.0.0.1:6379/0' },
  { env: { REDIS_URL: 'redis://:hunter2@127.0.0.1:99999/0' }, expected: 'REDIS_URL "redis://:***@127.0.0.1:99999/0" is not a Redis URL: expected e.g. redis://127.0.0.1:6379/0, rediss://:secret@redis.internal:6380/1, memory' },
  { env: { REDIS_URL: 'rediss://gw:p@ss word@redis.internal/0' }, expected: 'REDIS_URL "rediss://gw:***@redis.internal/0" is not a Redis URL: expected e.g. redis://127.0.0.1:6379/0, rediss://:secret@redis.internal:6380/1, memory' },
  { env: { SCOPEGATE_ADMIN_LISTEN: 'localhost:-1' }, expected: 'SCOPEGATE_ADMIN_LISTEN "localhost:-1" is not a host:port: expected e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080' },
  { env: { SCOPEGATE_ADMIN_KEY: '' }, expected: 'SCOPEGATE_ADMIN_KEY is set but empty: set it to a long random secret (e.g. `openssl rand -base64 32`), or unset it' },
  { env: { SCOPEGATE_ADMIN_KEY: 'a'.repeat(23) }, expected: 'SCOPEGATE_ADMIN_KEY is 23 characters, shorter than 24: set it to a long random secret (e.g. `openssl rand -base64 32`), or unset it' },
  { env: { SCOPEGATE_ADMIN_KEY: ` ${'a'.repeat(30)}` }, expected: 'SCOPEGATE_ADMIN_KEY starts or ends with whitespace, which no Authorization header can carry: set it to a long random secret (e.g. `openssl rand -base64 32`), or unset it' },
];

for (const { env, expected } of invalidOverrides) {
  test(`an invalid ${Object.keys(env)[0]} is reported under the variable's name`, () => {
    assert.deepEqual(problems(VALID, env), [expected]);
  });
}

const invalidValues: { yaml: string; expected: string }[] = [
  { yaml: 'upstream: { url: "http://[bad" }', expected: 'upstream.url "http://[bad" is not an http(s) URL: expected e.g. http://127.0.0.1:8000, https://crates.example.com' },
  { yaml: 'tokens: { keep_expired: 1.5d }', expected: 'tokens.keep_expired "1.5d" is not a duration: expected e.g. 30d, 12h, 100ms' },
  { yaml: 'tokens: { keep_expired: 30 }', expected: 'tokens.keep_expired 30 is not a duration: expected e.g. 30d, 12h, 100ms' },
  { yaml: 'tokens: { max_lifetime: 99999999999d }', expected: 'tokens.max_lifetime "99999999999d" is not a duration: expected e.g. 30d, 12h, 100ms' },
  { yaml: 'tokens: { max_lifetime: forever }', expected: 'tokens.max_lifetime "forever" is not a duration: expected e.g. 365d, 90d, null' },
  { yaml: 'tokens: { default_lifetime: 0d }', expected: 'tokens.default_lifetime "0d" is out of range: expected at least 1ms' },
  { yaml: 'upstream: { url: http://registry.test, probe_timeout: 25d }', expected: 'upstream.probe_timeout "25d" is out of range: expected at most 24d' },
  { yaml: 'limits: { api_body_max: 0 }', expected: 'limits.api_body_max 0 is out of range: expected at least 1 byte' },
  { yaml: 'limits: { api_body_max: -1 }', expected: 'limits.api_body_max -1 is not a size: expected e.g. 64KiB, 1MiB, 1048576' },
  { yaml: 'limits: { api_body_max: 1.5 }', expected: 'limits.api_body_max 1.5 is not a size: expected e.g. 64KiB, 1MiB, 1048576' },
  { yaml: 'limits: { publish_body_max: 9999999999GiB }', expected: 'limits.publish_body_max "9999999999GiB" is not a size: expected e.g. 64KiB, 1MiB, 1048576' },
  { yaml: 'log: { level: verbose }', expected: 'log.level "verbose" is not a log level: expected one of fatal, error, warn, info, debug, trace, silent' },
  { yaml: 'legacy_tokens: allow', expected: 'legacy_tokens "allow" is not a legacy tokens mode: expected one of pass, deny' },
];

for (const { yaml, expected } of invalidValues) {
  test(`${yaml} is reported as: ${expected}`, () => {
    const key = yaml.split(':')[0]!;
    const base = key === 'upstream' ? VALID.replace(/^upstream:.*$/m, '') : VALID;
    assert.deepEqual(problems(`${base}${yaml}\n`), [expected]);
  });
}
