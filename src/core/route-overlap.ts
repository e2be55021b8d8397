/**
 * Route overlaps, for `routes check`. A route an earlier one fully covers is already refused at
 * load (route-table.ts); a partial overlap is legal — first match wins — but worth seeing: for
 * some requests the later route never gets its turn. Pure; run on a compiled table.
 */
import type { Route, RouteTable } from './route-table.js';

type Segment = Route['segments'][number];

export interface RouteOverlap {
  readonly earlier: Route;
  readonly later: Route;
  /** A request both match, which the earlier route takes. */
  readonly example: string;
}

/** Every pair of routes that some request matches both of, earlier first. */
export function findOverlaps(table: RouteTable): RouteOverlap[] {
  const found: RouteOverlap[] = [];
  table.routes.forEach((later, j) => {
    for (const earlier of table.routes.slice(0, j)) {
      const method = [...later.methods].find((m) => earlier.methods.has(m));
      const path = method === undefined ? null : commonPath(earlier.segments, later.segments);
      if (method !== undefined && path !== null) found.push({ earlier, later, example: `${method} ${path}` });
    }
  });
  return found;
}

/** A path both segment lists match, or null when none exists. */
function commonPath(a: readonly Segment[], b: readonly Segment[]): string | null {
  const parts: string[] = [];
  for (let i = 0; ; i++) {
    const sa = a[i];
    const sb = b[i];
    if (sa === undefined || sb === undefined) return sa === sb ? `/${parts.join('/')}` : null;
    if (sa.kind === 'rest' || sb.kind === 'rest') {
      // A trailing `*` takes one or more segments: the other list's rest, written out, is one.
      const other = sa.kind === 'rest' ? b.slice(i) : a.slice(i);
      return `/${[...parts, ...other.map(sample)].join('/')}`;
    }
    if (sa.kind === 'literal' && sb.kind === 'literal' && sa.value !== sb.value) return null;
    parts.push(sa.kind === 'literal' ? sa.value : sample(sb));
  }
}

function sample(segment: Segment): string {
  if (segment.kind === 'literal') return segment.value;
  return segment.kind === 'param' ? `x-${segment.name}` : 'x';
}
