/**
 * `startNpmGateway()`: `startGateway()`'s npm twin — the shipped config/npm.yaml, real Redis under
 * a private key prefix, a movable clock — in front of a real Verdaccio whose every received
 * request is recorded (`gw.registry.requests`). Tokens are created with alice's credential.
 */
import { startGatewayOn, type GatewayOptions, type TestGatewayOn } from './gateway.js';
import { startVerdaccio, type Verdaccio } from './verdaccio.js';

export type NpmGateway = TestGatewayOn<Verdaccio>;

export interface NpmGatewayOptions extends Omit<GatewayOptions, 'registry' | 'configFile'> {
  /** Use this Verdaccio instead of starting one. */
  readonly verdaccio?: Verdaccio;
}

export async function startNpmGateway(options: NpmGatewayOptions = {}): Promise<NpmGateway> {
  const verdaccio = options.verdaccio ?? (await startVerdaccio());
  return startGatewayOn(verdaccio, {
    ...options, configFile: 'config/npm.yaml', closeRegistry: options.verdaccio === undefined, defaultCredential: verdaccio.credential('alice'),
  });
}

/** npm's error envelope for `message`. */
export const npmError = (message: string): { error: string } => ({ error: message });
