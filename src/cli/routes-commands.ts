/**
 * `scopegate routes check` (load a config, report every problem, list shadowed and overlapping
 * routes) and `scopegate routes explain METHOD PATH` (the route, the scope, and with a token the
 * verdict and its reason, from the same `decide()` the proxy calls).
 */
import { formatInstant, denialError } from '../core/denial.js';
import { explainRequest, type Explanation, type RoutedExplanation } from '../core/explain.js';
import { methodsInWords } from '../core/gateway-answers.js';
import { inWords } from '../http/auth-limit.js';
import { explainContext } from '../http/explain-context.js';
import { findOverlaps } from '../core/route-overlap.js';
import type { Route } from '../core/route-table.js';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { CliError, EXIT, loadCliConfig, parseFlags, parseId, table, withBackends, type Io } from './common.js';

export const ROUTES_HELP = `usage: scopegate routes <check|explain> [options]

  routes check [--config FILE]
      Loads the config as the server would and reports every problem (with its YAML path),
      routes that can never match (shadowed) and routes that overlap (first match wins).
      Exit 0 valid, 2 invalid.
  routes explain METHOD PATH [--token-id N] [--crate NAME] [--at TIME] [--accept TYPE]
      Prints what the gateway does with METHOD PATH, from the proxy's own parts: refuse it (a
      method its parser does not accept, methods being case-sensitive; an unsafe path), answer it
      itself (the token API, the token page, cargo's config.json rewritten), or route it: the
      route, the scope it needs, and with --token-id the verdict and its reason from decide(). A
      route that depends on the body (npm's PUT /<package>) is explained per operation. --crate
      names a publish's crate (it is in the body, not the path); --at decides at another instant
      (RFC 3339; default now); --accept is the request's Accept (npm: only text/html makes
      /tokens the token page).
      Exit 0 allowed (or matched, without a token; or answered by the gateway), 1 Redis
      unreachable, 2 bad flags, 3 denied, refused or no route.

  Both take --config FILE (default $SCOPEGATE_CONFIG or config/cargo.yaml) and --json.`;

const OPTIONS = { 'token-id': { type: 'string' }, crate: { type: 'string' }, at: { type: 'string' }, accept: { type: 'string' } } as const;

export async function routesCommand(args: string[], io: Io): Promise<number> {
  // `token --help`: a flag where the subcommand goes is the subcommand's own flag.
  const flagFirst = args[0]?.startsWith('-') ?? false;
  const sub = flagFirst ? undefined : args[0];
  const rest = flagFirst ? args : args.slice(1);
  const { values, positionals } = parseFlags(rest, OPTIONS, 'routes');
  if (values.help || sub === undefined || sub === 'help') {
    io.out(ROUTES_HELP);
    return sub === undefined && !values.help ? EXIT.USAGE : EXIT.OK;
  }
  if (sub === 'check') return check(values.config, Boolean(values.json), io);
  if (sub !== 'explain') throw new CliError(EXIT.USAGE, `unknown command "routes ${sub}"\nsee: scopegate routes --help`);
  if (positionals.length !== 2) throw new CliError(EXIT.USAGE, 'usage: scopegate routes explain METHOD PATH [--token-id N] [--crate NAME]');
  const [method, path] = positionals as [string, string];
  const at = values.at === undefined ? Date.now() : Date.parse(values.at);
  if (Number.isNaN(at)) throw new CliError(EXIT.USAGE, `--at ${JSON.stringify(values.at)} is not a date: expected e.g. 2026-12-31T00:00:00Z`);
  const tokenId = values['token-id'] === undefined ? null : parseId(values['token-id'], '--token-id');
  const config = await loadCliConfig(values.config, io.env);
  return explain(config, { method, path, accept: values.accept, tokenId, crate: values.crate, at, json: Boolean(values.json) }, io);
}

