/**
 * Does this crate already exist upstream? Decides publish-new vs publish-update (DESIGN §1). Asked
 * with the credential the request will be forwarded with, only when the answer changes the verdict,
 * an "exists" cached briefly, and a failed probe is an error, never a guess (fail closed). It asks
 * the index only, which lags a publish; `http/existence-step.ts` says why, and covers the lag.
 *
 * Only "exists" is cached. A "new" goes stale the moment any process forwards a publish of the
 * crate, and only this process's copy is forgotten then: another process (or this one, when its
 * probe was in flight during the publish) would go on telling a publish-new-only token the crate
 * is new, letting it publish the next version; with `upstream.index_lag: 0s` nothing else says
 * otherwise. Not caching it costs one probe per publish of a new crate, once.
 */
import type { CrateName } from '../core/crate-pattern.js';
import type { RegistryAdapter } from '../registries/registry.js';
import type { UpstreamClient } from './client.js';

export class ProbeFailedError extends Error {}

export interface ExistenceProbe {
  exists(crate: CrateName, credential: string | null): Promise<boolean>;
}

const MAX_ENTRIES = 10_000;

export function createExistenceProbe(options: { client: UpstreamClient; adapter: RegistryAdapter; timeoutMs: number; cacheMs: number; clock: () => number }): ExistenceProbe {
  /** Crates known to exist, by canonical name and credential: when the answer goes stale. */
  const cache = new Map<string, number>();
  const keyOf = (crate: CrateName, credential: string | null): string => `${options.adapter.naming.canonical(crate)}\n${credential ?? ''}`;

  async function askUpstream(crate: CrateName, credential: string | null): Promise<boolean> {
    const answers = await Promise.all(options.adapter.existencePaths(crate).map(async (path) => {
      // Only the first line is read: an index file of a crate with many versions and features
      // runs to megabytes, and whether it is there is all the probe asks.
      const { status, line } = await options.client.getFirstLine(path, credential, options.timeoutMs).catch((e: Error) => {
        throw new ProbeFailedError(`GET ${path}: ${e.message}`);
      });
      if (status === 200 && options.adapter.isExistenceEntry?.(crate, line) === false) {
        // Counted as "exists", a catch-all page would let a publish-update-only token create any crate.
        throw new ProbeFailedError(`GET ${path} answered 200 with something other than an index entry of ${crate}`);
      }
      if (status === 200) return true;
      if (status === 404 || status === 410 || status === 451) return false;
      throw new ProbeFailedError(`GET ${path} answered ${status}`);
    }));
    return answers.includes(true);
  }

  return {
    async exists(crate, credential) {
      const key = keyOf(crate, credential);
      const now = options.clock();
      const until = cache.get(key);
      if (until !== undefined && until > now) return true;
      if (!(await askUpstream(crate, credential))) return false;
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(key, now + options.cacheMs);
      return true;
    },
  };
}
