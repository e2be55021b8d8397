/** `scopegate audit` (read the audit stream) and `scopegate notify-expiring` (one reminder run). */
import { formatInstant } from '../core/denial.js';
import { dueReminders, runExpiryReminders } from '../reminders/expiry-reminders.js';
import { AUDIT_EVENTS, type AuditEvent, type StoredAuditEntry } from '../store/audit-log.js';
import { CliError, EXIT, loadCliConfig, parseFlags, parseId, table, withBackends, type Io } from './common.js';

export const AUDIT_HELP = `usage: scopegate audit [--token N] [--account NAME] [--crate NAME] [--verdict allow|deny|pass]
                      [--event EVENT] [--limit N] [--config FILE] [--json]

  Prints the newest audit entries first: decisions on write routes and token lifecycle events
  (${AUDIT_EVENTS.join(', ')}). Filters combine (all must match). --limit defaults to 50.
  Exit codes: 0 ok (also when nothing matched), 1 Redis unreachable, 2 bad flags or config.`;

export const NOTIFY_HELP = `usage: scopegate notify-expiring [--dry-run] [--config FILE] [--json]

  Announces every live token within tokens.remind_before of its expiry, once: a log line and,
  with reminders.webhook_url, a JSON POST. A token is marked reminded only after the webhook
  answered 2xx; one that failed is retried by the next run. Safe to run from cron on several hosts.
  --dry-run lists the tokens a run would announce, without announcing or marking them.
  Exit codes: 0 ok, 1 Redis unreachable or a webhook delivery failed (retried next run), 2 bad flags or config.`;

const AUDIT_OPTIONS = {
  token: { type: 'string' }, account: { type: 'string' }, crate: { type: 'string' }, verdict: { type: 'string' },
  event: { type: 'string' }, limit: { type: 'string' },
} as const;

export async function auditCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(args, AUDIT_OPTIONS, 'audit');
  if (values.help) {
    io.out(AUDIT_HELP);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `audit takes no arguments, got "${positionals.join(' ')}"\nsee: scopegate audit --help`);
  if (values.verdict !== undefined && !['allow', 'deny', 'pass'].includes(values.verdict)) throw new CliError(EXIT.USAGE, `--verdict must be allow, deny or pass, got "${values.verdict}"`);
  if (values.event !== undefined && !(AUDIT_EVENTS as readonly string[]).includes(values.event)) throw new CliError(EXIT.USAGE, `--event must be one of ${AUDIT_EVENTS.join(', ')}, got "${values.event}"`);
  const limit = values.limit === undefined ? 50 : parseId(values.limit, '--limit', 'a positive whole number');
  const filter = {
    token: values.token === undefined ? undefined : parseId(values.token, '--token'),
    account: values.account, crate: values.crate, verdict: values.verdict, event: values.event as AuditEvent | undefined,
  };
  const config = await loadCliConfig(values.config, io.env);
  const entries = await withBackends(config, ({ audit }) => audit.read(filter, limit));
  if (values.json) io.out(JSON.stringify({ entries }));
  else if (entries.length === 0) io.out('no audit entries match');
  else io.out(table(['TIME', 'EVENT', 'VERDICT', 'REASON', 'ROUTE', 'TOKEN', 'ACCOUNT', 'CRATE', 'STATUS'], entries.map(row)));
  return EXIT.OK;
}

function row(e: StoredAuditEntry): string[] {
  const text = (v: string | number | undefined): string => (v === undefined ? '-' : String(v));
  return [formatInstant(e.ts), e.event, text(e.verdict), text(e.reason), text(e.route), text(e.token), text(e.account), text(e.crate), text(e.status)];
}

export async function notifyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(args, { 'dry-run': { type: 'boolean' } }, 'notify-expiring');
  if (values.help) {
    io.out(NOTIFY_HELP);
    return EXIT.OK;
  }
  if (positionals.length > 0) throw new CliError(EXIT.USAGE, `notify-expiring takes no arguments, got "${positionals.join(' ')}"`);
  const config = await loadCliConfig(values.config, io.env);
  return withBackends(config, async ({ directory, audit, logger }) => {
    const deps = { config: () => config, directory, audit, logger };
    if (values['dry-run']) {
      const due = await dueReminders(deps);
      if (values.json) io.out(JSON.stringify({ due }));
      else io.out(due.length === 0 ? 'no token needs a reminder' : due.map((p) => `would remind: ${p.text}`).join('\n'));
      return EXIT.OK;
    }
    const run = await runExpiryReminders(deps);
    if (values.json) io.out(JSON.stringify(run));
    else {
      for (const p of run.announced) io.out(`reminded: ${p.text}`);
      for (const f of run.failed) io.err(`not delivered (retried next run): token ${f.payload.token_id}: ${f.error}`);
      io.out(`${run.announced.length} reminded, ${run.failed.length} failed, ${run.skipped} already handled by another run`);
    }
    return run.failed.length > 0 ? EXIT.RUNTIME : EXIT.OK;
  });
}
