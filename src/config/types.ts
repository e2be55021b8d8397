/**
 * The gateway's configuration after loading: YAML parsed, schema-validated, environment
 * overrides applied, durations in milliseconds, routes compiled. Frozen; never mutated.
 * YAML keys are snake_case (as in DESIGN §4); the loaded form is camelCase TypeScript.
 */
import type { RouteSpec, RouteTable } from '../core/route-table.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface GatewayConfig {
  /** Selects the registry adapter (body parsing, existence probe, error format). */
  readonly registry: 'cargo';
  readonly listen: HostPort;
  /** The URL clients reach the gateway at; no trailing slash. */
  readonly publicUrl: string;
  readonly upstream: {
    /** Base URL of the unmodified registry; no trailing slash. */
    readonly url: string;
    readonly auth: 'per-token' | 'static';
    /** Identity probe: GET `path` with the user's credential, login at JSON pointer `login`. */
    readonly identity: { readonly path: string; readonly login: string };
    /** Static mode: the service credential (from the env var named by `credential_env`); else null. */
    readonly credential: string | null;
    readonly timeoutMs: number;
    readonly probeTimeoutMs: number;
    readonly probeCacheMs: number;
  };
  readonly redis: {
    /** `memory` selects the in-process store (single process, development only). */
    readonly url: string;
    readonly commandTimeoutMs: number;
    readonly keyPrefix: string;
  };
  readonly reads: 'public' | 'token';
  readonly legacyTokens: 'pass' | 'deny';
  readonly tokens: {
    readonly prefix: string;
    /** null: no maximum. */
    readonly maxLifetimeMs: number | null;
    readonly defaultLifetimeMs: number;
    readonly allowNoExpiry: boolean;
    readonly keepExpiredMs: number;
  };
  readonly limits: {
    readonly publishJsonMaxBytes: number;
    readonly publishBodyMaxBytes: number;
    readonly apiBodyMaxBytes: number;
  };
  readonly admin: { readonly listen: HostPort; readonly key: string | null };
  readonly log: { readonly level: string };
  readonly routeSpecs: readonly RouteSpec[];
  readonly routes: RouteTable;
}
