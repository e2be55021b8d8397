import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from '../../src/config/load.js';

const MINIMAL = `
public_url: http://gw.test
upstream: { url: http://registry.test }
routes:
  - { method: GET, path: /index/*, scope: read }
`;

function warnings(env: NodeJS.ProcessEnv, yaml = MINIMAL): readonly string[] {
  const result = buildConfig(yaml, env, 'test.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result.warnings;
}

test('a SCOPEGATE_ variable scopegate does not read is warned about, with the one it likely meant', () => {
  assert.deepEqual(warnings({ SCOPEGATE_UPSTREAM_URL: 'https://registry.example.com', SCOPEGATE_LISTN: '0.0.0.0:8080', SCOPEGATE_COLOUR: 'blue' }), [
    'SCOPEGATE_COLOUR is set, but scopegate reads no such variable, so it has no effect',
    'SCOPEGATE_LISTN is set, but scopegate reads no such variable, so it has no effect: did you mean SCOPEGATE_LISTEN?',
    'SCOPEGATE_UPSTREAM_URL is set, but scopegate reads no such variable, so it has no effect: did you mean SCOPEGATE_UPSTREAM?',
  ]);
});

test('the variables scopegate reads, the static credential\'s among them, are not warned about', () => {
  const env = {
    SCOPEGATE_CONFIG: 'x.yaml', SCOPEGATE_LISTEN: '127.0.0.1:8080', SCOPEGATE_PUBLIC_URL: 'http://gw.test', SCOPEGATE_UPSTREAM: 'http://registry.test',
    SCOPEGATE_ADMIN_LISTEN: '127.0.0.1:9090', SCOPEGATE_ADMIN_KEY: 'a'.repeat(32), SCOPEGATE_REMINDER_WEBHOOK: 'https://hooks.test/x',
    SCOPEGATE_WORKER_INDEX: '0', SCOPEGATE_SERVICE_TOKEN: 'secret', REDIS_URL: 'redis://127.0.0.1:6379/0', HOME: '/root',
  };
  assert.deepEqual(warnings(env, MINIMAL.replace('{ url: http://registry.test }', '{ url: http://registry.test, auth: static, credential_env: SCOPEGATE_SERVICE_TOKEN }')), []);
});
