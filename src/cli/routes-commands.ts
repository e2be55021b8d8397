/**
 * `scopegate routes check` (load a config, report every problem, list shadowed and overlapping
 * routes) and `scopegate routes explain METHOD PATH` (the route, the scope, and with a token the
 * verdict and its reason, from the same `decide()` the proxy calls).
 */
import type { PackageNaming } from '../core/crate-pattern.js';
import type { PathRules } from '../core/request-path.js';
import { adapterFor } from '../registries/select.js';
import { formatInstant, denialError } from '../core/denial.js';
import { explainRequest, type Explanation } from '../core/explain.js';
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
  routes explain METHOD PATH [--token-id N] [--crate NAME] [--at TIME]
      Prints the route PATH matches, the scope it needs, and with --token-id the verdict and its
      reason, decided by the gateway's own decide(). --crate names a publish's crate (it is in the
      body, not the path); --at decides at another instant (RFC 3339; default now).
      Exit 0 allowed (or matched, without a token), 1 Redis unreachable, 2 bad flags,
      3 denied or no route.

  Both take --config FILE (default $SCOPEGATE_CONFIG or config/cargo.yaml) and --json.`;

const OPTIONS = { 'token-id': { type: 'string' }, crate: { type: 'string' }, at: { type: 'string' } } as const;

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
  return explain(config, { method, path, tokenId, crate: values.crate, at, json: Boolean(values.json) }, io);
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
  readonly tokenId: number | null;
  readonly crate: string | undefined;
  readonly at: number;
  readonly json: boolean;
}

function namingOf(config: GatewayConfig): { naming: PackageNaming; pathRules: PathRules } {
  const adapter = adapterFor(config.registry);
  return { naming: adapter.naming, pathRules: adapter.pathRules };
}

async function explain(config: GatewayConfig, q: ExplainRequest, io: Io): Promise<number> {
  const token = q.tokenId === null ? null : await withBackends(config, ({ store }) => store.findById(q.tokenId!));
  if (q.tokenId !== null && token === null) throw new CliError(EXIT.NOT_FOUND_OR_DENIED, `no token with id ${q.tokenId}`);
  const explanation = explainRequest({ routes: config.routes, publicReads: config.reads === 'public', method: q.method, target: q.path, publishCrate: q.crate, token, now: q.at, ...namingOf(config) });
  const lines = render(config, explanation, q);
  const allowed = explanation.kind === 'matched' && explanation.verdicts.every((v) => v.decision.verdict === 'allow');
  if (q.json) {
    const body = explanation.kind === 'matched' ? { ...explanation, route: describeRoute(explanation.route), allowed } : { ...explanation, allowed: false };
    io.out(JSON.stringify(body));
  } else io.out(lines.join('\n'));
  return allowed ? EXIT.OK : EXIT.NOT_FOUND_OR_DENIED;
}

function render(config: GatewayConfig, e: Explanation, q: ExplainRequest): string[] {
  switch (e.kind) {
    case 'path-invalid':
      return [`path:     invalid (${e.why})`, 'verdict:  deny (path-invalid)'];
    case 'no-route':
      return [`route:    none matches ${e.method} ${e.path}`, 'verdict:  deny (route-unknown): unmatched requests are never forwarded'];
    case 'crate-invalid':
      return [`route:    ${e.route.id} (routes[${e.route.index}])`, `verdict:  deny (crate-name-invalid): "${e.name}" is not a crate name`];
    case 'matched': {
      const lines = [
        `route:    ${e.route.id} (routes[${e.route.index}])`,
        `scope:    ${e.route.need}${e.route.need === 'publish' ? ' (publish-new for a new crate, publish-update for an existing one)' : ''}`,
        `crate:    ${e.crate ?? (e.route.crate?.from === 'publish-body' ? '(in the publish body; give --crate NAME)' : 'none named')}`,
      ];
      if (e.publicRead) lines.push('token:    none needed (reads: public)');
      if (q.tokenId === null) return e.publicRead ? [...lines, 'verdict:  allow (public-read)'] : [...lines, 'verdict:  (give --token-id N to decide)'];
      lines.push(`at:       ${formatInstant(q.at)}`);
      const tokensUrl = `${config.publicUrl}/tokens`;
      for (const v of e.verdicts) {
        const when = v.when === null ? '' : ` if the ${v.when} (needs ${v.need})`;
        if (v.decision.verdict === 'allow') lines.push(`verdict:  allow${when}`);
        else lines.push(`verdict:  deny${when} (${v.decision.reason}): ${denialError(v.decision, { tokensUrl, crate: e.crate ?? undefined }).message}`);
      }
      return lines;
    }
  }
}
