/**
 * What the gateway needs to know about a registry's wire protocol. The pipeline is registry-blind;
 * an adapter supplies body parsing, the existence probe's paths, and the error format.
 */
import type { CrateName } from '../core/crate-pattern.js';
import type { GatewayError } from '../core/errors.js';

/** The outcome of peeking at the head of a publish body. */
export type PublishHead =
  | { readonly kind: 'need-more'; readonly bytes: number }
  | { readonly kind: 'error'; readonly error: GatewayError }
  | { readonly kind: 'ok'; readonly name: string };

export interface RegistryAdapter {
  readonly name: string;
  /** The response body for an error, in the client's own format. */
  errorBody(message: string): string;
  /** Extra headers for an error response (e.g. a login challenge on an index 401). */
  errorHeaders(status: number, path: string, publicUrl: string): Record<string, string>;
  /** Upstream paths whose 200 means "this crate exists" (404/410/451: it does not). */
  existencePaths(crate: CrateName): readonly string[];
  /** Reads the publish body's head from the bytes received so far. */
  readPublishHead(bytes: Buffer, contentLength: number | null, limits: { jsonMax: number; bodyMax: number }): PublishHead;
  /** The path of the registry's own config document that must be rewritten, if any. */
  readonly configPath: string | null;
  /** Rewrites the registry config document so clients come back through the gateway. */
  rewriteConfig(upstreamBody: string, publicUrl: string, readsNeedToken: boolean): string;
}
