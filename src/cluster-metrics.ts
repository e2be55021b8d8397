/**
 * `/metrics` with `workers: N`. Every worker runs the admin API on the same port, so a scrape
 * reaches whichever worker the primary hands the connection to; each worker counts only its own
 * requests. So the worker that is asked gets the host's figures from the primary, which collects
 * every worker's metrics over the cluster's IPC channel and sums them with prom-client's own
 * aggregation (counters and histograms summed; process metrics by the rule each one declares).
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
      Promise.resolve().then(() => AggregatorRegistry.aggregate([...reports.values()]).metrics()).then(resolve, reject);
    });
    for (const worker of workers) worker.send({ type: COLLECT, id });
  });

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isMessage(message, REPORT)) collections.get(message.id)?.(worker, message.metrics ?? []);
    else if (isMessage(message, ASK)) {
      const { id } = message;
      collect().then(
        (text) => worker.isConnected() && worker.send({ type: ANSWER, id, text }),
        (error: Error) => worker.isConnected() && worker.send({ type: ANSWER, id, error: error.message }),
      );
    }
  });
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
