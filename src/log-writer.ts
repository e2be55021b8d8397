/**
 * The gateway's log destination: lines are collected during one turn of the event loop and written
 * with one synchronous `write(2)` per 4 KiB of whole lines when the turn ends (`setImmediate`).
 *
 * pino's default destination (sonic-boom, asynchronous) hands writes to libuv's thread pool: a
 * thread wake-up and a completion callback per batch, and a `Buffer.byteLength` per line. A
 * synchronous write per line instead costs a system call per request. One write per turn costs
 * one per several dozen requests under load, and a line waits at most one loop turn
 * (bench/RESULTS.md, "Where the time goes", has the numbers).
 *
 * Writes never exceed PIPE_BUF (4096 bytes, POSIX's atomic pipe write) unless a single line does:
 * with `workers`, several processes share one stdout pipe, and a larger write could interleave
 * with another worker's in the middle of a line.
 */
import { writeSync } from 'node:fs';

/** POSIX guarantees writes up to PIPE_BUF bytes to a pipe are atomic; Linux's is 4096. */
export const ATOMIC_WRITE = 4096;
/** Beyond this many buffered characters (stdout blocked for long), new lines are dropped and counted. */
const MAX_BUFFERED = 16 * 1024 * 1024;
/** pino's level number for `warn`, for the line that reports dropped lines. */
const WARN = 40;
/** Delay before retrying when the descriptor would block (EAGAIN on a non-blocking pipe). */
const RETRY_MS = 5;
/** At exit, how long a full stdout is waited for before the lines still refused are given up. */
const EXIT_WAIT_MS = 2_000;
/** Blocks the thread for a while without spinning (`Atomics.wait` on a cell nothing notifies). */
const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export interface LineWriter {
  /** pino's DestinationStream: one or more whole lines, each ending in `\n`. */
  write(lines: string): void;
  /** Writes everything buffered now, synchronously; what a full pipe refuses waits for a timer. */
  flushSync(): void;
  /**
   * Writes everything buffered now and, while the descriptor refuses (EAGAIN), waits and tries
   * again, blocking, for at most `maxWaitMs`. Done on process exit, when no timer will run again.
   */
  drainSync(maxWaitMs?: number): void;
}

export interface LineWriterOptions {
  /** Flush on process exit; default true. */
  readonly exitHook?: boolean;
  /** The write system call; default `fs.writeSync` (tests pass a stand-in). */
  readonly writeSync?: (fd: number, data: Buffer) => number;
  /** Characters buffered at most while the descriptor is blocked; default 16 Mi. */
  readonly maxBuffered?: number;
}

/**
 * Lines are never lost silently: those dropped because stdout stayed blocked past the buffer
 * limit, or refused by an error other than EAGAIN (EPIPE: the reader went away), are counted, and
 * the next write that succeeds starts with a `warn` line saying how many. A failing log write never
 * throws into the request path or takes the process down.
 */
export function createLineWriter(fd: number, options: LineWriterOptions = {}): LineWriter {
  const write = options.writeSync ?? writeSync;
  const maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
  let pending: string[] = [];
  let pendingSize = 0;
  /** Bytes a blocked descriptor refused, written before anything newer. */
  let stalled: Buffer | null = null;
  let scheduled = false;
  let dropped = 0;

  const flushSync = (): void => {
    scheduled = false;
    if (dropped > 0 && stalled === null) {
      pending.unshift(`{"level":${WARN},"time":"${new Date().toISOString()}","dropped":${dropped},"msg":"log lines dropped: stdout was blocked or closed"}\n`);
      dropped = 0;
    }
    const fresh = pending.length === 0 ? null : Buffer.from(pending.join(''));
    pending = [];
    pendingSize = 0;
    let buffer = stalled === null ? fresh : fresh === null ? stalled : Buffer.concat([stalled, fresh]);
    stalled = null;
    while (buffer !== null && buffer.length > 0) {
      const end = chunkEnd(buffer);
      try {
        buffer = buffer.subarray(write(fd, buffer.subarray(0, end)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          stalled = buffer;
          scheduled = true;
          setTimeout(flushSync, RETRY_MS).unref();
          return;
        }
        dropped += countLines(buffer);
        return;
      }
    }
  };

  const drainSync = (maxWaitMs = EXIT_WAIT_MS): void => {
    const deadline = Date.now() + maxWaitMs;
    flushSync();
    while (stalled !== null && Date.now() < deadline) {
      pause(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())));
      flushSync();
    }
  };

  // The last lines (a shutdown's, a crash's) matter most: a stdout that is full for now is waited for.
  if (options.exitHook !== false) process.once('exit', () => drainSync());
  return {
    write(lines: string): void {
      if (pendingSize + lines.length > maxBuffered) {
        dropped += countLines(lines);
        return;
      }
      pending.push(lines);
      pendingSize += lines.length;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushSync);
      }
    },
    flushSync,
    drainSync,
  };
}

function countLines(text: string | Buffer): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

/** Where the next write ends: after the last whole line within {@link ATOMIC_WRITE} bytes, or after one longer line. */
export function chunkEnd(buffer: Buffer): number {
  if (buffer.length <= ATOMIC_WRITE) return buffer.length;
  const lastNewline = buffer.lastIndexOf(0x0a, ATOMIC_WRITE - 1);
  if (lastNewline >= 0) return lastNewline + 1;
  const nextNewline = buffer.indexOf(0x0a, ATOMIC_WRITE);
  return nextNewline < 0 ? buffer.length : nextNewline + 1;
}
