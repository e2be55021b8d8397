/**
 * The Node flags the gateway process runs with: in `npm start` (package.json, kept equal by a
 * test), in cluster workers (added when the primary was started without them), and in the
 * benchmark's and tests' gateway processes.
 *
 * `--initial-old-space-size=64` (MiB). Every 64 KiB chunk of a streamed publish body is V8
 * external memory: Node's HTTP parser copies each into a new Buffer. With the config modules
 * loaded (ajv and its compiled schema, yaml; bisected in bench/RESULTS.md), V8 answered that
 * external memory with a full mark-compact per ~40 MB uploaded (~127 over the benchmark's
 * publishes). The gateway then spent 3.5–4.9 s of CPU per GB against the bare proxy's 1.1–1.6.
 * With the flag: ~7 mark-compacts over the same publishes, 2.2–2.6 / 1.6–2.3 s per GB in
 * full runs (10 / 50 MiB bodies; the bare proxy's 1.5–2.2 / 1.4–2.4), with less RSS growth. It cannot be set after start
 * (`v8.setFlagsFromString` leaves the heap as configured), nor through NODE_OPTIONS.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = Object.freeze(['--initial-old-space-size=64']);

/** `execArgv` plus whichever gateway flags it lacks (a flag already given, with any value, is kept). */
export function withGatewayFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string): string => flag.split('=')[0]!;
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...GATEWAY_NODE_FLAGS.filter((flag) => !given.has(named(flag)))];
}
