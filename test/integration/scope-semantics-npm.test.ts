/**
 * The shared scope-semantics suite against the npm adapter and a real Verdaccio (requests as npm
 * 11 sends them, wire-facts §3.3): publish is `PUT /<pkg>` with the tarball inside, yank is npm
 * unpublish's `PUT /<pkg>/-rev/<rev>` without the version, change-owners is the stored packument
 * with other `maintainers` through `-rev`. (npm owner's own `{_id, _rev, maintainers}` is an
 * owner change too, which Verdaccio 6.8 answers 422; given a `name`, Verdaccio applies it as
 * unpublishing every version, and scopegate classifies it as that: test/registries/npm-body.test.ts,
 * test/e2e/npm.test.ts.)
 */
import assert from 'node:assert/strict';
import { npmError, startNpmGateway, type NpmGateway } from '../support/npm-gateway.js';
import { npmPublishBody } from '../support/npm-publish-body.js';
import { scopeSemanticsSuite, type SemanticsGateway } from './scope-semantics-shared.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const gateways = new WeakMap<SemanticsGateway, NpmGateway>();

/** Publishes straight to Verdaccio (not through the gateway, and not recorded). */
async function upstreamPublish(gw: NpmGateway, name: string, version: string, tag = 'latest'): Promise<void> {
  const res = await fetch(`${gw.registry.directUrl}/${name}`, {
    method: 'PUT', headers: { ...JSON_HEADERS, authorization: gw.registry.credential('alice') }, body: JSON.stringify(npmPublishBody(name, version, { tag })),
  });
  assert.equal(res.status, 201, `seeding ${name}@${version} failed: ${await res.text()}`);
}

/** The stored packument (as `?write=true` reads it), edited: a `-rev` change body. */
async function storedWith(gw: NpmGateway, name: string, edit: (doc: Record<string, unknown>) => void): Promise<{ rev: string; body: string }> {
  const res = await fetch(`${gw.registry.directUrl}/${name}?write=true`, { headers: { authorization: gw.registry.credential('alice') } });
  const doc = (await res.json()) as Record<string, unknown> & { _rev: string };
  edit(doc);
  return { rev: doc._rev, body: JSON.stringify(doc) };
}

/** What `npm unpublish name@version` sends first: the stored packument without that version, its tags following it. */
async function unpublishBody(gw: NpmGateway, name: string, version: string): Promise<{ rev: string; body: string }> {
  const res = await fetch(`${gw.registry.directUrl}/${name}?write=true`, { headers: { authorization: gw.registry.credential('alice') } });
  const doc = (await res.json()) as { _rev: string; versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
  delete doc.versions[version];
  for (const [tag, tagged] of Object.entries(doc['dist-tags'])) {
    if (tagged !== version) continue;
    if (tag === 'latest') doc['dist-tags'].latest = '1.0.0';
    else delete doc['dist-tags'][tag];
  }
  return { rev: doc._rev, body: JSON.stringify(doc) };
}

scopeSemanticsSuite({
  registry: 'npm',
  noun: 'package',
  errorBody: npmError,
  authorization: (token) => `Bearer ${token}`,
  allowedStatus: () => 201,
  async startGateway(existing) {
    const gw = await startNpmGateway();
    await upstreamPublish(gw, existing, '1.0.0');
    const semantics: SemanticsGateway = {
      url: gw.url,
      upstreamCredential: gw.registry.credential('alice'),
      setNow: (ms) => gw.setNow(ms),
      createToken: async (apiToken) => (await gw.createToken(apiToken)).token,
      upstreamRequests: () => gw.registry.requests.map((r) => ({ method: r.method, url: r.url, headerText: JSON.stringify(r.headers), authorization: r.headers.authorization })),
      clearUpstream: () => gw.registry.clearRequests(),
      close: () => gw.close(),
    };
    gateways.set(semantics, gw);
    return semantics;
  },
  async buildRequest(semantics, op, name, n) {
    const gw = gateways.get(semantics)!;
    switch (op) {
      case 'publish-new':
        return { method: 'PUT', path: `/${name}`, headers: JSON_HEADERS, body: JSON.stringify(npmPublishBody(name, '1.0.0')) };
      case 'publish-update':
        return { method: 'PUT', path: `/${name}`, headers: JSON_HEADERS, body: JSON.stringify(npmPublishBody(name, `2.0.${n}`)) };
      case 'yank': {
        await upstreamPublish(gw, name, `1.5.${n}`, `seed-${n}`);
        const { rev, body } = await unpublishBody(gw, name, `1.5.${n}`);
        return { method: 'PUT', path: `/${name}/-rev/${rev}`, headers: JSON_HEADERS, body };
      }
      case 'change-owners': {
        const { rev, body } = await storedWith(gw, name, (doc) => { doc.maintainers = [{ name: 'alice', email: 'alice@example.org' }, { name: 'bob', email: 'bob@example.org' }]; });
        return { method: 'PUT', path: `/${name}/-rev/${rev}`, headers: JSON_HEADERS, body };
      }
    }
  },
});
