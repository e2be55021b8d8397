/**
 * The route table (DESIGN §4): compiled once at load, frozen, matched per request without
 * building anything. First match wins; a route that an earlier route fully covers (same methods,
 * same or wider path) can never match and is rejected at load, not discovered in production.
 */
import { parseRouteNeed, type RouteNeed } from './scope.js';

/** Where a route finds the crate it acts on. */
export type CrateSource = { readonly from: 'path'; readonly param: string } | { readonly from: 'publish-body' };

/** A route as written in the YAML (after schema validation). */
export interface RouteSpec {
  readonly id?: string;
  readonly method: string | readonly string[];
  readonly path: string;
  readonly scope: string;
  readonly crate?: { readonly from: string; readonly param?: string };
  /** The operation the request body must be, as the registry adapter classifies it (npm's `PUT /:package`). */
  readonly body?: string;
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'rest' };

/** A compiled route. */
export interface Route {
  readonly id: string;
  readonly index: number;
  readonly methods: ReadonlySet<string>;
  readonly segments: readonly Segment[];
  readonly need: RouteNeed;
  readonly crate: CrateSource | null;
  /** Matches only requests whose body the adapter classifies as this operation; null: any body, unread. */
  readonly body: string | null;
}

/** A match: the route and its `:params`, raw as they appeared in the path. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

/** A load-time problem, with the YAML path it belongs to. */
export interface RouteProblem {
  readonly path: string;
  readonly message: string;
}

export interface RouteTable {
  readonly routes: readonly Route[];
  /**
   * The first route matching `method` and `path` (a path string, or its decoded segments when a
   * segment may hold a `/`, as npm's `@scope/name` does). Without `operation`, a route with a
   * `body` condition matches whatever the body is: the caller then classifies the body and asks
   * again with the operation, and only routes for that operation (or for any body) match.
   */
  match(method: string, path: string | readonly string[], operation?: string): RouteMatch | null;
}

/** What the registry adapter can classify request bodies as (for `body` conditions). */
export interface BodyOperations {
  readonly registry: string;
  readonly operations: readonly string[];
}

/** Compiles specs into a frozen table, or reports every problem at once. */
export function compileRouteTable(specs: readonly RouteSpec[], bodies: BodyOperations = { registry: 'cargo', operations: [] }): { table: RouteTable } | { problems: RouteProblem[] } {
  const problems: RouteProblem[] = [];
  const routes: Route[] = [];
  specs.forEach((spec, index) => {
    const route = compileRoute(spec, index, problems, bodies);
    if (route === null) return;
    const cover = routes.find((earlier) => covers(earlier, route));
    if (cover) {
      problems.push({
        path: `routes[${index}]`,
        message: `route "${route.id}" can never match: routes[${cover.index}] ("${cover.id}") matches every request it would; move it above or remove it`,
      });
      return;
    }
    routes.push(route);
  });
  if (problems.length > 0) return { problems };
  const frozen = Object.freeze(routes.map((r) => Object.freeze(r)));
  const match = (method: string, path: string | readonly string[], operation?: string): RouteMatch | null =>
    matchRoute(frozen, method, typeof path === 'string' ? path.slice(1).split('/') : path, operation);
  return { table: Object.freeze({ routes: frozen, match }) };
}

