/** What every pipeline step shares: dependencies, and the request's log line being built. */
import type http from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayError } from '../core/errors.js';
import type { Logger } from '../log.js';
import type { RegistryAdapter } from '../registries/registry.js';
import type { AuditSink } from '../store/audit-log.js';
import type { AuthFailures } from '../store/auth-failures.js';
import type { CredentialOpener } from '../store/credential-memo.js';
import type { PublishedCrates } from '../store/published-crates.js';
import type { TokenStore } from '../store/token-store.js';
import type { UsageRecorder } from '../store/usage.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ExistenceProbe } from '../upstream/existence-probe.js';
import type { Forwarder } from '../upstream/forward.js';
import type { GatewayMetrics } from './metrics.js';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly adapter: RegistryAdapter;
  readonly store: TokenStore;
  /** Opens the upstream credential sealed in a token record, remembering it masked (with the token cache on or off). */
  readonly credentials: CredentialOpener;
  readonly forwarder: Forwarder;
  readonly upstream: UpstreamClient;
  readonly probe: ExistenceProbe;
  /** Packages the upstream accepted a publish of lately, which the probe's index may not show yet. */
  readonly published: PublishedCrates;
  readonly usage: UsageRecorder;
  /** Decisions on write routes and token lifecycle events (buffered; never blocks a request). */
  readonly audit: AuditSink;
  /** Failed credential checks per client address (`limits.auth_failures`), shared in Redis. */
  readonly authFailures: AuthFailures;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** The one log line of a request (STYLE "Logs"), filled in as the pipeline goes. */
export interface RequestLog {
  'req.id': string;
  'req.method': string;
  'req.path': string;
  /** Where a credential check was counted (auth-limit.ts): the client address, or its IPv6 /64. */
  'client.address'?: string;
  'route.id'?: string;
  'token.id'?: number;
  'token.account'?: string;
  'crate.name'?: string;
  'scope.need'?: string;
  verdict?: 'allow' | 'deny' | 'pass';
  reason?: string;
  'error.code'?: string;
  'upstream.status'?: number;
  'upstream.error'?: string;
  /** The client went away before its request was read (pipeline.ts): what happened. */
  'client.error'?: string;
  /** An accepted publish that could not be recorded (existence-step.ts): why. */
  'published.error'?: string;
  status?: number;
  duration_ms?: number;
}

export interface RequestContext {
  readonly deps: GatewayDeps;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly log: RequestLog;
  readonly now: number;
  /** The event-loop turn the request arrived in (batching.ts `afterPollPhase`). */
  readonly arrivedInTurn: number;
  /** `performance.now()` when the verdict was reached (for the decision-latency metric). */
  decidedAt?: number;
}

/**
 * A request the gateway answers itself with a catalogued error. Thrown by a pipeline step to end
 * the request; caught once, at the top, where it is rendered and logged.
 */
export class Rejection extends Error {
  readonly error: GatewayError;
  readonly reason: string;

  constructor(error: GatewayError, reason: string = error.code) {
    // An expected outcome, thrown on every denial, never a bug to trace: capturing a stack trace
    // was the costliest single step of a denied request (bench/RESULTS.md, "Profile").
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(error.message);
    Error.stackTraceLimit = limit;
    this.error = error;
    this.reason = reason;
  }
}
