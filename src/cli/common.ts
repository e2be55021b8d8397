/**
 * What every `scopegate` command shares: exit codes, flag parsing (`node:util` parseArgs, strict),
 * loading the config and opening the store exactly as the server does.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { createLogger, type Logger } from '../log.js';
import { openBackends, type Backends } from '../store/open-store.js';
import { StoreUnavailableError } from '../store/token-store.js';

/** Exit codes scripts can rely on (README "CLI"). */
export const EXIT = {
  OK: 0,
  /** Something failed at run time: Redis down, the registry or a webhook unreachable. */
  RUNTIME: 1,
  /** Bad flags or arguments, or an invalid config file. */
  USAGE: 2,
  /** The thing asked about does not exist, or (explain) the request would be denied. */
  NOT_FOUND_OR_DENIED: 3,
} as const;

/** Ends a command with a message on stderr and an exit code. */
export class CliError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Output sinks, so tests and the demo can capture what a command prints. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
};

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** parseArgs, with its errors turned into usage errors that point at `--help`. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(EXIT.USAGE, `${(e as Error).message}\nsee: scopegate ${command} --help`);
  }
}

/** Loads the config as the server does (`--config`, else $SCOPEGATE_CONFIG, else config/cargo.yaml). */
export async function loadCliConfig(path: string | undefined, env: NodeJS.ProcessEnv): Promise<GatewayConfig> {
  const loaded = await loadConfig({ path, env });
  if (!loaded.ok) {
    const count = loaded.problems.length;
    throw new CliError(EXIT.USAGE, [`the configuration is invalid (${count} problem${count === 1 ? '' : 's'}):`, ...loaded.problems.map((p) => `  - ${p}`)].join('\n'));
  }
  return loaded.config;
}

/** Opens the server's store; Redis not answering within 2 s is a runtime failure (exit 1). */
export async function openCliBackends(config: GatewayConfig): Promise<Backends & { logger: Logger }> {
  // Log lines (reminders, "memory store" warnings) go to stderr, so stdout stays parseable.
  const logger = createLogger(config.log.level, process.stderr);
  try {
    const backends = await openBackends(config, logger, { commandTimeoutMs: Math.max(config.redis.commandTimeoutMs, 2_000), requireReady: true });
    return { ...backends, logger };
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) throw e;
    // Which Redis, and where it was set: the CLI may well read another config or environment
    // than the gateway it is meant to act on.
    throw new CliError(EXIT.RUNTIME, `redis is not reachable at ${redisTarget(config)} (redis.url, or REDIS_URL): ${e.message}`);
  }
}

/** The configured Redis as messages name it: its URL without a password, or the Sentinel or Cluster nodes. */
function redisTarget({ redis }: GatewayConfig): string {
  const nodes = redis.sentinels ?? redis.clusterNodes;
  if (nodes !== null) return nodes.map(({ host, port }) => `${host}:${port}`).join(', ');
  const url = new URL(redis.url);
  if (url.password !== '') url.password = '***';
  return url.href;
}

/** A store failure as a runtime CliError; anything else is rethrown. */
export function runtimeError(e: unknown): unknown {
  return e instanceof StoreUnavailableError ? new CliError(EXIT.RUNTIME, `redis is not reachable: ${e.message}`) : e;
}

/** Runs `body` with the store open, closing it afterwards; store failures exit 1. */
export async function withBackends<T>(config: GatewayConfig, body: (b: Backends & { logger: Logger }) => Promise<T>): Promise<T> {
  const backends = await openCliBackends(config);
  try {
    return await body(backends);
  } catch (e) {
    throw runtimeError(e);
  } finally {
    await backends.close();
  }
}

/** Renders rows as aligned columns under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** A positive integer argument, or a usage error naming it and, by default, calling it a token id. */
export function parseId(value: string | undefined, what: string, kind = 'a token id (a positive whole number)'): number {
  if (value === undefined || !/^\d{1,15}$/.test(value) || Number(value) === 0) throw new CliError(EXIT.USAGE, `${what} must be ${kind}, got ${JSON.stringify(value ?? '')}`);
  return Number(value);
}
