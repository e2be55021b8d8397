/**
 * Endpoint scopes, spelled exactly as on the wire (crates.io's kebab-case, plus scopegate's `read`).
 * Parsing is exact and case-sensitive, as crates.io's `EndpointScope` deserialiser is.
 */
export const SCOPES = ['read', 'publish-new', 'publish-update', 'yank', 'change-owners'] as const;

/** A scope a token can hold. */
export type Scope = (typeof SCOPES)[number];

/**
 * What a route needs. `publish` means "publish-new or publish-update, whichever the upstream's
 * existence probe says"; `authenticated` means "any token, but no scoped one" (crates.io's
 * `AuthCheck::default()` with no scope: only legacy-style tokens pass).
 */
export const ROUTE_NEEDS = [...SCOPES, 'publish', 'authenticated'] as const;
export type RouteNeed = (typeof ROUTE_NEEDS)[number];

/** Returns the scope, or null when `value` is not one of {@link SCOPES}. */
export function parseScope(value: unknown): Scope | null {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value) ? (value as Scope) : null;
}

/** Returns the route need, or null when `value` is not one of {@link ROUTE_NEEDS}. */
export function parseRouteNeed(value: unknown): RouteNeed | null {
  return typeof value === 'string' && (ROUTE_NEEDS as readonly string[]).includes(value) ? (value as RouteNeed) : null;
}
