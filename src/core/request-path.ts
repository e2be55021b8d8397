/**
 * Request-target normalisation, before routing. One canonical reading of the path, so that the
 * route matched and the path forwarded can never disagree:
 * - a leading `//` collapses to `/` (cargo sends `//api/v1/…` when `api` ends in `/`, wire-facts
 *   §1.1; `new URL('//api/…', base)` would read `api` as a host);
 * - each segment is percent-decoded once; `.`/`..` segments, encoded `/` or `\`, malformed escapes
 *   and non-ASCII are refused rather than guessed at;
 * - the forwarded path is rebuilt from the decoded segments, re-encoding only what must be.
 */

export type NormalisedPath =
  | { readonly ok: true; readonly path: string; readonly segments: readonly string[]; readonly forwardPath: string; readonly query: string }
  | { readonly ok: false; readonly why: string };

const KEEP = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;

export function normaliseRequestTarget(target: string): NormalisedPath {
  const q = target.indexOf('?');
  const rawPath = (q === -1 ? target : target.slice(0, q)).replace(/^\/{2,}/, '/');
  const query = q === -1 ? '' : target.slice(q);
  if (!rawPath.startsWith('/')) return { ok: false, why: 'it must start with `/`' };
  if (!/^[\x21-\x7e]*$/.test(target)) return { ok: false, why: 'it contains spaces, control or non-ASCII characters' };
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, why: `\`${raw}\` has a malformed percent-escape` };
    }
    if (segment === '.' || segment === '..') return { ok: false, why: '`.` and `..` segments are not allowed' };
    if (/[/\\]/.test(segment)) return { ok: false, why: 'encoded `/` or `\\` (%2F, %5C) is not allowed in a path segment' };
    if (!/^[\x20-\x7e]*$/.test(segment)) return { ok: false, why: `\`${raw}\` decodes to non-ASCII or control characters` };
    segments.push(segment);
  }
  const path = '/' + segments.join('/');
  const forwardPath = '/' + segments.map(encodeSegment).join('/');
  return { ok: true, path, segments, forwardPath, query };
}

function encodeSegment(segment: string): string {
  return [...segment].map((c) => (KEEP.test(c) ? c : `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}
