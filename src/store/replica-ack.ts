/**
 * Writes that must survive a failover (a revocation): acknowledged only once a replica has them,
 * on a master that is part of a replicated deployment.
 *
 * Redis replicates asynchronously. A write a master acknowledges but has not yet passed to a
 * replica is lost when that replica is promoted in its stead (a crash before replication, Cluster
 * `FAILOVER FORCE`/`TAKEOVER`), and `SENTINEL FAILOVER` makes it worse: the old master keeps
 * accepting writes for a few hundred milliseconds after its replica was promoted, then discards
 * them when it resyncs as the new master's replica. A revocation lost that way had already been
 * announced (every cache dropped the token), so the token reads as valid again, for good.
 * `WAIT 1 <ms>` after the write closes this: the write is on a replica before it is acknowledged,
 * and the old master, which no longer has its replica, cannot confirm it (the caller gets a
 * store failure and revokes again, which is idempotent).
 *
 * Which deployments must confirm is the caller's to say (RedisTokenStoreOptions
 * .confirmRevocations; by default Sentinel and Cluster). A master alone cannot
 * tell: what marks one that could be failed over from is that it has served replicas since it
 * started (INFO stats `sync_full`, `sync_partial_ok`; its count of connected replicas drops to none
 * exactly in the failover above), but a backup taken over the replication protocol
 * (`redis-cli --rdb`) counts as such a sync too, and made every revocation on a lone Redis wait
 * for a replica it never had. Where confirmation is asked: a master with replicas connected must
 * have one acknowledge the write (WAIT); one with none connected that has had replicas refuses at
 * once (its replicas are down, or it is the old master of a failover: the write would be the
 * failover's to discard); one that never had a replica (a replica just promoted after its master
 * died) has nothing to fail over to, and answers as before. INFO rides in the write's own round
 * trip; only a master with replicas connected pays a second one, for WAIT.
 */
import type { Cluster, Redis } from 'ioredis';

/** Why a replicated write was not confirmed: it ran on the master, but no replica has it (yet). */
export class ReplicaAckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaAckError';
  }
}

/**
 * Runs the one-key `script` on `key`'s master and returns its reply once a replica has the write;
 * rejects with {@link ReplicaAckError} when none that could confirm it is connected, or none
 * confirms within `waitMs`.
 * Everything runs on the master's one connection, which `WAIT` needs: it waits for that
 * connection's writes. On Cluster the pipeline goes, whole, to the node that holds `key`.
 */
export async function evalReplicated(client: Redis | Cluster, script: string, key: string, args: readonly string[], waitMs: number): Promise<unknown> {
  const first = await client.pipeline().eval(script, 1, key, ...args).info('replication').info('stats').client('ID').exec();
  const written = reply(first, 0);
  const seen = readReplication(first);
  // A user whose ACL refuses INFO (@dangerous) cannot tell, and one refused CLIENT ID or WAIT
  // (@connection, which the revocation feed does without too) cannot wait: such a deployment
  // gets no WAIT (README), rather than every revocation failing on the refusal.
  if (seen === null || refusedByAcl(first, 3) || (seen.connected === 0 && !seen.hadReplicas)) return written;
  // None connected to confirm it: say so now, rather than hold the connection for a WAIT that can only time out.
  if (seen.connected === 0) throw new ReplicaAckError('the master has had replicas but has none connected now, so a failover could discard the write');
  // On Cluster a pipeline goes to the node holding its keys; EXISTS only carries `key` there.
  const second = await client.pipeline().exists(key).client('ID').call('WAIT', '1', String(waitMs)).exec();
  if (refusedByAcl(second, 2)) return written;
  // WAIT counts the replicas that have this connection's writes: on another connection (ioredis
  // reconnected in between, say to a newly promoted master) its answer says nothing about ours.
  if (reply(second, 1) !== reply(first, 3)) throw new ReplicaAckError('the connection to redis changed before a replica could confirm the write');
  if (Number(reply(second, 2)) >= 1) return written;
  throw new ReplicaAckError(`no replica confirmed the write within ${waitMs} ms (the master has ${seen.connected} connected), so a failover could discard it`);
}

/** Whether the `i`th command of a pipeline was refused by the user's ACL (NOPERM). */
function refusedByAcl(results: [Error | null, unknown][] | null, i: number): boolean {
  const error = results?.[i]?.[0];
  return error?.name === 'ReplyError' && error.message.startsWith('NOPERM');
}

/** The `i`th reply of a pipeline; its error, if it failed, is thrown. */
function reply(results: [Error | null, unknown][] | null, i: number): unknown {
  const result = results?.[i];
  if (result === undefined) throw new Error('the pipeline was not run');
  if (result[0]) throw result[0];
  return result[1];
}

/** What the master said about its replicas, from INFO replication and INFO stats. */
interface Replication {
  readonly connected: number;
  /** Whether it has served a replica's (full or partial) sync since it started. */
  readonly hadReplicas: boolean;
}

/** INFO replication and INFO stats from the write's pipeline; null when Redis refused them. */
function readReplication(results: [Error | null, unknown][] | null): Replication | null {
  const refused = (i: number): boolean => results?.[i]?.[0]?.name === 'ReplyError';
  if (refused(1) || refused(2)) return null;
  const field = (text: unknown, name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(String(text))?.[1] ?? 0);
  const replication = reply(results, 1);
  const stats = reply(results, 2);
  return {
    connected: field(replication, 'connected_slaves'),
    hadReplicas: field(stats, 'sync_full') + field(stats, 'sync_partial_ok') > 0,
  };
}
