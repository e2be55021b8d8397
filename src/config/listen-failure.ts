/**
 * A listener that cannot open, said the way config problems are: the setting, its value, what is
 * wrong and what to do. Node's own error (`listen EADDRINUSE: address already in use …`, with a
 * stack) names neither the setting nor, for the admin API, which of the two listeners failed.
 */
import type { HostPort } from './types.js';

/** A listen address setting: its YAML path and the environment variable that overrides it. */
export interface ListenSetting {
  readonly path: string;
  readonly variable: string;
}

export const PUBLIC_LISTEN: ListenSetting = Object.freeze({ path: 'listen', variable: 'SCOPEGATE_LISTEN' });
export const ADMIN_LISTEN: ListenSetting = Object.freeze({ path: 'admin.listen', variable: 'SCOPEGATE_ADMIN_LISTEN' });

/** What a failed listen means for the operator, by the system's error code. */
const CAUSES: Readonly<Record<string, (s: ListenSetting, port: number) => string>> = {
  EADDRINUSE: (s, port) => `is already in use: stop what listens there (\`ss -ltnp 'sport = :${port}'\` names it), or set ${s.path} to a free port`,
  EACCES: (s) => `may not be listened on by this user: ports below 1024 need root or CAP_NET_BIND_SERVICE; set ${s.path} to a port from 1024`,
  EADDRNOTAVAIL: (s) => `is not an address of this host: set ${s.path} to one of its addresses, or 0.0.0.0 for all of them`,
  ENOTFOUND: (s) => `names a host that does not resolve: set ${s.path} to an IP address, or a name this host resolves`,
  EAI_AGAIN: (s) => `names a host that could not be resolved: set ${s.path} to an IP address, or a name this host resolves`,
};

/** One line: `listen (SCOPEGATE_LISTEN) 127.0.0.1:8080 is already in use: …`. */
export function listenFailure(setting: ListenSetting, address: HostPort, error: Error & { code?: string }): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const cause = CAUSES[error.code ?? '']?.(setting, address.port) ?? `cannot be listened on (${error.message})`;
  return `${setting.path} (${setting.variable}) ${host}:${address.port} ${cause}`;
}
