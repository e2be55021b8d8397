/**
 * `routes explain` says what the proxy does: the same requests sent to a real gateway (raw, as a
 * client would send them) and explained by the real CLI, from the same config, land in the same
 * class — refused, answered by the gateway itself, served as the rewritten config, forwarded,
 * needing a token, or unrouted.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runCliHere, writeConfig } from '../support/cli.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let config: string;
before(async () => {
  gw = await startGateway();
  config = await writeConfig();
});
after(() => gw.close());

type Outcome = 'refused' | 'gateway' | 'config-rewritten' | 'forwarded' | 'needs-token' | 'no-route';

/** Sends the request line as written (a lower-case method too), and reads the status and body. */
function send(method: string, path: string, accept = '*/*'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gw.port, '127.0.0.1', () => socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nAccept: ${accept}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (c: Buffer) => { data += c.toString(); });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(data.split(' ')[1]), body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
  });
}

async function proxyOutcome(method: string, path: string, accept?: string): Promise<Outcome> {
  const before = gw.registry.requests.length;
  const lines = gw.logLines().length;
  const { status, body } = await send(method, path, accept);
  const forwarded = gw.registry.requests.length > before;
  const routeId = gw.logLines().slice(lines).find((l) => 'req.id' in l)?.['route.id'];
  if (status === 400 && !forwarded) return 'refused';
  if (routeId === 'token-api' || routeId === 'token-page') return 'gateway';
  // A HEAD answer has no body: the gateway's own GET of the config upstream (a forwarded HEAD
  // stays HEAD) tells the rewritten config apart.
  const rewritten = body.includes(`"dl":"${gw.url}`) || (method === 'HEAD' && gw.registry.requests.at(-1)?.method === 'GET');
  if (forwarded) return rewritten ? 'config-rewritten' : 'forwarded';
  if (status === 401) return 'needs-token';
  if (status === 404) return 'no-route';
  throw new Error(`unexpected answer ${status} ${body}`);
}

async function explainOutcome(method: string, path: string, accept?: string): Promise<Outcome> {
  const env = { SCOPEGATE_PUBLIC_URL: gw.url, SCOPEGATE_UPSTREAM: gw.registry.url };
  const r = await runCliHere(['routes', 'explain', method, path, '--config', config, '--json', ...(accept === undefined ? [] : ['--accept', accept])], env);
  const e = JSON.parse(r.stdout) as { kind: string; publicRead?: boolean; rewritesConfig?: boolean };
  if (e.kind === 'method-invalid' || e.kind === 'path-invalid') return 'refused';
  if (e.kind === 'gateway') return 'gateway';
  if (e.kind === 'no-route') return 'no-route';
  if (e.kind === 'matched' && e.publicRead === true) return e.rewritesConfig === true ? 'config-rewritten' : 'forwarded';
  return 'needs-token';
}

describe('routes explain and the proxy agree', () => {
  const rows: { method: string; path: string; expected: Outcome }[] = [
    { method: 'GET', path: '/index/config.json', expected: 'config-rewritten' },
    { method: 'get', path: '/index/config.json', expected: 'refused' },
    { method: 'delete', path: '/api/v1/crates/serde/1.0.0/yank', expected: 'refused' },
    { method: 'GET', path: '/index/config.json/', expected: 'refused' },
    { method: 'GET', path: '/index/config.json;x', expected: 'refused' },
    { method: 'GET', path: '/index//config.json', expected: 'refused' },
    { method: 'GET', path: '/index/se/rd/serde', expected: 'forwarded' },
    { method: 'GET', path: '//index/se/rd/serde', expected: 'forwarded' },
    { method: 'GET', path: '/api/v1/me/tokens', expected: 'gateway' },
    { method: 'POST', path: '/api/v1/me/tokens/7', expected: 'gateway' },
    { method: 'DELETE', path: '/api/v1/tokens/current', expected: 'gateway' },
    { method: 'GET', path: '/tokens', expected: 'gateway' },
    { method: 'GET', path: '/tokens/assets/nothing.js', expected: 'gateway' },
    { method: 'DELETE', path: '/api/v1/crates/serde/1.0.0/yank', expected: 'needs-token' },
    { method: 'POST', path: '/api/v1/crates/new', expected: 'no-route' },
    { method: 'GET', path: '/index/../secret', expected: 'refused' },
    { method: 'HEAD', path: '/index/config.json', expected: 'config-rewritten' },
    { method: 'HEAD', path: '/index/se/rd/serde', expected: 'forwarded' },
    { method: 'HEAD', path: '/api/v1/crates/serde/1.0.0/yank', expected: 'no-route' },
    { method: 'HEAD', path: '/tokens', expected: 'gateway' },
  ];
  for (const row of rows) {
    test(`${row.method} ${row.path}: ${row.expected}`, async () => {
      assert.equal(await proxyOutcome(row.method, row.path), row.expected, 'the proxy');
      assert.equal(await explainOutcome(row.method, row.path), row.expected, 'routes explain');
    });
  }
});
