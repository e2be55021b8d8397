/**
 * The account lock token creations with a limit hold (`p creating:{<acct>}`, SET NX PX): counting
 * an account's records and writing a new one are several commands on keys in different Cluster
 * slots, so no script can make them one step; a lock on the account does, for every process and host.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from './token-store.js';
import { redisCall } from './redis-call.js';

/** Ends a creation lock only if it is still the caller's (one that lapsed may be another's now). */
const UNLOCK_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * How long a creation lock lasts if its holder never releases it (a process gone mid-creation):
 * far above a creation's own time (a listing and five commands, each bounded by
 * `redis.command_timeout`), short enough that the account is not locked out for long.
 */
const CREATION_LOCK_MS = 10_000;

/**
 * The waits between attempts to take a held creation lock (about 3.6 s in all, jittered): a
 * creation holds it for milliseconds, so a few racing creations of one account each get their
 * turn, while a flood of them ends in 503s instead of a queue that grows without end.
 */
const CREATION_LOCK_WAITS_MS = [5, 10, 20, 40, 80, 160, 320, 500, 500, 500, 500, 500, 500];

/** Takes the lock at `key`, waiting a little while another creation holds it; returns its release. */
export async function lockCreation(client: Redis | Cluster, key: string): Promise<() => Promise<void>> {
  const owner = randomUUID();
  for (let attempt = 0; ; attempt++) {
    const taken = await redisCall(client, 'SET creating', () => client.set(key, owner, 'PX', CREATION_LOCK_MS, 'NX'));
    if (taken === 'OK') break;
    const wait = CREATION_LOCK_WAITS_MS[attempt];
    if (wait === undefined) throw new StoreUnavailableError(`another token creation for this account held its lock (${key}) throughout; try again`);
    await sleep(wait / 2 + Math.random() * wait);
  }
  // A failed release is not the creation's failure: the lock lapses by itself.
  return async () => {
    await client.eval(UNLOCK_SCRIPT, 1, key, owner).catch(() => undefined);
  };
}
