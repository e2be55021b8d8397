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

/** How a token's record read, sample by sample (see {@link sampleRevocation}). */
export interface RevocationSamples {
  /** Read as not revoked at `revokedAt`: the answer that must never come once it is revoked. */
  valid: number;
  revoked: number;
  /** The lookup failed (a 503 to the client): allowed, it fails closed. */
  unavailable: number;
}

/** Looks the record up every 50 ms for `ms`, tallying each answer against the revocation at `revokedAt`. */
export async function sampleRevocation(lookUp: () => Promise<{ revokedAt: number | null } | null>, revokedAt: number, ms: number): Promise<RevocationSamples> {
  const seen: RevocationSamples = { valid: 0, revoked: 0, unavailable: 0 };
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await lookUp())?.revokedAt === revokedAt) seen.revoked++;
      else seen.valid++;
    } catch {
      seen.unavailable++;
    }
    await sleep(50);
  }
  return seen;
}
