/**
 * The npm registry adapter, observed against npm 11 and Verdaccio 6.8 (wire-facts §3). Pure: no I/O.
 *
 * - Names and patterns: npm's rules (`npm-naming.ts`); `@scope%2Fname` is one path segment.
 * - Operations: told apart by method, path and, for the overloaded `PUT /<package>`, the body
 *   (`npm-body.ts`); the route table maps each operation to its scope.
 * - Errors: `{"error":"…"}`, the one field npm prints, and never a `WWW-Authenticate` header
 *   (with one, npm replaces the message by "your authentication token seems to be invalid").
 * - Tarball URLs: Verdaccio writes `dist.tarball` from the request's `Host` and
 *   `X-Forwarded-Proto` (`@verdaccio/url#getPublicUrl`), so they are set from `public_url`, and
 *   npm downloads through the gateway too. A path in `public_url` is Verdaccio's `url_prefix` to set.
 */
import type { CrateName } from '../core/crate-pattern.js';
import { gatewayError } from '../core/errors.js';
import { classifyNpmBody, NPM_BODY_OPERATIONS } from './npm-body.js';
import { npmNaming, packageSegment } from './npm-naming.js';
import type { PublishHead, RegistryAdapter } from './registry.js';

/** `Host` and `X-Forwarded-*` for a public URL, computed once per URL (the config rarely changes). */
const forwardHeadersByUrl = new Map<string, Readonly<Record<string, string>>>();

export function npmForwardHeaders(publicUrl: string): Readonly<Record<string, string>> {
  let headers = forwardHeadersByUrl.get(publicUrl);
  if (headers === undefined) {
    const url = new URL(publicUrl);
    headers = Object.freeze({ host: url.host, 'x-forwarded-host': url.host, 'x-forwarded-proto': url.protocol.slice(0, -1) });
    forwardHeadersByUrl.set(publicUrl, headers);
  }
  return headers;
}

export const npmAdapter: RegistryAdapter = Object.freeze({
  name: 'npm',
  naming: npmNaming,
  pathRules: Object.freeze({ scopedPackageSegments: true, exactPaths: Object.freeze([]) }),
  packagesAtRoot: true,
  /** npm logout (`lib/commands/logout.js`) forgets the token only once this DELETE succeeds. */
  logoutPath: '/-/user/token/',
  forwardHeaders: npmForwardHeaders,
  bodyOperations: NPM_BODY_OPERATIONS,
  classifyBody: classifyNpmBody,
  errorBody: (message: string) => JSON.stringify({ error: message }),
  errorHeaders: () => ({}),
  /** npm itself asks `GET /<package>` before a publish: 404 means a new package. */
  existencePaths: (name: CrateName) => [`/${packageSegment(name)}`],
  /** `npm unpublish <pkg> --force`: Verdaccio's `DELETE /:package/-rev/*` removes the package and every version. */
  deletesPackage: (method: string, segments: readonly string[]) => method === 'DELETE' && segments.length === 3 && segments[1] === '-rev',
  readPublishHead: (): PublishHead => ({
    kind: 'error',
    error: gatewayError('SG_PUBLISH_MALFORMED', { why: 'npm names the package in the path: route npm publishes with `crate: { from: path }` and `body: publish`' }),
  }),
  configPath: null,
  // Never called: npm has no config document to rewrite (configPath null).
  rewriteConfig: (upstreamBody: string) => upstreamBody,
});
