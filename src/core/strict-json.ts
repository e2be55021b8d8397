/**
 * JSON with unique keys. Pure.
 *
 * RFC 8259 §4 says object names "SHOULD be unique" and leaves duplicates to the parser: JSON.parse
 * keeps the last copy, serde (crates.io) refuses a struct field given twice but keeps the last key
 * of a map, and other parsers keep the first (or, like CouchDB's, keep both). When the gateway
 * decides on a body that a registry parses again, any duplicate is a chance for the two to read
 * different documents: a publish authorised for `allowed` that the registry stores as `victim`.
 * So a body the gateway decides on must have no duplicate key at any depth, compared as the
 * parsers compare them, after unescaping (`"na\u006de"` is `"name"`).
 *
 * Why not a package: the maintained JSON parsers that see duplicates (e.g. @humanwhocodes/momoa)
 * build a full syntax tree with locations, many times the cost of JSON.parse; the small
 * duplicate-key validators are unmaintained grammar-based parsers. One pass that skips string
 * contents with `indexOf` costs about what JSON.parse does on a bare cargo head (under 1 µs) and
 * a fraction of it on large ones (0.4 ms against 2.5 ms for 680 KB).
 */

/** A key that occurs twice in one JSON object. */
export interface DuplicateKey {
  /** The key, unescaped. */
  readonly key: string;
  /** Where the object is, from the top: `[]` for the top-level object, `['deps', 0]` for `deps[0]`. */
  readonly at: readonly (string | number)[];
}

export type StrictJson =
  | { readonly kind: 'ok'; readonly value: unknown }
  /** Not JSON at all: JSON.parse's own message. */
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'duplicate-key'; readonly duplicate: DuplicateKey };

/** Parses `text` as JSON whose objects have unique keys; JSON.parse reports any syntax error. */
export function parseStrictJson(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { kind: 'invalid', message: (e as Error).message };
  }
  const duplicate = findDuplicateKey(text);
  return duplicate === null ? { kind: 'ok', value } : { kind: 'duplicate-key', duplicate };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * The first duplicate key in `text`, or null. One pass, meant for text JSON.parse has accepted:
 * it tracks only nesting and which string is a key (the first after `{`, or after `,` inside an
 * object), and jumps over string contents with `indexOf`. On text that is not JSON it still ends
 * and does not throw, but its answer means nothing: parse first ({@link parseStrictJson}).
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  // One frame per open object (the keys seen so far) or array (null); `labels` holds each frame's
  // current key or index, only to say where a duplicate is.
  const frames: (string[] | Set<string> | null)[] = [];
  const labels: (string | number)[] = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i + 1);
      const top = frames.length - 1;
      const keys = frames[top];
      if (expectKey && keys) {
        const key = unescapeKey(text.slice(i + 1, end));
        if (seenBefore(keys, key)) return { key, at: labels.slice(0, -1) };
        if (Array.isArray(keys) && keys.length > LIST_MAX) frames[top] = new Set(keys);
        labels[top] = key;
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT) {
      frames.push([]);
      labels.push('');
      expectKey = true;
    } else if (c === OPEN_ARRAY) {
      frames.push(null);
      labels.push(0);
      expectKey = false;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      frames.pop();
      labels.pop();
      expectKey = false;
    } else if (c === COMMA && frames.length > 0) {
      const top = frames.length - 1;
      if (frames[top] === null) labels[top] = (labels[top] as number) + 1;
      else expectKey = true;
    }
    i++;
  }
  return null;
}

/**
 * Objects of up to this many keys keep them in a list: a cargo head's objects have at most about
 * 20, and a list scan beat a Set by a third on the wire-facts example (0.87 µs against 1.36 µs,
 * JSON.parse 0.80 µs). A larger object moves to a Set, so a crafted object with a hundred thousand
 * keys costs no more per key than a small one.
 */
const LIST_MAX = 32;

/** True when `keys` already holds `key`; otherwise adds it. */
function seenBefore(keys: string[] | Set<string>, key: string): boolean {
  if (Array.isArray(keys)) {
    if (keys.includes(key)) return true;
    keys.push(key);
    return false;
  }
  const size = keys.size;
  return keys.add(key).size === size;
}

/** The index of the quote closing a string whose content starts at `from` (text.length if none). */
function closingQuote(text: string, from: number): number {
  let at = from;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote === -1) return text.length;
    // Escaped when an odd run of backslashes precedes it; the run stops at the opening quote at
    // the latest, and each run is counted once, so the pass stays linear.
    let run = 0;
    while (text.charCodeAt(quote - 1 - run) === BACKSLASH) run++;
    if (run % 2 === 0) return quote;
    at = quote + 1;
  }
}

/** A key's value: JSON.parse does the unescaping, and only for the rare key with a `\`. */
function unescapeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * `key \`name\`` or `key \`name\` in \`deps[0]\``, for messages. Keys and labels that are not
 * short printable names are shown as JSON strings, so a crafted key cannot garble the message.
 */
export function describeDuplicateKey(duplicate: DuplicateKey): string {
  const where = duplicate.at.map((label, n) => (typeof label === 'number' ? `[${label}]` : PLAIN.test(label) ? `${n === 0 ? '' : '.'}${label}` : `[${shown(label)}]`)).join('');
  return `key ${quoted(duplicate.key)}${where === '' ? '' : ` in \`${where}\``}`;
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const SHOWN_MAX = 64;

function shown(key: string): string {
  return JSON.stringify(key.length > SHOWN_MAX ? `${key.slice(0, SHOWN_MAX)}…` : key);
}

function quoted(key: string): string {
  return /^[\x20-\x5f\x61-\x7e]{1,64}$/.test(key) ? `\`${key}\`` : shown(key);
}
