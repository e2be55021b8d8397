/**
 * The crates.io-compatible token API (DESIGN §3): creation proven by the user's registry
 * credential, crates.io's validation wording, scopegate's expiry policy, listing and revocation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashToken, mintToken } from '../../src/store/token-secret.js';
import { openCredential } from '../../src/store/credential-seal.js';
import { formatToken } from '../../src/core/token-format.js';
import { call, cargoError, startGateway, type TestGateway } from '../support/gateway.js';
import { startCargoRegistry } from '../support/cargo-registry.js';
import { MAX_TOKENS_PER_ACCOUNT } from '../../src/http/token-create.js';

const DAY = 86_400_000;
const ALICE = 'alice-upstream-secret';
let gw: TestGateway;

before(async () => { gw = await startGateway(); });
after(() => gw.close());

const create = (apiToken: unknown, authorization = ALICE): ReturnType<typeof call> =>
  call(gw.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ api_token: apiToken }) });

test('creating a token returns crates.io\'s shape with the plaintext once, and stores only its hash', async () => {
  const expiredAt = new Date(Date.now() + 7 * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
  const res = await create({ name: 'ci', endpoint_scopes: ['publish-update', 'yank'], crate_scopes: ['serde', 'serde-*'], expired_at: expiredAt });
  assert.equal(res.status, 200, res.text);
  const t = res.json.api_token;
  assert.deepEqual(Object.keys(t).sort(), ['crate_scopes', 'created_at', 'endpoint_scopes', 'expired_at', 'id', 'last_used_at', 'name', 'token']);
  assert.match(t.token, /^sg_[0-9A-Za-z]{38}$/);
  assert.deepEqual([t.name, t.endpoint_scopes, t.crate_scopes, t.expired_at, t.last_used_at], ['ci', ['publish-update', 'yank'], ['serde', 'serde-*'], expiredAt, null]);
  const stored = await gw.store.findByHash(hashToken(t.token));
  assert.equal(stored?.account, 'alice');
  assert.equal(openCredential(stored!.sealedCredential!, t.token), ALICE, 'the upstream credential is sealed under the token');
  assert.ok(!stored!.sealedCredential!.includes(ALICE));
  const shown = await call(gw.url, { path: `/api/v1/me/tokens/${t.id}`, headers: { authorization: ALICE } });
  assert.equal(shown.json.api_token.token, undefined, 'the plaintext is never shown again');
});

test('expired_at keeps its milliseconds: the token is shown expiring when it stops working', async () => {
  const expiredAt = new Date(Date.now() + 7 * DAY).toISOString().replace(/\.\d+Z$/, '.750Z');
  const res = await create({ name: 'fraction', endpoint_scopes: ['yank'], expired_at: expiredAt });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.api_token.expired_at, expiredAt);
  const listed = await call(gw.url, { path: `/api/v1/me/tokens/${res.json.api_token.id}`, headers: { authorization: ALICE } });
  assert.equal(listed.json.api_token.expired_at, expiredAt);
  gw.setNow(Date.parse(expiredAt));
  try {
    const denied = await call(gw.url, { path: '/api/v1/crates/fraction/1.0.0/yank', method: 'DELETE', headers: { authorization: res.json.api_token.token } });
    assert.deepEqual([denied.status, denied.json], [403, cargoError(`this token expired at ${expiredAt}; create a new one at ${gw.url}/tokens`)]);
  } finally {
    gw.setNow(null);
  }
});

test('an absent expired_at gets the default lifetime (90 days); null is refused unless allowed', async () => {
  const res = await create({ name: 'default' });
  const lifetime = Date.parse(res.json.api_token.expired_at) - Date.now();
  assert.ok(Math.abs(lifetime - 90 * DAY) < 60_000, `lifetime ${lifetime}`);
  assert.equal(res.json.api_token.endpoint_scopes, null, 'omitted scopes mean a legacy-style token, as on crates.io');
  const never = await create({ name: 'never', expired_at: null });
  assert.equal(never.status, 400);
  assert.deepEqual(never.json, cargoError('invalid expired_at: this registry requires every token to expire; pick a date (tokens.allow_no_expiry is false)'));
});

test('validation errors use crates.io\'s words', async () => {
  const rows: [unknown, string][] = [
    [{ name: '' }, 'name must have a value'],
    [{ name: 'x', crate_scopes: ['*foo'] }, 'invalid crate scope'],
    [{ name: 'x', crate_scopes: [''] }, 'invalid crate scope'],
    [{ name: 'x', crate_scopes: ['a'.repeat(65)] }, 'invalid crate scope'],
    [{ name: 'x', endpoint_scopes: ['Yank'] }, 'invalid endpoint scope'],
    [{ name: 'x', endpoint_scopes: ['legacy'] }, 'invalid endpoint scope'],
    [{ name: 'x', crate_scopes: ['1*'], endpoint_scopes: ['nope'] }, 'invalid crate scope'],
    [{ name: 'x', expired_at: '2020-01-01T00:00:00Z' }, 'invalid expired_at: 2020-01-01T00:00:00Z is in the past; pick a future date'],
    [{ name: 'x', expired_at: 'tomorrow' }, 'invalid expired_at: expected an RFC 3339 date such as 2026-12-31T00:00:00Z'],
    [{ name: 'x', expired_at: '2027-02-30T00:00:00Z' }, 'invalid expired_at: expected an RFC 3339 date such as 2026-12-31T00:00:00Z'],
    [{ name: 'x', expired_at: '2026-12-31T24:00:00Z' }, 'invalid expired_at: expected an RFC 3339 date such as 2026-12-31T00:00:00Z'],
  ];
  for (const [input, detail] of rows) {
    const res = await create(input);
    assert.equal(res.status, 400, JSON.stringify(input));
    assert.deepEqual(res.json, cargoError(detail), JSON.stringify(input));
  }
  const far = new Date(Date.now() + 400 * DAY).toISOString();
  const res = await create({ name: 'x', expired_at: far });
  assert.match(res.json.errors[0].detail, /^invalid expired_at: .* is later than this registry allows \(at most .*Z, tokens.max_lifetime\)$/);
});

test('only an empty name is refused, as on crates.io: a name of spaces is a name', async () => {
  const spaces = await create({ name: ' ', endpoint_scopes: ['yank'] });
  assert.equal(spaces.status, 200, spaces.text);
  assert.equal(spaces.json.api_token.name, ' ');
  const empty = await create({ name: '', endpoint_scopes: ['yank'] });
  assert.deepEqual([empty.status, empty.json], [400, cargoError('name must have a value')]);
});

test('a name with control or text-direction characters is refused ★ (they would act on an operator\'s terminal)', async () => {
  for (const name of ['\u001b]0;pwned\u0007', 'ok\rALL TOKENS REVOKED', 'ci\u202egnp']) {
    const res = await create({ name, endpoint_scopes: ['yank'] });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.errors[0].detail, /^invalid token name: it contains \\u\{[0-9a-f]{4}\}, a control or text-direction character; use printable text$/);
  }
});

test('a name with half a surrogate pair is refused: stored as UTF-8 it would read back as another name', async () => {
  const res = await call(gw.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: '{"api_token":{"name":"ci \\ud800","endpoint_scopes":["yank"]}}' });
  assert.deepEqual([res.status, res.json], [400, cargoError('invalid token name: it contains \\u{d800}, half of a UTF-16 surrogate pair without the other half, which is no character; use well-formed text')]);
  const pair = await create({ name: 'crab \ud83e\udd80', endpoint_scopes: ['yank'] });
  assert.equal(pair.status, 200, pair.text);
  const shown = await call(gw.url, { path: `/api/v1/me/tokens/${pair.json.api_token.id}`, headers: { authorization: ALICE } });
  assert.equal(shown.json.api_token.name, 'crab 🦀');
});

test('a body that is not JSON, or not {api_token}, is refused', async () => {
  const notJson = await call(gw.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization: ALICE }, body: '{' });
  assert.equal(notJson.status, 400);
  assert.match(notJson.json.errors[0].detail, /^invalid request body: it is not JSON/);
  const wrongShape = await call(gw.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization: ALICE }, body: '{"name":"x"}' });
  assert.deepEqual(wrongShape.json, cargoError('invalid request body: expected {"api_token":{"name":…}}'));
});

test('a body giving a field twice is refused, and no token is made from either copy (crates.io: duplicate field)', async () => {
  const before = (await gw.store.listByAccount('alice')).length;
  const bodies = [
    '{"api_token":{"name":"dup","endpoint_scopes":["yank"],"endpoint_scopes":null}}',
    '{"api_token":{"name":"dup","crate_scopes":["serde"],"crate_scop\\u0065s":[]}}',
    '{"api_token":{"name":"dup","endpoint_scopes":["yank"]},"api_token":{"name":"dup"}}',
  ];
  const details: string[] = [];
  for (const body of bodies) {
    const res = await call(gw.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization: ALICE, 'content-type': 'application/json' }, body });
    assert.equal(res.status, 400, res.text);
    details.push(res.json.errors[0].detail);
  }
  assert.deepEqual(details, [
    'invalid request body: it has the key `endpoint_scopes` in `api_token` twice; give each field once',
    'invalid request body: it has the key `crate_scopes` in `api_token` twice; give each field once',
    'invalid request body: it has the key `api_token` twice; give each field once',
  ]);
  assert.equal((await gw.store.listByAccount('alice')).length, before, 'a token was made');
});

test('a method the token API does not answer at one of its paths is 405 naming those it does (crates.io); other paths under it are 404', async () => {
  const rows: { method: string; path: string; status: number; allow?: string; detail: string }[] = [
    { method: 'POST', path: '/api/v1/me/tokens', status: 405, allow: 'GET, HEAD, PUT', detail: 'the token API does not answer POST at /api/v1/me/tokens; it answers GET, HEAD and PUT there' },
    { method: 'PATCH', path: '/api/v1/me/tokens/12', status: 405, allow: 'GET, HEAD, DELETE', detail: 'the token API does not answer PATCH at /api/v1/me/tokens/12; it answers GET, HEAD and DELETE there' },
    { method: 'GET', path: '/api/v1/tokens/current', status: 405, allow: 'DELETE', detail: 'the token API does not answer GET at /api/v1/tokens/current; it answers DELETE there' },
    { method: 'GET', path: '/api/v1/me/tokens/abc', status: 404, detail: 'scopegate does not forward GET /api/v1/me/tokens/abc: no route in its table matches, and unmatched requests are denied' },
  ];
  for (const row of rows) {
    const res = await call(gw.url, { path: row.path, method: row.method, headers: { authorization: ALICE } });
    assert.deepEqual([res.status, res.headers.get('allow') ?? undefined, res.json], [row.status, row.allow, cargoError(row.detail)], `${row.method} ${row.path}`);
  }
  assert.equal(gw.registry.requests.filter((r) => r.url.includes('/tokens')).length, 0, 'a token API request was forwarded');
});

test('HEAD of the token list is its GET without the body', async () => {
  const get = await call(gw.url, { path: '/api/v1/me/tokens', method: 'GET', headers: { authorization: ALICE } });
  const head = await call(gw.url, { path: '/api/v1/me/tokens', method: 'HEAD', headers: { authorization: ALICE } });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
});

test('creation authenticates before it validates scopes and expiry, in crates.io\'s order', async () => {
  const body = { name: 'x', crate_scopes: ['*bad'], endpoint_scopes: ['Yank'], expired_at: 'tomorrow' };
  const stranger = await create(body, 'not-a-registry-user');
  assert.deepEqual([stranger.status, stranger.json], [403, cargoError('the registry did not accept this credential (its identity check answered 401); use a credential the registry itself accepts')]);
  const { token } = await gw.createToken({ name: 'full', endpoint_scopes: null });
  const withToken = await create(body, token);
  assert.deepEqual([withToken.status, withToken.json], [403, cargoError('a scopegate token cannot create tokens; authenticate with your own registry credential')]);
  const anonymous = await call(gw.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_token: body }) });
  assert.equal(anonymous.status, 401);
  const empty = await create({ ...body, name: '' }, 'not-a-registry-user');
  assert.deepEqual([empty.status, empty.json], [400, cargoError('name must have a value')], 'the name is checked first, as on crates.io');
});

test('a scopegate token cannot create tokens, and a credential the registry rejects cannot either', async () => {
  const { token } = await gw.createToken({ name: 'full', endpoint_scopes: null });
  const res = await create({ name: 'child' }, token);
  assert.equal(res.status, 403);
  assert.deepEqual(res.json, cargoError('a scopegate token cannot create tokens; authenticate with your own registry credential'));
  const stranger = await create({ name: 'x' }, 'not-a-registry-user');
  assert.equal(stranger.status, 403);
  assert.deepEqual(stranger.json, cargoError('the registry did not accept this credential (its identity check answered 401); use a credential the registry itself accepts'));
});

test('listing shows the caller\'s live tokens newest first; expired ones only with expired_days', async () => {
  const bob = 'bob-upstream-secret';
  const a = await gw.createToken({ name: 'b1', expired_at: new Date(Date.now() + DAY).toISOString() }, bob);
  const b = await gw.createToken({ name: 'b2' }, bob);
  const list = async (q = ''): Promise<number[]> => (await call(gw.url, { path: `/api/v1/me/tokens${q}`, headers: { authorization: bob } })).json.api_tokens.map((t: { id: number }) => t.id);
  assert.deepEqual(await list(), [b.id, a.id]);
  gw.setNow(Date.now() + 2 * DAY);
  assert.deepEqual(await list(), [b.id]);
  assert.deepEqual(await list('?expired_days=3'), [b.id, a.id]);
  gw.setNow(null);
  await call(gw.url, { path: `/api/v1/me/tokens/${b.id}`, method: 'DELETE', headers: { authorization: bob } });
  assert.deepEqual(await list(), [a.id]);
});

test('revoking by id answers 200 {} and only ever touches the caller\'s own tokens', async () => {
  const mine = await gw.createToken({ name: 'alice-only' });
  const res = await call(gw.url, { path: `/api/v1/me/tokens/${mine.id}`, method: 'DELETE', headers: { authorization: 'bob-upstream-secret' } });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, {});
  assert.equal((await gw.store.findById(mine.id))?.revokedAt, null, 'bob revoked alice\'s token');
  const other = await call(gw.url, { path: `/api/v1/me/tokens/${mine.id}`, headers: { authorization: 'bob-upstream-secret' } });
  assert.equal(other.status, 404);
});

test('DELETE /api/v1/tokens/current revokes the presented token, scoped ones too (204)', async () => {
  const { token, id } = await gw.createToken({ name: 'ci', endpoint_scopes: ['yank'], crate_scopes: ['foo'] });
  const res = await call(gw.url, { path: '/api/v1/tokens/current', method: 'DELETE', headers: { authorization: token } });
  assert.equal(res.status, 204);
  assert.notEqual((await gw.store.findById(id))?.revokedAt, null);
  const legacy = await call(gw.url, { path: '/api/v1/tokens/current', method: 'DELETE', headers: { authorization: ALICE } });
  assert.equal(legacy.status, 400);
});

test('a revoked token is refused like an unknown one everywhere in the token API (DESIGN §1)', async () => {
  const victim = await gw.createToken({ name: 'leaked', endpoint_scopes: ['yank'] });
  const unscoped = await gw.createToken({ name: 'leaked-full', endpoint_scopes: null });
  for (const t of [victim, unscoped]) {
    assert.equal((await call(gw.url, { path: '/api/v1/tokens/current', method: 'DELETE', headers: { authorization: t.token } })).status, 204);
  }
  const unknown = formatToken('sg_', 'Z'.repeat(32));
  const failed = [403, cargoError('authentication failed')];
  const requests: [string, string, string][] = [
    ['revoke itself again', '/api/v1/tokens/current', 'DELETE'],
    ['list tokens', '/api/v1/me/tokens', 'GET'],
    ['show a token', `/api/v1/me/tokens/${unscoped.id}`, 'GET'],
    ['revoke by id', `/api/v1/me/tokens/${unscoped.id}`, 'DELETE'],
  ];
  for (const [what, path, method] of requests) {
    for (const [who, token] of [['revoked', unscoped.token], ['unknown', unknown]] as const) {
      const res = await call(gw.url, { path, method, headers: { authorization: token } });
      assert.deepEqual([res.status, res.json], failed, `${who} token: ${what}`);
    }
  }
  for (const token of [victim.token, unscoped.token, unknown]) {
    const res = await create({ name: 'child' }, token);
    assert.deepEqual([res.status, res.json], failed, 'creating a token with a revoked or unknown token');
  }
  await gw.audit.flush();
  const revocations = (await gw.audit.read({ token: victim.id }, 50)).filter((e) => e.event === 'token.revoked');
  assert.equal(revocations.length, 1, 'a second DELETE /api/v1/tokens/current wrote another revocation');
  const line = gw.logLines().filter((l) => l['token.id'] === victim.id).at(-1);
  assert.deepEqual([line?.reason, line?.['token.account']], ['token-revoked', 'alice'], 'the log still names the revoked token');
});

test('a scoped token cannot list or manage tokens; an unscoped one manages its own account', async () => {
  const scoped = await gw.createToken({ name: 'scoped', endpoint_scopes: ['yank'] });
  const res = await call(gw.url, { path: '/api/v1/me/tokens', headers: { authorization: scoped.token } });
  assert.equal(res.status, 403);
  assert.deepEqual(res.json, cargoError('this token is scoped, and this request needs an unscoped token; scoped tokens may only call routes that need one of their scopes'));
  const unscoped = await gw.createToken({ name: 'unscoped', endpoint_scopes: null });
  const own = await call(gw.url, { path: '/api/v1/me/tokens', headers: { authorization: unscoped.token } });
  assert.equal(own.status, 200);
  assert.ok(own.json.api_tokens.some((t: { id: number }) => t.id === unscoped.id));
});

test('token-API requests are never forwarded upstream (only the identity probe is)', async () => {
  gw.registry.clearRequests();
  await create({ name: 'probe-only' });
  assert.deepEqual(gw.registry.requests.map((r) => `${r.method} ${r.url}`), ['GET /api/v1/me']);
});

test('an account holding 500 tokens, revoked and expired ones included, cannot create another (crates.io)', async () => {
  assert.equal(MAX_TOKENS_PER_ACCOUNT, 500);
  // Its own registry user and gateway, so the planted tokens crowd no other test's account.
  const registry = await startCargoRegistry({ users: { 'carol-upstream-secret': 'carol' } });
  const own = await startGateway({ registry });
  try {
    const carol = (apiToken: unknown, authorization = 'carol-upstream-secret'): ReturnType<typeof call> =>
      call(own.url, { path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ api_token: apiToken }) });
    // Planted straight into the store: 500 creations through HTTP would each cost an identity probe.
    const now = Date.now();
    const plant = (i: number, expiredAt: number) => own.store.create({
      hash: hashToken(`planted-${i}-${now}`), account: 'carol', name: `planted-${i}`, endpointScopes: ['yank'], crateScopes: null,
      createdAt: now, expiredAt, sealedCredential: null,
    }, 3_600_000);
    const revoked = await plant(0, now + DAY);
    await own.store.revoke(revoked.id, now, 3_600_000);
    await plant(1, now - 1_000);
    for (let i = 2; i < MAX_TOKENS_PER_ACCOUNT - 1; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, MAX_TOKENS_PER_ACCOUNT - 1 - i) }, (_, k) => plant(i + k, now + DAY)));
    }
    assert.equal((await own.store.listByAccount('carol')).length, MAX_TOKENS_PER_ACCOUNT - 1);
    const last = await carol({ name: 'five-hundredth', endpoint_scopes: ['yank'] });
    assert.equal(last.status, 200, last.text);
    const over = await carol({ name: 'one-too-many', endpoint_scopes: ['yank'] });
    assert.deepEqual([over.status, over.json], [400, cargoError('maximum tokens per user is: 500')]);
    const badScope = await carol({ name: 'x', crate_scopes: ['*bad'] });
    assert.deepEqual([badScope.status, badScope.json], [400, cargoError('maximum tokens per user is: 500')], 'the count comes before crate scopes');
    const stranger = await carol({ name: 'x' }, 'not-a-registry-user');
    assert.equal(stranger.status, 403, 'authentication comes before the count');
    assert.equal((await own.store.listByAccount('carol')).length, MAX_TOKENS_PER_ACCOUNT);
  } finally {
    await own.close();
    await registry.close();
  }
});

test('creations racing each other cannot take an account past 500 tokens', async () => {
  const registry = await startCargoRegistry({ users: { 'erin-upstream-secret': 'erin' } });
  const own = await startGateway({ registry });
  try {
    const now = Date.now();
    const below = MAX_TOKENS_PER_ACCOUNT - 5;
    for (let i = 0; i < below; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, below - i) }, (_, k) => own.store.create({
        hash: hashToken(`planted-${i + k}-${now}`), account: 'erin', name: `planted-${i + k}`, endpointScopes: ['yank'], crateScopes: null,
        createdAt: now, expiredAt: now + DAY, sealedCredential: null,
      }, 3_600_000)));
    }
    // All sent at once: each passes the first count (495) before any of them has stored its token.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(own.url, {
      path: '/api/v1/me/tokens', method: 'PUT', headers: { authorization: 'erin-upstream-secret', 'content-type': 'application/json' },
      body: JSON.stringify({ api_token: { name: `racing-${i}`, endpoint_scopes: ['yank'] } }),
    })));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, 5, JSON.stringify(statuses));
    for (const refused of answers.filter((a) => a.status !== 200)) assert.deepEqual([refused.status, refused.json], [400, cargoError('maximum tokens per user is: 500')]);
    assert.equal((await own.store.listByAccount('erin')).length, MAX_TOKENS_PER_ACCOUNT);
  } finally {
    await own.close();
    await registry.close();
  }
});

describe('upstream.auth: static (accounts are named by the operator, DESIGN §2)', () => {
  const OPERATOR_ONLY = 'tokens on this registry are issued by its operator (`scopegate token create --account NAME`), not through the token API; to list or revoke tokens, sign in with an unscoped scopegate token the operator issued to your account';
  let registry: Awaited<ReturnType<typeof startCargoRegistry>>;
  let st: TestGateway;
  /** A token as `scopegate token create --account team` makes it: straight into the store. */
  const issue = async (name: string, endpointScopes: ['yank'] | null): Promise<{ token: string; id: number }> => {
    const token = mintToken(st.config.tokens.prefix);
    const record = await st.store.create({
      hash: hashToken(token), account: 'team', name, endpointScopes, crateScopes: null,
      createdAt: Date.now(), expiredAt: Date.now() + DAY, sealedCredential: null,
    }, DAY);
    return { token, id: record.id };
  };
  const tokens = (authorization: string | undefined, init: { path?: string; method?: string; body?: unknown } = {}): ReturnType<typeof call> =>
    call(st.url, {
      path: init.path ?? '/api/v1/me/tokens', method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify({ api_token: init.body }) }),
    });

  before(async () => {
    registry = await startCargoRegistry({ users: { 'svc-secret': 'svc', 'bob-upstream-secret': 'bob' } });
    st = await startGateway({ registry, editYaml: (y) => y.replace('auth: per-token', 'auth: static'), env: { SCOPEGATE_UPSTREAM_CREDENTIAL: 'svc-secret' } });
    assert.equal(st.config.upstream.auth, 'static');
  });
  after(async () => { await st.close(); await registry.close(); });

  test('the token API creates no token, whoever asks, and asks the registry nothing', async () => {
    const unscoped = await issue('operator-full', null);
    registry.clearRequests();
    for (const [who, authorization] of [['a registry user', 'bob-upstream-secret'], ['an operator-issued token', unscoped.token], ['nobody', undefined]] as const) {
      const res = await tokens(authorization, { method: 'PUT', body: { name: 'mine', endpoint_scopes: null } });
      assert.deepEqual([res.status, res.json], [403, cargoError(OPERATOR_ONLY)], who);
    }
    assert.deepEqual(registry.requests, [], 'no identity probe: a registry login does not name an account here');
    assert.deepEqual(await st.store.listByAccount('bob'), []);
    assert.deepEqual((await st.store.listByAccount('team')).map((r) => r.id), [unscoped.id]);
  });

  test('a registry credential cannot list, show or revoke tokens', async () => {
    const victim = await issue('team-ci', ['yank']);
    for (const [path, method] of [['/api/v1/me/tokens', 'GET'], [`/api/v1/me/tokens/${victim.id}`, 'GET'], [`/api/v1/me/tokens/${victim.id}`, 'DELETE']] as const) {
      const res = await tokens('bob-upstream-secret', { path, method });
      assert.deepEqual([res.status, res.json], [403, cargoError(OPERATOR_ONLY)], `${method} ${path}`);
    }
    assert.equal((await st.store.findById(victim.id))?.revokedAt, null);
  });

  test('an unscoped operator-issued token manages its own account; any token may revoke itself', async () => {
    const manager = await issue('team-admin', null);
    const ci = await issue('team-ci-2', ['yank']);
    const listed = await tokens(manager.token);
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.json.api_tokens.some((t: { id: number }) => t.id === ci.id));
    assert.equal((await tokens(manager.token, { path: `/api/v1/me/tokens/${ci.id}` })).json.api_token.name, 'team-ci-2');
    assert.deepEqual((await tokens(manager.token, { path: `/api/v1/me/tokens/${ci.id}`, method: 'DELETE' })).json, {});
    assert.notEqual((await st.store.findById(ci.id))?.revokedAt, null);
    const self = await issue('team-leaked', ['yank']);
    assert.equal((await tokens(self.token, { path: '/api/v1/tokens/current', method: 'DELETE' })).status, 204);
    assert.notEqual((await st.store.findById(self.id))?.revokedAt, null);
  });

  test('the token page is told that tokens are issued by the operator', async () => {
    const html = (await call(st.url, { path: '/tokens' })).text;
    const policy = JSON.parse(/<script type="application\/json" id="policy">(.*?)<\/script>/s.exec(html)![1]!);
    assert.equal(policy.issuedBy, 'operator');
    const perToken = JSON.parse(/<script type="application\/json" id="policy">(.*?)<\/script>/s.exec((await call(gw.url, { path: '/tokens' })).text)![1]!);
    assert.equal(perToken.issuedBy, 'self');
  });
});
