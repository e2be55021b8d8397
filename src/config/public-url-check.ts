/**
 * A public_url that cannot reach this gateway. Clients are sent to public_url (the sparse index's
 * `api` and `dl`, error messages), so a loopback public_url on another port than the listener,
 * typically `SCOPEGATE_LISTEN` set without `SCOPEGATE_PUBLIC_URL`, sends every client elsewhere.
 * A public_url on another host is left alone: a proxy or load balancer may sit in between.
 */
import type { GatewayConfig } from './types.js';

const LOOPBACK_HOSTS = /^(localhost|127(\.[0-9]{1,3}){3}|\[::1\])$/;

/** A warning to log at start, or null when public_url may well reach the listener. */
export function publicUrlMismatch(config: Pick<GatewayConfig, 'publicUrl' | 'listen'>): string | null {
  const url = new URL(config.publicUrl);
  if (!LOOPBACK_HOSTS.test(url.hostname) || config.listen.port === 0) return null;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (port === config.listen.port) return null;
  return `public_url ${config.publicUrl} is on this host but not on the port the gateway listens on (${config.listen.port}): clients are sent to public_url, so set public_url (SCOPEGATE_PUBLIC_URL) to the URL they reach the gateway at`;
}
