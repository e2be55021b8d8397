/**
 * The logger: pino, JSON, one line per request written at the end (STYLE "Logs"). Credentials are
 * redacted by path as a second line of defence; the pipeline never puts them in a log object.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { createLineWriter } from './log-writer.js';

export type { Logger };

export const REDACT_PATHS = [
  'authorization', 'cookie', 'headers.authorization', 'headers.cookie',
  'req.headers.authorization', 'req.headers.cookie', '*.authorization', '*.cookie', 'token', 'credential',
];

let stdoutWriter: DestinationStream | undefined;

/** Without a destination: stdout, written once per event-loop turn (`log-writer.ts`), one writer per process. */
export function createLogger(level: string, destination: DestinationStream = (stdoutWriter ??= createLineWriter(1))): Logger {
  const options = { level, base: null, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime, serializers: { err: errorFields } };
  return pino(options, destination);
}

/**
 * An error as its type, message, code and stack, nothing else: pino's own serializer copies every
 * enumerable property, and an error carrying a request or its headers (as HTTP client errors can)
 * would log an Authorization or Cookie nested deeper than the redaction paths reach.
 */
function errorFields(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const { code } = err as { code?: unknown };
  return { type: err.constructor.name, message: err.message, ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}), stack: err.stack };
}

/**
 * The request line's keys are fixed and flat (`RequestLog`), so its redaction needs no wildcard
 * paths; `*.authorization` and `*.cookie` walk every key of every line and cost more than the
 * rest of the line together (bench/RESULTS.md, "Profile"). These stay as a second line of
 * defence should a field ever be added carelessly.
 */
export const REQUEST_REDACT_PATHS = ['authorization', 'cookie', 'token', 'credential'];

const requestLoggers = new WeakMap<Logger, Logger>();
const REQUEST_LINE_HEAD = '{"level":30,"time":"';
const REQUEST_LINE_TAIL = ',"msg":"request"}\n';

/**
 * Writes the one line per request (STYLE "Logs"): byte for byte the line
 * `requestLogger(logger).info(line, 'request')` writes (a test holds them equal), but serialised by
 * one native JSON.stringify instead of pino's key-by-key serialiser, to the same destination.
 * pino took ~12 µs of CPU per request on the benchmark machine, this ~4 (bench/RESULTS.md). A line
 * carrying a key the request redaction names goes through pino, to be redacted.
 */
export function logRequest(logger: Logger, line: object): void {
  if (!logger.isLevelEnabled('info')) return;
  for (const key of REQUEST_REDACT_PATHS) if (key in line) return requestLogger(logger).info(line, 'request');
  const fields = JSON.stringify(line);
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!;
  stream.write(`${REQUEST_LINE_HEAD}${isoNow()}"${fields.length > 2 ? `,${fields.slice(1, -1)}` : ''}${REQUEST_LINE_TAIL}`);
}

/** The ISO time of the current millisecond, formatted once per millisecond: under load, many lines share one. */
const isoClock = { ms: Number.NaN, text: '' };
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoClock.ms) {
    isoClock.ms = ms;
    isoClock.text = new Date(ms).toISOString();
  }
  return isoClock.text;
}

/** The logger for the one line per request: `logger`, with the request line's cheaper redaction. */
export function requestLogger(logger: Logger): Logger {
  let child = requestLoggers.get(logger);
  if (child === undefined) {
    child = logger.child({}, { redact: { paths: REQUEST_REDACT_PATHS, censor: '[redacted]' } });
    requestLoggers.set(logger, child);
  }
  return child;
}
