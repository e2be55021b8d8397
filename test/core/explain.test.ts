/** `routes explain` and the admin /explain: the route, scope, crate and verdict, from decide(). */
import assert from 'node:assert/strict';
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
  explainRequest({ routes: table(ROUTES), publicReads: true, method, target, publishCrate, token: t, now: NOW });
const summary = (e: Explanation): unknown => (e.kind === 'matched'
  ? { route: e.route.id, crate: e.crate, publicRead: e.publicRead, verdicts: e.verdicts.map((v) => [v.when, v.need, v.decision.verdict === 'allow' ? 'allow' : v.decision.reason]) }
  : e.kind);

describe('explainRequest', () => {
  const rows: { name: string; e: () => Explanation; expected: unknown }[] = [
    { name: 'a yank with a yank token on a matching crate is allowed', e: () => explain('DELETE', '/api/v1/crates/serde/1.0.0/yank', token(['yank'], ['serde*'])),
      expected: { route: 'yank', crate: 'serde', publicRead: false, verdicts: [[null, 'yank', 'allow']] } },
    { name: 'a yank on another crate is denied with the reason decide() gives', e: () => explain('delete', '/api/v1/crates/tokio/1.0.0/yank', token(['yank'], ['serde*'])),
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
    const run = (target: string): Explanation => explainRequest({ routes, publicReads: true, method: 'PUT', target, token: npmToken, now: NOW, naming: npmAdapter.naming, pathRules: npmAdapter.pathRules });
    assert.deepEqual(summary(run('/-/package/@acme%2Fwidget/dist-tags/beta')), { route: 'dist-tag', crate: '@acme/widget', publicRead: false, verdicts: [[null, 'publish-update', 'allow']] });
    assert.deepEqual(summary(run('/-/package/@other%2Fwidget/dist-tags/beta')), { route: 'dist-tag', crate: '@other/widget', publicRead: false, verdicts: [[null, 'publish-update', 'crate-not-allowed']] });
  });
});
