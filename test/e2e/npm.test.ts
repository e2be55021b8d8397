/**
 * End to end with the real `npm` CLI (npm 11) through the gateway, in front of a real Verdaccio.
 * Each write command succeeds with a token holding the scope it needs, and fails — with the
 * gateway's message in npm's own output, nothing written upstream — with the wrong scope, a
 * package pattern that does not match, or an expired token. Verdaccio never receives a scopegate
 * token (checked on everything the recording proxy saw).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupNpm, makeNpmHome, makeNpmPackage, runNpm, type NpmResult } from '../support/npm-cli.js';
import { startNpmGateway, type NpmGateway } from '../support/npm-gateway.js';
import { npmPublishBody } from '../support/npm-publish-body.js';
import { npmSetup } from '../../src/web/format.js';
import type { TokenPagePolicy } from '../../src/web/policy.js';

const DAY = 86_400_000;
const EXPIRY = Math.floor((Date.now() + 30 * DAY) / 1000) * 1000;
const EXPIRED_MESSAGE = (gw: NpmGateway): string => `this token expired at ${new Date(EXPIRY).toISOString().replace('.000Z', 'Z')}; create a new one at ${gw.url}/tokens`;

let gw: NpmGateway;
let unique = 0;
const pkgName = (what: string): string => `@acme/e2e-${what}-${++unique}`;

before(async () => { gw = await startNpmGateway(); });
after(async () => {
  gw?.setNow(null);
  await gw?.close();
  await cleanupNpm();
});

/** A token of alice's; patterns default to her `@acme` scope. */
async function token(scopes: string[], patterns: string[] = ['@acme/*'], expiredAt = EXPIRY): Promise<string> {
  return (await gw.createToken({ name: `e2e-${++unique}`, endpoint_scopes: scopes, crate_scopes: patterns, expired_at: new Date(expiredAt).toISOString() })).token;
}

/** Publishes straight to Verdaccio (the command under test is what npm runs next). */
async function seed(name: string, ...versions: string[]): Promise<void> {
  for (const version of versions) {
    const res = await fetch(`${gw.registry.directUrl}/${name.replace('/', '%2f')}`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: gw.registry.credential('alice') }, body: JSON.stringify(npmPublishBody(name, version)),
    });
    assert.equal(res.status, 201, `seeding ${name}@${version}: ${await res.text()}`);
  }
}

/** The package as Verdaccio stores it. */
async function stored(name: string): Promise<{ versions: Record<string, { deprecated?: string }>; 'dist-tags': Record<string, string> }> {
  const res = await fetch(`${gw.registry.directUrl}/${name.replace('/', '%2f')}?write=true`, { headers: { authorization: gw.registry.credential('alice') } });
  assert.equal(res.status, 200);
  return (await res.json()) as never;
}

const npm = (args: string[], tokenValue: string, cwd?: string): Promise<NpmResult> => runNpm(args, { registryUrl: gw.url, token: tokenValue, cwd });

/** Runs `run` and asserts npm succeeded and Verdaccio got its write with alice's credential. */
async function assertAllowed(run: () => Promise<NpmResult>): Promise<NpmResult> {
  const mark = gw.registry.requests.length;
  const result = await run();
  assert.equal(result.code, 0, `npm failed:\n${result.stdout}${result.stderr}`);
  const writes = gw.registry.requests.slice(mark).filter((r) => r.method !== 'GET');
  assert.ok(writes.length > 0, 'no write reached Verdaccio');
  for (const w of writes) assert.equal(w.headers.authorization, gw.registry.credential('alice'), `${w.method} ${w.url}`);
  return result;
}

/**
 * Asserts npm failed on `method` with the gateway's 403 and `message` in its output
 * (`npm error 403 403 Forbidden - PUT <url> - <message>`, wire-facts §3.4).
 */
function assertRefused(result: NpmResult, method: string, message: string): void {
  assert.notEqual(result.code, 0, `npm did not fail:\n${result.stdout}${result.stderr}`);
  const line = result.stderr.split('\n').find((l) => l.startsWith(`npm error 403 403 Forbidden - ${method} ${gw.url}/`));
  assert.ok(line !== undefined, `npm printed no 403 for ${method}:\n${result.stderr}`);
  assert.ok(line.endsWith(` - ${message}`), `npm's line lacks the gateway's message:\n${line}\nexpected: ${message}`);
}

