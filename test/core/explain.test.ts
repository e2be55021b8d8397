/** `routes explain` and the admin /explain: the route, scope, crate and verdict, from decide(). */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { parseCratePattern, type CratePattern } from '../../src/core/crate-pattern.js';
import { explainRequest, type Explanation } from '../../src/core/explain.js';
import { findOverlaps } from '../../src/core/route-overlap.js';
import { compileRouteTable, type RouteSpec, type RouteTable } from '../../src/core/route-table.js';
import type { Scope } from '../../src/core/scope.js';

const ROUTES: RouteSpec[] = [
  { id: 'publish', method: 'PUT', path: '/api/v1/crates/new', scope: 'publish', crate: { from: 'publish-body' } },
  { id: 'yank', method: 'DELETE', path: '/api/v1/crates/:crate/:version/yank', scope: 'yank', crate: { from: 'path' } },
  { id: 'owners-list', method: 'GET', path: '/api/v1/crates/:crate/owners', scope: 'read' },
  { id: 'index', method: 'GET', path: '/index/*', scope: 'read' },
];

function table(specs: RouteSpec[]): RouteTable {
  const compiled = compileRouteTable(specs);
  if (!('table' in compiled)) throw new Error(JSON.stringify(compiled.problems));
  return compiled.table;
}

const NOW = Date.parse('2026-06-01T00:00:00Z');
const token = (endpointScopes: Scope[] | null, crates: string[] | null = null, expiredAt: number | null = NOW + 1_000) => ({
  endpointScopes, crateScopes: crates === null ? null : crates.map((c) => parseCratePattern(c) as CratePattern), expiredAt, revokedAt: null,
});
const explain = (method: string, target: string, t: ReturnType<typeof token> | null, publishCrate?: string): Explanation =>
  explainRequest({ routes: table(ROUTES), publicReads: true, legacyTokens: 'pass', methods: http.METHODS, method, target, publishCrate, token: t, now: NOW });
const summary = (e: Explanation): unknown => {
  if (e.kind === 'gateway') return `gateway ${e.answer.kind}${e.answer.kind === 'token-api' ? ` ${e.answer.action?.action ?? null}` : ''}`;
  if (e.kind !== 'matched') return e.kind;
  return {
    route: e.route.id, crate: e.crate, publicRead: e.publicRead, ...(e.readsAs === null ? {} : { readsAs: e.readsAs }),
    verdicts: e.verdicts.map((v) => [v.when, v.need, v.decision.verdict === 'allow' ? 'allow' : v.decision.reason]),
  };
};

