/**
 * The benchmark's process tree: the upstream, the bare proxy and each gateway run in processes of
 * their own (as in production), so none of them shares an event loop with the load generator.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { withGatewayEnv, withGatewayFlags } from '../src/runtime-flags.js';

export interface Child {
  readonly url: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Resident set size now, and the peak since the last {@link resetPeak}, in bytes (Linux /proc). */
  rss(): { now: number; peak: number };
  /**
   * CPU time (user + system) the process and its live child processes (a gateway's cluster
   * workers) have used so far, in seconds (Linux /proc, 10 ms ticks).
   */
  cpuSeconds(): number;
  /** Resets the kernel's peak-RSS counter (`/proc/<pid>/clear_refs` = 5); false where not allowed. */
  resetPeak(): boolean;
  stop(): Promise<void>;
}

/** USER_HZ: 100 on every Linux architecture Node runs on (times(2)). */
const CLOCK_TICKS_PER_SECOND = 100;
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** `dist/src/main.js`, next to this compiled file's `dist/bench/`. */
export const GATEWAY_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

/**
 * Forks one of the benchmark's own servers (`upstream.js`, `bare-proxy.js`); it reports its port
 * over IPC. They get the gateway's malloc settings (src/runtime-flags.ts) as the gateway does, so
 * that the bare proxy is measured as it would best run, not handicapped against the gateway.
 */
export async function forkServer(script: string, args: string[] = [], nodeFlags: readonly string[] = []): Promise<Child> {
  const child = fork(here(script), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [...nodeFlags], env: withGatewayEnv(process.env) });
  children.add(child);
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => { throw new Error(`${script} exited at start`); })])) as [{ port: number }];
  return wrap(child, `http://127.0.0.1:${message.port}`);
}

export interface GatewayProcessOptions {
  readonly yaml: string;
  readonly env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Where its stdout (the request log) goes; default /dev/null. */
  readonly logFile?: string;
}

/** Starts `dist/src/main.js` with a config file of its own and waits until it answers HTTP. */
export async function startGatewayProcess(configPath: string, options: GatewayProcessOptions): Promise<Child> {
  await writeFile(configPath, options.yaml);
  const port = await freePort();
  const out = openSync(options.logFile ?? '/dev/null', 'a');
  const child = spawn(process.execPath, [...withGatewayFlags(options.nodeFlags ?? []), GATEWAY_MAIN], {
    env: { ...withGatewayEnv(process.env), ...options.env, SCOPEGATE_CONFIG: configPath, SCOPEGATE_LISTEN: `127.0.0.1:${port}` },
    stdio: ['ignore', out, 'inherit'],
  });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url, child);
  return wrap(child, url);
}

function wrap(child: ChildProcess, url: string): Child {
  const pid = child.pid!;
  return {
    url,
    pid,
    process: child,
    rss: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
      return { now: kib('VmRSS'), peak: kib('VmHWM') };
    },
    cpuSeconds: () => childrenOf(pid).reduce((sum, p) => sum + (ifStillThere(() => processCpuSeconds(p)) ?? 0), processCpuSeconds(pid)),
    resetPeak: () => {
      try {
        // Linux: writing 5 resets VmHWM to the current RSS (proc(5), clear_refs).
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        return true;
      } catch {
        return false;
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      children.delete(child);
    },
  };
}

/** utime + stime of one process, in seconds. */
function processCpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Live child processes of `pid`, from every thread's `children` list (proc(5)). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const listed = ifStillThere(() => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()) ?? '';
    if (listed !== '') found.push(...listed.split(' ').map(Number));
  }
  return found;
}

/** `read()`, or undefined when the thread or process it reads about has just gone (ENOENT, ESRCH). */
function ifStillThere<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw e;
  }
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited at start with code ${child.exitCode}`);
    try {
      await fetch(`${url}/scopegate-bench-ping`);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`the gateway at ${url} did not answer within 10 s`);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
