/** compileRouteTable(): first-match routing, and every load-time problem reported at once. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRouteTable, type RouteProblem, type RouteSpec, type RouteTable } from '../../src/core/route-table.js';

const CARGO_ROUTES: RouteSpec[] = [
  { method: 'PUT', path: '/api/v1/crates/new', scope: 'publish', crate: { from: 'publish-body' } },
  { method: 'DELETE', path: '/api/v1/crates/:crate/:version/yank', scope: 'yank', crate: { from: 'path' } },
  { method: 'PUT', path: '/api/v1/crates/:crate/:version/unyank', scope: 'yank', crate: { from: 'path' } },
  { method: ['put', 'DELETE'], path: '/api/v1/crates/:crate/owners', scope: 'change-owners', crate: { from: 'path' } },
  { id: 'owners-list', method: 'GET', path: '/api/v1/crates/:name/owners', scope: 'read', crate: { from: 'path', param: 'name' } },
  { method: 'GET', path: '/api/v1/crates/:crate/:version/download', scope: 'read' },
  { method: 'GET', path: '/api/v1/crates', scope: 'read' },
  { method: 'GET', path: '/index/*', scope: 'read' },
  { method: 'GET', path: '/api/v1/me', scope: 'authenticated' },
];

function compile(specs: readonly RouteSpec[]): RouteTable {
  const result = compileRouteTable(specs);
  if ('problems' in result) assert.fail(`unexpected problems: ${JSON.stringify(result.problems)}`);
  return result.table;
}

function problemsOf(specs: readonly RouteSpec[]): RouteProblem[] {
  const result = compileRouteTable(specs);
  if ('table' in result) assert.fail('expected the table to be refused');
  return result.problems;
}

describe('matching', () => {
  const table = compile(CARGO_ROUTES);
  const rows: { name: string; method: string; path: string; expected: { index: number; params: Record<string, string> } | null }[] = [
    { name: 'a literal path matches its route', method: 'PUT', path: '/api/v1/crates/new', expected: { index: 0, params: {} } },
    { name: '`:params` capture their segments raw', method: 'DELETE', path: '/api/v1/crates/Serde_Json/1.0.0+build/yank', expected: { index: 1, params: { crate: 'Serde_Json', version: '1.0.0+build' } } },
    { name: 'the literal tail must match too', method: 'PUT', path: '/api/v1/crates/serde/1.0.0/unyank', expected: { index: 2, params: { crate: 'serde', version: '1.0.0' } } },
    { name: 'a method list matches its first method (written in lower case)', method: 'PUT', path: '/api/v1/crates/serde/owners', expected: { index: 3, params: { crate: 'serde' } } },
    { name: 'a method list matches its second method', method: 'DELETE', path: '/api/v1/crates/serde/owners', expected: { index: 3, params: { crate: 'serde' } } },
    { name: 'a method outside the list falls to the next route with that method', method: 'GET', path: '/api/v1/crates/serde/owners', expected: { index: 4, params: { name: 'serde' } } },
    { name: 'a path with a literal where a param is expected still matches the param', method: 'GET', path: '/api/v1/crates/new/owners', expected: { index: 4, params: { name: 'new' } } },
    { name: 'a trailing `*` matches one segment', method: 'GET', path: '/index/config.json', expected: { index: 7, params: {} } },
    { name: 'a trailing `*` matches several segments', method: 'GET', path: '/index/se/rd/serde', expected: { index: 7, params: {} } },
    { name: 'a trailing `*` needs at least one segment', method: 'GET', path: '/index', expected: null },
    { name: 'a trailing `*` needs a non-empty segment', method: 'GET', path: '/index/', expected: null },
    { name: 'a literal route does not match a longer path', method: 'GET', path: '/api/v1/crates/serde', expected: null },
    { name: 'a route does not match a path with a trailing slash', method: 'GET', path: '/api/v1/crates/', expected: null },
    { name: 'an empty segment does not fill a `:param`', method: 'DELETE', path: '/api/v1/crates//1.0.0/yank', expected: null },
    { name: 'a method no route lists is unmatched', method: 'POST', path: '/api/v1/crates/new', expected: null },
    { name: 'HEAD matches a GET route, with its params', method: 'HEAD', path: '/api/v1/crates/serde/owners', expected: { index: 4, params: { name: 'serde' } } },
    { name: 'HEAD matches the index like GET', method: 'HEAD', path: '/index/se/rd/serde', expected: { index: 7, params: {} } },
    { name: 'HEAD matches no route that lacks GET', method: 'HEAD', path: '/api/v1/crates/serde/1.0.0/yank', expected: null },
    { name: 'a method must be upper case at match time', method: 'put', path: '/api/v1/crates/new', expected: null },
    { name: 'an unknown path is unmatched', method: 'GET', path: '/admin', expected: null },
    { name: 'literals are case-sensitive', method: 'PUT', path: '/API/v1/crates/new', expected: null },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const match = table.match(row.method, row.path);
      assert.deepEqual(match === null ? null : { index: match.route.index, params: { ...match.params } }, row.expected);
    });
  }

  it('the first matching route wins', () => {
    const t = compile([
      { id: 'specific', method: 'GET', path: '/index/config.json', scope: 'read' },
      { id: 'rest', method: 'GET', path: '/index/*', scope: 'authenticated' },
    ]);
    assert.equal(t.match('GET', '/index/config.json')?.route.id, 'specific');
    assert.equal(t.match('GET', '/index/se/rd/serde')?.route.id, 'rest');
  });

  it('compiled routes carry their id, need, methods and crate source', () => {
    const [publish, , , owners, ownersList] = table.routes;
    assert.deepEqual({ id: publish?.id, need: publish?.need, crate: publish?.crate }, { id: 'PUT /api/v1/crates/new', need: 'publish', crate: { from: 'publish-body' } });
    assert.deepEqual([...owners!.methods], ['PUT', 'DELETE']);
    assert.equal(owners?.id, 'PUT|DELETE /api/v1/crates/:crate/owners');
    assert.deepEqual(owners?.crate, { from: 'path', param: 'crate' });
    assert.deepEqual({ id: ownersList?.id, crate: ownersList?.crate }, { id: 'owners-list', crate: { from: 'path', param: 'name' } });
  });

  it('the compiled table is frozen', () => {
    assert.ok(Object.isFrozen(table) && Object.isFrozen(table.routes) && table.routes.every(Object.isFrozen));
  });
});

describe('shadowed routes are refused at load', () => {
  const rows: { name: string; specs: RouteSpec[]; expected: RouteProblem[] }[] = [
    {
      name: 'a literal under an earlier `*` can never match',
      specs: [{ method: 'GET', path: '/index/*', scope: 'read' }, { id: 'config', method: 'GET', path: '/index/config.json', scope: 'read' }],
      expected: [{ path: 'routes[1]', message: 'route "config" can never match: routes[0] ("GET /index/*") matches every request it would; move it above or remove it' }],
    },
    {
      name: 'a literal under an earlier `:param` can never match',
      specs: [{ method: 'PUT', path: '/api/v1/crates/:crate', scope: 'yank' }, { method: 'PUT', path: '/api/v1/crates/new', scope: 'publish', crate: { from: 'publish-body' } }],
      expected: [{ path: 'routes[1]', message: 'route "PUT /api/v1/crates/new" can never match: routes[0] ("PUT /api/v1/crates/:crate") matches every request it would; move it above or remove it' }],
    },
    {
      name: 'a HEAD route under an earlier GET route of its path can never match (GET answers HEAD)',
      specs: [{ method: 'GET', path: '/a', scope: 'read' }, { method: 'HEAD', path: '/a', scope: 'yank' }],
      expected: [{ path: 'routes[1]', message: 'route "HEAD /a" can never match: routes[0] ("GET /a") matches every request it would; move it above or remove it' }],
    },
    {
      name: 'a duplicate route can never match',
      specs: [{ method: 'GET', path: '/a', scope: 'read' }, { method: 'GET', path: '/b', scope: 'read' }, { method: 'GET', path: '/a', scope: 'yank' }],
      expected: [{ path: 'routes[2]', message: 'route "GET /a" can never match: routes[0] ("GET /a") matches every request it would; move it above or remove it' }],
    },
    {
      name: 'a route whose methods are all covered by an earlier method list can never match',
      specs: [{ method: ['GET', 'PUT'], path: '/x/:id', scope: 'read' }, { method: 'PUT', path: '/x/:other', scope: 'yank' }],
      expected: [{ path: 'routes[1]', message: 'route "PUT /x/:other" can never match: routes[0] ("GET|PUT /x/:id") matches every request it would; move it above or remove it' }],
    },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(problemsOf(row.specs), row.expected));

  const reachable: { name: string; specs: RouteSpec[] }[] = [
    { name: 'a specific route above a `*` route is fine', specs: [{ method: 'GET', path: '/index/config.json', scope: 'read' }, { method: 'GET', path: '/index/*', scope: 'read' }] },
    { name: 'a `*` route after a `:param` route is reachable (it also matches deeper paths)', specs: [{ method: 'GET', path: '/a/:x', scope: 'read' }, { method: 'GET', path: '/a/*', scope: 'read' }] },
    { name: 'the bare prefix after a `*` route is reachable (`*` needs a segment)', specs: [{ method: 'GET', path: '/a/*', scope: 'read' }, { method: 'GET', path: '/a', scope: 'read' }] },
    { name: 'a route with a method the earlier one lacks is reachable', specs: [{ method: 'PUT', path: '/a', scope: 'yank' }, { method: ['PUT', 'DELETE'], path: '/a', scope: 'yank' }] },
    { name: 'a longer path after a shorter literal is reachable', specs: [{ method: 'GET', path: '/a', scope: 'read' }, { method: 'GET', path: '/a/b', scope: 'read' }] },
  ];
  for (const row of reachable) it(row.name, () => assert.equal(compile(row.specs).routes.length, row.specs.length));
});

describe('invalid routes: every problem is reported at once, with its YAML path', () => {
  it('bad segments, scopes, crate sources and params are all reported together', () => {
    const problems = problemsOf([
      { method: 'GET', path: 'api/v1', scope: 'read' },
      { method: 'GET', path: '/a/*/b', scope: 'read' },
      { method: 'GET', path: '/a/:9x', scope: 'read' },
      { method: 'GET', path: '/a/b c', scope: 'read' },
      { method: 'DELETE', path: '/ok/:crate', scope: 'yanks' },
      { method: 'PUT', path: '/c/:crate', scope: 'yank', crate: { from: 'query' } },
      { method: 'PUT', path: '/d/:name', scope: 'yank', crate: { from: 'path' } },
      { method: 'PUT', path: '/e/:crate', scope: 'yank', crate: { from: 'path', param: 'krate' } },
    ]);
    assert.deepEqual(problems, [
      { path: 'routes[0].path', message: '"api/v1" must start with "/"' },
      { path: 'routes[1].path', message: '"/a/*/b" has an invalid segment "*": use literals, ":name" params and one trailing "*"' },
      { path: 'routes[2].path', message: '"/a/:9x" has an invalid segment ":9x": use literals, ":name" params and one trailing "*"' },
      { path: 'routes[3].path', message: '"/a/b c" has an invalid segment "b c": use literals, ":name" params and one trailing "*"' },
      { path: 'routes[4].scope', message: '"yanks" is not a route scope' },
      { path: 'routes[5].crate.from', message: '"query" is not a crate source: expected one of path, publish-body' },
      { path: 'routes[6].crate.param', message: 'path "/d/:name" has no ":crate" segment to take the crate name from' },
      { path: 'routes[7].crate.param', message: 'path "/e/:crate" has no ":krate" segment to take the crate name from' },
    ]);
  });

  it('one route with several problems reports each of them', () => {
    assert.deepEqual(problemsOf([{ method: 'GET', path: '/x/:crate', scope: 'Read', crate: { from: 'body' } }]).map((p) => p.path), ['routes[0].scope', 'routes[0].crate.from']);
  });

  it('a `publish` route without a crate source is refused (the existence probe needs a crate)', () => {
    const problems = problemsOf([{ method: 'PUT', path: '/api/v1/crates/new', scope: 'publish' }]);
    assert.deepEqual(problems.map((p) => p.path), ['routes[0].crate']);
    assert.match(problems[0]!.message, /publish/);
  });

  it('an invalid route does not hide a later shadowing problem among the valid ones', () => {
    const problems = problemsOf([
      { method: 'GET', path: '/index/*', scope: 'read' },
      { method: 'GET', path: 'bad', scope: 'read' },
      { method: 'GET', path: '/index/x', scope: 'read' },
    ]);
    assert.deepEqual(problems.map((p) => p.path), ['routes[1].path', 'routes[2]']);
  });
});

