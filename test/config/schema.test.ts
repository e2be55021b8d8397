import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CONFIG_SCHEMA } from '../../src/config/schema.js';

type Node = {
  type?: string | readonly string[];
  properties?: Record<string, Node>;
  required?: readonly string[];
  items?: Node;
  anyOf?: readonly Node[];
  additionalProperties?: boolean;
  description?: string;
  default?: unknown;
  examples?: readonly unknown[];
};

/** Properties that are optional yet have no single default: the loader derives or omits them. */
const NO_DEFAULT = new Set([
  '#/properties/routes/items/properties/id', // derived: "GET /index/*"
  '#/properties/routes/items/properties/body', // absent: the route matches whatever the body is, unread
  '#/properties/routes/items/properties/crate', // absent: the route names no crate
]);

/** Every property in the schema, with its JSON pointer and whether its parent requires it. */
function* properties(node: Node, pointer: string): Generator<{ pointer: string; node: Node; required: boolean }> {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const at = `${pointer}/properties/${name}`;
    yield { pointer: at, node: child, required: node.required?.includes(name) ?? false };
    yield* properties(child, at);
  }
  if (node.items !== undefined) yield* properties(node.items, `${pointer}/items`);
  for (const [i, branch] of (node.anyOf ?? []).entries()) yield* properties(branch, `${pointer}/anyOf/${i}`);
}

/** Every object node, with its JSON pointer. */
function* objects(node: Node, pointer: string): Generator<{ pointer: string; node: Node }> {
  if (node.type === 'object') yield { pointer, node };
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* objects(child, `${pointer}/properties/${name}`);
  if (node.items !== undefined) yield* objects(node.items, `${pointer}/items`);
}

const root = CONFIG_SCHEMA as unknown as Node;
const all = [...properties(root, '#')];
const ajv = new Ajv2020({ allowUnionTypes: true });
ajv.addSchema(CONFIG_SCHEMA);

test('the schema has properties to document', () => {
  assert.ok(all.length >= 35, `found only ${all.length}`);
});

for (const { pointer, node, required } of all) {
  test(`${pointer.slice(1)} is documented with a description, examples and (unless required) a default`, () => {
    assert.equal(typeof node.description, 'string', 'description');
    assert.ok((node.description ?? '').length >= 10, 'description is a sentence');
    assert.ok(Array.isArray(node.examples) && node.examples.length > 0, 'examples');
    if (required || NO_DEFAULT.has(pointer)) assert.equal(node.default, undefined, 'a required property has no default');
    else assert.ok('default' in node, 'default');
  });

  test(`${pointer.slice(1)}'s examples and default are valid values`, () => {
    const validate = ajv.getSchema(`urn:scopegate:config${pointer}`);
    assert.ok(validate !== undefined);
    for (const value of [...(node.examples ?? []), ...('default' in node ? [node.default] : [])]) {
      assert.ok(validate(structuredClone(value)), `${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`);
    }
  });
}

for (const { pointer, node } of objects(root, '#')) {
  test(`${pointer.slice(1) || 'the top level'} rejects unknown properties`, () => {
    assert.equal(node.additionalProperties, false);
  });
}

test('the schema is draft 2020-12', () => {
  assert.equal(CONFIG_SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema');
});
