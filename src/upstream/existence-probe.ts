/**
 * Does this crate already exist upstream? Decides publish-new vs publish-update (DESIGN §1). Asked
 * with the credential the request will be forwarded with, only when the answer changes the verdict,
 * cached briefly, and a failed probe is an error, never a guess (fail closed). It asks the index
 * only, which lags a publish; `http/existence-step.ts` says why, and covers the lag.
 */
import type { CrateName } from '../core/crate-pattern.js';
import type { RegistryAdapter } from '../registries/registry.js';
import type { UpstreamClient } from './client.js';

export class ProbeFailedError extends Error {}

export interface ExistenceProbe {
  exists(crate: CrateName, credential: string | null): Promise<boolean>;
  /** Drops the cached answer, e.g. after a publish made the crate exist. */
  forget(crate: CrateName): void;
}

const MAX_ENTRIES = 10_000;

export function createExistenceProbe(options: { client: UpstreamClient; adapter: RegistryAdapter; timeoutMs: number; cacheMs: number; clock: () => number }): ExistenceProbe {
  const cache = new Map<string, { exists: boolean; until: number }>();
  const canonical = (crate: CrateName): string => options.adapter.naming.canonical(crate);
  // An answer is about the paths asked, not about the canonical name: the cargo index is not
  // `-`/`_`-insensitive, so `a_b-c` and `a-b_c` are asked at different paths and may answer
  // differently. Keyed by the canonical name alone, a "new" for one spelling was reused for the
  // other, letting a publish-new-only token publish a version of an existing crate. The canonical
  // name leads the key so that `forget` can still drop every spelling at once.
  const keyOf = (crate: CrateName, paths: readonly string[], credential: string | null): string => `${canonical(crate)}\n${paths.join(' ')}\n${credential ?? ''}`;

  async function askUpstream(paths: readonly string[], credential: string | null): Promise<boolean> {
    const answers = await Promise.all(paths.map(async (path) => {
      const { status } = await options.client.get(path, credential, options.timeoutMs).catch((e: Error) => {
        throw new ProbeFailedError(`GET ${path}: ${e.message}`);
      });
      if (status === 200) return true;
      if (status === 404 || status === 410 || status === 451) return false;
      throw new ProbeFailedError(`GET ${path} answered ${status}`);
    }));
    return answers.includes(true);
  }

  return {
    async exists(crate, credential) {
      const paths = options.adapter.existencePaths(crate);
      const key = keyOf(crate, paths, credential);
      const now = options.clock();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.exists;
      const exists = await askUpstream(paths, credential);
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(key, { exists, until: now + options.cacheMs });
      return exists;
    },
    forget(crate) {
      const prefix = `${canonical(crate)}\n`;
      for (const key of cache.keys()) if (key.startsWith(prefix)) cache.delete(key);
    },
  };
}
