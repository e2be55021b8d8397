/** The README's configuration reference names every key of the schema, so neither drifts. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { CONFIG_SCHEMA } from '../../src/config/schema.js';

type Node = { $ref?: string; properties?: Record<string, Node>; items?: Node };
const defs = (CONFIG_SCHEMA as unknown as { $defs: Record<string, Node> }).$defs;
const resolve = (n: Node): Node => (n.$ref ? resolve(defs[n.$ref.split('/').pop()!]!) : n);

/** Leaf keys, dotted (`upstream.identity.path`); route fields are documented as one row. */
function leaves(node: Node, path: string): string[] {
  const n = resolve(node);
  if (path === 'routes') return ['routes[]'];
  if (!n.properties) return [path];
  return Object.entries(n.properties).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

test('every configuration key appears in the README reference table', async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const keys = leaves(CONFIG_SCHEMA as unknown as Node, '');
  assert.ok(keys.length >= 25, `the schema walk found only ${keys.length} keys`);
  const missing = keys.filter((key) => !readme.includes(`| \`${key}\` |`));
  assert.deepEqual(missing, []);
});
