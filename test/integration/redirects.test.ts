/**
 * A registry that redirects (a download to its own storage path, say) must not send the client
 * past the gateway: a `Location` on the upstream itself comes back on the gateway's public URL;
 * one elsewhere (a CDN) and a relative one are passed on as they are. The upstream here is a
 * stand-in that only redirects, since the test cargo registry serves downloads directly.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { onGateway } from '../../src/upstream/forward.js';
import { rawRequest, startGatewayOn, type TestGatewayOn, type TestUpstream } from '../support/gateway.js';

/** Answers every request with a 302 to the location its path names (`?to=…` relative to itself). */
async function startRedirectingUpstream(): Promise<TestUpstream> {
  const server = http.createServer((req, res) => {
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '';
    res.writeHead(302, { location: to.replace('{self}', url), 'content-length': '0' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

describe('Location headers from the upstream', () => {
  let gw: TestGatewayOn<TestUpstream>;
  before(async () => { gw = await startGatewayOn(await startRedirectingUpstream(), { closeRegistry: true }); });
  after(() => gw.close());

  const download = async (to: string): Promise<string | undefined> => {
    const res = await rawRequest(gw.port, 'GET', `/api/v1/crates/foo/1.0.0/download?to=${encodeURIComponent(to)}`);
    assert.equal(res.status, 302, res.text);
    return res.headers.location as string | undefined;
  };

  it('a redirect to the upstream\'s own path comes back on the gateway', async () => {
    assert.equal(await download('{self}/static/foo-1.0.0.crate'), `${gw.url}/static/foo-1.0.0.crate`);
  });
  it('a redirect elsewhere (a CDN) is passed on unchanged', async () => {
    assert.equal(await download('https://static.example.org/crates/foo/foo-1.0.0.crate'), 'https://static.example.org/crates/foo/foo-1.0.0.crate');
  });
  it('a relative redirect is passed on unchanged (it already resolves against the gateway)', async () => {
    assert.equal(await download('/static/foo-1.0.0.crate'), '/static/foo-1.0.0.crate');
  });
});

describe('onGateway', () => {
  const rows: [string, string, string, string][] = [
    ['the upstream root', 'http://up:8000', 'http://up:8000', 'https://gw'],
    ['a path on the upstream', 'http://up:8000/dl/a?x=1', 'http://up:8000', 'https://gw/dl/a?x=1'],
    ['a path under the upstream\'s base path', 'http://up/reg/dl/a', 'http://up/reg', 'https://gw/dl/a'],
    ['another port is another origin', 'http://up:8001/dl/a', 'http://up:8000', 'http://up:8001/dl/a'],
    ['a longer host is another origin', 'http://up:80000/dl', 'http://up:8000', 'http://up:80000/dl'],
    ['a path beside the base path is not under it', 'http://up/registry/dl', 'http://up/reg', 'http://up/registry/dl'],
  ];
  for (const [name, location, upstream, expected] of rows) it(name, () => assert.equal(onGateway(location, upstream, 'https://gw'), expected));
});
