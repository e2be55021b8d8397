/**
 * The Node flags the gateway process runs with: in `npm start` (package.json, kept equal by a
 * test), in cluster workers (added when the primary was started without them), and in the
 * benchmark's and tests' gateway processes.
 *
 * `--initial-old-space-size=64` (MiB): the gateway's old generation (~11 MiB at rest, mostly
 * loaded library code: ajv, yaml, ioredis, prom-client) sits above the size at which V8 starts
 * full collections for external memory, and every 64 KiB chunk of a streamed publish body is
 * external memory (Node's HTTP parser copies each into a new Buffer). Without the flag the
 * gateway ran a mark-compact per ~40 MB uploaded and spent 2–3.5× the bare proxy's CPU per GB;
 * with it, none during the benchmark's publishes, ~1.3× the CPU per GB and less RSS growth
 * (bench/RESULTS.md, "why the gateway moves bytes more slowly"). It cannot be set after start
 * (`v8.setFlagsFromString` leaves the heap as configured) nor through NODE_OPTIONS.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = Object.freeze(['--initial-old-space-size=64']);

/** `execArgv` plus whichever gateway flags it lacks (a flag already given, with any value, is kept). */
export function withGatewayFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string): string => flag.split('=')[0]!;
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...GATEWAY_NODE_FLAGS.filter((flag) => !given.has(named(flag)))];
}
