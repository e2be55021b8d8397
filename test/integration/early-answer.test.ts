/**
 * A registry that answers a publish before it has read the upload (its own size cap: 413 from the
 * Content-Length alone) and then drops the connection with the rest of the upload unread, as
 * many servers do rather than drain a body they will not use. The client must get that answer,
 * not a 502 for the connection the registry dropped after answering (nodejs/node#12339: Node's
 * client loses the answer when its next write of the body fails).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { cargoError, startGateway, type TestGateway } from '../support/gateway.js';

const TOO_LARGE = JSON.stringify(cargoError('max upload size is: 1024'));

/** How the registry ends a publish it will not read: after its 413 (closed, or reset), or without a word. */
type Ending = 'answer-then-close' | 'answer-then-reset' | 'close-without-answer';

/** Answers `GET /api/v1/me` (token creation); any other request ends as `ending()` says, its body unread. */
function startCappedRegistry(ending: () => Ending): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/api/v1/me') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ user: { login: 'alice' } }));
      return;
    }
    const how = ending();
    if (how === 'close-without-answer') {
      req.socket.destroy();
      return;
    }
    res.writeHead(413, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(TOO_LARGE)) });
    if (how === 'answer-then-close') res.end(TOO_LARGE, () => req.socket.destroy());
    else {
      res.end(TOO_LARGE);
      req.socket.resetAndDestroy();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

/** A 4 MiB publish, sent whole as cargo sends it: the gateway is still writing it upstream when the answer comes. */
function publish(port: number, token: string): Promise<{ status: number; json: unknown }> {
  const body = cargoPublishBody({ name: 'too-big', vers: '0.1.0' }, Buffer.alloc(4 * 1024 * 1024, 7));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/api/v1/crates/new', agent: false, headers: { authorization: token, 'content-length': String(body.length) } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      answer.on('error', reject);
    });
    // The gateway may hang up on the rest of the upload once it has answered.
    req.on('error', () => undefined);
    req.end(body);
  });
}

describe('a registry that drops the connection of a publish it will not read', () => {
  let registry: { server: http.Server; url: string };
  let ending: Ending = 'answer-then-close';
  let gw: TestGateway;
  let token: string;

  before(async () => {
    registry = await startCappedRegistry(() => ending);
    gw = await startGateway({ env: { SCOPEGATE_UPSTREAM: registry.url } });
    token = (await gw.createToken({ name: 'full', endpoint_scopes: ['publish-new', 'publish-update'] })).token;
  });
  after(async () => {
    await gw.close();
    await gw.registry.close();
    registry.server.closeAllConnections();
    registry.server.close();
  });

  for (const [how, name] of [['answer-then-close', 'closes it'], ['answer-then-reset', 'resets it']] as const) {
    test(`has the 413 it answered before it ${name} relayed to the client, not a 502`, async () => {
      ending = how;
      // Several times: which of the gateway's write and its read of the answer comes first varies.
      for (let i = 0; i < 5; i++) {
        const res = await publish(gw.port, token);
        assert.deepEqual(res, { status: 413, json: cargoError('max upload size is: 1024') });
        const line = gw.logLines().filter((l) => l['req.path'] === '/api/v1/crates/new').at(-1);
        assert.equal(line?.['upstream.status'], 413);
      }
    });
  }

  test('without an answer, is still a 502 in cargo format', async () => {
    ending = 'close-without-answer';
    const res = await publish(gw.port, token);
    assert.deepEqual(res, { status: 502, json: cargoError('the registry behind scopegate could not be reached; try again shortly') });
  });
});
