/** Polling for tests that wait on real processes (failovers, reconnects). */
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` (a throw counts as false) every 50 ms until it holds or `ms` pass; says which. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  return false;
}

/** Polls `check` until it holds; throws after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  if (!(await eventually(check, ms))) throw new Error(`condition not met within ${ms} ms: ${check.toString()}`);
}
