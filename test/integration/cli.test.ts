/**
 * `scopegate` against a real gateway and real Redis: token management on the gateway's own store
 * (the gateway honours what the CLI did), routes check/explain, and the exit codes scripts rely on
 * (0 ok, 1 runtime failure, 2 usage or config error, 3 not found or denied).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashToken } from '../../src/store/token-secret.js';
import { openCredential } from '../../src/store/credential-seal.js';
import { runCliHere, spawnCli, withKeyPrefix, writeConfig } from '../support/cli.js';
import { cargoError, rawRequest, startGateway, type TestGateway } from '../support/gateway.js';
import { startRedisServer, userWritingOnly } from '../support/redis-server.js';

const DAY = 86_400_000;
let gw: TestGateway;
let config: string;
let env: Record<string, string>;

before(async () => {
  gw = await startGateway();
  config = await writeConfig(withKeyPrefix(gw.config.redis.keyPrefix));
  env = { SCOPEGATE_UPSTREAM: gw.registry.url, SCOPEGATE_PUBLIC_URL: gw.url, REDIS_URL: gw.config.redis.url, ALICE_CREDENTIAL: 'alice-upstream-secret' };
});
after(() => gw.close());

const cli = (...args: string[]) => runCliHere([...args, '--config', config], env);
const created = async (...flags: string[]): Promise<{ token: string; id: number; account: string }> => {
  const r = await cli('token', 'create', '--json', ...flags);
  assert.equal(r.code, 0, r.stderr);
  const t = JSON.parse(r.stdout).api_token;
  return { token: t.token, id: t.id, account: t.account };
};
const yank = (token: string, crate = 'cli-crate') => rawRequest(gw.port, 'DELETE', `/api/v1/crates/${crate}/1.0.0/yank`, { authorization: token });

describe('the scopegate program', () => {
  test('every command answers --help with its usage and exit code 0', async () => {
    for (const command of [[], ['serve'], ['token'], ['routes'], ['audit'], ['notify-expiring']]) {
      // The program itself for two; the rest in process (same code, faster).
      const r = command.length === 0 || command[0] === 'token' ? await spawnCli([...command, '--help']) : await runCliHere([...command, '--help']);
      assert.equal(r.code, 0, `${command.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^usage: scopegate/m, command.join(' '));
    }
  });

  test('unknown commands and flags are usage errors (exit 2) that point at --help', async () => {
    const unknown = await spawnCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const flag = await spawnCli(['token', 'list', '--colour']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--colour'[\s\S]*see: scopegate token --help/);
    assert.equal((await spawnCli([])).code, 2, 'no command');
  });

  test('a bad audit --limit is a usage error that calls it a count, not a token id', async () => {
    const r = await runCliHere(['audit', '--limit', 'lots', '--config', config], env);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'scopegate: --limit must be a positive whole number, got "lots"\n');
  });

  test('an invalid config is exit 2 with every problem listed', async () => {
    const bad = await writeConfig((y) => y.replace('reads: public', 'reads: sometimes').replace('scope: yank, crate', 'scope: yanks, crate'));
    const r = await runCliHere(['token', 'list', '--config', bad], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the configuration is invalid \(2 problems\)/);
    assert.match(r.stderr, /reads "sometimes" is not/);
  });

  test('serve runs the server\'s own entry point: an invalid config exits 2 with the problems', async () => {
    const bad = await writeConfig((y) => y.replace('reads: public', 'reads: sometimes'));
    const r = await spawnCli(['serve', '--config', bad], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the configuration is invalid \(1 problem\):\n  - reads "sometimes" is not/);
  });

  test('Redis down is exit 1, with the reason', async () => {
    const r = await runCliHere(['token', 'list', '--config', config], { ...env, REDIS_URL: 'redis://127.0.0.1:1/0' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /redis is not reachable/);
    assert.match(r.stderr, /^scopegate: redis is not reachable at redis:\/\/127\.0\.0\.1:1\/0 \(redis\.url, or REDIS_URL\): /m, 'names the Redis and where it is set');
  });
});

describe('scopegate token', () => {
  test('create checks the credential with the registry, prints the plaintext once, and the gateway honours the token', async () => {
    const r = await spawnCli(['token', 'create', '--name', 'ci', '--scopes', 'yank', '--crates', 'cli-*', '--expires', '30d', '--credential-env', 'ALICE_CREDENTIAL', '--config', config], env);
    assert.equal(r.code, 0, r.stderr);
    const token = /^(sg_[0-9A-Za-z]{38})$/m.exec(r.stdout)?.[1];
    assert.ok(token, r.stdout);
    assert.match(r.stdout, /created token \d+ "ci" for alice/);
    const record = await gw.store.findByHash(hashToken(token));
    assert.equal(record?.account, 'alice');
    assert.equal(openCredential(record!.sealedCredential!, token), 'alice-upstream-secret', 'sealed as the token API does');
    assert.ok(Math.abs(record!.expiredAt! - Date.now() - 30 * DAY) < 60_000);
    await yank(token);
    const forwarded = gw.registry.requests.at(-1);
    assert.deepEqual([forwarded?.method, forwarded?.url, forwarded?.headers.authorization], ['DELETE', '/api/v1/crates/cli-crate/1.0.0/yank', 'alice-upstream-secret']);
    assert.equal((await yank(token, 'other')).status, 403);
  });

  test('the expiry policy is the token API\'s: default lifetime, maximum, no "never", no past', async () => {
    const t = await created('--name', 'default', '--scopes', 'yank', '--credential-env', 'ALICE_CREDENTIAL');
    const stored = await gw.store.findById(t.id);
    assert.ok(Math.abs(stored!.expiredAt! - Date.now() - 90 * DAY) < 60_000);
    const rows: [string, RegExp][] = [
      ['400d', /invalid --expires: 400d from now .* is later than this registry allows \(at most .*, tokens.max_lifetime\)/],
      ['100000000d', /^scopegate: invalid --expires: 100000000d from now is later than this registry allows \(at most .*, tokens.max_lifetime\)\n$/],
      ['never', /invalid --expires: this registry requires every token to expire/],
      ['2020-01-01', /invalid --expires: 2020-01-01 is in the past; pick a future date/],
      ['someday', /invalid --expires "someday": expected 30d, 2026-12-31/],
      ['2027-02-30', /invalid --expires "2027-02-30": expected 30d, 2026-12-31/],
    ];
    for (const [expires, message] of rows) {
      const r = await cli('token', 'create', '--name', 'x', '--scopes', 'yank', '--expires', expires, '--credential-env', 'ALICE_CREDENTIAL');
      assert.equal(r.code, 2, expires);
      assert.match(r.stderr, message);
    }
  });

  test('bad token specs and a rejected credential are usage errors; nothing is created', async () => {
    const before = (await gw.store.listByAccount('alice')).length;
    const rows: [string[], RegExp, Record<string, string>?][] = [
      [['--name', 'x', '--credential-env', 'ALICE_CREDENTIAL'], /give --scopes .* or --unscoped/],
      [['--name', 'x', '--scopes', 'Yank', '--credential-env', 'ALICE_CREDENTIAL'], /invalid endpoint scope: "Yank"/],
      [['--name', 'x', '--scopes', 'yank', '--crates', '*foo', '--credential-env', 'ALICE_CREDENTIAL'], /invalid crate scope: "\*foo"/],
      [['--scopes', 'yank', '--credential-env', 'ALICE_CREDENTIAL'], /give the token a --name/],
      [['--name', 'ci\u001b[2J', '--scopes', 'yank', '--credential-env', 'ALICE_CREDENTIAL'], /invalid --name: it contains \\u\{001b\}, a control or text-direction character/],
      [['--name', 'x', '--scopes', 'yank'], /per-token: name the environment variable/],
      [['--name', 'x', '--scopes', 'yank', '--credential-env', 'NOT_SET_ANYWHERE'], /the variable NOT_SET_ANYWHERE is not set/],
      [['--name', 'x', '--scopes', 'yank', '--credential-env', 'STRANGER'], /the registry did not accept the credential in STRANGER \(its identity check answered 401\)/, { STRANGER: 'nobody' }],
      [['--name', 'x', '--scopes', 'yank', '--credential-env', 'ALICE_CREDENTIAL', '--account', 'bob'], /--account bob does not match the credential's owner, alice/],
    ];
    for (const [flags, message, extra] of rows) {
      const r = await runCliHere(['token', 'create', ...flags, '--config', config], { ...env, ...extra });
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal((await gw.store.listByAccount('alice')).length, before);
  });

  test('static mode: the operator names the account, and the token carries no credential', async () => {
    const staticConfig = await writeConfig((y) => withKeyPrefix(gw.config.redis.keyPrefix)(y).replace('auth: per-token', 'auth: static'));
    const staticEnv = { ...env, SCOPEGATE_UPSTREAM_CREDENTIAL: 'service-credential' };
    const missing = await runCliHere(['token', 'create', '--name', 'x', '--scopes', 'yank', '--config', staticConfig], staticEnv);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /static: name the account that owns the token with --account/);
    const r = await runCliHere(['token', 'create', '--name', 'robot', '--unscoped', '--account', 'ci-robot', '--json', '--config', staticConfig], staticEnv);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout).api_token;
    assert.deepEqual([t.account, t.endpoint_scopes, t.crate_scopes], ['ci-robot', null, null]);
    assert.equal((await gw.store.findById(t.id))?.sealedCredential, null);
  });

  test('list, show and revoke work on the gateway\'s store; unknown ids are exit 3', async () => {
    const a = await created('--name', 'listed', '--scopes', 'yank,publish-new', '--crates', 'cli-*', '--credential-env', 'ALICE_CREDENTIAL');
    const listed = await cli('token', 'list', '--account', 'alice');
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /^ID\s+NAME\s+ACCOUNT\s+SCOPES\s+CRATES\s+EXPIRES\s+LAST USED\s+STATUS$/m);
    assert.match(listed.stdout, new RegExp(`^${a.id}\\s+listed\\s+alice\\s+yank,publish-new\\s+cli-\\*\\s+\\S+Z\\s+-\\s+live$`, 'm'));
    const shown = await cli('token', 'show', String(a.id), '--json');
    assert.deepEqual(JSON.parse(shown.stdout).token.endpoint_scopes, ['yank', 'publish-new']);

    const revoked = await cli('token', 'revoke', String(a.id), '999999');
    assert.equal(revoked.code, 3, 'one id was unknown');
    assert.match(revoked.stdout, new RegExp(`revoked token ${a.id} "listed" of alice`));
    assert.match(revoked.stderr, /no token with id 999999/);
    assert.deepEqual((await yank(a.token)).status, 403);
    assert.deepEqual(JSON.parse((await yank(a.token)).text), cargoError('authentication failed'));
    assert.doesNotMatch((await cli('token', 'list')).stdout, new RegExp(`^${a.id}\\s`, 'm'), 'revoked tokens are listed only with --all');
    assert.match((await cli('token', 'list', '--all')).stdout, new RegExp(`^${a.id}\\s.*revoked$`, 'm'));
    assert.equal((await cli('token', 'show', '999999')).code, 3);
    assert.equal((await cli('token', 'show', 'abc')).code, 2);
  });

  test('a name stored before the name check is printed with its control characters escaped, never raw', async () => {
    const now = Date.now();
    const record = await gw.store.create({
      hash: hashToken(`sg_planted_${now}`), account: 'carol', name: 'ok\u001b[2J\rALL REVOKED', endpointScopes: ['yank'], crateScopes: null,
      createdAt: now, expiredAt: now + DAY, sealedCredential: null,
    }, DAY);
    for (const args of [['token', 'list', '--account', 'carol'], ['token', 'show', String(record.id)], ['token', 'revoke', String(record.id)]]) {
      const r = await cli(...args);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /[\u001b\r]/, `${args.join(' ')} wrote a control character`);
      assert.match(r.stdout, /ok\\u\{001b\}\[2J\\u\{000d\}ALL REVOKED/);
    }
  });

  test('revoke --account revokes every live token of an account (leak response)', async () => {
    const bobEnv = { BOB: 'bob-upstream-secret' };
    const make = async (): Promise<string> => {
      const r = await runCliHere(['token', 'create', '--name', 'b', '--scopes', 'yank', '--credential-env', 'BOB', '--json', '--config', config], { ...env, ...bobEnv });
      return JSON.parse(r.stdout).api_token.token as string;
    };
    const tokens = [await make(), await make()];
    const r = await cli('token', 'revoke', '--account', 'bob', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).revoked.length >= 2, true);
    for (const token of tokens) assert.equal((await yank(token)).status, 403);
  });
});

describe('scopegate token revoke while one token cannot be written', () => {
  test('--account revokes the others, names the one that failed, and exits 1', async () => {
    const redis = await startRedisServer();
    const own = await startGateway({ env: { REDIS_URL: redis.url } });
    try {
      const prefix = own.config.redis.keyPrefix;
      own.registry.addUser('erin-upstream-secret', 'erin');
      const kept = [await own.createToken({ name: 'e1', endpoint_scopes: ['yank'] }, 'erin-upstream-secret'), await own.createToken({ name: 'e2', endpoint_scopes: ['yank'] }, 'erin-upstream-secret')];
      // The newest, so the first one revoked: a loop that stops at an error revokes nothing.
      const stuck = await own.createToken({ name: 'e3', endpoint_scopes: ['yank'] }, 'erin-upstream-secret');
      const hashes = await Promise.all(kept.map(async (t) => (await own.store.findById(t.id))!.hash));
      const url = await userWritingOnly(redis, [`${prefix}token-id:*`, `${prefix}account:*`, `${prefix}audit`, ...hashes.map((h) => `${prefix}token:{${h}}`)]);
      const ownConfig = await writeConfig(withKeyPrefix(prefix));
      const r = await runCliHere(['token', 'revoke', '--account', 'erin', '--json', '--config', ownConfig], { ...env, REDIS_URL: url });
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { revoked: number[]; not_found: number[]; failed: { id: number; error: string }[] };
      assert.deepEqual(out.revoked.sort(), kept.map((t) => t.id).sort());
      assert.deepEqual(out.failed.map((f) => f.id), [stuck.id]);
      assert.match(r.stderr, new RegExp(`could not revoke token ${stuck.id}: redis revoke token failed: NOPERM`));
      assert.match(r.stderr, /revoking again is safe/);
      for (const t of kept) assert.equal((await rawRequest(own.port, 'DELETE', '/api/v1/crates/x/1.0.0/yank', { authorization: t.token })).status, 403);
      assert.equal((await own.store.findById(stuck.id))?.revokedAt, null);
    } finally {
      await own.close();
      await redis.stop();
    }
  });
});

describe('scopegate routes', () => {
  test('check reports a valid table with its routes, and no shadowed or overlapping ones', async () => {
    const r = await spawnCli(['routes', 'check', '--config', config], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /the configuration is valid: 8 routes/);
    assert.match(r.stdout, /^0\s+publish\s+PUT\s+\/api\/v1\/crates\/new\s+publish\s+publish-body$/m);
    assert.match(r.stdout, /shadowed routes: none/);
    assert.match(r.stdout, /overlapping routes: none/);
  });

  test('check lists every problem and the shadowed routes, exit 2', async () => {
    const bad = await writeConfig((y) => y.replace('routes:\n', 'routes:\n  - { id: everything, method: GET, path: /index/*, scope: read }\n').replace('scope: yank, crate', 'scope: yanks, crate'));
    const r = await runCliHere(['routes', 'check', '--config', bad, '--json'], env);
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout);
    assert.equal(out.valid, false);
    assert.ok(out.problems.some((p: string) => /routes\[2\]\.scope "yanks" is not a scope/.test(p)), out.problems.join('\n'));
    assert.deepEqual(out.shadowed, ['routes[8] route "index" can never match: routes[0] ("everything") matches every request it would; move it above or remove it']);
  });

  test('explain says when a client over limits.auth_failures is answered 429 instead (token API, legacy pass-through)', async () => {
    const bound = '429 (auth-failures-limit) instead when the client\'s address had 20 credentials refused by the registry within 10 minutes (limits.auth_failures)';
    const create = await cli('routes', 'explain', 'PUT', '/api/v1/me/tokens');
    assert.ok(create.stdout.includes(`it checks the caller's own credential; a registry credential is answered ${bound}`), create.stdout);
    const yank = await cli('routes', 'explain', 'DELETE', '/api/v1/crates/foo/1.0.0/yank');
    assert.ok(yank.stdout.includes(`legacy:   a credential that is not a scopegate token is forwarded; answered ${bound}`), yank.stdout);
    const read = await cli('routes', 'explain', 'GET', '/index/config.json');
    assert.ok(!read.stdout.includes('auth-failures-limit'), 'public reads are not counted');
  });

  test('explain prints the route, the scope and the verdict with its reason; a denial is exit 3', async () => {
    const t = await created('--name', 'explained', '--scopes', 'publish-new', '--crates', 'cli-*', '--credential-env', 'ALICE_CREDENTIAL');
    const allowed = await cli('routes', 'explain', 'PUT', '/api/v1/crates/new', '--crate', 'cli-new', '--token-id', String(t.id));
    assert.equal(allowed.code, 3, 'allowed only if the crate is new: not allowed outright');
    assert.match(allowed.stdout, /^route:\s+publish \(routes\[0\]\)$/m);
    assert.match(allowed.stdout, /^verdict:\s+allow if the crate is new \(needs publish-new\)$/m);
    assert.match(allowed.stdout, /^verdict:\s+deny if the crate exists \(needs publish-update\) \(scope-missing\): this token does not have the `publish-update` scope \(`cli-new` already exists\)/m);
    const denied = await cli('routes', 'explain', 'DELETE', '/api/v1/crates/cli-x/1.0.0/yank', '--token-id', String(t.id));
    assert.equal(denied.code, 3);
    assert.match(denied.stdout, /^scope:\s+yank$/m);
    assert.match(denied.stdout, /^verdict:\s+deny \(scope-missing\): this token does not have the `yank` scope/m);
    const later = await cli('routes', 'explain', 'PUT', '/api/v1/crates/new', '--crate', 'cli-new', '--token-id', String(t.id), '--at', '2099-01-01T00:00:00Z', '--json');
    assert.deepEqual(JSON.parse(later.stdout).verdicts.map((v: { decision: { reason: string } }) => v.decision.reason), ['token-expired', 'token-expired']);
    const read = await cli('routes', 'explain', 'GET', '/index/config.json');
    assert.equal(read.code, 0);
    assert.match(read.stdout, /verdict:\s+allow \(public-read\)/);
    const none = await cli('routes', 'explain', 'POST', '/somewhere');
    assert.equal(none.code, 3);
    assert.match(none.stdout, /route:\s+none matches POST \/somewhere/);
    const wrongMethod = await cli('routes', 'explain', 'POST', '/api/v1/me/tokens');
    assert.equal(wrongMethod.code, 3);
    assert.match(wrongMethod.stdout, /^answer:\s+the token API, which answers only GET, HEAD and PUT at \/api\/v1\/me\/tokens\nverdict:\s+deny \(method-not-allowed, 405\): never forwarded$/m);
    assert.match((await cli('routes', 'explain', 'GET', '/api/v1/me/tokens/abc')).stdout, /^verdict:\s+deny \(route-unknown\): never forwarded$/m);
    assert.equal((await cli('routes', 'explain', 'GET')).code, 2);
    assert.equal((await cli('routes', 'explain', 'GET', '/x', '--token-id', '999999')).code, 3);
  });
});
