/** The gateway's runtime settings: `npm start` passes exactly them, and workers get any the primary lacks. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GATEWAY_ENV, GATEWAY_NODE_FLAGS, missingGatewaySettings, withGatewayEnv, withGatewayFlags } from '../src/runtime-flags.js';

const startScript = (): string => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.start!;
};

test('npm start runs node with the gateway\'s malloc settings (unless already set) and flags', () => {
  const variables = Object.entries(GATEWAY_ENV).map(([name, value]) => `${name}=\${${name}:-${value}}`);
  assert.equal(startScript(), [...variables, 'node', ...GATEWAY_NODE_FLAGS, 'dist/src/main.js'].join(' '));
});

test('the start script\'s variables reach the process through sh, and an operator\'s own value wins', () => {
  // npm runs scripts with sh; the script's command is replaced by one that prints the environment.
  const command = startScript().replace(/node .*$/, 'env');
  const environment = (env: NodeJS.ProcessEnv): string[] => execFileSync('sh', ['-c', command], { env, encoding: 'utf8' }).split('\n');
  const plain: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const [name, value] of Object.entries(GATEWAY_ENV)) {
    assert.ok(environment(plain).includes(`${name}=${value}`));
    assert.ok(environment({ ...plain, [name]: '1048576' }).includes(`${name}=1048576`));
  }
});

test('withGatewayFlags adds the flags that are missing and keeps a value the operator chose', () => {
  assert.deepEqual(withGatewayFlags([]), [...GATEWAY_NODE_FLAGS]);
  assert.deepEqual(withGatewayFlags(['--cpu-prof']), ['--cpu-prof', ...GATEWAY_NODE_FLAGS]);
  assert.deepEqual(withGatewayFlags(['--initial-old-space-size=256']), ['--initial-old-space-size=256']);
  assert.deepEqual(withGatewayFlags(GATEWAY_NODE_FLAGS), [...GATEWAY_NODE_FLAGS]);
});

test('withGatewayEnv adds the variables that are missing and keeps a value the operator chose', () => {
  assert.deepEqual(withGatewayEnv({ HOME: '/h' }), { HOME: '/h', ...GATEWAY_ENV });
  const chosen = Object.fromEntries(Object.keys(GATEWAY_ENV).map((name) => [name, '1048576']));
  assert.deepEqual(withGatewayEnv(chosen), chosen);
});

test('missingGatewaySettings names the missing flags and variables, and nothing when all are there', () => {
  const variables = Object.entries(GATEWAY_ENV).map(([name, value]) => `${name}=${value}`);
  assert.deepEqual(missingGatewaySettings([], {}), { flags: [...GATEWAY_NODE_FLAGS], variables });
  assert.deepEqual(missingGatewaySettings(GATEWAY_NODE_FLAGS, {}), { flags: [], variables });
  assert.deepEqual(missingGatewaySettings([], { ...GATEWAY_ENV }), { flags: [...GATEWAY_NODE_FLAGS], variables: [] });
  assert.deepEqual(missingGatewaySettings(['--initial-old-space-size=128'], { ...GATEWAY_ENV }), { flags: [], variables: [] });
});
