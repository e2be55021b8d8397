/** What every pipeline step shares: dependencies, and the request's log line being built. */
import type http from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { GatewayError } from '../core/errors.js';
import type { Logger } from '../log.js';
import type { RegistryAdapter } from '../registries/registry.js';
import type { TokenStore } from '../store/token-store.js';
import type { UsageRecorder } from '../store/usage.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { ExistenceProbe } from '../upstream/existence-probe.js';
import type { Forwarder } from '../upstream/forward.js';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly adapter: RegistryAdapter;
  readonly store: TokenStore;
  readonly forwarder: Forwarder;
  readonly upstream: UpstreamClient;
  readonly probe: ExistenceProbe;
  readonly usage: UsageRecorder;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** The one log line of a request (STYLE "Logs"), filled in as the pipeline goes. */
export interface RequestLog {
  'req.id': string;
  'req.method': string;
  'req.path': string;
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
  status?: number;
  duration_ms?: number;
}

export interface RequestContext {
  readonly deps: GatewayDeps;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly log: RequestLog;
  readonly now: number;
}

/**
 * A request the gateway answers itself with a catalogued error. Thrown by a pipeline step to end
 * the request; caught once, at the top, where it is rendered and logged.
 */
export class Rejection extends Error {
  constructor(readonly error: GatewayError, readonly reason: string = error.code) {
    super(error.message);
  }
}
