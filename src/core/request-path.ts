/**
 * Request-target normalisation, before routing. One canonical reading of the path, so that the
 * route matched and the path forwarded can never disagree:
 * - a leading `//` collapses to `/` (cargo sends `//api/v1/…` when `api` ends in `/`, wire-facts
 *   §1.1; `new URL('//api/…', base)` would read `api` as a host);
 * - each segment is percent-decoded once; `.`/`..` segments, encoded `/` or `\`, malformed escapes
 *   and non-ASCII are refused rather than guessed at;
 * - the forwarded path is rebuilt from the decoded segments, re-encoding only what must be.
 *
 * One registry-declared exception ({@link PathRules}): npm's scoped package names.
 */

export type NormalisedPath =
  | {
      readonly ok: true;
      /** The path as routed and logged: one `/` per segment boundary (a `/` inside a segment shows as `%2F`). */
      readonly path: string;
      /** The decoded segments; routes match these. */
      readonly segments: readonly string[];
      readonly forwardPath: string;
      readonly query: string;
    }
  | { readonly ok: false; readonly why: string };

/** Exceptions to the strict path rules, declared by a registry adapter. */
export interface PathRules {
  /**
   * npm: a scoped package name `@scope/name` is one path segment. npm sends it as `@scope%2Fname`;
   * Verdaccio also accepts `@scope/name` anywhere in the path (its `encodeScopePackage` re-encodes
   * the `/` after a `@…` segment before routing). The gateway reads both spellings as one segment
   * and always forwards `@scope%2Fname`, undecoded, as Verdaccio's reverse-proxy docs require
   * (`AllowEncodedSlashes NoDecode`): the registry then has no second reading to make. Every other
   * encoded `/`, and any `@` segment that does not make a `@scope/name`, is still refused.
   */
  readonly scopedPackageSegments: boolean;
  /**
   * Paths the gateway treats specially (cargo's `/index/config.json`, served rewritten) and so
   * serves only when requested exactly. A look-alike that an upstream may well read as the same
   * resource — a trailing or doubled `/` (nginx merges slashes, many routers ignore a trailing
   * one), a `;parameter` on a segment (Java servers strip it), another letter case (a
   * case-insensitive file system) — is refused: routed as any other index file, it would be
   * forwarded and answered unrewritten. Lower-case, as written by the adapter.
   */
  readonly exactPaths: readonly string[];
}

/** No exceptions. */
export const STRICT_PATH_RULES: PathRules = Object.freeze({ scopedPackageSegments: false, exactPaths: Object.freeze([]) });

const KEEP = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
const SCOPED_NAME = /^@[^/]+\/[^/]+$/;
const SLASH_WHY = 'encoded `/` or `\\` (%2F, %5C) is not allowed in a path segment';

export function normaliseRequestTarget(target: string, rules: PathRules = STRICT_PATH_RULES): NormalisedPath {
  const q = target.indexOf('?');
  const rawPath = (q === -1 ? target : target.slice(0, q)).replace(/^\/{2,}/, '/');
  const query = q === -1 ? '' : target.slice(q);
  if (!rawPath.startsWith('/')) return { ok: false, why: 'it must start with `/`' };
  if (!/^[\x21-\x7e]*$/.test(target)) return { ok: false, why: 'it contains spaces, control or non-ASCII characters' };
  let segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    // Without a `%` there is nothing to decode, and the whole target was checked to be printable.
    const escaped = raw.includes('%');
    let segment = raw;
    if (escaped) {
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return { ok: false, why: `\`${raw}\` has a malformed percent-escape` };
      }
    }
    if (segment === '.' || segment === '..') return { ok: false, why: '`.` and `..` segments are not allowed' };
    if (segment.includes('\\') || (segment.includes('/') && !(rules.scopedPackageSegments && SCOPED_NAME.test(segment)))) {
      return { ok: false, why: SLASH_WHY };
    }
    if (escaped && !/^[\x20-\x7e]*$/.test(segment)) return { ok: false, why: `\`${raw}\` decodes to non-ASCII or control characters` };
    segments.push(segment);
  }
  if (rules.scopedPackageSegments) {
    const joined = joinScopedNames(segments);
    if (joined === null) return { ok: false, why: 'a `@scope` segment must be followed by a package name (`@scope/name`)' };
    segments = joined;
  }
  const path = '/' + segments.map((s) => s.replaceAll('/', '%2F')).join('/');
  const lookalike = rules.exactPaths.length === 0 ? undefined : lookalikeOf(path, segments, rules.exactPaths);
  if (lookalike !== undefined) return { ok: false, why: `\`${lookalike}\` is served only at exactly that path (no trailing or doubled \`/\`, \`;parameter\` or other letter case)` };
  const forwardPath = '/' + segments.map(encodeSegment).join('/');
  return { ok: true, path, segments, forwardPath, query };
}

/** The exact path this one is a look-alike of (equal once `;params`, empty segments and case are dropped), if any. */
function lookalikeOf(path: string, segments: readonly string[], exactPaths: readonly string[]): string | undefined {
  const lower = path.toLowerCase();
  // Every request passes here: a look-alike keeps the exact path's last segment, so most paths
  // are ruled out by one search instead of a canonical form built segment by segment.
  if (!exactPaths.some((exact) => lower.includes(exact.slice(exact.lastIndexOf('/') + 1)))) return undefined;
  const canonical = '/' + segments.map((s) => s.replace(/;.*$/s, '')).filter((s) => s !== '').join('/').toLowerCase();
  return exactPaths.find((exact) => canonical === exact && path !== exact);
}

/**
 * Joins each `@scope` segment with the segment after it, as Verdaccio does, so `/@scope/name/…`
 * and `/@scope%2Fname/…` read alike. A last `@…` segment stays as it is (Verdaccio leaves it too);
 * a join that does not make `@scope/name` is refused (null).
 */
function joinScopedNames(segments: readonly string[]): string[] | null {
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (!segment.startsWith('@') || segment.includes('/') || i === segments.length - 1) {
      out.push(segment);
      continue;
    }
    const joined = `${segment}/${segments[++i]!}`;
    if (!SCOPED_NAME.test(joined)) return null;
    out.push(joined);
  }
  return out;
}

/** A segment of KEEP characters only encodes to itself: the common case, with no per-character work. */
const PLAIN_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/;

function encodeSegment(segment: string): string {
  if (PLAIN_SEGMENT.test(segment)) return segment;
  return [...segment].map((c) => (KEEP.test(c) ? c : `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}
