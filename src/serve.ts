/**
 * Running the gateway: the config, the token store, the listener, the admin API and reminders,
 * with graceful shutdown. Two entry points call it: `npm start` (`src/main.ts`) and
 * `scopegate serve` (`src/cli/main.ts`).
 */
import cluster from 'node:cluster';
import { loadConfig } from './config/load.js';
import { publicUrlMismatch } from './config/public-url-check.js';
import { ADMIN_LISTEN, listenFailure, PUBLIC_LISTEN, type ListenSetting } from './config/listen-failure.js';
import type { HostPort } from './config/types.js';
import { createGateway } from './http/server.js';
import { createLogger } from './log.js';
import { startAdminApi } from './admin/server.js';
import { createMetrics } from './http/metrics.js';
import { startReminderSchedule } from './reminders/expiry-reminders.js';
import { openBackends } from './store/open-store.js';
import { CachingTokenStore } from './store/token-cache.js';
import { clusterMetricsText } from './cluster-metrics.js';
import { missingGatewaySettings } from './runtime-flags.js';
import { announceReady, isFirstProcess, superviseWorkers, workerCount } from './workers.js';

/**
 * What a process started without the gateway's runtime settings (src/runtime-flags.ts) does:
 * `warn` and serve anyway (a plain `node dist/src/main.js`: the operator chose the command line),
 * or `supervise`: serve through one cluster worker started with them (`scopegate serve`, whose
 * command line is the bin's shebang and cannot carry them).
 */
export type LackingSettings = 'warn' | 'supervise';

/**
 * How long SIGTERM/SIGINT lets requests in flight finish before their connections are cut. Under
 * a cluster primary's stop timeout (src/workers.ts), which leaves the rest for the last audit and
 * last-use writes.
 */
export const SHUTDOWN_DRAIN_MS = 20_000;

/**
 * Loads the config (SCOPEGATE_CONFIG, default config/cargo.yaml), opens the token store and
 * starts the gateway, or the cluster primary that supervises its workers. An invalid config
 * prints every problem and exits 2; any other startup failure exits 1.
 */
export function runGateway(options: { lackingSettings: LackingSettings }): void {
  start(options).catch((e: unknown) => {
    process.stderr.write(`scopegate: ${e instanceof StartFailure ? e.message : (e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}

/** A failure to start that its message explains fully: the operator's to fix, so no stack trace. */
class StartFailure extends Error {}

/** Runs `open` (a listener's listen), turning a system error into what to do about `setting`. */
async function listenOn<T>(setting: ListenSetting, address: HostPort, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (e) {
    if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') throw new StartFailure(listenFailure(setting, address, e));
    throw e;
  }
}

/**
 * Holds SIGHUP while the process starts: its default action ends the process, and a reload can
 * come then (a deploy's `systemctl reload`, a cluster primary passing one to a starting worker)
 * while the gateway waits up to 2 s for Redis. `arrived` says whether one came meanwhile.
 */
function holdSighup(): { arrived(): boolean; release(): void } {
  let arrived = false;
  const hold = (): void => { arrived = true; };
  process.on('SIGHUP', hold);
  return { arrived: () => arrived, release: () => { process.off('SIGHUP', hold); } };
}

async function start({ lackingSettings }: { lackingSettings: LackingSettings }): Promise<void> {
  const earlySighup = holdSighup();
  const loaded = await loadConfig({ env: process.env });
  if (!loaded.ok) {
    process.stderr.write(`scopegate: the configuration is invalid (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}):\n`);
    for (const problem of loaded.problems) process.stderr.write(`  - ${problem}\n`);
    process.exit(2);
  }
  const { config } = loaded;
  const logger = createLogger(config.log.level);
  for (const warning of loaded.warnings) logger.warn(warning);
  const workers = workerCount(config.workers);
  const { flags, variables } = missingGatewaySettings(process.execArgv, process.env);
  const lacking = flags.length + variables.length > 0;
  if (cluster.isPrimary && (workers > 1 || (lacking && lackingSettings === 'supervise'))) {
    if (workers === 1) logger.info({ missing: [...flags, ...variables] }, 'serving through one worker process started with the gateway\'s runtime settings, which this process lacks');
    // Its workers read the config as they start, so a SIGHUP held until now has nothing to reload.
    earlySighup.release();
    return superviseWorkers(workers, logger);
  }
  if (lacking) {
    logger.warn({ missing: [...flags, ...variables] }, `started without the gateway's runtime settings; streamed publishes cost ~2-3x more CPU. Run \`${[...variables, 'node', ...flags].join(' ')} dist/src/main.js\` (npm start does)`);
  }
  const backends = await openBackends(config, logger, { tokenCache: true, revocationConnection: true });
  const { store, directory, audit, published, authFailures } = backends;
  const metrics = createMetrics();
  metrics.trackRedisErrors('audit', () => audit.failures);
  metrics.trackAuditUnconfirmed(() => audit.unconfirmed);
  if (store instanceof CachingTokenStore) metrics.trackTokenCache(() => store.stats);
  const gateway = createGateway(config, { store, published, authFailures, logger, audit, metrics });
  const port = await listenOn(PUBLIC_LISTEN, config.listen, () => gateway.listen());
  logger.info({ listen: `${config.listen.host}:${port}`, upstream: config.upstream.url, public_url: config.publicUrl }, 'scopegate listening');
  const mismatch = publicUrlMismatch(config);
  if (mismatch !== null) logger.warn(mismatch);
  const metricsText = cluster.isWorker ? clusterMetricsText(metrics.registry) : undefined;
  const operators = { config: () => gateway.deps.config, store, directory, audit, metrics, metricsText, logger };
  const admin = await listenOn(ADMIN_LISTEN, config.admin.listen, () => startAdminApi(operators));
  announceReady();
  // Once per host, not once per worker.
  const reminders = config.reminders.intervalMs === null || !isFirstProcess() ? null : startReminderSchedule(operators, config.reminders.intervalMs);

  const reload = (): void => {
    void loadConfig({ env: process.env }).then((next) => {
      if (!next.ok) return logger.error({ problems: next.problems }, 'config reload refused; keeping the running config');
      gateway.reload(next.config);
      logger.info('config reloaded');
    });
  };
  process.on('SIGHUP', reload);
  earlySighup.release();
  // The file may have changed after it was read at start.
  if (earlySighup.arrived()) reload();
  // Signals often come twice: systemd's default KillMode signals every process of the unit, a
  // terminal's Ctrl-C reaches the whole process group, and a cluster primary passes its own on.
  // The handlers stay installed (a second signal with none would kill the process by default,
  // losing the buffered last-use and audit writes) and a shutdown under way is not restarted.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ drain_ms: SHUTDOWN_DRAIN_MS }, 'shutting down');
    reminders?.stop();
    void Promise.all([gateway.close({ drainMs: SHUTDOWN_DRAIN_MS }), admin?.close()]).then(() => backends.close()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
