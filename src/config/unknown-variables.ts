/**
 * Environment variables named like scopegate's that scopegate does not read. An override with a
 * typo (`SCOPEGATE_UPSTREAM_URL`) is otherwise silently ignored, and the file's value, often the
 * shipped http://127.0.0.1:8000, stays in effect: an unknown YAML key is an error for the same
 * reason. Only a warning, as a deployment may set variables of its own under the prefix.
 */

import { editDistance } from './problems.js';

const PREFIX = 'SCOPEGATE_';

/** One warning per `SCOPEGATE_*` variable in `env` that is not in `known`, with the known one it likely meant. */
export function unknownVariables(env: NodeJS.ProcessEnv, known: readonly string[]): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !known.includes(name))
    .sort()
    .map((name) => `${name} is set, but scopegate reads no such variable, so it has no effect${closest(name, known)}`);
}

/** The known name a typo (two edits) or an added or dropped suffix away, as `: did you mean X?`. */
function closest(name: string, known: readonly string[]): string {
  const near = known.filter((k) => k.startsWith(PREFIX) && (editDistance(name, k) <= 2 || name.startsWith(k) || k.startsWith(name)))
    .sort((a, b) => editDistance(name, a) - editDistance(name, b))[0];
  return near === undefined ? '' : `: did you mean ${near}?`;
}
