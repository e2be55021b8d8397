/**
 * Wire-exact scope enforcement: every scope × crate pattern × expiry case through a real gateway,
 * real Redis and the recording registry. On deny the upstream received nothing; on allow it
 * received the swapped (upstream) credential and never the scopegate token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { cargoError, startGateway, USERS, type TestGateway } from '../support/gateway.js';

const DAY = 86_400_000;
const ALICE = 'alice-upstream-secret';
const EXISTING = 'serde-gw';

type Op = 'yank' | 'unyank' | 'owners-add' | 'publish-new' | 'publish-update';
const OPS: readonly Op[] = ['yank', 'unyank', 'owners-add', 'publish-new', 'publish-update'];
const SCOPE_OF: Record<Op, string> = { yank: 'yank', unyank: 'yank', 'owners-add': 'change-owners', 'publish-new': 'publish-new', 'publish-update': 'publish-update' };
const SCOPE_SETS: readonly (string[] | null)[] = [null, [], ['publish-new'], ['publish-update'], ['yank'], ['change-owners'], ['read'], ['publish-new', 'publish-update', 'yank', 'change-owners']];
const PATTERN_SETS: readonly (string[] | null)[] = [null, [], ['serde-gw'], ['serde*'], ['SERDE_*'], ['tokio', 'serde-gw*'], ['tokio']];

let gw: TestGateway;
let counter = 0;

before(async () => {
  gw = await startGateway();
  const seed = await fetch(`${gw.registry.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: ALICE }, body: new Uint8Array(cargoPublishBody({ name: EXISTING, vers: '1.0.0' })) });
  assert.equal(seed.status, 200, 'seeding the upstream failed');
});
after(() => gw.close());

/** An independent statement of DESIGN §1 for these rows (the core has its own table tests). */
function expected(op: Op, scopes: string[] | null, patterns: string[] | null, expired: boolean, crate: string): { status: number; detail?: string } {
  if (expired) return { status: 403, detail: `this token expired at ${new Date(EXPIRY).toISOString().replace('.000Z', 'Z')}; create a new one at ${gw.url}/tokens` };
  const scope = SCOPE_OF[op];
  if (scopes !== null && !scopes.includes(scope)) {
    const why = op === 'publish-new' ? ` (\`${crate}\` is a new crate)` : op === 'publish-update' ? ` (\`${crate}\` already exists)` : '';
    const publishEither = (op === 'publish-new' || op === 'publish-update') && !scopes.includes('publish-new') && !scopes.includes('publish-update');
    return { status: 403, detail: publishEither
      ? 'this token does not have the `publish-new` or `publish-update` scope; create a token with that scope'
      : `this token does not have the \`${scope}\` scope${why}; create a token with that scope` };
  }
  const canon = (s: string): string => s.toLowerCase().replaceAll('_', '-');
  const matches = (p: string): boolean => (p.endsWith('*') ? canon(crate).startsWith(canon(p.slice(0, -1))) : canon(crate) === canon(p));
  if (patterns !== null && patterns.length > 0 && !patterns.some(matches)) {
    return { status: 403, detail: `this token may only act on crates matching ${patterns.map((p) => `\`${p}\``).join(', ')}; \`${crate}\` is not one of them` };
  }
  return { status: 200 };
}

const EXPIRY = Math.floor((Date.now() + 30 * DAY) / 1000) * 1000;