async function check(path: string | undefined, json: boolean, io: Io): Promise<number> {
  const loaded = await loadConfig({ path, env: io.env });
  if (!loaded.ok) {
    const shadowed = loaded.problems.filter((p) => p.includes('can never match'));
    if (json) io.out(JSON.stringify({ valid: false, problems: loaded.problems, shadowed }));
    else {
      io.out(`the configuration is invalid (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}):`);
      for (const problem of loaded.problems) io.out(`  - ${problem}`);
      if (shadowed.length > 0) io.out(`shadowed routes (never matched; move them above the route that covers them, or remove them):\n${shadowed.map((s) => `  - ${s}`).join('\n')}`);
    }
    return EXIT.USAGE;
  }
  const { routes } = loaded.config;
  const overlaps = findOverlaps(routes).map((o) => ({ earlier: o.earlier.id, later: o.later.id, example: o.example }));
  if (json) {
    io.out(JSON.stringify({ valid: true, problems: [], shadowed: [], overlaps, routes: routes.routes.map(describeRoute) }));
    return EXIT.OK;
  }
  io.out(`the configuration is valid: ${routes.routes.length} routes, first match wins, anything else is denied`);
  io.out(table(['#', 'ID', 'METHODS', 'PATH', 'SCOPE', 'CRATE FROM'], routes.routes.map((r) => {
    const d = describeRoute(r);
    return [String(r.index), d.id, d.methods.join(','), d.path, d.scope, d.crate ?? '-'];
  })));
  io.out('shadowed routes: none');
  if (overlaps.length === 0) io.out('overlapping routes: none');
  else for (const o of overlaps) io.out(`overlap: "${o.earlier}" takes ${o.example} before "${o.later}" can`);
  return EXIT.OK;
}

function describeRoute(r: Route): { id: string; methods: string[]; path: string; scope: string; crate: string | null } {
  const path = `/${r.segments.map((s) => (s.kind === 'literal' ? s.value : s.kind === 'param' ? `:${s.name}` : '*')).join('/')}`;
  const crate = r.crate === null ? null : r.crate.from === 'path' ? `path :${r.crate.param}` : 'publish-body';
  return { id: r.id, methods: [...r.methods], path, scope: r.need, crate };
}

interface ExplainRequest {
  readonly method: string;
  readonly path: string;
  readonly accept: string | undefined;
  readonly tokenId: number | null;
  readonly crate: string | undefined;
  readonly at: number;
  readonly json: boolean;
}

async function explain(config: GatewayConfig, q: ExplainRequest, io: Io): Promise<number> {
  const token = q.tokenId === null ? null : await withBackends(config, ({ store }) => store.findById(q.tokenId!));
  if (q.tokenId !== null && token === null) throw new CliError(EXIT.NOT_FOUND_OR_DENIED, `no token with id ${q.tokenId}`);
  const explanation = explainRequest({ ...explainContext(config), method: q.method, target: q.path, accept: q.accept, publishCrate: q.crate, token, now: q.at });
  const allowed = isAllowed(explanation);
  if (q.json) io.out(JSON.stringify({ ...jsonOf(explanation), allowed }));
  else io.out(render(config, explanation, q).join('\n'));
  return allowed ? EXIT.OK : EXIT.NOT_FOUND_OR_DENIED;
}

/** Allowed: answered by the gateway, or routed and every verdict allows. */
function isAllowed(e: Explanation): boolean {
  if (e.kind === 'gateway') return e.answer.kind === 'token-page' || e.answer.action !== null;
  if (e.kind === 'by-body') return e.cases.some((c) => isAllowed(c.outcome));
  return e.kind === 'matched' && e.verdicts.every((v) => v.decision.verdict === 'allow');
}

function jsonOf(e: Explanation): Record<string, unknown> {
  const routed = (r: RoutedExplanation): Record<string, unknown> => (r.kind === 'no-route' ? { ...r } : { ...r, route: describeRoute(r.route) });
  if (e.kind === 'by-body') return { ...e, cases: e.cases.map((c) => ({ operation: c.operation, outcome: routed(c.outcome) })) };
  if (e.kind === 'matched' || e.kind === 'crate-invalid' || e.kind === 'no-route') return routed(e);
  return { ...e };
}

function render(config: GatewayConfig, e: Explanation, q: ExplainRequest): string[] {
  switch (e.kind) {
    case 'method-invalid':
      return [`method:   ${JSON.stringify(e.method)} is not an HTTP method the gateway's parser accepts (methods are case-sensitive: ${e.method.toUpperCase()}?)`, 'verdict:  deny (400 SG_REQUEST_MALFORMED): nothing is forwarded'];
    case 'path-invalid':
      return [`path:     invalid (${e.why})`, 'verdict:  deny (path-invalid)'];
    case 'gateway':
      return renderGatewayAnswer(config, e);
    case 'by-body':
      return [`route:    depends on the body (the adapter names its operation; the same bytes are forwarded)`, ...e.cases.flatMap((c) => [`--- body is \`${c.operation}\``, ...renderRouted(config, c.outcome, q)])];
    default:
      return renderRouted(config, e, q);
  }
}

