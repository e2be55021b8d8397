/**
 * `routes explain` (and the admin API's `/explain`): what the gateway would do with a request —
 * answer it itself (token API, token page), refuse it, or route it: the route, the scope it needs,
 * the crate it names and, given a token, the verdict with its reason. Pure, and built from the
 * pipeline's own parts (path normalisation, {@link gatewayAnswer}, the route table, the public-read
 * rule, {@link decide}), so an explanation cannot drift from what the proxy does.
 */
import { cargoNaming, type CrateName, type PackageNaming } from './crate-pattern.js';
import { decide, isPublicRead, publicReadUsesToken, publishProbeMatters, type Decision, type TokenView } from './decide.js';
import { gatewayAnswer, servesRegistryConfig, type GatewayAnswer } from './gateway-answers.js';
import { normaliseRequestTarget, type PathRules } from './request-path.js';
import type { Route, RouteMatch, RouteTable } from './route-table.js';
import type { RouteNeed } from './scope.js';

/** What explain needs of the registry adapter (the running one's, so the proxy's). */
export interface ExplainRegistry {
  readonly naming: PackageNaming;
  readonly pathRules?: PathRules;
  readonly packagesAtRoot?: boolean;
  readonly logoutPath?: string | null;
  readonly configPath?: string | null;
  readonly bodyOperations?: readonly string[];
}

export interface ExplainInput {
  readonly routes: RouteTable;
  /** `reads: public`: read routes need no token. */
  readonly publicReads: boolean;
  /** `legacy_tokens`: what becomes of a credential that is not a scopegate token. */
  readonly legacyTokens: 'pass' | 'deny';
  /** The method exactly as a client would send it (HTTP methods are case-sensitive). */
  readonly method: string;
  /** The methods the HTTP parser accepts (Node's `http.METHODS`): it refuses any other with 400. */
  readonly methods: readonly string[];
  /** The request target as a client would send it (path and optional query). */
  readonly target: string;
  /** The request's `Accept`: on npm, only a browser's page load of `/tokens` is the token page. */
  readonly accept?: string;
  /** The crate of a publish (in the body, so not in the path); ignored on other routes. */
  readonly publishCrate?: string;
  readonly token: TokenView | null;
  readonly now: number;
  /** The registry's parts; cargo's name rules and no exceptions when omitted. */
  readonly registry?: ExplainRegistry;
  /** `tokens.prefix`: which logouts (`registry.logoutPath`) name a token of the gateway's. */
  readonly tokenPrefix?: string;
}

/** One verdict; `when` says on what it depends (publish-new vs publish-update), else null. */
export interface ExplainedVerdict {
  readonly when: 'crate is new' | 'crate exists' | null;
  readonly need: RouteNeed;
  readonly decision: Decision;
}

/** A routed request: what the pipeline decides once a route matched. */
export type RoutedExplanation =
  | { readonly kind: 'no-route'; readonly method: string; readonly path: string; readonly operation?: string }
  | { readonly kind: 'crate-invalid'; readonly route: Route; readonly name: string }
  | {
      readonly kind: 'matched';
      readonly route: Route;
      readonly path: string;
      /** null: the route names no crate, or a publish whose crate was not given. */
      readonly crate: CrateName | null;
      /** True when no token is needed (a read route with `reads: public`). */
      readonly publicRead: boolean;
      /** On a public read with a token: whether it is swapped for its upstream credential or ignored. */
      readonly readsAs: 'token' | 'anonymous' | null;
      /**
       * A credential that is not a scopegate token: forwarded unchanged (`legacy_tokens: pass`),
       * refused (`deny`), or on a public read under `deny` left out (the read goes anonymously).
       */
      readonly legacyCredential: 'forwarded' | 'refused' | 'ignored';
      /** Allowed, it is answered with the registry's config rewritten to point at the gateway. */
      readonly rewritesConfig: boolean;
      /** Empty when no token was given or none is needed; two for a publish whose verdict depends on the crate. */
      readonly verdicts: readonly ExplainedVerdict[];
    };

