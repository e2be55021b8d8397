/**
 * `last_used_at`, written at most once a minute per token and off the request path (DESIGN §5):
 * a failed write is counted, never surfaced to the request that triggered it.
 */
import type { TokenStore } from './token-store.js';

const INTERVAL_MS = 60_000;
const MAX_TRACKED = 100_000;

export interface UsageRecorder {
  record(hash: string, now: number): void;
  /** Writes that failed since start (exposed for metrics and tests). */
  readonly failures: number;
}

export function createUsageRecorder(store: TokenStore): UsageRecorder {
  const lastWritten = new Map<string, number>();
  let failures = 0;
  return {
    record(hash, now) {
      const last = lastWritten.get(hash);
      if (last !== undefined && now - last < INTERVAL_MS) return;
      if (lastWritten.size >= MAX_TRACKED) lastWritten.clear();
      lastWritten.set(hash, now);
      store.touch(hash, now).catch(() => { failures++; });
    },
    get failures() { return failures; },
  };
}
