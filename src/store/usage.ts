/**
 * `last_used_at`, written at most once a minute per token and off the request path (DESIGN §5):
 * uses are collected for up to {@link BATCH_DELAY_MS} (or {@link BATCH_MAX} tokens) and written
 * together. A failed write is counted, never surfaced to the request that triggered it.
 */
import type { TokenStore } from './token-store.js';

const INTERVAL_MS = 60_000;
const MAX_TRACKED = 100_000;
const BATCH_DELAY_MS = 100;
const BATCH_MAX = 1_024;

export interface UsageRecorder {
  record(hash: string, now: number): void;
  /** Writes what is collected now (resolves also when the write failed; see `failures`). */
  flush(): Promise<void>;
  /** Token uses whose write failed since start (exposed for metrics and tests). */
  readonly failures: number;
}

export function createUsageRecorder(store: TokenStore): UsageRecorder {
  const lastWritten = new Map<string, number>();
  let pending = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let failures = 0;
  const flush = async (): Promise<void> => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const uses = pending;
    if (uses.size === 0) return;
    pending = new Map();
    await store.touch(uses).catch(() => { failures += uses.size; });
  };
  return {
    record(hash, now) {
      const last = lastWritten.get(hash);
      if (last !== undefined && now - last < INTERVAL_MS) return;
      if (lastWritten.size >= MAX_TRACKED) lastWritten.clear();
      lastWritten.set(hash, now);
      pending.set(hash, now);
      if (pending.size >= BATCH_MAX) void flush();
      else if (timer === null) {
        timer = setTimeout(() => void flush(), BATCH_DELAY_MS);
        timer.unref();
      }
    },
    flush,
    get failures() { return failures; },
  };
}
