/**
 * The gateway's configuration after loading: YAML parsed, schema-validated, environment
 * overrides applied, durations in milliseconds, routes compiled. Frozen; never mutated.
 * YAML keys are snake_case (as in DESIGN §4); the loaded form is camelCase TypeScript.
 */
import type { RegistryName } from '../registries/select.js';
import type { RouteSpec, RouteTable } from '../core/route-table.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface GatewayConfig {
  /** Selects the registry adapter (name rules, body parsing, existence probe, error format). */
  readonly registry: RegistryName;
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
    /** After an accepted publish, the package counts as existing for this long (0: off). */
    readonly indexLagMs: number;
  };
  readonly redis: {
    /** `memory` selects the in-process store (single process, development only). */
    readonly url: string;
    readonly commandTimeoutMs: number;
    readonly keyPrefix: string;
    /** Redis Sentinel: the sentinels and the master name; null: no Sentinel. */
    readonly sentinels: readonly HostPort[] | null;
    readonly name: string;
    /** Redis Cluster: seed nodes; null: not a cluster. */
    readonly clusterNodes: readonly HostPort[] | null;
  };
  /** The per-process token cache (records, not verdicts), invalidated over Redis pub/sub. */
  readonly cache: {
    readonly enabled: boolean;
    readonly ttlMs: number;
    readonly maxEntries: number;
  };
  /** Processes on this host (node:cluster); `auto`: one per CPU core. */
  readonly workers: number | 'auto';
  readonly reads: 'public' | 'token';
  readonly legacyTokens: 'pass' | 'deny';
  readonly tokens: {
    readonly prefix: string;
    /** The registry's name in the client setup the token page shows (`[registries.NAME]`). */
    readonly registryName: string;
    /** null: no maximum. */
    readonly maxLifetimeMs: number | null;
    readonly defaultLifetimeMs: number;
    readonly allowNoExpiry: boolean;
    readonly keepExpiredMs: number;
    /** A token this close to expiry is announced once and its publishes carry a warning. */
    readonly remindBeforeMs: number;
  };
  readonly reminders: {
    /** Receives one JSON POST per reminder; null: log lines only. */
    readonly webhookUrl: string | null;
    /** In-process schedule; null: only `scopegate notify-expiring` runs them. */
    readonly intervalMs: number | null;
  };
  readonly audit: {
    /** Approximate cap of the audit stream (XADD MAXLEN ~). */
    readonly maxEntries: number;
  };
  readonly limits: {
    readonly publishJsonMaxBytes: number;
    readonly publishBodyMaxBytes: number;
    readonly apiBodyMaxBytes: number;
    /** Largest body read whole to classify it (route `body`), and largest package document read. */
    readonly jsonBodyMaxBytes: number;
    /** Longest a whole request (headers and body) may take to arrive; 0: no limit. */
    readonly requestTimeoutMs: number;
    /** Registry-refused credentials per client address within the window before it is refused (429); 0: no limit. */
    readonly authFailures: number;
    readonly authFailuresWindowMs: number;
    /** Addresses and CIDR ranges (`10.0.0.0/8`) whose `X-Forwarded-For` is believed; empty: none. */
    readonly trustedProxies: readonly string[];
  };
  readonly admin: { readonly listen: HostPort; readonly key: string | null };
  readonly log: { readonly level: string };
  readonly routeSpecs: readonly RouteSpec[];
  readonly routes: RouteTable;
}
