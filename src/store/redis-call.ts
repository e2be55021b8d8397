/**
 * One Redis command of a store, as every store runs it: a failure becomes a StoreUnavailableError
 * that says what failed and why in Redis's terms (the caller answers 503: fail closed), and a
 * timeout on a Cluster asks the client that timed out for its slot map again (redis-client.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import { refreshSlotsAfterTimeout } from './redis-client.js';
import { StoreUnavailableError } from './token-store.js';

/** Runs `command` on `client`; `what` names it in the error (`GET token-id`). */
export async function redisCall<T>(client: Redis | Cluster, what: string, command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    refreshSlotsAfterTimeout(client, error);
    throw new StoreUnavailableError(`redis ${what} failed: ${describeRedisError(error)}`, { cause: error });
  }
}

/**
 * Whether a failed command may nevertheless have run: it was sent, and then no answer came in time
 * or the connection was lost. A refusal (an error reply) or a command never sent did not run.
 */
export function commandMayHaveRun(error: unknown): boolean {
  return error instanceof Error && (error.message === 'Command timed out' || error.name === 'MaxRetriesPerRequestError');
}

/** ioredis's messages, reworded to say what happened to Redis. */
export function describeRedisError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message.includes('enableOfflineQueue')) return 'not connected (redis is down or reconnecting)';
  if (error.message === 'Command timed out') {
    return 'no answer within the command timeout (redis is hung or overloaded)';
  }
  if (error.name === 'MaxRetriesPerRequestError') return 'connection lost while the command was in flight';
  return error.message;
}
