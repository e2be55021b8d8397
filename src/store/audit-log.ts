/**
 * The audit trail (DESIGN §5): one entry per decision on a write route and per token lifecycle
 * event, in ONE capped Redis stream (`<prefix>audit`, `XADD … MAXLEN ~ N`: a single key, so
 * Cluster-safe). Appending is synchronous and never touches Redis: entries are buffered and
 * written in pipelined batches off the request path; a failed batch is counted, never surfaced
 * (the request it describes has long been answered).
 */
import type { Cluster, Redis } from 'ioredis';
import { commandMayHaveRun } from './redis-call.js';

/** What happened. Spelled the same in the stream, `scopegate audit` and the README. */
export const AUDIT_EVENTS = ['decision', 'token.created', 'token.revoked', 'token.expired-used', 'token.reminded', 'auth.limited'] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** One entry. Every field but `ts` and `event` is optional and stored only when set. */
export interface AuditEntry {
  /** Epoch ms of the event (not of the write). */
  readonly ts: number;
  readonly event: AuditEvent;
  readonly verdict?: string;
  readonly reason?: string;
  readonly route?: string;
  readonly scope?: string;
  readonly token?: number;
  readonly account?: string;
  readonly crate?: string;
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  readonly req?: string;
  /** `auth.limited`: the client address (http/client-address.ts) that reached `limits.auth_failures`. */
  readonly client?: string;
  /** Who caused a lifecycle event: `api`, `cli`, `admin`, `reminders`. */
  readonly via?: string;
}

/** An entry read back, with its stream id. */
export type StoredAuditEntry = AuditEntry & { readonly id: string };

/** Filters for {@link AuditLog.read}; all given ones must match. */
export interface AuditFilter {
  readonly token?: number;
  readonly account?: string;
  readonly crate?: string;
  readonly verdict?: string;
  readonly event?: AuditEvent;
}

/** Where the gateway appends; cheap enough for the hot path. */
export interface AuditSink {
  append(entry: AuditEntry): void;
}

export interface AuditLog extends AuditSink {
  /** The newest matching entries, newest first, at most `limit`. */
  read(filter: AuditFilter, limit: number): Promise<StoredAuditEntry[]>;
  /** Writes what is buffered now (resolves also when the write failed; see `failures`). */
  flush(): Promise<void>;
  /**
   * Entries known not to be in the stream, since start: refused by Redis or never sent (Redis
   * down, or not answering before their turn), or dropped with the buffer full.
   */
  readonly failures: number;
  /**
   * Entries whose write got no answer in time, since start: Redis may well have written them (a
   * hung Redis runs the commands queued on its socket once it resumes), so they are not failures.
   */
  readonly unconfirmed: number;
  close(): Promise<void>;
}

/** Discards everything: for gateways built without an audit trail (unit tests, tools). */
export const NO_AUDIT: AuditSink = Object.freeze({ append: () => undefined });

const BATCH_DELAY_MS = 100;
const BATCH_MAX = 256;
/** Entries per script call: ~11 µs of Redis time each, so one call holds Redis well under 1 ms. */
const SCRIPT_CHUNK = 64;
/** Appends each `[field, value, …]` list in ARGV[2] (JSON) to the stream KEYS[1], capped at ~ARGV[1]. */
const APPEND_SCRIPT = `
for _, fields in ipairs(cjson.decode(ARGV[2])) do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
end
return 0`;
/**
 * Beyond this many unwritten entries, buffered or waiting for their batch's turn to be written
 * (Redis down or hung for long), new ones are dropped and counted: the process's memory, not the
 * audit trail, gives way to a flood of requests during an outage.
 */
const BUFFER_MAX = 10_000;
const READ_PAGE = 500;

/** {@link AuditLog} on a Redis stream. */
export class RedisAuditLog implements AuditLog {
  /**
   * Each entry as the JSON of its `[field, value, …]` list, made at append: one string waits for
   * the batch, not an object and a dozen strings that outlive a few young-generation collections
   * and get promoted (the audit's cost on an allowed request fell by more than half; bench/RESULTS.md).
   */
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Entries handed to `writing` whose write has not settled yet; they count towards BUFFER_MAX. */
  private waiting = 0;
  /** The last chunk got no answer: ask whether Redis answers before sending the next one. */
  private unanswered = false;
  private failed = 0;
  private unsure = 0;
  private readonly key: string;
  /** XADD's MAXLEN argument. */
  private readonly maxEntries: string;

  constructor(private readonly client: Redis | Cluster, options: { keyPrefix: string; maxEntries: number }) {
    this.key = `${options.keyPrefix}audit`;
    this.maxEntries = String(options.maxEntries);
  }

  get failures(): number {
    return this.failed;
  }

  get unconfirmed(): number {
    return this.unsure;
  }