export type Explanation =
  | { readonly kind: 'method-invalid'; readonly method: string }
  | { readonly kind: 'path-invalid'; readonly why: string }
  | { readonly kind: 'gateway'; readonly path: string; readonly answer: GatewayAnswer }
  /** A route whose match depends on the body (npm's `PUT /<package>`): one case per operation. */
  | { readonly kind: 'by-body'; readonly path: string; readonly cases: readonly { readonly operation: string; readonly outcome: RoutedExplanation }[] }
  | RoutedExplanation;

export function explainRequest(input: ExplainInput): Explanation {
  // Node's parser refuses any other method, lower-case ones included, before the pipeline runs.
  if (!input.methods.includes(input.method)) return { kind: 'method-invalid', method: input.method };
  const { method } = input;
  const registry = input.registry ?? { naming: cargoNaming };
  const target = normaliseRequestTarget(input.target, registry.pathRules);
  if (!target.ok) return { kind: 'path-invalid', why: target.why };
  const logout = registry.logoutPath != null && input.tokenPrefix !== undefined ? { path: registry.logoutPath, prefix: input.tokenPrefix } : null;
  const answer = gatewayAnswer(method, target.path, input.accept, registry.packagesAtRoot ?? false, logout);
  if (answer !== null) return { kind: 'gateway', path: target.path, answer };
  const match = input.routes.match(method, target.segments);
  if (match === null) return { kind: 'no-route', method, path: target.path };
  // As routeByBody (http/body-step.ts): the body names an operation, and the table is asked again.
  if (match.route.body !== null && !isPublicRead(match.route.need, input.publicReads)) {
    const cases = (registry.bodyOperations ?? []).map((operation) => {
      const routed = input.routes.match(method, target.segments, operation);
      return { operation, outcome: routed === null ? { kind: 'no-route' as const, method, path: target.path, operation } : explainMatch(input, registry, target.path, routed) };
    });
    return { kind: 'by-body', path: target.path, cases };
  }
  return explainMatch(input, registry, target.path, match);
}

/** The pipeline's steps after routing: public read, token, crate, scope, decide. */
function explainMatch(input: ExplainInput, registry: ExplainRegistry, path: string, match: RouteMatch): RoutedExplanation {
  const { route } = match;
  const publicRead = isPublicRead(route.need, input.publicReads);
  const raw = route.crate === null ? null : route.crate.from === 'path' ? match.params[route.crate.param] ?? null : input.publishCrate ?? null;
  const crate = raw === null ? null : registry.naming.parseName(raw);
  // A public read is forwarded before any crate is read (pipeline.ts), so a bad name is the registry's to answer.
  if (raw !== null && crate === null && !publicRead) return { kind: 'crate-invalid', route, name: raw };
  const token = input.token;
  const common = {
    kind: 'matched' as const, route, path, crate, publicRead,
    readsAs: publicRead && token !== null ? (publicReadUsesToken(token, input.now) ? 'token' as const : 'anonymous' as const) : null,
    legacyCredential: input.legacyTokens === 'pass' ? 'forwarded' as const : publicRead ? 'ignored' as const : 'refused' as const,
    rewritesConfig: servesRegistryConfig(input.method, path, registry.configPath ?? null),
  };
  if (token === null || publicRead) return { ...common, verdicts: [] };
  const verdict = (need: RouteNeed, when: ExplainedVerdict['when']): ExplainedVerdict => ({ when, need, decision: decide({ need, crate, token, now: input.now }) });
  const verdicts = route.need === 'publish' && publishProbeMatters(token)
    ? [verdict('publish-new', 'crate is new'), verdict('publish-update', 'crate exists')]
    : [verdict(route.need, null)];
  return { ...common, verdicts };
}
