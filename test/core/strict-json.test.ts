/** JSON with unique keys: what counts as a duplicate, where it is, and what is left to JSON.parse. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDuplicateKey, findDuplicateKey, parseStrictJson, type DuplicateKey } from '../../src/core/strict-json.js';

const dup = (key: string, ...at: (string | number)[]): DuplicateKey => ({ key, at });

describe('findDuplicateKey', () => {
  const rows: { name: string; text: string; expected: DuplicateKey | null }[] = [
    { name: 'an object with distinct keys has none', text: '{"name":"a","vers":"1.0.0"}', expected: null },
    { name: 'scalars, arrays and empty containers have none', text: '[1,"x",true,null,{},[],-2.5e3]', expected: null },
    { name: 'a top-level duplicate is found, last copy second', text: '{"name":"allowed","vers":"1","name":"victim"}', expected: dup('name') },
    { name: 'a top-level duplicate is found, whatever the order', text: '{"name":"victim","name":"allowed"}', expected: dup('name') },
    { name: 'a duplicate in a nested object is found, with its place', text: '{"features":{"std":[],"std":["x"]}}', expected: dup('std', 'features') },
    { name: 'a duplicate in an object inside an array is found, with its index', text: '{"deps":[{"name":"a"},{"name":"b","kind":"dev","name":"c"}]}', expected: dup('name', 'deps', 1) },
    { name: 'the same key in sibling objects is not a duplicate', text: '{"deps":[{"name":"a"},{"name":"b"}],"name":"c"}', expected: null },
    { name: 'the same key at different depths is not a duplicate', text: '{"a":{"a":{"a":1}}}', expected: null },
    { name: 'a key reused after a nested object closes is still a duplicate', text: '{"a":{"b":{"c":1}},"b":2,"a":3}', expected: dup('a') },
    { name: 'escaped keys are compared unescaped (\\u006d is m)', text: '{"name":"a","na\\u006de":"b"}', expected: dup('name') },
    { name: 'escaped keys are compared unescaped both ways', text: '{"\\u006eame":"a","name":"b"}', expected: dup('name') },
    { name: 'a \\/ escape equals a plain /', text: '{"a/b":1,"a\\/b":2}', expected: dup('a/b') },
    { name: 'escapes that differ in value are different keys', text: '{"a\\"b":1,"a\\\\b":2,"a\\\\":3,"a":4}', expected: null },
    { name: 'a key ending in an escaped backslash is read whole', text: '{"k\\\\":1,"k\\\\":2}', expected: dup('k\\') },
    { name: 'an escaped quote inside a key does not end it', text: '{"a\\",\\"a":1,"a":2}', expected: null },
    { name: 'keys inside string values are not keys', text: '{"readme":"{\\"name\\":\\"x\\",\\"name\\":1}","name":"y"}', expected: null },
    { name: 'structural characters inside values do not count', text: '{"a":"}{,[]:","b":"\\\\","c":"\\\\\\"{"}', expected: null },
    { name: 'a value equal to a key is not a key', text: '{"name":"name","vers":"name"}', expected: null },
    { name: 'strings in arrays are not keys', text: '{"keywords":["name","name"],"name":"x"}', expected: null },
    { name: 'whitespace anywhere is allowed', text: ' {\n "a" : 1 ,\t"b":[ { "a" : 2 } ] , "a" : 3 } ', expected: dup('a') },
    { name: 'non-ASCII keys are compared as text', text: '{"é":1,"\\u00e9":2}', expected: dup('é') },
    { name: '__proto__ twice is a duplicate like any other', text: '{"__proto__":{},"__proto__":{"x":1}}', expected: dup('__proto__') },
    { name: 'the empty key twice is a duplicate', text: '{"":1,"":2}', expected: dup('') },
    { name: 'a top-level array of objects reports the index first', text: '[{"a":1},{"a":1,"a":2}]', expected: dup('a', 1) },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(findDuplicateKey(row.text), row.expected));
  }

  it('finds no duplicate in anything JSON.stringify writes, whatever the keys and values hold', () => {
    const awkward = ['"', '\\', '{', '}', '[', ']', ',', ':', '\\"', '\u2028', '\u0000', 'é', '😀', 'name', ''];
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const text = (): string => Array.from({ length: next(4) }, () => awkward[next(awkward.length)]).join('');
    const value = (depth: number): unknown => {
      switch (depth > 3 ? next(3) : next(5)) {
        case 0: return text();
        case 1: return next(1000) - 500;
        case 2: return null;
        case 3: return Array.from({ length: next(4) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: next(5) }, () => [text(), value(depth + 1)]));
      }
    };
    for (let n = 0; n < 500; n++) {
      const doc = { root: value(0) };
      assert.equal(findDuplicateKey(JSON.stringify(doc)), null, JSON.stringify(doc));
    }
  });

  it('handles large documents in one pass: a thousand deps and a 1 MiB readme full of quotes and braces', () => {
    const deps = Array.from({ length: 1000 }, (_, n) => ({ name: `dep-${n}`, version_req: '^1', features: ['std'], optional: false, default_features: true, target: null, kind: 'normal' }));
    const readme = '{"name":"x"} \\" ['.repeat(65_536);
    const clean = JSON.stringify({ name: 'big', vers: '1.0.0', deps, readme, features: { std: [] } });
    assert.ok(clean.length > 1_000_000);
    assert.equal(findDuplicateKey(clean), null);
    assert.deepEqual(findDuplicateKey(`${clean.slice(0, -1)},"vers":"2.0.0"}`), dup('vers'));
    const lastDep = `${clean.slice(0, clean.indexOf('],"readme"') - 1)},"kind":"dev"}${clean.slice(clean.indexOf('],"readme"'))}`;
    assert.deepEqual(findDuplicateKey(lastDep), dup('kind', 'deps', 999));
  });

  it('finds duplicates in objects of any size, and a crafted object of 200,000 keys costs linear time', () => {
    const object = (n: number, extra = ''): string => `{${Array.from({ length: n }, (_, k) => `"k${k}":${k}`).join(',')}${extra}}`;
    for (const n of [31, 32, 33, 34, 1000]) {
      assert.equal(findDuplicateKey(object(n)), null, `${n} keys`);
      assert.deepEqual(findDuplicateKey(object(n, ',"k0":0')), dup('k0'), `${n} keys and k0 again`);
      assert.deepEqual(findDuplicateKey(object(n, `,"k${n - 1}":0`)), dup(`k${n - 1}`), `${n} keys and the last again`);
    }
    const crafted = object(200_000, ',"k199999":0');
    const started = performance.now();
    assert.deepEqual(findDuplicateKey(crafted), dup('k199999'));
    // A check that compared each key with all before it would take minutes here.
    assert.ok(performance.now() - started < 2_000, `${performance.now() - started} ms`);
  });

  it('ends without throwing on text that is not JSON (its answer is then meaningless)', () => {
    for (const text of ['', '{', '}', ']]]', '{"a', '{"a\\', '{"a":1,', '"\\', ',,,', '{[}]', '{"\\u12":1,"\\u12":2}', '\\"']) {
      assert.doesNotThrow(() => findDuplicateKey(text), text);
    }
  });
});

describe('parseStrictJson', () => {
  it('returns the parsed value when every key is unique', () => {
    assert.deepEqual(parseStrictJson('{"name":"a","deps":[{"name":"b"}]}'), { kind: 'ok', value: { name: 'a', deps: [{ name: 'b' }] } });
  });

  it('refuses a duplicate key, naming it, rather than keeping either copy', () => {
    assert.deepEqual(parseStrictJson('{"name":"allowed","name":"victim"}'), { kind: 'duplicate-key', duplicate: dup('name') });
  });

  it('leaves invalid JSON to JSON.parse, with its own message, even when a duplicate came first', () => {
    for (const text of ['{"name":"a","name":', '{not json', '', '{"a":1}}', '{"a":1,"a":2']) {
      let message = '';
      try { JSON.parse(text); } catch (e) { message = (e as Error).message; }
      assert.deepEqual(parseStrictJson(text), { kind: 'invalid', message }, text);
    }
  });
});

describe('describeDuplicateKey', () => {
  const rows: { name: string; duplicate: DuplicateKey; expected: string }[] = [
    { name: 'a top-level key is named alone', duplicate: dup('name'), expected: 'key `name`' },
    { name: 'a nested key says where', duplicate: dup('name', 'deps', 0), expected: 'key `name` in `deps[0]`' },
    { name: 'odd labels on the way are shown as JSON strings', duplicate: dup('x', 'features', 'a b', 2), expected: 'key `x` in `features["a b"][2]`' },
    { name: 'a key with a backtick is shown as a JSON string', duplicate: dup('a`b'), expected: 'key "a`b"' },
    { name: 'the empty key is shown as ""', duplicate: dup(''), expected: 'key ""' },
    { name: 'a control character is escaped', duplicate: dup('a\nb'), expected: 'key "a\\nb"' },
    { name: 'a long key is cut short', duplicate: dup('k'.repeat(100)), expected: `key "${'k'.repeat(64)}…"` },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(describeDuplicateKey(row.duplicate), row.expected));
  }
});
