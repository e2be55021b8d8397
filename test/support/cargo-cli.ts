/**
 * Helpers that drive the real `cargo` binary against a sparse registry named `gw`, fully offline
 * (no crates.io access), in throwaway directories. Configuration follows wire-facts §1.6.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How {@link runCargo} runs cargo. */
export interface CargoEnv {
  /** A directory made by {@link makeCargoHome}. */
  cargoHome: string;
  cwd?: string;
  /** Sent as the `gw` registry's token via `CARGO_REGISTRIES_GW_TOKEN`. */
  token?: string;
  /** Written to cargo's stdin (`cargo login` reads the token there); otherwise stdin is closed. */
  input?: string;
}

/** What a cargo run produced. `code` is -1 when cargo was killed by the timeout. */
export interface CargoResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link makeCrate}. */
export interface CrateOptions {
  /** `publish = [...]` in Cargo.toml; default `["gw"]`, `false` leaves the key out. */
  publish?: string[] | false;
  /** Dependency name → inline TOML value, e.g. `{ version = "0.1", registry = "gw" }`. */
  dependencies?: Record<string, string>;
  description?: string;
}

/** Kill cargo after this long; cargo's own post-publish poll is at most 60 s (wire-facts §1.1). */
const CARGO_TIMEOUT_MS = 60_000;

const tempDirs: string[] = [];

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory the helpers created; call it from `after()`. */
export async function cleanup(): Promise<void> {
  const dirs = tempDirs.splice(0);
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * Creates a `CARGO_HOME` whose config.toml declares the registry `gw` at `indexUrl`
 * (e.g. `sparse+http://127.0.0.1:P/index/`, which must end in `/`, wire-facts §1.5).
 * `cargo:token` is configured explicitly because an `auth-required` registry refuses to run
 * without a provider, and `net.retry = 0` stops retry delays on 5xx (wire-facts §1.6).
 */
export async function makeCargoHome(indexUrl: string): Promise<string> {
  const home = await makeTempDir('scopegate-cargo-home-');
  const config = [
    '[registries.gw]',
    `index = ${JSON.stringify(indexUrl)}`,
    'credential-provider = "cargo:token"',
    '',
    '[net]',
    'retry = 0',
    '',
  ].join('\n');
  await writeFile(join(home, 'config.toml'), config);
  return home;
}

/** Creates a library crate (Cargo.toml + src/lib.rs) with the license and description publish wants. */
export async function makeCrate(name: string, version: string, opts: CrateOptions = {}): Promise<string> {
  const dir = await makeTempDir(`scopegate-crate-${name}-`);
  const publish = opts.publish ?? ['gw'];
  const lines = [
    '[package]',
    `name = ${JSON.stringify(name)}`,
    `version = ${JSON.stringify(version)}`,
    'edition = "2021"',
    'license = "MIT"',
    `description = ${JSON.stringify(opts.description ?? `test crate ${name}`)}`,
    ...(publish === false ? [] : [`publish = ${JSON.stringify(publish)}`]),
    '',
    '[dependencies]',
    ...Object.entries(opts.dependencies ?? {}).map(([dep, spec]) => `${dep} = ${spec}`),
    '',
  ];
  await writeFile(join(dir, 'Cargo.toml'), lines.join('\n'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'lib.rs'), 'pub fn answer() -> u32 {\n    42\n}\n');
  return dir;
}

/**
 * Runs `cargo args…` with an isolated `CARGO_HOME`. Inherited `CARGO_*` variables are dropped so
 * the developer's own config or tokens never leak in; HTTP/2 multiplexing is off so cargo sends
 * no h2c upgrade headers (wire-facts §1.5).
 */
export function runCargo(args: string[], env: CargoEnv): Promise<CargoResult> {
  return new Promise((resolve) => {
    const child = spawn('cargo', args, {
      cwd: env.cwd ?? env.cargoHome,
      env: cargoEnvironment(env),
      stdio: [env.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: CARGO_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => void (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    if (env.input !== undefined) child.stdin!.end(env.input);
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: `${stderr}${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function cargoEnvironment(env: CargoEnv): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('CARGO_'));
  const result: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    CARGO_HOME: env.cargoHome,
    CARGO_HTTP_MULTIPLEXING: 'false',
    CARGO_TERM_COLOR: 'never',
  };
  if (env.token !== undefined) result.CARGO_REGISTRIES_GW_TOKEN = env.token;
  return result;
}

/** `cargo publish --registry gw --no-verify --allow-dirty` in `crateDir` (no compile step). */
export function cargoPublish(crateDir: string, env: CargoEnv): Promise<CargoResult> {
  return runCargo(['publish', '--registry', 'gw', '--no-verify', '--allow-dirty'], { ...env, cwd: crateDir });
}
