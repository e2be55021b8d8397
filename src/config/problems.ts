/**
 * Config problems in one style: the YAML path (or the environment variable the value came from),
 * the value, what is wrong, and what is expected:
 * `routes[3].scope "yanks" is not a scope: expected one of read, publish-new, …`.
 * ajv's errors are translated here, one message per cause (no `anyOf` cascades).
 */
import type { ErrorObject } from 'ajv/dist/2020.js';

/** A problem and the JSON pointer of the value it is about. */
export interface Problem {
  readonly pointer: string;
  readonly message: string;
}

/** Names a value in messages, given its JSON pointer. */
export type Labeler = (pointer: string) => string;

/** The parts of a schema node that messages use. */
export interface DocumentedNode {
  readonly title?: string;
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly examples?: readonly unknown[];
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** JSON pointer to YAML path: `/routes/3/scope` → `routes[3].scope`. */
export function yamlPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^[0-9]+$/.test(key) ? `[${key}]` : path === '' ? key : `.${key}`;
  }
  return path;
}

/** `<label> <value> is not a <title>: expected <enum or examples>`. */
export function notA(label: string, value: unknown, node: DocumentedNode): string {
  const noun = node.title ?? nounOfType(node.type);
  return `${label} ${show(value)} is not ${article(noun)} ${noun}: expected ${expected(node)}`;
}

/**
 * A value as messages show it: strings quoted, the rest as compact JSON, long ones cut, and the
 * password of a URL (`redis://:secret@host`) masked: problems go to stderr and the journal.
 */
export function show(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? withoutPassword(value) : value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `scheme://user:password@rest` → `scheme://user:***@rest`; up to the last `@`, as a password may hold one unencoded. */
function withoutPassword(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:).*@/, '$1***@');
}

/** Translates ajv's errors (validated with `allErrors`, `verbose`) into problems, one per cause. */
export function schemaProblems(errors: readonly ErrorObject[], label: Labeler): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of relevantErrors(errors)) {
    const problem = translate(error, label);
    if (seen.has(problem.message)) continue;
    seen.add(problem.message);
    problems.push(problem);
  }
  return problems;
}

/**
 * Drops consequences: a keyword of a node whose `type` the value does not have (only that node's
 * `type` error says something), every error of an `anyOf` branch of the wrong type or a `const`
 * one, and the `anyOf` error itself when a branch of the right type explains what is wrong.
 */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const isAlternative = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';
  const alternatives = new Set(errors.filter(isAlternative).map((e) => e.instancePath));
  const kept = errors.filter((e) => {
    if (isAlternative(e)) return false;
    // A branch that is one fixed value (`workers`: `auto`) has no title to say what the value
    // should have been; the alternatives' own node does ("a worker count: e.g. 1, auto, 4").
    if (e.keyword === 'const' && alternatives.has(e.instancePath)) return false;
    const node = e.parentSchema as DocumentedNode | undefined;
    if (node?.type === undefined || hasType(e.data, node.type)) return true;
    return !alternatives.has(e.instancePath) && e.keyword === 'type';
  });
  const explained = (at: string) => kept.some((k) => k.instancePath === at || k.instancePath.startsWith(`${at}/`));
  return errors.filter((e) => (isAlternative(e) ? !explained(e.instancePath) : kept.includes(e)));
}

function translate(error: ErrorObject, label: Labeler): Problem {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const node = (error.parentSchema ?? {}) as DocumentedNode;
  switch (error.keyword) {
    case 'required': {
      const pointer = `${at}/${escape(String(params.missingProperty))}`;
      return { pointer, message: `${label(pointer)} is required` };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const pointer = `${at}/${escape(name)}`;
      return { pointer, message: `${label(pointer)} is not a known property: ${suggest(name, Object.keys(node.properties ?? {}))}` };
    }
    case 'minItems':
      return { pointer: at, message: `${label(at)} is empty: expected at least ${String(params.limit)} entry` };
    case 'minimum':
    case 'maximum':
      return { pointer: at, message: `${label(at)} ${show(error.data)} is out of range: expected at ${error.keyword === 'minimum' ? 'least' : 'most'} ${String(params.limit)}` };
    case 'uniqueItems': {
      const list = error.data as unknown[];
      return { pointer: at, message: `${label(at)} lists ${show(list[Number(params.j)])} twice` };
    }
    default:
      return { pointer: at, message: notA(label(at), error.data, node) };
  }
}

/** What a value of this node looks like: its `enum`, keys or `examples`. */
export function expected(node: DocumentedNode): string {
  if (node.enum !== undefined) return `one of ${node.enum.map(String).join(', ')}`;
  if (node.type === 'boolean') return 'true or false';
  if (node.type === 'object' && node.properties !== undefined) return `a mapping with keys ${Object.keys(node.properties).join(', ')}`;
  if (node.examples !== undefined) return `e.g. ${node.examples.map(showExample).join(', ')}`;
  return `a ${nounOfType(node.type)}`;
}

function showExample(example: unknown): string {
  if (Array.isArray(example)) return `[${example.map(showExample).join(', ')}]`;
  return typeof example === 'string' ? example : JSON.stringify(example);
}

function suggest(name: string, known: readonly string[]): string {
  const ranked = known.map((k) => ({ k, d: editDistance(name, k) })).sort((a, b) => a.d - b.d);
  const best = ranked[0];
  const close = best !== undefined && best.d <= Math.max(1, Math.floor(best.k.length / 4));
  return close ? `did you mean ${best.k}?` : `expected one of ${known.join(', ')}`;
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function hasType(value: unknown, type: string | readonly string[]): boolean {
  const types: readonly string[] = typeof type === 'string' ? [type] : type;
  return types.some((t) => {
    if (t === 'null') return value === null;
    if (t === 'array') return Array.isArray(value);
    if (t === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    if (t === 'integer') return Number.isInteger(value);
    return typeof value === t;
  });
}

function nounOfType(type: string | readonly string[] | undefined): string {
  const nouns: Record<string, string> = { object: 'mapping', array: 'list', integer: 'whole number', boolean: 'boolean' };
  const first = typeof type === 'string' ? type : type?.[0];
  return first === undefined ? 'value' : (nouns[first] ?? first);
}

function article(noun: string): string {
  return /^(?:[aeio]|up|http)/i.test(noun) ? 'an' : 'a';
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