/** Builds the request for an op; each allowed one must succeed upstream, so versions are fresh. */
async function requestFor(op: Op): Promise<{ method: string; path: string; body?: Buffer | string; crate: string; contentType?: string }> {
  const n = ++counter;
  if (op === 'publish-new') {
    const crate = `serde-gw-new${n}`;
    return { method: 'PUT', path: '/api/v1/crates/new', body: cargoPublishBody({ name: crate, vers: '0.1.0' }), crate };
  }
  if (op === 'publish-update') return { method: 'PUT', path: '/api/v1/crates/new', body: cargoPublishBody({ name: EXISTING, vers: `2.0.${n}` }), crate: EXISTING };
  if (op === 'owners-add') {
    // cargo sends owner changes as application/json, the only type the registry takes.
    await fetch(`${gw.registry.url}/api/v1/crates/${EXISTING}/owners`, { method: 'DELETE', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: JSON.stringify({ users: ['bob'] }) });
    return { method: 'PUT', path: `/api/v1/crates/${EXISTING}/owners`, body: JSON.stringify({ users: ['bob'] }), crate: EXISTING, contentType: 'application/json' };
  }
  const version = `1.5.${n}`;
  const seeded = await fetch(`${gw.registry.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: ALICE }, body: new Uint8Array(cargoPublishBody({ name: EXISTING, vers: version })) });
  assert.equal(seeded.status, 200);
  return op === 'yank'
    ? { method: 'DELETE', path: `/api/v1/crates/${EXISTING}/${version}/yank`, crate: EXISTING }
    : { method: 'PUT', path: `/api/v1/crates/${EXISTING}/${version}/unyank`, crate: EXISTING };
}

for (const expired of [false, true]) {
  describe(expired ? 'an expired token is refused with its expiry date, whatever its scopes' : 'a valid token may do exactly what its scopes and crate patterns allow', () => {
    for (const scopes of SCOPE_SETS) {
      for (const patterns of PATTERN_SETS) {
        test(`endpoint_scopes ${JSON.stringify(scopes)}, crate_scopes ${JSON.stringify(patterns)}`, async () => {
          gw.setNow(null);
          const { token } = await gw.createToken({ name: 'matrix', endpoint_scopes: scopes, crate_scopes: patterns, expired_at: new Date(EXPIRY).toISOString() });
          gw.setNow(expired ? EXPIRY : EXPIRY - DAY);
          for (const op of OPS) {
            const request = await requestFor(op);
            gw.registry.clearRequests();
            const headers: Record<string, string> = { authorization: token, ...(request.contentType === undefined ? {} : { 'content-type': request.contentType }) };
            const res = await fetch(gw.url + request.path, { method: request.method, headers, body: typeof request.body === 'string' || request.body === undefined ? request.body : new Uint8Array(request.body) });
            const body = (await res.json()) as unknown;
            const want = expected(op, scopes, patterns, expired, request.crate);
            const writes = gw.registry.requests.filter((r) => r.method === request.method && r.url === request.path);
            assert.equal(res.status, want.status, `${op}: ${JSON.stringify(body)}`);
            if (want.detail !== undefined) {
              assert.deepEqual(body, cargoError(want.detail), op);
              assert.equal(writes.length, 0, `${op}: a denied request reached the upstream`);
            } else {
              assert.equal(writes.length, 1, `${op}: the allowed request did not reach the upstream once`);
              assert.equal(writes[0]!.headers.authorization, ALICE, `${op}: the upstream did not get the swapped credential`);
            }
            for (const seen of gw.registry.requests) assert.ok(!JSON.stringify(seen.headers).includes(token), `${op}: the scopegate token reached the upstream`);
          }
          gw.setNow(null);
        });
      }
    }
  });
}

test('the owner the registry sees is the token creator, so the registry still enforces ownership', async () => {
  const { token } = await gw.createToken({ name: 'bob-ci', endpoint_scopes: ['yank'], crate_scopes: null }, 'bob-upstream-secret');
  await fetch(`${gw.registry.url}/api/v1/crates/${EXISTING}/owners`, { method: 'DELETE', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: JSON.stringify({ users: ['bob'] }) });
  const res = await fetch(`${gw.url}/api/v1/crates/${EXISTING}/1.0.0/yank`, { method: 'DELETE', headers: { authorization: token } });
  assert.equal(res.status, 403);
  assert.deepEqual(await res.json(), cargoError('must already be an owner to yank or unyank'));
  assert.equal(gw.registry.requests.at(-1)!.headers.authorization, Object.keys(USERS)[1]);
});
