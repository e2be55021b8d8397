/**
 * `workers: auto|N` (DESIGN §6): one process per core on a host, with `node:cluster`. The primary
 * only supervises: it forks the workers, which each open their own Redis connections, token cache
 * and revocation feed and share one listening socket; it re-forks a worker that dies, passes
 * SIGHUP on (each worker reloads its config), and on SIGTERM/SIGINT stops them all gracefully.
 */
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { serveClusterMetrics } from './cluster-metrics.js';
import { WORKER_INDEX_VARIABLE } from './config/load.js';
import type { Logger } from './log.js';
import { withGatewayEnv, withGatewayFlags } from './runtime-flags.js';

/** Set in each worker's environment: its slot, 0 … N-1 (slot 0 runs once-per-host duties). */
export { WORKER_INDEX_VARIABLE };
/** A worker's message to the primary once its listeners are open (see {@link announceReady}). */
const READY = 'scopegate:worker-ready';

const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that dies sooner than this after starting counts as crash-looping (its delay doubles). */
const STABLE_AFTER_MS = 10_000;
/** How long workers get to stop: their request drain (serve.ts SHUTDOWN_DRAIN_MS) and last Redis writes. */
const STOP_TIMEOUT_MS = 30_000;

/** `auto`: one per CPU core; otherwise the number itself. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? Math.max(1, os.availableParallelism()) : setting;
}

/** True in the one process per host that runs once-per-host duties (a lone process, or worker 0). */
export function isFirstProcess(): boolean {
  return cluster.isPrimary || process.env[WORKER_INDEX_VARIABLE] === '0';
}

/** In a worker: tells the primary it serves, so that a death from now on is a crash, not a failed start. */
export function announceReady(): void {
  if (cluster.isWorker) process.send?.({ type: READY });
}

/**
 * Runs the primary: forks `count` workers and keeps that many running until told to stop. A
 * worker that exits before any worker has ever served failed to start (a port in use, a listen
 * address this host lacks): its replacement would fail the same way, so the primary stops, with
 * the worker's exit code, rather than restarting workers for ever while serving nothing.
 */
export function superviseWorkers(count: number, logger: Logger): void {
  const slots = new Map<number, { worker: Worker; startedAt: number; delay: number }>();
  let stopping = false;
  let served = false;
  /** Workers (by cluster id) that announced they serve. */
  const serving = new Set<number>();

  // Workers get the gateway's Node flags and malloc settings even when the primary was started
  // without them (src/runtime-flags.ts).
  cluster.setupPrimary({ execArgv: withGatewayFlags(process.execArgv) });
  const fork = (slot: number, delay: number): void => {
    const worker = cluster.fork({ ...withGatewayEnv(process.env), [WORKER_INDEX_VARIABLE]: String(slot) });
    slots.set(slot, { worker, startedAt: Date.now(), delay });
    worker.on('message', (message: unknown) => {
      if ((message as { type?: unknown } | null)?.type !== READY) return;
      served = true;
      serving.add(worker.id);
    });
    worker.once('exit', (code, signal) => {
      serving.delete(worker.id);
      if (stopping) return;
      // Killed by a signal (an early SIGHUP, the OOM killer) is no failed start: replaced below.
      if (!served && signal === null) {
        logger.error({ worker: slot, pid: worker.process.pid, code, signal }, 'a worker failed to start (its reason is above); stopping');
        return stop(code === 0 ? 1 : code ?? 1);
      }
      const ran = Date.now() - slots.get(slot)!.startedAt;
      const next = ran < STABLE_AFTER_MS ? Math.min(delay * 2, MAX_RESTART_DELAY_MS) : RESTART_DELAY_MS;
      logger.error({ worker: slot, pid: worker.process.pid, code, signal, restart_in_ms: next }, 'worker died; starting a new one');
      setTimeout(() => { if (!stopping) fork(slot, next); }, next).unref();
    });
  };
  // A scrape of /metrics reaches one worker; it asks here for the sum over all of them.
  serveClusterMetrics((worker) => serving.has(worker.id));
  for (let slot = 0; slot < count; slot++) fork(slot, RESTART_DELAY_MS);
  logger.info({ workers: count, pid: process.pid }, 'scopegate primary started its workers');

  process.on('SIGHUP', () => {
    for (const { worker } of slots.values()) worker.process.kill('SIGHUP');
  });
  function stop(exitCode = 0): void {
    if (stopping) return;
    stopping = true;
    const running = [...slots.values()].map(({ worker }) => worker).filter((w) => w.process.exitCode === null && w.process.signalCode === null);
    let left = running.length;
    const done = (): void => process.exit(exitCode);
    if (left === 0) return done();
    setTimeout(() => {
      for (const worker of running) worker.process.kill('SIGKILL');
      done();
    }, STOP_TIMEOUT_MS).unref();
    for (const worker of running) {
      worker.once('exit', () => { if (--left === 0) done(); });
      worker.process.kill('SIGTERM');
    }
  }
  process.on('SIGTERM', () => stop());
  process.on('SIGINT', () => stop());
}
