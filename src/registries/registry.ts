/**
 * What the gateway needs to know about a registry's wire protocol. The pipeline is registry-blind;
 * an adapter supplies name rules, path exceptions, body parsing and classification, the existence
 * probe's paths, and the error format.
 */
import type { CrateName, PackageNaming } from '../core/crate-pattern.js';
import type { GatewayError } from '../core/errors.js';
import type { PathRules } from '../core/request-path.js';

/** The outcome of peeking at the head of a publish body. */
export type PublishHead =
  | { readonly kind: 'need-more'; readonly bytes: number }
  | { readonly kind: 'error'; readonly error: GatewayError }
  | { readonly kind: 'ok'; readonly name: string };

/** A request whose route has a `body` condition, with its JSON body parsed. */
export interface BodyRequest {
  readonly method: string;
  /** The normalised, decoded path segments. */
  readonly segments: readonly string[];
  readonly body: unknown;
  /**
   * The package's current document, when a previous answer asked for it (`needs-state`): null when
   * the registry has no such package, undefined when not fetched.
   */
  readonly state?: unknown;
}

/** What a body is, as far as routing goes. */
export type BodyClassification =
  | { readonly kind: 'operation'; readonly operation: string }
  /** The body's effect depends on what is stored: GET `path` (with the request's credential) and ask again. */
  | { readonly kind: 'needs-state'; readonly path: string; readonly crate: string }
  | { readonly kind: 'unrecognised'; readonly why: string }
  | { readonly kind: 'error'; readonly error: GatewayError };

export interface RegistryAdapter {
  readonly name: string;
  /** The registry's package-name rules: names, token patterns, canonical comparison. */
  readonly naming: PackageNaming;
  /** Exceptions to the strict path rules (npm's `@scope%2Fname` segments). */
  readonly pathRules: PathRules;
  /**
   * A path's first segment names a package (npm's `/<package>`), so the gateway's own `/tokens`
   * is also the path of a package called `tokens`, which the registry must keep serving.
   */
  readonly packagesAtRoot: boolean;
  /**
   * The client's logout, `DELETE <logoutPath><its token>` (npm's `/-/user/token/`), which the
   * gateway answers for its own tokens by revoking them; null where the client has none (cargo
   * logout is local only).
   */
  readonly logoutPath: string | null;
  /**
   * Headers every forwarded request carries, replacing the client's (npm: `Host` and
   * `X-Forwarded-*` from `public_url`, so the registry writes tarball URLs that point at the
   * gateway). A `host` here is sent instead of the upstream's own.
   */
  forwardHeaders(publicUrl: string): Readonly<Record<string, string>>;
  /** The operations {@link classifyBody} can name, for route `body` conditions; empty: none. */
  readonly bodyOperations: readonly string[];
  /** Names the operation a body performs, for routes with a `body` condition. Pure. */
  classifyBody(request: BodyRequest): BodyClassification;
  /** The response body for an error, in the client's own format. */
  errorBody(message: string): string;
  /** Extra headers for an error response (e.g. a login challenge on an index 401). */
  errorHeaders(status: number, path: string, publicUrl: string): Record<string, string>;
  /** Upstream paths whose 200 means "this crate exists" (404/410/451: it does not). */
  existencePaths(crate: CrateName): readonly string[];
  /**
   * Whether a 200 at an existence path is the package's own entry, given the answer's first line:
   * anything else (a web UI's page served for any path, an empty answer) says nothing about it.
   * Without it, any 200 counts.
   */
  isExistenceEntry?(crate: CrateName, firstLine: string): boolean;
  /**
   * Whether a request, once the upstream accepts it, deletes the package whole (npm's
   * `DELETE /<package>/-rev/<rev>`): the package is new again. Without it, nothing does.
   */
  deletesPackage?(method: string, segments: readonly string[]): boolean;
  /** Reads the publish body's head from the bytes received so far. */
  readPublishHead(bytes: Buffer, contentLength: number | null, limits: { jsonMax: number; bodyMax: number }): PublishHead;
  /** The path of the registry's own config document that must be rewritten, if any. */
  readonly configPath: string | null;
  /**
   * Rewrites the registry config document so clients come back through the gateway: JSON text,
   * served as it is; throws when the upstream's document is not JSON.
   */
  rewriteConfig(upstreamBody: string, at: ConfigRewriteContext): string;
  /** Where one download would arrive, given the rewritten config document; null when unknown. */
  sampleDownloadPath?(rewrittenConfig: string, publicUrl: string): string | null;
  /**
   * Adds a warning the client prints to a successful publish answer; null when the answer is not
   * one it can safely extend (left unchanged). Without it publishes carry no warnings.
   */
  addPublishWarning?(status: number, contentType: string | undefined, body: string, warning: string): string | null;
  /**
   * Whether a 2xx answer to a publish still reports a failure the client shows as one. Asked only
   * of an answer the gateway buffered anyway (for a warning); without it, 2xx is success.
   */
  publishFailedDespiteStatus?(contentType: string | undefined, body: string): boolean;
}

/** What a config rewrite needs to know about the deployment. */
export interface ConfigRewriteContext {
  readonly publicUrl: string;
  readonly upstreamUrl: string;
  /** `reads: token`: every read needs a scopegate token. */
  readonly readsNeedToken: boolean;
  /** An anonymous read reaches the registry with the service credential (`upstream.auth: static`), not as nobody. */
  readonly anonymousReadsAuthenticated: boolean;
}
