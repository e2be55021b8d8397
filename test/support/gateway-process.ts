/**
 * `startGatewayProcess()`: the shipped entry point (`dist/src/main.js`) in a process of its own,
 * as in production, with the shipped config/cargo.yaml plus some keys set. For what only separate
 * processes can show: revocations between processes, `workers`, signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS, withGatewayEnv } from '../../src/runtime-flags.js';
import { freePort, PATIENT_COMMAND_TIMEOUT_MS, REPO_ROOT } from './gateway.js';

const MAIN = fileURLToPath(new URL('dist/src/main.js', REPO_ROOT));
const START_TIMEOUT_MS = 10_000;

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every stdout line so far, parsed (the log). */
  logLines(): Record<string, unknown>[];
  /** The admin API's port, from its `admin API listening` line (it listens only with SCOPEGATE_ADMIN_KEY set). */
  adminPort(): number;
  stderr(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export interface GatewayProcessOptions {
  readonly upstream: string;
  readonly redisUrl: string;
  /**
   * YAML keys to set, dotted: `{ 'cache.ttl': '1m', 'redis.key_prefix': 'sg-test:x:' }`.
   * `redis.command_timeout` defaults to PATIENT_COMMAND_TIMEOUT_MS here, as for in-process test
   * gateways (startGateway's `commandTimeoutMs`): under the suite's load 100 ms is missed now and then.
   */
  readonly set?: Record<string, unknown>;
  /** When it counts as started, from its log; default: once it logs `scopegate listening`. */
  readonly ready?: (lines: readonly Record<string, unknown>[]) => boolean;
  /**
   * Started as a plain `node dist/src/main.js`, without the gateway's Node flags and malloc
   * settings (default: with them, as `npm start` starts it).
   */
  readonly plain?: boolean;
  /** Extra environment variables (e.g. `SCOPEGATE_ADMIN_KEY`). */
  readonly env?: Record<string, string>;
}

export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'sg-process-'));
  const configPath = join(dir, 'scopegate.yaml');
  const document = parseDocument(await readFile(new URL('config/cargo.yaml', REPO_ROOT), 'utf8'));
  for (const [path, value] of Object.entries({ 'redis.command_timeout': `${PATIENT_COMMAND_TIMEOUT_MS}ms`, ...options.set })) document.setIn(path.split('.'), value);
  await writeFile(configPath, document.toString());
  const runtime = options.plain === true ? withoutGatewayEnv(process.env) : withGatewayEnv(process.env);
  const child = spawn(process.execPath, [...(options.plain === true ? [] : GATEWAY_NODE_FLAGS), MAIN], {
    cwd: fileURLToPath(REPO_ROOT),
    env: {
      ...runtime, SCOPEGATE_CONFIG: configPath, SCOPEGATE_LISTEN: `127.0.0.1:${port}`, SCOPEGATE_PUBLIC_URL: url,
      SCOPEGATE_UPSTREAM: options.upstream, REDIS_URL: options.redisUrl, SCOPEGATE_ADMIN_LISTEN: '127.0.0.1:0', ...options.env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = once(child, 'exit');
  const gateway: GatewayProcess = {
    url, port, child,
    logLines: () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    adminPort: () => {
      const listen = gateway.logLines().find((l) => l.msg === 'admin API listening')?.listen;
      if (typeof listen !== 'string') throw new Error(`the admin API is not listening (is SCOPEGATE_ADMIN_KEY set?):\n${stdout}`);
      return Number(listen.slice(listen.lastIndexOf(':') + 1));
    },
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  const ready = options.ready ?? ((lines) => lines.some((l) => l.msg === 'scopegate listening'));
  while (!ready(gateway.logLines())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await gateway.stop();
      throw new Error(`the gateway process did not start:\n${stdout}\n${stderr}`);
    }
    await sleep(20);
  }
  return gateway;
}

/** `env` without the gateway's own variables, whatever started this test run. */
function withoutGatewayEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const plain = { ...env };
  for (const name of Object.keys(GATEWAY_ENV)) delete plain[name];
  return plain;
}
