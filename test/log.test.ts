/** The request line: what pino would write, written faster; a secret-named key still goes through pino's redaction. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, logRequest, requestLogger } from '../src/log.js';

function capture(level = 'info'): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString('utf8')); done(); } });
  return { logger: createLogger(level, sink), lines };
}

/** Both lines with their `time` set to the same value. */
const sameTime = (line: string): string => line.replace(/"time":"[^"]+"/, '"time":"T"');

test('the request line is byte for byte what pino writes for it', () => {
  const rows: object[] = [
    { 'req.id': '3jd-1', 'req.method': 'DELETE', 'req.path': '/api/v1/crates/foo/1.0.0/yank', 'route.id': 'yank', 'token.id': 7, verdict: 'allow', status: 200, duration_ms: 0.123 },
    { 'req.id': 'x', 'req.path': '/a"b\\c\n\u0001é✓', 'upstream.error': undefined, reason: 'quote " and tab \t', status: Number.NaN },
    {},
  ];
  for (const row of rows) {
    const ours = capture();
    const theirs = capture();
    logRequest(ours.logger, row);
    requestLogger(theirs.logger).info(row, 'request');
    assert.equal(sameTime(ours.lines.join('')), sameTime(theirs.lines.join('')));
    assert.doesNotThrow(() => JSON.parse(ours.lines.join('')));
  }
});

test('a key the request redaction names is redacted, and a disabled level writes nothing', () => {
  const { logger, lines } = capture();
  logRequest(logger, { 'req.id': '1', authorization: 'sg_secret' });
  assert.ok(!lines.join('').includes('sg_secret'));
  assert.match(lines.join(''), /"authorization":"\[redacted\]"/);
  const quiet = capture('warn');
  logRequest(quiet.logger, { 'req.id': '2' });
  assert.deepEqual(quiet.lines, []);
});

test('the request line\'s time is the current time, formatted as pino does, and it moves on', async () => {
  const { logger, lines } = capture();
  const timeOf = (line: string): string => JSON.parse(line).time as string;
  const before = Date.now();
  logRequest(logger, { 'req.id': '1' });
  const first = timeOf(lines[0]!);
  assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Date.parse(first) >= before && Date.parse(first) <= Date.now());
  await new Promise((resolve) => setTimeout(resolve, 5));
  logRequest(logger, { 'req.id': '2' });
  const second = timeOf(lines[1]!);
  assert.ok(Date.parse(second) >= Date.parse(first) + 5, `${second} is at least 5 ms after ${first}`);
});

test('an error is logged as type, message, code and stack: nothing it carries besides', () => {
  const { logger, lines } = capture();
  const err = Object.assign(new Error('upstream said no'), { code: 'E_UP', headers: { authorization: 'sg_nested_secret' }, req: { headers: { cookie: 'session=nested' } } });
  logger.error({ err }, 'failed');
  const line = JSON.parse(lines.join('')) as { err: Record<string, unknown> };
  assert.deepEqual(Object.keys(line.err).sort(), ['code', 'message', 'stack', 'type']);
  assert.equal(line.err.message, 'upstream said no');
  assert.equal(line.err.code, 'E_UP');
  assert.ok(!lines.join('').includes('nested'));
});
