/**
 * Running `scopegate`: as the installed program (the compiled bin, through its shebang), or in
 * process through `runCli` with captured output (faster; same code and exit codes).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';
import { REPO_ROOT } from './gateway.js';

export const CLI_BIN = fileURLToPath(new URL('dist/src/cli/main.js', REPO_ROOT));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled program itself, as a user's shell would. */
export function spawnCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI_BIN, args, { env: { ...process.env, ...env }, cwd: fileURLToPath(REPO_ROOT), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a command line in this process, with `env` in place of the process environment. */
export async function runCliHere(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => { stdout += `${t}\n`; }, err: (t) => { stderr += `${t}\n`; }, env: { ...process.env, ...env } });
  return { code, stdout, stderr };
}

/** Writes config/cargo.yaml, edited, to a temporary file and returns its path. */
export async function writeConfig(edit: (yaml: string) => string = (y) => y): Promise<string> {
  const yaml = await readFile(new URL('config/cargo.yaml', REPO_ROOT), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'sg-cli-'));
  const path = join(dir, 'scopegate.yaml');
  await writeFile(path, edit(yaml));
  return path;
}

/** An edit that sets `redis.key_prefix` (so the CLI shares a test gateway's keys). */
export const withKeyPrefix = (prefix: string) => (yaml: string): string => yaml.replace('key_prefix: "sg:"', `key_prefix: ${JSON.stringify(prefix)}`);
