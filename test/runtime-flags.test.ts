/** The gateway's Node flags: `npm start` passes exactly them, and workers get any the primary lacks. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GATEWAY_NODE_FLAGS, withGatewayFlags } from '../src/runtime-flags.js';

test('npm start runs node with the gateway\'s flags', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${GATEWAY_NODE_FLAGS.join(' ')} dist/src/main.js`);
});

test('withGatewayFlags adds the flags that are missing and keeps a value the operator chose', () => {
  assert.deepEqual(withGatewayFlags([]), [...GATEWAY_NODE_FLAGS]);
  assert.deepEqual(withGatewayFlags(['--cpu-prof']), ['--cpu-prof', ...GATEWAY_NODE_FLAGS]);
  assert.deepEqual(withGatewayFlags(['--initial-old-space-size=256']), ['--initial-old-space-size=256']);
  assert.deepEqual(withGatewayFlags(GATEWAY_NODE_FLAGS), [...GATEWAY_NODE_FLAGS]);
});
