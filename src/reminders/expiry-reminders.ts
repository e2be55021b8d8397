/**
 * Expiry reminders ★ (DESIGN §3): every live token within `tokens.remind_before` of its expiry
 * is announced once — a log line and, when `reminders.webhook_url` is set, a JSON POST
 * ({@link ReminderPayload}). Run by `scopegate notify-expiring` (cron) or, with
 * `reminders.interval`, inside the gateway; any number of runs may overlap.
 *
 * Once, exactly: a run claims each token atomically (token-directory.ts), posts, and marks the
 * token reminded only after a 2xx; a webhook that is down or answers otherwise releases the
 * claim, so the next run retries. A reminder is therefore never lost and never sent twice by two
 * runs; only a run that dies between the POST and the mark can repeat one after the claim's lease
 * lapses, and then with the same `delivery_id`, so the receiver can drop it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { GatewayConfig } from '../config/types.js';
import { expiresSoon, reminderPayload, type ReminderPayload } from '../core/expiry-reminder.js';
import type { GatewayMetrics } from '../http/metrics.js';
import type { Logger } from '../log.js';
import type { AuditSink } from '../store/audit-log.js';
import type { TokenDirectory } from '../store/token-directory.js';

/** Longest wait for the webhook's answer; the claim's lease is well beyond it. */
const WEBHOOK_TIMEOUT_MS = 10_000;
const CLAIM_LEASE_MS = 5 * 60_000;

/** Sends one reminder; resolves with the HTTP status, rejects when no answer came. */
export type WebhookPost = (url: string, payload: ReminderPayload) => Promise<number>;

export interface ReminderDeps {
  /** The running config (read at each run, so a reload applies). */
  readonly config: () => GatewayConfig;
  readonly directory: TokenDirectory;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
  readonly clock?: () => number;
  readonly post?: WebhookPost;
}

/** What one run did. */
export interface ReminderRun {
  readonly announced: ReminderPayload[];
  /** Left unmarked, for a later run. */
  readonly failed: { readonly payload: ReminderPayload; readonly error: string }[];
  /** Due, but already reminded or claimed by another run. */
  readonly skipped: number;
}

/** The tokens a run would announce now (for `--dry-run`): due and not yet reminded. */
export async function dueReminders(deps: ReminderDeps): Promise<ReminderPayload[]> {
  const now = (deps.clock ?? Date.now)();
  const { remindBeforeMs } = deps.config().tokens;
  const listed = await deps.directory.listExpiring(now + 1, now + remindBeforeMs);
  return listed
    .filter((t) => t.remindedAt === null && expiresSoon(t.record, now, remindBeforeMs))
    .map((t) => reminderPayload(t.record, now, deps.config().publicUrl));
}

export async function runExpiryReminders(deps: ReminderDeps): Promise<ReminderRun> {
  const clock = deps.clock ?? Date.now;
  const now = clock();
  const { remindBeforeMs } = deps.config().tokens;
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const run: { announced: ReminderPayload[]; failed: { payload: ReminderPayload; error: string }[]; skipped: number } = { announced: [], failed: [], skipped: 0 };
  const listed = await deps.directory.listExpiring(now + 1, now + remindBeforeMs);
  for (const { record, remindedAt } of listed) {
    if (remindedAt !== null || !expiresSoon(record, now, remindBeforeMs)) continue;
    if (!(await deps.directory.claimReminder(record.hash, owner, now, now + CLAIM_LEASE_MS))) {
      run.skipped++;
      continue;
    }
    const payload = reminderPayload(record, now, deps.config().publicUrl);
    const error = await announce(deps, payload);
    if (error !== null) {
      await deps.directory.releaseReminder(record.hash, owner);
      deps.logger.warn({ 'token.id': record.id, 'token.account': record.account, error }, 'expiry reminder not delivered; a later run retries it');
      deps.metrics?.reminder('failed');
      run.failed.push({ payload, error });
      continue;
    }
    const marked = await deps.directory.completeReminder(record.hash, owner, clock());
    if (!marked) deps.logger.warn({ 'token.id': record.id }, 'expiry reminder sent, but its claim had lapsed; another run may repeat it with the same delivery_id');
    deps.logger.info({ event: payload.event, 'token.id': record.id, 'token.account': record.account, name: record.name, expires_at: payload.expires_at, regenerate_url: payload.regenerate_url }, 'token expires soon');
    deps.audit.append({ ts: now, event: 'token.reminded', token: record.id, account: record.account, via: 'reminders' });
    deps.metrics?.reminder('sent');
    run.announced.push(payload);
  }
  return run;
}

/** Runs the reminders every `intervalMs` inside the gateway; never two at once in this process. */
export function startReminderSchedule(deps: ReminderDeps, intervalMs: number): { stop(): void } {
  let running = false;
  const tick = (): void => {
    if (running) return;
    running = true;
    runExpiryReminders(deps)
      .catch((e: unknown) => deps.logger.error({ err: { message: (e as Error).message } }, 'expiry reminders failed; the next run retries'))
      .finally(() => { running = false; });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return { stop: () => clearInterval(timer) };
}

/** Null when announced (webhook 2xx, or no webhook configured); else why not. */
async function announce(deps: ReminderDeps, payload: ReminderPayload): Promise<string | null> {
  const url = deps.config().reminders.webhookUrl;
  if (url === null) return null;
  try {
    const status = await (deps.post ?? postJson)(url, payload);
    return status >= 200 && status <= 299 ? null : `the webhook answered ${status}`;
  } catch (e) {
    return `the webhook could not be reached: ${(e as Error).message}`;
  }
}

const postJson: WebhookPost = async (url, payload) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'scopegate-reminders' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    redirect: 'manual',
  });
  await res.body?.cancel();
  return res.status;
};
