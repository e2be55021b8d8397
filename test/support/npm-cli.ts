/**
 * Drives the real `npm` CLI against the gateway, in throwaway directories: each run gets its own
 * user config (`registry=` the gateway, `//host:port/:_authToken=` the token, wire-facts §3.4),
 * cache and global config, and an environment stripped of every `npm_*` variable the test runner
 * itself may have inherited (`npm test` sets many), so nothing touches ~/.npmrc or another run.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NpmResult {
  /** The exit code; -1 when npm was killed by the timeout. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Kill npm after this long: every command here talks to local servers only. */
const NPM_TIMEOUT_MS = 60_000;

const tempDirs: string[] = [];

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory the helpers created; call it from `after()`. */
export async function cleanupNpm(): Promise<void> {
  const dirs = tempDirs.splice(0);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A package directory with a package.json for `name@version`, ready for `npm publish`. */
export async function makeNpmPackage(name: string, version: string): Promise<string> {
  const dir = await makeTempDir('scopegate-npm-pkg-');
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name, version, description: 'scopegate e2e package', main: 'index.js', license: 'MIT' }, null, 2)}\n`);
  await writeFile(join(dir, 'index.js'), 'module.exports = 42;\n');
  return dir;
}

/** A directory for {@link runNpm}'s `home`, so a test can read the user config (`npmrc`) npm left behind. */
export function makeNpmHome(): Promise<string> {
  return makeTempDir('scopegate-npm-home-');
}

/**
 * Runs `npm <args>` against `registryUrl` (the gateway) with `token` as the registry's
 * `_authToken`, so npm sends `Authorization: Bearer <token>` on every request. Its user config is
 * `<home>/npmrc`, in a fresh `home` unless one is given; `env` adds to npm's environment.
 */
export async function runNpm(args: readonly string[], options: { registryUrl: string; token?: string; cwd?: string; home?: string; npmrc?: string; env?: Record<string, string> }): Promise<NpmResult> {
  const home = options.home ?? (await makeNpmHome());
  const host = new URL(options.registryUrl).host;
  const userconfig = join(home, 'npmrc');
  const lines = [`registry=${options.registryUrl}/`];
  if (options.token !== undefined) lines.push(`//${host}/:_authToken=${options.token}`);
  // `npmrc`: the user config as given (a setup under test), instead of the one built from the options.
  await writeFile(userconfig, `${options.npmrc ?? lines.join('\n')}\n`);
  await writeFile(join(home, 'globalnpmrc'), '');
  const cwd = options.cwd ?? join(home, 'work');
  await mkdir(cwd, { recursive: true });
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  Object.assign(env, {
    HOME: home,
    npm_config_userconfig: userconfig,
    npm_config_globalconfig: join(home, 'globalnpmrc'),
    npm_config_cache: join(home, 'cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_color: 'false',
    npm_config_fetch_retries: '0',
    npm_config_progress: 'false',
    ...options.env,
  });
  return new Promise((resolve, reject) => {
    const child = spawn('npm', [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const timer = setTimeout(() => child.kill('SIGKILL'), NPM_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
