/**
 * What `explain` (CLI and admin API) needs of the running gateway besides the request: the very
 * config, registry adapter and HTTP method list the proxy works with, so both read the same.
 */
import http from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { ExplainInput } from '../core/explain.js';
import { adapterFor } from '../registries/select.js';

export type ExplainContext = Pick<ExplainInput, 'routes' | 'publicReads' | 'legacyTokens' | 'methods' | 'registry' | 'tokenPrefix'>;

export function explainContext(config: GatewayConfig): ExplainContext {
  return {
    routes: config.routes, publicReads: config.reads === 'public', legacyTokens: config.legacyTokens,
    // Node's parser (llhttp) accepts exactly these, case-sensitively; anything else is a 400 before the pipeline.
    methods: http.METHODS, registry: adapterFor(config.registry), tokenPrefix: config.tokens.prefix,
  };
}
