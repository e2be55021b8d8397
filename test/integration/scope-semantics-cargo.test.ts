/** The shared scope-semantics suite against the cargo adapter (requests as cargo sends them, wire-facts §1). */
import assert from 'node:assert/strict';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { cargoError, startGateway } from '../support/gateway.js';
import { scopeSemanticsSuite, type SemanticsGateway } from './scope-semantics-shared.js';

const ALICE = 'alice-upstream-secret';

async function upstreamPublish(registryUrl: string, name: string, version: string): Promise<void> {
  const res = await fetch(`${registryUrl}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: ALICE }, body: new Uint8Array(cargoPublishBody({ name, vers: version })) });
  assert.equal(res.status, 200, `seeding ${name}@${version} failed: ${await res.text()}`);
}

const registries = new WeakMap<SemanticsGateway, string>();

scopeSemanticsSuite({
  registry: 'cargo',
  noun: 'crate',
  errorBody: cargoError,
  authorization: (token) => token,
  allowedStatus: () => 200,
  async startGateway(existing) {
    const gw = await startGateway();
    await upstreamPublish(gw.registry.url, existing, '1.0.0');
    const semantics: SemanticsGateway = {
      url: gw.url,
      upstreamCredential: ALICE,
      setNow: (ms) => gw.setNow(ms),
      createToken: async (apiToken) => (await gw.createToken(apiToken)).token,
      upstreamRequests: () => gw.registry.requests.map((r) => ({ method: r.method, url: r.url, headerText: JSON.stringify(r.headers), authorization: r.headers.authorization })),
      clearUpstream: () => gw.registry.clearRequests(),
      close: () => gw.close(),
    };
    registries.set(semantics, gw.registry.url);
    return semantics;
  },
  async buildRequest(gw, op, name, n) {
    const registry = registries.get(gw)!;
    switch (op) {
      case 'publish-new':
        return { method: 'PUT', path: '/api/v1/crates/new', body: cargoPublishBody({ name, vers: '0.1.0' }) };
      case 'publish-update':
        return { method: 'PUT', path: '/api/v1/crates/new', body: cargoPublishBody({ name, vers: `2.0.${n}` }) };
      case 'yank':
        await upstreamPublish(registry, name, `1.5.${n}`);
        return { method: 'DELETE', path: `/api/v1/crates/${name}/1.5.${n}/yank` };
      case 'change-owners':
        // cargo sends owner changes as application/json, the only type the registry takes.
        await fetch(`${registry}/api/v1/crates/${name}/owners`, { method: 'DELETE', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: JSON.stringify({ users: ['bob'] }) });
        return { method: 'PUT', path: `/api/v1/crates/${name}/owners`, body: JSON.stringify({ users: ['bob'] }), headers: { 'content-type': 'application/json' } };
    }
  },
});