/**
 * The 429 a client over `limits.auth_failures` gets instead (http/auth-limit.ts): it depends on the
 * client's failures so far, which explain does not know, so it is said as a condition.
 */
function failureBound(config: GatewayConfig, what: string): string {
  const { authFailures, authFailuresWindowMs } = config.limits;
  return authFailures === 0 ? '' : `; ${what} 429 (auth-failures-limit) instead when the client's address had ${authFailures} credentials refused by the registry within ${inWords(authFailuresWindowMs)} (limits.auth_failures)`;
}

function renderGatewayAnswer(config: GatewayConfig, e: Extract<Explanation, { kind: 'gateway' }>): string[] {
  if (e.answer.kind === 'token-page') return ['answer:   the token page, served by the gateway itself (never forwarded; GET or HEAD of the page and its assets, else 404)'];
  if (e.answer.action === null) {
    const allowed = e.answer.allow ?? [];
    if (allowed.length > 0) return [`answer:   the token API, which answers only ${methodsInWords(allowed)} at ${e.path}`, 'verdict:  deny (method-not-allowed, 405): never forwarded'];
    return [`answer:   the token API, which has no such operation at ${e.path}`, 'verdict:  deny (route-unknown): never forwarded'];
  }
  return [`answer:   the token API (\`${e.answer.action.action}\`), answered by the gateway itself and never forwarded; it checks the caller's own credential${failureBound(config, 'a registry credential is answered')}`];
}

function renderRouted(config: GatewayConfig, e: RoutedExplanation, q: ExplainRequest): string[] {
  switch (e.kind) {
    case 'no-route':
      return [`route:    none matches ${e.method} ${e.path}${e.operation ? ` (a \`${e.operation}\` body)` : ''}`, 'verdict:  deny (route-unknown): unmatched requests are never forwarded'];
    case 'crate-invalid':
      return [`route:    ${e.route.id} (routes[${e.route.index}])`, `verdict:  deny (crate-name-invalid): "${e.name}" is not a crate name`];
    case 'matched': {
      const lines = [
        `route:    ${e.route.id} (routes[${e.route.index}])`,
        `scope:    ${e.route.need}${e.route.need === 'publish' ? ' (publish-new for a new crate, publish-update for an existing one)' : ''}`,
        `crate:    ${e.crate ?? (e.route.crate?.from === 'publish-body' ? '(in the publish body; give --crate NAME)' : 'none named')}`,
        `legacy:   a credential that is not a scopegate token is ${e.legacyCredential === 'ignored' ? 'left out (the read goes anonymously)' : e.legacyCredential}${e.legacyCredential === 'forwarded' && !e.publicRead ? failureBound(config, 'answered') : ''}`,
      ];
      if (e.rewritesConfig) lines.push('answer:   the registry\'s config, rewritten by the gateway so that `dl` and `api` point at it');
      if (e.publicRead) {
        lines.push('token:    none needed (reads: public)');
        if (e.readsAs !== null) lines.push(`          the token given is ${e.readsAs === 'token' ? 'swapped for its upstream credential' : 'not valid, so left out: the read goes anonymously'}`);
        return [...lines, 'verdict:  allow (public-read)'];
      }
      if (q.tokenId === null) return [...lines, 'verdict:  (give --token-id N to decide)'];
      return [...lines, `at:       ${formatInstant(q.at)}`, ...renderVerdicts(config, e)];
    }
  }
}

function renderVerdicts(config: GatewayConfig, e: Extract<RoutedExplanation, { kind: 'matched' }>): string[] {
  const tokensUrl = `${config.publicUrl}/tokens`;
  return e.verdicts.map((v) => {
    const when = v.when === null ? '' : ` if the ${v.when} (needs ${v.need})`;
    if (v.decision.verdict === 'allow') return `verdict:  allow${when}`;
    return `verdict:  deny${when} (${v.decision.reason}): ${denialError(v.decision, { tokensUrl, crate: e.crate ?? undefined }).message}`;
  });
}
