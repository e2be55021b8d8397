/**
 * The logger: pino, JSON, one line per request written at the end (STYLE "Logs"). Credentials are
 * redacted by path as a second line of defence; the pipeline never puts them in a log object.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'authorization', 'cookie', 'headers.authorization', 'headers.cookie',
  'req.headers.authorization', 'req.headers.cookie', '*.authorization', '*.cookie', 'token', 'credential',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: null, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}
