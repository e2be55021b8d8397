/** The stdout log destination: whole lines, at most PIPE_BUF per write, nothing lost when the pipe is full. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ATOMIC_WRITE, chunkEnd, createLineWriter } from '../src/log-writer.js';

/** A stand-in for write(2) that records each call; `refuse` makes the next n calls fail with EAGAIN. */
function recorder(): { writes: Buffer[]; refuse: number; writeSync: (fd: number, data: Buffer) => number } {
  const r = {
    writes: [] as Buffer[],
    refuse: 0,
    writeSync: (_fd: number, data: Buffer): number => {
      if (r.refuse > 0) {
        r.refuse--;
        throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
      }
      r.writes.push(Buffer.from(data));
      return data.length;
    },
  };
  return r;
}

const line = (i: number, size = 100): string => `${JSON.stringify({ i, pad: 'é'.repeat(size) })}\n`;

test('lines written in one turn of the event loop go out together, after the turn, in order', async () => {
  const r = recorder();
  const writer = createLineWriter(1, { exitHook: false, writeSync: r.writeSync });
  const lines = [0, 1, 2].map((i) => line(i));
  for (const l of lines) writer.write(l);
  assert.equal(r.writes.length, 0, 'nothing is written before the turn ends');
  await turn();
  assert.equal(r.writes.length, 1);
  assert.equal(r.writes[0]!.toString(), lines.join(''));
});

test('no write is longer than PIPE_BUF, and every write ends at the end of a line', async () => {
  const r = recorder();
  const writer = createLineWriter(1, { exitHook: false, writeSync: r.writeSync });
  // Multi-byte text: 300 UTF-16 units, ~500 bytes a line; 100 lines span many 4 KiB writes.
  const lines = Array.from({ length: 100 }, (_, i) => line(i, 250));
  for (const l of lines) writer.write(l);
  await turn();
  assert.ok(r.writes.length > 10);
  for (const w of r.writes) {
    assert.ok(w.length <= ATOMIC_WRITE, `a write of ${w.length} bytes`);
    assert.equal(w[w.length - 1], 0x0a);
  }
  assert.equal(Buffer.concat(r.writes).toString(), lines.join(''));
});

test('a single line longer than PIPE_BUF is written whole, on its own', () => {
  const long = Buffer.from(`${'x'.repeat(ATOMIC_WRITE * 2)}\nnext\n`);
  assert.equal(chunkEnd(long), ATOMIC_WRITE * 2 + 1);
  assert.equal(chunkEnd(Buffer.from('short\n')), 6);
});

test('a pipe that is full for now (EAGAIN) delays lines but loses none and keeps their order', async () => {
  const r = recorder();
  const writer = createLineWriter(1, { exitHook: false, writeSync: r.writeSync });
  r.refuse = 3;
  writer.write(line(1));
  await turn();
  writer.write(line(2));
  await sleep(50);
  writer.write(line(3));
  await turn();
  assert.equal(Buffer.concat(r.writes).toString(), [1, 2, 3].map((i) => line(i)).join(''), 'all three, in order, and no report of dropped lines');
});

/** The lines written, parsed. */
const written = (r: ReturnType<typeof recorder>): { i?: number; level?: number; dropped?: number; msg?: string }[] =>
  Buffer.concat(r.writes).toString().trim().split('\n').map((l) => JSON.parse(l));

test('lines beyond the buffer limit are dropped, and the next write starts by saying how many', async () => {
  const r = recorder();
  const writer = createLineWriter(1, { exitHook: false, writeSync: r.writeSync, maxBuffered: 1_000 });
  r.refuse = 1;
  const fit = Math.floor(1_000 / line(0).length); // 117 characters a line: 8 fit
  for (let i = 0; i < 20; i++) writer.write(line(i));
  await sleep(30);
  writer.write(line(99));
  await turn();
  const [report, ...rest] = written(r);
  assert.equal(report!.level, 40);
  assert.equal(report!.dropped, 20 - fit);
  assert.match(report!.msg!, /log lines dropped/);
  assert.deepEqual(rest.map((l) => l.i), [...Array.from({ length: fit }, (_, i) => i), 99], 'the kept lines, in order, reported once');
});

test('a write error other than EAGAIN (EPIPE) neither throws nor stops later lines, which report the loss', async () => {
  let fail = true;
  const writes: Buffer[] = [];
  const writer = createLineWriter(1, {
    exitHook: false,
    writeSync: (_fd, data) => {
      if (fail) throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
      writes.push(Buffer.from(data));
      return data.length;
    },
  });
  writer.write(line(1) + line(2));
  await turn();
  fail = false;
  writer.write(line(3));
  await turn();
  const lines = Buffer.concat(writes).toString().trim().split('\n').map((l) => JSON.parse(l) as { i?: number; dropped?: number });
  assert.equal(lines[0]!.dropped, 2);
  assert.equal(lines[1]!.i, 3);
});

test('draining (at exit) waits out a pipe that is full for now, and writes every line in order', () => {
  const r = recorder();
  const writer = createLineWriter(1, { exitHook: false, writeSync: r.writeSync });
  for (let i = 0; i < 5; i++) writer.write(line(i));
  r.refuse = 3;
  const started = Date.now();
  writer.drainSync();
  assert.ok(Date.now() - started >= 10, 'it waited between refusals');
  const lines = Buffer.concat(r.writes).toString().trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
  assert.deepEqual(lines, [0, 1, 2, 3, 4]);
});

test('draining gives up on a pipe that stays full, after the time it was given', () => {
  const r = recorder();
  const writer = createLineWriter(1, { exitHook: false, writeSync: r.writeSync });
  writer.write(line(0));
  r.refuse = Number.POSITIVE_INFINITY;
  const started = Date.now();
  writer.drainSync(50);
  const waited = Date.now() - started;
  assert.ok(waited >= 45 && waited < 1_000, `waited ${waited} ms`);
  assert.deepEqual(r.writes, []);
});

test('at exit, a stdout pipe its reader has not emptied yet is waited for: no line is lost', async () => {
  // ~1 MB of lines into a pipe that nobody reads for 300 ms, then exit at once: the exit hook is
  // the only thing left to write what the full pipe refused. The child's stdout is made
  // non-blocking first (a libuv handle on fd 1 does that, as a parent sharing the pipe can), so
  // a full pipe answers EAGAIN instead of blocking the write.
  const script = `
    import net from 'node:net';
    new net.Socket({ fd: 1, readable: false });
    import { createLogger } from ${JSON.stringify(fileURLToPath(new URL('../src/log.js', import.meta.url)))};
    const logger = createLogger('info');
    for (let i = 0; i < 5000; i++) logger.info({ i, pad: 'x'.repeat(150) }, 'last words');
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.pause();
  await sleep(300);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c)).resume();
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  const lines = Buffer.concat(chunks).toString().trim().split('\n').map((l) => JSON.parse(l) as { i: number });
  assert.equal(lines.length, 5000);
  assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 5000 }, (_, i) => i));
});

test('lines still buffered when the process exits are written', () => {
  const script = `
    import { createLogger } from ${JSON.stringify(fileURLToPath(new URL('../src/log.js', import.meta.url)))};
    const logger = createLogger('info');
    for (let i = 0; i < 50; i++) logger.info({ i }, 'last words');
    process.exit(0);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { i: number; msg: string });
  assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 50 }, (_, i) => i));
});
