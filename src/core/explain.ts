/**
 * `routes explain` (and the admin API's `/explain`): what the gateway would do with a request —
 * the route it matches, the scope it needs, the crate it names and, given a token, the verdict
 * with its reason. Pure, and built from the pipeline's own parts (path normalisation, the route
 * table, {@link decide}), so an explanation cannot drift from what the proxy does.
 */
import { cargoNaming, type CrateName, type PackageNaming } from './crate-pattern.js';
import { decide, publishProbeMatters, type Decision, type TokenView } from './decide.js';
import { normaliseRequestTarget, type PathRules } from './request-path.js';
import type { Route, RouteTable } from './route-table.js';
import type { RouteNeed } from './scope.js';

export interface ExplainInput {
  readonly routes: RouteTable;
  /** `reads: public`: read routes need no token. */
  readonly publicReads: boolean;
  readonly method: string;
  /** The request target as a client would send it (path and optional query). */
  readonly target: string;
  /** The crate of a publish (in the body, so not in the path); ignored on other routes. */
  readonly publishCrate?: string;
  readonly token: TokenView | null;
  readonly now: number;
  /** The registry's name rules and path rules (the adapter's); cargo's when omitted. */
  readonly naming?: PackageNaming;
  readonly pathRules?: PathRules;
}

/** One verdict; `when` says on what it depends (publish-new vs publish-update), else null. */
export interface ExplainedVerdict {
  readonly when: 'crate is new' | 'crate exists' | null;
  readonly need: RouteNeed;
  readonly decision: Decision;
}

export type Explanation =
  | { readonly kind: 'path-invalid'; readonly why: string }
  | { readonly kind: 'no-route'; readonly method: string; readonly path: string }
  | { readonly kind: 'crate-invalid'; readonly route: Route; readonly name: string }
  | {
      readonly kind: 'matched';
      readonly route: Route;
      readonly path: string;
      /** null: the route names no crate, or a publish whose crate was not given. */
      readonly crate: CrateName | null;
      /** True when no token is needed (a read route with `reads: public`). */
      readonly publicRead: boolean;
      /** Empty when no token was given; two for a publish whose verdict depends on the crate. */
      readonly verdicts: readonly ExplainedVerdict[];
    };

export function explainRequest(input: ExplainInput): Explanation {
  const target = normaliseRequestTarget(input.target, input.pathRules);
  if (!target.ok) return { kind: 'path-invalid', why: target.why };
  const method = input.method.toUpperCase();
  const match = input.routes.match(method, target.segments);
  if (match === null) return { kind: 'no-route', method, path: target.path };
  const { route } = match;
  const raw = route.crate === null ? null : route.crate.from === 'path' ? match.params[route.crate.param] ?? null : input.publishCrate ?? null;
  const crate = raw === null ? null : (input.naming ?? cargoNaming).parseName(raw);
  if (raw !== null && crate === null) return { kind: 'crate-invalid', route, name: raw };
  const publicRead = route.need === 'read' && input.publicReads;
  const token = input.token;
  const verdicts: ExplainedVerdict[] = [];
  if (token !== null) {
    const verdict = (need: RouteNeed, when: ExplainedVerdict['when']): ExplainedVerdict => ({ when, need, decision: decide({ need, crate, token, now: input.now }) });
    if (route.need === 'publish' && publishProbeMatters(token)) verdicts.push(verdict('publish-new', 'crate is new'), verdict('publish-update', 'crate exists'));
    else verdicts.push(verdict(route.need, null));
  }
  return { kind: 'matched', route, path: target.path, crate, publicRead, verdicts };
}