/**
 * Runs every refusal of one command, one npm at a time (npm is CPU-bound for a second, and this
 * machine has two cores shared with the rest of the suite): none may write.
 */
async function assertAllRefused(method: string, cases: { wrongScope: () => Promise<NpmResult>; wrongScopeMessage: string; wrongPattern: () => Promise<NpmResult>; wrongPatternMessage: string; expired: () => Promise<NpmResult> }): Promise<void> {
  const mark = gw.registry.requests.length;
  assertRefused(await cases.wrongScope(), method, cases.wrongScopeMessage);
  assertRefused(await cases.wrongPattern(), method, cases.wrongPatternMessage);
  gw.setNow(EXPIRY);
  try {
    assertRefused(await cases.expired(), method, EXPIRED_MESSAGE(gw));
  } finally {
    gw.setNow(null);
  }
  assert.deepEqual(gw.registry.requests.slice(mark).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`), [], 'a refused write reached Verdaccio');
}

const otherScope = (name: string): string => `this token may only act on packages matching \`@other/*\`; \`${name}\` is not one of them`;
const missing = (scope: string, why = ''): string => `this token does not have the \`${scope}\` scope${why}; create a token with that scope`;

describe('npm publish', () => {
  test('a new package needs publish-new: allowed with it; refused with publish-update, another scope\'s pattern, or when expired', async () => {
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['publish-new']), token(['publish-update']), token(['publish-new'], ['@other/*']), token(['publish-new'])]);
    const names = [pkgName('new'), pkgName('new'), pkgName('new'), pkgName('new')] as const;
    const dirs = await Promise.all(names.map((n) => makeNpmPackage(n, '1.0.0')));
    await assertAllRefused('PUT', {
      wrongScope: () => npm(['publish'], wrongScope, dirs[1]),
      wrongScopeMessage: missing('publish-new', ` (\`${names[1]}\` is a new package)`),
      wrongPattern: () => npm(['publish'], wrongPattern, dirs[2]),
      wrongPatternMessage: otherScope(names[2]),
      expired: () => npm(['publish'], expiring, dirs[3]),
    });
    const result = await assertAllowed(() => npm(['publish'], right, dirs[0]));
    assert.match(result.stdout, new RegExp(`\\+ ${names[0]}@1\\.0\\.0`));
    assert.deepEqual(Object.keys((await stored(names[0])).versions), ['1.0.0']);
  });

  test('a new version needs publish-update: allowed with it; refused with publish-new, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('update');
    await seed(name, '1.0.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['publish-update']), token(['publish-new']), token(['publish-update'], ['@other/*']), token(['publish-update'])]);
    const dir = await makeNpmPackage(name, '1.1.0');
    await assertAllRefused('PUT', {
      wrongScope: () => npm(['publish'], wrongScope, dir),
      wrongScopeMessage: missing('publish-update', ` (\`${name}\` already exists)`),
      wrongPattern: () => npm(['publish'], wrongPattern, dir),
      wrongPatternMessage: otherScope(name),
      expired: () => npm(['publish'], expiring, dir),
    });
    await assertAllowed(() => npm(['publish'], right, dir));
    assert.deepEqual(Object.keys((await stored(name)).versions).sort(), ['1.0.0', '1.1.0']);
  });

  test('the published package installs through the gateway, tarball included, with a read-only token', async () => {
    const name = pkgName('install');
    await seed(name, '1.0.0');
    const reader = await token(['read']);
    const mark = gw.registry.requests.length;
    const result = await npm(['install', `${name}@1.0.0`], reader);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(gw.registry.requests.slice(mark).some((r) => r.method === 'GET' && r.url.endsWith(`/-/${name.split('/')[1]}-1.0.0.tgz`)), 'the tarball was not fetched through the gateway');
  });
});

describe('npm install of a package only users may read (`@private/*`)', () => {
  // npm sends its token on every read; on a public read the gateway reads anonymously for a token
  // it refuses, which Verdaccio answers 401 with `WWW-Authenticate`, so npm would hide the reason.
  test('works with a read token, and an expired one gets npm\'s print of the expiry, not "your token seems to be invalid"', async () => {
    const name = `@private/e2e-install-${++unique}`;
    await seed(name, '1.0.0');
    const reader = await token(['read'], ['@private/*']);
    const installed = await npm(['install', `${name}@1.0.0`], reader);
    assert.equal(installed.code, 0, installed.stderr);
    gw.setNow(EXPIRY);
    try {
      const refused = await npm(['install', `${name}@1.0.0`], reader);
      assert.notEqual(refused.code, 0, 'npm installed with an expired token');
      assert.ok(refused.stderr.split('\n').some((l) => l.startsWith(`npm error 403 403 Forbidden - GET ${gw.url}/`) && l.endsWith(` - ${EXPIRED_MESSAGE(gw)}`)), refused.stderr);
    } finally {
      gw.setNow(null);
    }
  });
});

describe('npm dist-tag', () => {
  test('add needs publish-update: allowed with it; refused with yank, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('tags');
    await seed(name, '1.0.0', '1.1.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['publish-update']), token(['yank']), token(['publish-update'], ['@other/*']), token(['publish-update'])]);
    const add = (t: string): Promise<NpmResult> => npm(['dist-tag', 'add', `${name}@1.0.0`, 'beta'], t);
    await assertAllRefused('PUT', {
      wrongScope: () => add(wrongScope), wrongScopeMessage: missing('publish-update'),
      wrongPattern: () => add(wrongPattern), wrongPatternMessage: otherScope(name),
      expired: () => add(expiring),
    });
    await assertAllowed(() => add(right));
    assert.equal((await stored(name))['dist-tags'].beta, '1.0.0');
  });

  test('rm needs publish-update: allowed with it; refused with yank, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('untag');
    await seed(name, '1.0.0', '1.1.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['publish-update']), token(['yank']), token(['publish-update'], ['@other/*']), token(['publish-update'])]);
    await assertAllowed(() => npm(['dist-tag', 'add', `${name}@1.0.0`, 'beta'], right));
    const rm = (t: string): Promise<NpmResult> => npm(['dist-tag', 'rm', name, 'beta'], t);
    await assertAllRefused('DELETE', {
      wrongScope: () => rm(wrongScope), wrongScopeMessage: missing('publish-update'),
      wrongPattern: () => rm(wrongPattern), wrongPatternMessage: otherScope(name),
      expired: () => rm(expiring),
    });
    await assertAllowed(() => rm(right));
    assert.equal((await stored(name))['dist-tags'].beta, undefined);
  });
});

describe('npm deprecate', () => {
  test('needs publish-update: allowed with it; refused with yank, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('deprecate');
    await seed(name, '1.0.0', '1.1.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['publish-update']), token(['yank']), token(['publish-update'], ['@other/*']), token(['publish-update'])]);
    const deprecate = (t: string): Promise<NpmResult> => npm(['deprecate', `${name}@1.0.0`, 'use 1.1.0'], t);
    await assertAllRefused('PUT', {
      wrongScope: () => deprecate(wrongScope), wrongScopeMessage: missing('publish-update'),
      wrongPattern: () => deprecate(wrongPattern), wrongPatternMessage: otherScope(name),
      expired: () => deprecate(expiring),
    });
    await assertAllowed(() => deprecate(right));
    const doc = await stored(name);
    assert.equal(doc.versions['1.0.0']?.deprecated, 'use 1.1.0');
    assert.equal(doc.versions['1.1.0']?.deprecated, undefined);
  });
});

describe('npm deprecate with "" (un-deprecate)', () => {
  test('needs publish-update: allowed with it; refused with yank, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('undeprecate');
    await seed(name, '1.0.0', '1.1.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['publish-update']), token(['yank']), token(['publish-update'], ['@other/*']), token(['publish-update'])]);
    await assertAllowed(() => npm(['deprecate', `${name}@1.0.0`, 'use 1.1.0'], right));
    const undeprecate = (t: string): Promise<NpmResult> => npm(['deprecate', `${name}@1.0.0`, ''], t);
    await assertAllRefused('PUT', {
      wrongScope: () => undeprecate(wrongScope), wrongScopeMessage: missing('publish-update'),
      wrongPattern: () => undeprecate(wrongPattern), wrongPatternMessage: otherScope(name),
      expired: () => undeprecate(expiring),
    });
    assert.equal((await stored(name)).versions['1.0.0']?.deprecated, 'use 1.1.0');
    await assertAllowed(() => undeprecate(right));
    assert.ok(!(await stored(name)).versions['1.0.0']?.deprecated, 'still deprecated');
  });
});

describe('npm unpublish', () => {
  test('pkg@version needs yank: allowed with it; refused with publish-update, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('unpublish');
    await seed(name, '1.0.0', '1.1.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['yank']), token(['publish-update']), token(['yank'], ['@other/*']), token(['yank'])]);
    const unpublish = (t: string): Promise<NpmResult> => npm(['unpublish', `${name}@1.0.0`], t);
    await assertAllRefused('PUT', {
      wrongScope: () => unpublish(wrongScope), wrongScopeMessage: missing('yank'),
      wrongPattern: () => unpublish(wrongPattern), wrongPatternMessage: otherScope(name),
      expired: () => unpublish(expiring),
    });
    await assertAllowed(() => unpublish(right));
    assert.deepEqual(Object.keys((await stored(name)).versions), ['1.1.0']);
  });

  test('pkg --force (the whole package) needs yank: allowed with it; refused with publish-update, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('unpublish-all');
    await seed(name, '1.0.0', '1.1.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['yank']), token(['publish-update']), token(['yank'], ['@other/*']), token(['yank'])]);
    const unpublish = (t: string): Promise<NpmResult> => npm(['unpublish', name, '--force'], t);
    await assertAllRefused('DELETE', {
      wrongScope: () => unpublish(wrongScope), wrongScopeMessage: missing('yank'),
      wrongPattern: () => unpublish(wrongPattern), wrongPatternMessage: otherScope(name),
      expired: () => unpublish(expiring),
    });
    await assertAllowed(() => unpublish(right));
    const gone = await fetch(`${gw.registry.directUrl}/${name.replace('/', '%2f')}`, { headers: { authorization: gw.registry.credential('alice') } });
    assert.equal(gone.status, 404);
  });
});

describe('npm owner add', () => {
  /** npm reports a failed owner change as `npm error Failed to update package: "<status> - PUT <url> - <message>"`. */
  const ownerFailure = (result: NpmResult, status: string, name: string, message: string): void => {
    assert.notEqual(result.code, 0, `npm did not fail:\n${result.stdout}${result.stderr}`);
    const url = `${gw.url}/${name.replace('/', '%2f')}/-rev/`;
    const line = result.stderr.split('\n').find((l) => l.startsWith(`npm error Failed to update package: "${status} - PUT ${url}`));
    assert.ok(line?.endsWith(` - ${message}"`), `npm printed no ${status} from the owner change with "${message}":\n${result.stderr}`);
  };

  test('needs change-owners: forwarded with it (Verdaccio 6.8 then answers 422 itself); refused with publish-update, another scope\'s pattern, or when expired', async () => {
    const name = pkgName('owner');
    await seed(name, '1.0.0');
    const [right, wrongScope, wrongPattern, expiring] = await Promise.all([token(['change-owners']), token(['publish-update']), token(['change-owners'], ['@other/*']), token(['change-owners'])]);
    const ownerAdd = (t: string): Promise<NpmResult> => npm(['owner', 'add', 'bob', name], t);
    const mark = gw.registry.requests.length;
    ownerFailure(await ownerAdd(wrongScope), '403 Forbidden', name, missing('change-owners'));
    ownerFailure(await ownerAdd(wrongPattern), '403 Forbidden', name, otherScope(name));
    gw.setNow(EXPIRY);
    try {
      ownerFailure(await ownerAdd(expiring), '403 Forbidden', name, EXPIRED_MESSAGE(gw));
    } finally {
      gw.setNow(null);
    }
    assert.deepEqual(gw.registry.requests.slice(mark).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`), [], 'a refused write reached Verdaccio');
    const allowedMark = gw.registry.requests.length;
    ownerFailure(await ownerAdd(right), '422 Unprocessable Entity', name, 'bad incoming package data');
    const writes = gw.registry.requests.slice(allowedMark).filter((r) => r.method !== 'GET');
    assert.equal(writes.length, 1, 'the owner change did not reach Verdaccio');
    assert.match(writes[0]!.url, new RegExp(`^/${name.replace('/', '%2F')}/-rev/`));
    assert.equal(writes[0]!.headers.authorization, gw.registry.credential('alice'));
    assert.deepEqual(Object.keys(JSON.parse(writes[0]!.body.toString('utf8')) as object), ['_id', '_rev', 'maintainers']);
    assert.deepEqual(Object.keys((await stored(name)).versions), ['1.0.0']);
  });
});

describe('through the gateway', () => {
  test('the token page\'s npm setup works as shown: .npmrc with ${NPM_TOKEN}, the token in the environment', async () => {
    const value = await token(['publish-new']);
    const setup = npmSetup({ publicUrl: gw.url } as TokenPagePolicy, value);
    const equals = setup.env.indexOf('=');
    const [variable, secret] = [setup.env.slice(0, equals), setup.env.slice(equals + 1)];
    assert.equal(secret, value);
    const options = { registryUrl: gw.url, npmrc: setup.npmrc, env: { [variable]: secret } };
    const whoami = await runNpm(['whoami'], options);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.equal(whoami.stdout.trim(), 'alice');
    const pkg = await makeNpmPackage('@acme/page-setup', '1.0.0');
    const published = await runNpm(setup.publish.split(' ').slice(1), { ...options, cwd: pkg });
    assert.equal(published.code, 0, published.stderr);
  });

  test('npm whoami names the token\'s owner', async () => {
    const result = await npm(['whoami'], await token(['read']));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'alice');
  });

  test('npm whoami with an expired token prints the expiry, not "need auth … npm adduser"', async () => {
    const t = await token(['read']);
    gw.setNow(EXPIRY);
    try {
      const result = await npm(['whoami'], t);
      assert.notEqual(result.code, 0);
      assert.ok(result.stderr.split('\n').some((l) => l.startsWith(`npm error 403 403 Forbidden - GET ${gw.url}/-/whoami - ${EXPIRED_MESSAGE(gw)}`)), result.stderr);
    } finally {
      gw.setNow(null);
    }
  });

  test('npm logout revokes the token at the gateway, so npm then forgets it, and never prints it', async () => {
    const t = await token(['publish-update']);
    const home = await makeNpmHome();
    const mark = gw.registry.requests.length;
    const result = await runNpm(['logout'], { registryUrl: gw.url, token: t, home });
    assert.equal(result.code, 0, `npm logout failed:\n${result.stderr}`);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(t), 'npm printed the token');
    assert.ok(!(await readFile(join(home, 'npmrc'), 'utf8')).includes(t), 'the token is still in the user config');
    assert.deepEqual(gw.registry.requests.slice(mark).filter((r) => r.url.startsWith('/-/user/')).map((r) => r.url), [], 'the logout reached Verdaccio');
    const name = pkgName('logout');
    await seed(name, '1.0.0');
    const reused = await npm(['dist-tag', 'add', `${name}@1.0.0`, 'beta'], t);
    assert.notEqual(reused.code, 0, 'the token still works after npm logout');
    assert.match(reused.stderr, /npm error 403 403 Forbidden - PUT \S+ - authentication failed/);
  });

  test('Verdaccio never received a scopegate token', () => {
    assert.ok(gw.registry.requests.length > 50, 'the tests above sent requests');
    for (const r of gw.registry.requests) assert.ok(!JSON.stringify(r.headers).includes('sg_'), `${r.method} ${r.url} carried a scopegate token`);
  });
});
