/**
 * `/metrics` with `workers: N`. Every worker runs the admin API on the same port, so a scrape
 * reaches whichever worker the primary hands the connection to; each worker counts only its own
 * requests. So the worker that is asked gets the host's figures from the primary, which collects
 * every worker's metrics over the cluster's IPC channel and sums them with prom-client's own
 * aggregation (counters and histograms summed; process metrics by the rule each one declares).
 *
 * Counters and histograms stay monotonic when a worker is replaced: each worker counts from zero,
 * so a plain sum would fall by the dead worker's counts, which Prometheus reads as a counter reset
 * (and `rate()` as a spike). The primary keeps each worker's last report and, when the worker
 * exits, folds its counters and histograms into a `retired` set that every later sum includes.
 * What a worker counted after its last report is lost with it: never counted, never subtracted.
 *
 * The messages are our own rather than prom-client's `AggregatorRegistry.clusterMetrics()`,
 * whose primary throws on an answer that arrives after its timeout (a stalled worker would take
 * the primary down); here a late or unknown answer is ignored.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const ASK = 'scopegate:metrics-ask';
const ANSWER = 'scopegate:metrics-answer';
const COLLECT = 'scopegate:metrics-collect';
const REPORT = 'scopegate:metrics-report';
/** How long the primary waits for every worker's report. */
const COLLECT_TIMEOUT_MS = 2_000;
/** How long a worker waits for the primary's answer (a little longer than the collection). */
const ASK_TIMEOUT_MS = COLLECT_TIMEOUT_MS + 1_000;

type Message = { type: string; id: number; text?: string; error?: string; metrics?: object[] };

function isMessage(value: unknown, type: string): value is Message {
  return typeof value === 'object' && value !== null && (value as Message).type === type && typeof (value as Message).id === 'number';
}

/**
 * In the primary: answers a worker's request with the metrics of all serving workers, summed.
 * `serving` leaves out a worker still starting (a replacement for one that died): it answers
 * no collection until it has opened its listeners, and would turn every scrape meanwhile into a 503.
 */
export function serveClusterMetrics(serving: (worker: Worker) => boolean): void {
  let next = 0;
  const collections = new Map<number, (worker: Worker, metrics: object[]) => void>();
  const retirement = retiredTotals();

  const collect = (): Promise<string> => new Promise((resolve, reject) => {
    const id = next++;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected() && serving(w));
    const reports = new Map<number, object[]>();
    const timer = setTimeout(() => {
      collections.delete(id);
      const silent = workers.filter((w) => !reports.has(w.id)).map((w) => w.process.pid);
      reject(new Error(`worker${silent.length === 1 ? '' : 's'} ${silent.join(', ')} did not report within ${COLLECT_TIMEOUT_MS} ms`));
    }, COLLECT_TIMEOUT_MS);
    collections.set(id, (worker, metrics) => {
      reports.set(worker.id, metrics);
      if (reports.size < workers.length) return;
      clearTimeout(timer);
      collections.delete(id);
      // In a promise chain: a throw here would otherwise reach the primary's 'message' handler.
      retirement.totals().then((retired) => AggregatorRegistry.aggregate([...reports.values(), retired]).metrics()).then(resolve, reject);
    });
    for (const worker of workers) worker.send({ type: COLLECT, id });
  });

  cluster.on('exit', (worker: Worker) => retirement.retire(worker.id));
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isMessage(message, REPORT)) {
      retirement.reported(worker.id, message.metrics ?? []);
      collections.get(message.id)?.(worker, message.metrics ?? []);
    }
    else if (isMessage(message, ASK)) {
      const { id } = message;
      collect().then(
        (text) => worker.isConnected() && worker.send({ type: ANSWER, id, text }),
        (error: Error) => worker.isConnected() && worker.send({ type: ANSWER, id, error: error.message }),
      );
    }
  });
}

/** Prometheus types whose values only grow (a histogram's buckets, sum and count are counters too). */
const CUMULATIVE = new Set(['counter', 'histogram']);

/**
 * The counters and histograms of workers that exited, as of their last report, summed. Folded one
 * exit at a time (in order, through one promise chain), so it stays one metric set however many
 * workers come and go.
 */
function retiredTotals(): { reported(id: number, metrics: object[]): void; retire(id: number): void; totals(): Promise<object[]> } {
  const last = new Map<number, object[]>();
  let retired: Promise<object[]> = Promise.resolve([]);
  return {
    reported: (id, metrics) => { last.set(id, metrics); },
    retire: (id) => {
      const final = (last.get(id) ?? []).filter((m) => CUMULATIVE.has((m as { type?: string }).type ?? ''));
      last.delete(id);
      if (final.length === 0) return;
      // A fold that fails keeps the totals so far: a scrape must not fail for ever after.
      retired = retired.then((sum) => Promise.resolve().then(() => AggregatorRegistry.aggregate([sum, final]).getMetricsAsJSON() as Promise<object[]>).catch(() => sum));
    },
    totals: () => retired,
  };
}

/**
 * In a worker: reports `registry` when the primary collects, and returns the function that asks
 * the primary for the host's metrics (rejecting when they do not come in time).
 */
export function clusterMetricsText(registry: Registry): () => Promise<string> {
  let next = 0;
  const waiting = new Map<number, (message: Message) => void>();
  process.on('message', (message: unknown) => {
    if (isMessage(message, COLLECT)) {
      void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: REPORT, id: message.id, metrics }));
    } else if (isMessage(message, ANSWER)) {
      waiting.get(message.id)?.(message);
    }
  });
  return () => new Promise((resolve, reject) => {
    const id = next++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the cluster primary did not answer within ${ASK_TIMEOUT_MS} ms`));
    }, ASK_TIMEOUT_MS);
    waiting.set(id, (message) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.text ?? '');
    });
    process.send?.({ type: ASK, id });
  });
}
