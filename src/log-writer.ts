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
/** Delay before retrying when the descriptor would block (EAGAIN on a non-blocking pipe). */
const RETRY_MS = 5;

export interface LineWriter {
  /** pino's DestinationStream: one or more whole lines, each ending in `\n`. */
  write(lines: string): void;
  /** Writes everything buffered now, synchronously (done on process exit too). */
  flushSync(): void;
  /** Lines dropped because the buffer was full. */
  readonly dropped: number;
}

export interface LineWriterOptions {
  /** Flush on process exit; default true. */
  readonly exitHook?: boolean;
  /** The write system call; default `fs.writeSync` (tests pass a stand-in). */
  readonly writeSync?: (fd: number, data: Buffer) => number;
}

export function createLineWriter(fd: number, options: LineWriterOptions = {}): LineWriter {
  const write = options.writeSync ?? writeSync;
  let pending: string[] = [];
  let pendingSize = 0;
  /** Bytes a blocked descriptor refused, written before anything newer. */
  let stalled: Buffer | null = null;
  let scheduled = false;
  let dropped = 0;

  const flushSync = (): void => {
    scheduled = false;
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
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        stalled = buffer;
        scheduled = true;
        setTimeout(flushSync, RETRY_MS).unref();
        return;
      }
    }
  };

  if (options.exitHook !== false) process.once('exit', flushSync);
  return {
    write(lines: string): void {
      if (pendingSize + lines.length > MAX_BUFFERED) {
        dropped++;
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
    get dropped() { return dropped; },
  };
}

/** Where the next write ends: after the last whole line within {@link ATOMIC_WRITE} bytes, or after one longer line. */
export function chunkEnd(buffer: Buffer): number {
  if (buffer.length <= ATOMIC_WRITE) return buffer.length;
  const lastNewline = buffer.lastIndexOf(0x0a, ATOMIC_WRITE - 1);
  if (lastNewline >= 0) return lastNewline + 1;
  const nextNewline = buffer.indexOf(0x0a, ATOMIC_WRITE);
  return nextNewline < 0 ? buffer.length : nextNewline + 1;
}