  append(entry: AuditEntry): void {
    if (this.buffer.length + this.waiting >= BUFFER_MAX) {
      this.failed++;
      return;
    }
    this.buffer.push(serialiseAuditEntry(entry));
    if (this.buffer.length >= BATCH_MAX) void this.flush();
    else if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), BATCH_DELAY_MS);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.buffer;
    this.buffer = [];
    this.waiting += batch.length;
    // Batches are written one after another, so the stream keeps the order entries came in.
    this.writing = this.writing.then(() => (batch.length === 0 ? undefined : this.write(batch)));
    return this.writing;
  }

  async read(filter: AuditFilter, limit: number): Promise<StoredAuditEntry[]> {
    const found: StoredAuditEntry[] = [];
    let end = '+';
    // Newest first, a page at a time, until enough match or the (capped) stream is exhausted.
    for (;;) {
      const page = await this.client.xrevrange(this.key, end, '-', 'COUNT', READ_PAGE);
      for (const [id, flat] of page) {
        const entry = parseEntry(id, flat);
        if (entry !== null && matches(entry, filter)) found.push(entry);
        if (found.length >= limit) return found;
      }
      if (page.length < READ_PAGE) return found;
      end = `(${page[page.length - 1]![0]}`;
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }

  /**
   * One EVAL per chunk, the entries as one JSON argument, each XADDed by the script exactly as a
   * plain XADD would store it. One command per entry with 26 arguments cost the gateway ~45 µs of
   * CPU per entry in ioredis alone; this costs ~6 µs (bench/RESULTS.md, "Profile"). Chunks go one
   * after another so Redis serves token lookups in between.
   *
   * A chunk that timed out was sent, and sits on the socket until Redis reads it: so after one, the
   * next chunk is sent only once Redis answers a one-key read (on the stream's node, on Cluster).
   * Otherwise the rest of the batch is dropped unsent, so a hung Redis costs one small probe per
   * command timeout, not a chunk of entries piling up in the socket's buffer.
   */
  private async write(batch: readonly string[]): Promise<void> {
    for (let start = 0; start < batch.length; start += SCRIPT_CHUNK) {
      if (this.unanswered && !(await this.answers())) {
        this.failed += batch.length - start;
        this.waiting -= batch.length - start;
        return;
      }
      const chunk = batch.slice(start, start + SCRIPT_CHUNK);
      try {
        await this.client.eval(APPEND_SCRIPT, 1, this.key, this.maxEntries, `[${chunk.join(',')}]`);
      } catch (error) {
        this.unanswered = commandMayHaveRun(error);
        if (this.unanswered) this.unsure += chunk.length;
        else this.failed += chunk.length;
      } finally {
        this.waiting -= chunk.length;
      }
    }
  }

  /** Whether Redis answers now; clears `unanswered` when it does. */
  private async answers(): Promise<boolean> {
    try {
      await this.client.exists(this.key);
    } catch {
      return false;
    }
    this.unanswered = false;
    return true;
  }
}

/** {@link AuditLog} in process memory (`redis.url: memory`), capped like the stream. */
export class MemoryAuditLog implements AuditLog {
  private readonly entries: StoredAuditEntry[] = [];
  private sequence = 0;
  readonly failures = 0;
  readonly unconfirmed = 0;

  constructor(private readonly maxEntries: number) {}

  append(entry: AuditEntry): void {
    this.entries.push({ ...entry, id: `${entry.ts}-${this.sequence++}` });
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
  }

  async read(filter: AuditFilter, limit: number): Promise<StoredAuditEntry[]> {
    return this.entries.filter((e) => matches(e, filter)).reverse().slice(0, limit);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}

/** An entry as the JSON of its `[field, value, …]` list: what waits in the buffer for the batch. */
export function serialiseAuditEntry(entry: AuditEntry): string {
  const fields: string[] = [];
  for (const [key, value] of Object.entries(entry)) if (value !== undefined) fields.push(key, String(value));
  return JSON.stringify(fields);
}

const NUMERIC = new Set(['ts', 'token', 'status']);

function parseEntry(id: string, flat: string[]): StoredAuditEntry | null {
  const entry: Record<string, string | number> = { id };
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const key = flat[i]!;
    entry[key] = NUMERIC.has(key) ? Number(flat[i + 1]) : flat[i + 1]!;
  }
  return typeof entry.ts === 'number' && typeof entry.event === 'string' ? (entry as unknown as StoredAuditEntry) : null;
}

function matches(entry: AuditEntry, filter: AuditFilter): boolean {
  return (filter.token === undefined || entry.token === filter.token)
    && (filter.account === undefined || entry.account === filter.account)
    && (filter.crate === undefined || entry.crate === filter.crate)
    && (filter.verdict === undefined || entry.verdict === filter.verdict)
    && (filter.event === undefined || entry.event === filter.event);
}
