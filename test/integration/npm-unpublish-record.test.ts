/**
 * The gateway's record of a package it saw published (`upstream.index_lag`) outvotes an existence
 * probe that has not caught up; it must not outvote a registry that no longer has the package
 * because the gateway saw it deleted since.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { npmError, startNpmGateway, type NpmGateway } from '../support/npm-gateway.js';
import { npmPublishBody } from '../support/npm-publish-body.js';

let gw: NpmGateway;
let newOnly: string;
let updateOnly: string;
let yank: string;

before(async () => {
  gw = await startNpmGateway();
  newOnly = (await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
  updateOnly = (await gw.createToken({ name: 'update only', endpoint_scopes: ['publish-update'] })).token;
  yank = (await gw.createToken({ name: 'yank', endpoint_scopes: ['yank'] })).token;
});
after(() => gw?.close());

const headers = (token: string): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

async function send(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(gw.url + path, { method, headers: headers(token), body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text) as unknown };
}

test('a package unpublished whole through the gateway is new again: a publish-update-only token cannot re-create it', async () => {
  assert.equal((await send('PUT', '/gone-pkg', newOnly, npmPublishBody('gone-pkg', '1.0.0'))).status, 201);
  const stored = await send('GET', '/gone-pkg?write=true', yank);
  const rev = (stored.json as { _rev: string })._rev;
  const removed = await send('DELETE', `/gone-pkg/-rev/${rev}`, yank);
  assert.equal(removed.status, 201, JSON.stringify(removed.json));
  assert.equal((await fetch(`${gw.registry.url}/gone-pkg`, { headers: { authorization: gw.registry.credential('alice') } })).status, 404);
  const mark = gw.registry.requests.length;
  const res = await send('PUT', '/gone-pkg', updateOnly, npmPublishBody('gone-pkg', '1.0.1'));
  assert.equal(res.status, 403, JSON.stringify(res.json));
  assert.deepEqual(res.json, npmError('this token does not have the `publish-new` scope (`gone-pkg` is a new package); create a token with that scope'));
  assert.deepEqual(gw.registry.requests.slice(mark).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`), []);
});