function compileRoute(spec: RouteSpec, index: number, problems: RouteProblem[], bodies: BodyOperations): Route | null {
  const at = `routes[${index}]`;
  const before = problems.length;
  const methods = (typeof spec.method === 'string' ? [spec.method] : spec.method).map((m) => m.toUpperCase());
  const need = parseRouteNeed(spec.scope);
  if (need === null) problems.push({ path: `${at}.scope`, message: `"${spec.scope}" is not a route scope` });
  const segments = parsePath(spec.path, `${at}.path`, problems);
  const crate = parseCrateSource(spec, segments, at, problems);
  if (need === 'publish' && spec.crate === undefined) {
    problems.push({ path: `${at}.crate`, message: 'a publish route needs a crate source (crate: { from: publish-body }): publish-new vs publish-update is decided per crate' });
  }
  const body = spec.body ?? null;
  if (body !== null && !bodies.operations.includes(body)) {
    const expected = bodies.operations.length === 0 ? `the ${bodies.registry} adapter classifies no request bodies` : `expected one of ${bodies.operations.join(', ')}`;
    problems.push({ path: `${at}.body`, message: `"${body}" is not a body operation: ${expected}` });
  }
  if (problems.length > before || need === null || segments === null) return null;
  // HEAD is GET without the body (RFC 9110 §9.3.2), so a GET route answers it too, with the same
  // scope: monitoring and `curl -I` work on every read, and HEAD asks nothing GET would not.
  const matched = new Set(methods);
  if (matched.has('GET')) matched.add('HEAD');
  return { id: spec.id ?? `${methods.join('|')} ${spec.path}`, index, methods: matched, segments, need, crate, body };
}

function parsePath(path: string, at: string, problems: RouteProblem[]): Segment[] | null {
  if (!path.startsWith('/')) {
    problems.push({ path: at, message: `"${path}" must start with "/"` });
    return null;
  }
  const parts = path.slice(1).split('/');
  const segments: Segment[] = [];
  for (const [i, part] of parts.entries()) {
    if (part === '*' && i === parts.length - 1) segments.push({ kind: 'rest' });
    else if (/^:[A-Za-z_][A-Za-z0-9_]*$/.test(part)) segments.push({ kind: 'param', name: part.slice(1) });
    else if (/^[A-Za-z0-9._~-]+$/.test(part)) segments.push({ kind: 'literal', value: part });
    else {
      problems.push({ path: at, message: `"${path}" has an invalid segment "${part}": use literals, ":name" params and one trailing "*"` });
      return null;
    }
  }
  return segments;
}

function parseCrateSource(spec: RouteSpec, segments: Segment[] | null, at: string, problems: RouteProblem[]): CrateSource | null {
  if (spec.crate === undefined) return null;
  if (spec.crate.from === 'publish-body') return { from: 'publish-body' };
  if (spec.crate.from !== 'path') {
    problems.push({ path: `${at}.crate.from`, message: `"${spec.crate.from}" is not a crate source: expected one of path, publish-body` });
    return null;
  }
  const param = spec.crate.param ?? 'crate';
  if (segments !== null && !segments.some((s) => s.kind === 'param' && s.name === param)) {
    problems.push({ path: `${at}.crate.param`, message: `path "${spec.path}" has no ":${param}" segment to take the crate name from` });
    return null;
  }
  return { from: 'path', param };
}

/** True when every request `later` matches is matched by `earlier` first. */
function covers(earlier: Route, later: Route): boolean {
  for (const m of later.methods) if (!earlier.methods.has(m)) return false;
  if (earlier.body !== null && earlier.body !== later.body) return false;
  const a = earlier.segments;
  const b = later.segments;
  for (let i = 0; i < a.length; i++) {
    const sa = a[i]!;
    const sb = b[i];
    if (sa.kind === 'rest') return sb !== undefined;
    if (sb === undefined || sb.kind === 'rest') return false;
    if (sa.kind === 'literal' && (sb.kind !== 'literal' || sb.value !== sa.value)) return false;
  }
  return a.length === b.length;
}

function matchRoute(routes: readonly Route[], method: string, parts: readonly string[], operation: string | undefined): RouteMatch | null {
  for (const route of routes) {
    if (!route.methods.has(method)) continue;
    if (operation !== undefined && route.body !== null && route.body !== operation) continue;
    const params = matchSegments(route.segments, parts);
    if (params !== null) return { route, params };
  }
  return null;
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const part = parts[i];
    if (segment.kind === 'rest') return part !== undefined && part !== '' ? params : null;
    if (part === undefined || part === '') return null;
    if (segment.kind === 'literal' && segment.value !== part) return null;
    if (segment.kind === 'param') params[segment.name] = part;
  }
  return segments.length === parts.length ? params : null;
}
