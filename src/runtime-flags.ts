/**
 * What the gateway process runs with besides its config: Node flags and glibc malloc settings.
 * `npm start` sets both (package.json, kept equal by a test); cluster workers get whatever the
 * primary lacks, and `scopegate serve` started without them serves through one such worker
 * (src/serve.ts); the benchmark's and the tests' gateway processes use them; a plain
 * `node dist/src/main.js` started without them logs a warning naming what is missing. Neither
 * can take effect after the process has started, which is why they live outside the config.
 *
 * `--initial-old-space-size=64` (MiB). Every 64 KiB chunk of a streamed publish body is V8
 * external memory: Node's HTTP parser copies each into a new Buffer. With the config modules
 * loaded (ajv and its compiled schema, yaml; bisected in bench/RESULTS.md), V8 answered that
 * external memory with a full mark-compact per ~40 MB uploaded (~127 over the benchmark's
 * publishes). The gateway then spent 3.5–4.9 s of CPU per GB against the bare proxy's 1.1–1.6.
 * With the flag: ~7 mark-compacts over the same publishes, with less RSS growth. It cannot be
 * set after start (`v8.setFlagsFromString` leaves the heap as configured), nor through NODE_OPTIONS.
 *
 * `MALLOC_TRIM_THRESHOLD_=67108864` (64 MiB) and `MALLOC_TOP_PAD_=33554432` (32 MiB). Those body
 * chunks are malloc'd, and V8 frees the dead ones in bulk at a collection. With glibc's default
 * (trim once 128 KiB of the heap's top is free, moving up to 64 MiB only after an mmap'd block is
 * freed) the freed top went back to the kernel each time and the next chunks faulted in fresh
 * pages: 50,000–230,000 page faults per GB through a gateway that had served a 10,000-token
 * rotation, at 2–7 s of CPU per GB. A trim threshold alone (32 MiB) brought that to ~20–2,000
 * faults and ~1.0–1.6 s per GB, but a collection that freed more than the threshold at once
 * (after the process had been idle) still trimmed the top back to glibc's 128 KiB pad, and the
 * next publishes re-faulted 22–32 MiB. The pad keeps 32 MiB in place after a trim: no regrowth
 * in a full benchmark run. Both proxies of the benchmark run with these settings. glibc reads
 * them once, at start; other C libraries ignore them. The cost: up to 64 MiB of freed memory
 * stays resident for reuse.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = Object.freeze(['--initial-old-space-size=64']);

/** Environment variables the gateway process starts with (an operator's own value is kept). */
export const GATEWAY_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024),
  MALLOC_TOP_PAD_: String(32 * 1024 * 1024),
});

/** `execArgv` plus whichever gateway flags it lacks (a flag already given, with any value, is kept). */
export function withGatewayFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string): string => flag.split('=')[0]!;
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...GATEWAY_NODE_FLAGS.filter((flag) => !given.has(named(flag)))];
}

/** `env` plus whichever of {@link GATEWAY_ENV} it does not set. */
export function withGatewayEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...GATEWAY_ENV, ...env };
}

/** What this process was started without: the missing flags, and the missing variables as `NAME=value`. */
export function missingGatewaySettings(execArgv: readonly string[], env: NodeJS.ProcessEnv): { flags: string[]; variables: string[] } {
  const flags = withGatewayFlags(execArgv).slice(execArgv.length);
  const variables = Object.entries(GATEWAY_ENV).filter(([name]) => env[name] === undefined).map(([name, value]) => `${name}=${value}`);
  return { flags, variables };
}
