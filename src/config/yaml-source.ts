/**
 * The config file as YAML: parsed with positions kept, so problems can be listed in the order
 * the reader meets them in the file. Syntax errors are reported with line and column.
 */
import { LineCounter, isNode, parseDocument } from 'yaml';
import { CONFIG_SCHEMA } from './schema.js';
import { expected, notA } from './problems.js';

/** A parsed config file: its top-level mapping, and where a value sits in the text. */
export interface YamlSource {
  readonly document: Record<string, unknown>;
  /** Offset in the text of the value at a JSON pointer, or of its nearest ancestor that is written. */
  offsetOf(pointer: string): number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');

/**
 * The file's text, or where it stops being UTF-8 (YAML 1.2's encoding, and the only one read
 * here): decoded leniently, a Latin-1 `é` or a UTF-16 file became replacement characters and
 * NULs that the schema then reported as some other mistake, or not at all in a comment.
 */
export function decodeUtf8(bytes: Uint8Array, sourceName: string): string | { problems: string[] } {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { problems: [`${sourceName} is UTF-16 text: save it as UTF-8`] };
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    // The lenient decoding puts U+FFFD where the first invalid sequence was.
    const lines = LENIENT_UTF8.decode(bytes).split('\uFFFD')[0]!.split('\n');
    return { problems: [`${sourceName}:${lines.length}:${lines.at(-1)!.length + 1} is not UTF-8 text: save the file as UTF-8`] };
  }
}

/** Parses `text`; `sourceName` (usually the file's path) names it in messages. */
export function parseYamlSource(text: string, sourceName: string): YamlSource | { problems: string[] } {
  const lineCounter = new LineCounter();
  // `merge`: YAML 1.1 merge keys (`<<: *defaults`), which operators reach for to share route fields.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const syntax = doc.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    // The library's own wording tells its callers to call another function.
    if (error.code === 'MULTIPLE_DOCS') return `${sourceName}:${line}:${col} starts a second YAML document: a config is one document, so remove this \`---\` and what follows, or merge it into the first`;
    return `${sourceName}:${line}:${col} is not valid YAML: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
  });
  if (syntax.length > 0) return { problems: syntax };
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    return { problems: [`${sourceName} is not valid YAML: ${(error as Error).message}`] }; // e.g. alias bombs
  }
  if (value === null || value === undefined) return { problems: [`${sourceName} is empty: expected ${expected(CONFIG_SCHEMA)}`] };
  if (typeof value !== 'object' || Array.isArray(value)) return { problems: [notA(sourceName, value, CONFIG_SCHEMA)] };
  const offsetOf = (pointer: string) => {
    const keys = pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    for (let n = keys.length; n >= 0; n--) {
      const node: unknown = doc.getIn(keys.slice(0, n), true);
      if (isNode(node) && node.range) return node.range[0];
    }
    return 0;
  };
  return { document: value as Record<string, unknown>, offsetOf };
}