describe('explainRequest', () => {
  const rows: { name: string; e: () => Explanation; expected: unknown }[] = [
    { name: 'a yank with a yank token on a matching crate is allowed', e: () => explain('DELETE', '/api/v1/crates/serde/1.0.0/yank', token(['yank'], ['serde*'])),
      expected: { route: 'yank', crate: 'serde', publicRead: false, verdicts: [[null, 'yank', 'allow']] } },
    { name: 'a yank on another crate is denied with the reason decide() gives', e: () => explain('DELETE', '/api/v1/crates/tokio/1.0.0/yank', token(['yank'], ['serde*'])),
      expected: { route: 'yank', crate: 'tokio', publicRead: false, verdicts: [[null, 'yank', 'crate-not-allowed']] } },
    { name: 'an expired token is denied first', e: () => explain('DELETE', '/api/v1/crates/serde/1.0.0/yank', token(['yank'], null, NOW)),
      expected: { route: 'yank', crate: 'serde', publicRead: false, verdicts: [[null, 'yank', 'token-expired']] } },
    { name: 'a publish with one publish scope is explained for a new and an existing crate', e: () => explain('PUT', '/api/v1/crates/new', token(['publish-new']), 'serde'),
      expected: { route: 'publish', crate: 'serde', publicRead: false, verdicts: [['crate is new', 'publish-new', 'allow'], ['crate exists', 'publish-update', 'scope-missing']] } },
    { name: 'a publish with both scopes needs no probe', e: () => explain('PUT', '/api/v1/crates/new', token(['publish-new', 'publish-update']), 'serde'),
      expected: { route: 'publish', crate: 'serde', publicRead: false, verdicts: [[null, 'publish', 'allow']] } },
    { name: 'without a token only the route and scope are explained', e: () => explain('DELETE', '/api/v1/crates/serde/1.0.0/yank', null),
      expected: { route: 'yank', crate: 'serde', publicRead: false, verdicts: [] } },
    { name: 'a public read needs no token', e: () => explain('GET', '/index/se/rd/serde', null),
      expected: { route: 'index', crate: null, publicRead: true, verdicts: [] } },
    { name: 'a path no route matches', e: () => explain('POST', '/api/v1/crates/new', null), expected: 'no-route' },
    { name: 'an unsafe path', e: () => explain('GET', '/index/../secret', null), expected: 'path-invalid' },
    { name: 'a crate name that is not one', e: () => explain('DELETE', '/api/v1/crates/1bad/1.0.0/yank', null), expected: 'crate-invalid' },
    // What the proxy does before and besides the route table.
    { name: 'a lower-case method is refused, as Node\'s parser refuses it (methods are case-sensitive)', e: () => explain('delete', '/api/v1/crates/tokio/1.0.0/yank', token(['yank'])), expected: 'method-invalid' },
    { name: 'a method Node does not know is refused', e: () => explain('FETCH', '/index/se/rd/serde', null), expected: 'method-invalid' },
    { name: 'the token API is answered by the gateway, whatever the route table says', e: () => explain('GET', '/api/v1/me/tokens', null), expected: 'gateway token-api list' },
    { name: 'revoking the current token is the token API\'s', e: () => explain('DELETE', '/api/v1/tokens/current', null), expected: 'gateway token-api revoke-current' },
    { name: 'a token API path with no such operation is its 404, not a route', e: () => explain('POST', '/api/v1/me/tokens/7', null), expected: 'gateway token-api null' },
    { name: 'the token page is the gateway\'s (cargo: every /tokens path)', e: () => explain('GET', '/tokens/assets/x.js', null), expected: 'gateway token-page' },
    { name: 'a public read with an expired token is still allowed: the read goes anonymously', e: () => explain('GET', '/index/se/rd/serde', token(['yank'], null, NOW)),
      expected: { route: 'index', crate: null, publicRead: true, readsAs: 'anonymous', verdicts: [] } },
    { name: 'a public read with a valid token is swapped for its credential', e: () => explain('GET', '/index/se/rd/serde', token(['yank'])),
      expected: { route: 'index', crate: null, publicRead: true, readsAs: 'token', verdicts: [] } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(summary(row.e()), row.expected));
});

describe('findOverlaps', () => {
  it('finds none in the shipped-style table', () => {
    assert.deepEqual(findOverlaps(table(ROUTES)), []);
  });

  it('names both routes and a request the earlier one takes', () => {
    const overlaps = findOverlaps(table([
      { id: 'by-version', method: ['GET', 'PUT'], path: '/api/v1/crates/:crate/:version', scope: 'read' },
      { id: 'new-owners', method: 'PUT', path: '/api/v1/crates/new/*', scope: 'publish', crate: { from: 'publish-body' } },
      { id: 'other', method: 'DELETE', path: '/api/v1/crates/:crate/:version', scope: 'yank' },
    ]));
    assert.deepEqual(overlaps.map((o) => [o.earlier.id, o.later.id, o.example]), [['by-version', 'new-owners', 'PUT /api/v1/crates/new/x-version']]);
  });
});

describe('explain under the npm adapter', () => {
  it('reads `@scope%2Fname` with npm\'s path and name rules, and checks npm patterns', async () => {
    const { npmAdapter } = await import('../../src/registries/npm.js');
    const routes = table([{ id: 'dist-tag', method: 'PUT', path: '/-/package/:package/dist-tags/:tag', scope: 'publish-update', crate: { from: 'path', param: 'package' } }]);
    const npmToken = { endpointScopes: ['publish-update'] as Scope[], crateScopes: [npmAdapter.naming.parsePattern('@acme/*')!], expiredAt: NOW + 1_000, revokedAt: null };
    const run = (target: string): Explanation => explainRequest({ routes, publicReads: true, legacyTokens: 'pass', methods: http.METHODS, method: 'PUT', target, token: npmToken, now: NOW, registry: npmAdapter });
    assert.deepEqual(summary(run('/-/package/@acme%2Fwidget/dist-tags/beta')), { route: 'dist-tag', crate: '@acme/widget', publicRead: false, verdicts: [[null, 'publish-update', 'allow']] });
    assert.deepEqual(summary(run('/-/package/@other%2Fwidget/dist-tags/beta')), { route: 'dist-tag', crate: '@other/widget', publicRead: false, verdicts: [[null, 'publish-update', 'crate-not-allowed']] });
  });
});

describe('explain with the shipped npm config, as the proxy reads it', () => {
  const npm = async (method: string, target: string, options: { accept?: string; legacy?: 'pass' | 'deny'; t?: ReturnType<typeof token> | null } = {}): Promise<Explanation> => {
    const { loadConfig } = await import('../../src/config/load.js');
    const { explainContext } = await import('../../src/http/explain-context.js');
    const loaded = await loadConfig({ path: 'config/npm.yaml', env: {} });
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    return explainRequest({ ...explainContext(loaded.config), ...(options.legacy ? { legacyTokens: options.legacy } : {}), method, target, accept: options.accept, token: options.t ?? null, now: NOW });
  };

  it('npm logout of a scopegate token is the token API\'s; of any other credential, no route', async () => {
    const kind = (e: Explanation): string => (e.kind === 'gateway' && e.answer.kind === 'token-api' ? `token-api ${e.answer.action?.action ?? null}` : e.kind);
    assert.equal(kind(await npm('DELETE', `/-/user/token/sg_${'a'.repeat(38)}`)), 'token-api logout');
    assert.equal(kind(await npm('GET', `/-/user/token/sg_${'a'.repeat(38)}`)), 'token-api null');
    assert.equal(kind(await npm('DELETE', '/-/user/token/abc')), 'no-route');
  });

  it('`PUT /<package>` depends on the body: each operation gets its own route and verdict', async () => {
    const e = await npm('PUT', '/@acme%2fwidget', { t: token(['publish-update']) });
    assert.equal(e.kind, 'by-body');
    const cases = e.kind === 'by-body' ? e.cases.map((c) => [c.operation, c.outcome.kind === 'matched' ? [c.outcome.route.id, ...c.outcome.verdicts.map((v) => (v.decision.verdict === 'allow' ? 'allow' : v.decision.reason))] : c.outcome.kind]) : [];
    assert.deepEqual(cases.find((c) => c[0] === 'publish')?.[1], ['publish', 'scope-missing', 'allow'], 'new: publish-new missing; exists: allowed');
    assert.deepEqual(cases.find((c) => c[0] === 'deprecate')?.[1], ['deprecate', 'allow']);
    assert.ok(cases.filter((c) => c[0] !== 'publish' && c[0] !== 'deprecate').every((c) => c[1] === 'no-route'), JSON.stringify(cases));
  });

  it('`/tokens` is the token page only for a browser\'s page load; otherwise the package `tokens`', async () => {
    assert.equal((await npm('GET', '/tokens', { accept: 'text/html,application/xhtml+xml' })).kind, 'gateway');
    const packument = await npm('GET', '/tokens');
    assert.deepEqual(packument.kind === 'matched' ? packument.route.id : packument.kind, 'packument');
    assert.equal((await npm('GET', '/tokens/assets/abc/page.js')).kind, 'gateway');
  });

  it('a legacy credential is forwarded under `pass`, refused under `deny`, and left out of a public read', async () => {
    const legacy = async (method: string, target: string, policy: 'pass' | 'deny') => {
      const e = await npm(method, target, { legacy: policy });
      return e.kind === 'matched' ? e.legacyCredential : e.kind;
    };
    assert.equal(await legacy('DELETE', '/left-pad/-/left-pad-1.0.0.tgz/-rev/1-a', 'pass'), 'forwarded');
    assert.equal(await legacy('DELETE', '/left-pad/-/left-pad-1.0.0.tgz/-rev/1-a', 'deny'), 'refused');
    assert.equal(await legacy('GET', '/left-pad', 'deny'), 'ignored');
  });
});