/** Routes with a `body` condition (npm's overloaded `PUT /:package`): matched again once the body is classified. */
describe('body conditions', () => {
  const NPM_BODIES = { registry: 'npm', operations: ['publish', 'deprecate', 'unpublish', 'star'] };
  const routes: RouteSpec[] = [
    { id: 'publish', method: 'PUT', path: '/:package', body: 'publish', scope: 'publish', crate: { from: 'path', param: 'package' } },
    { id: 'deprecate', method: 'PUT', path: '/:package', body: 'deprecate', scope: 'publish-update', crate: { from: 'path', param: 'package' } },
    { id: 'unpublish', method: 'PUT', path: '/:package/-rev/:rev', body: 'unpublish', scope: 'yank', crate: { from: 'path', param: 'package' } },
    { id: 'packument', method: 'GET', path: '/:package', scope: 'read' },
  ];
  const compiled = compileRouteTable(routes, NPM_BODIES);
  const table = 'table' in compiled ? compiled.table : assert.fail(JSON.stringify(compiled));

  it('without an operation, the first route for the method and path matches, so the caller knows to read the body', () => {
    assert.equal(table.match('PUT', ['@acme/web'])?.route.id, 'publish');
  });
  it('with an operation, only routes for it (or for any body) match', () => {
    assert.equal(table.match('PUT', ['@acme/web'], 'publish')?.route.id, 'publish');
    assert.equal(table.match('PUT', ['@acme/web'], 'deprecate')?.route.id, 'deprecate');
    assert.equal(table.match('PUT', ['@acme/web', '-rev', '1-a'], 'unpublish')?.route.id, 'unpublish');
    assert.equal(table.match('GET', ['@acme/web'], 'publish')?.route.id, 'packument');
  });
  it('an operation no route names matches nothing (npm star: denied by default)', () => {
    assert.equal(table.match('PUT', ['@acme/web'], 'star'), null);
    assert.equal(table.match('PUT', ['@acme/web', '-rev', '1-a'], 'deprecate'), null);
  });
  it('segments may hold a `/` (a scoped name), which a path string could not', () => {
    assert.deepEqual(table.match('GET', ['@acme/web'])?.params, { package: '@acme/web' });
    assert.equal(table.match('GET', '/@acme/web'), null, 'as a string, `@acme/web` is two segments');
  });
  it('compiled routes carry their body condition; routes without one carry null', () => {
    assert.deepEqual(table.routes.map((r) => r.body), ['publish', 'deprecate', 'unpublish', null]);
  });
  it('a route with a body condition does not shadow a later one for another operation, but one without does', () => {
    assert.ok('table' in compileRouteTable([routes[0]!, routes[1]!], NPM_BODIES));
    const problems = compileRouteTable([{ method: 'PUT', path: '/:package', scope: 'publish-update' }, routes[1]!], NPM_BODIES);
    assert.deepEqual('problems' in problems ? problems.problems.map((p) => p.path) : [], ['routes[1]']);
    const same = compileRouteTable([routes[1]!, routes[1]!], NPM_BODIES);
    assert.deepEqual('problems' in same ? same.problems.map((p) => p.path) : [], ['routes[1]']);
  });
  it('an operation the adapter does not classify is refused at load, naming the ones it does', () => {
    assert.deepEqual(problemsOf([{ method: 'PUT', path: '/:p', body: 'publsh', scope: 'yank' }]).length, 1);
    const npm = compileRouteTable([{ method: 'PUT', path: '/:p', body: 'publsh', scope: 'yank' }], NPM_BODIES);
    assert.deepEqual('problems' in npm ? npm.problems : [], [{ path: 'routes[0].body', message: '"publsh" is not a body operation: expected one of publish, deprecate, unpublish, star' }]);
    assert.deepEqual(problemsOf([{ method: 'PUT', path: '/:p', body: 'publish', scope: 'yank' }]), [
      { path: 'routes[0].body', message: '"publish" is not a body operation: the cargo adapter classifies no request bodies' },
    ]);
  });
});
