/**
 * The token page on the wire: the gateway answers `/tokens` itself (never forwarding it), with the
 * strict CSP, `nosniff`, the right content types and caching; the policy the page reads is the live
 * config; the browser gets exactly the entry module's import closure — including the server's own
 * compiled crate-pattern rules — and a 404 for anything else under `/tokens/`.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { CONTENT_SECURITY_POLICY, browserImport, moduleImports } from '../../src/http/web.js';
import type { TokenPagePolicy } from '../../src/web/policy.js';
import { call, cargoError, rawRequest, REPO_ROOT, startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw?.close();
});

const DAY = 86_400_000;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function policyOf(html: string): TokenPagePolicy {
  const json = /<script type="application\/json" id="policy">(.*?)<\/script>/s.exec(html)?.[1];
  assert.ok(json, 'no policy block in the page');
  return JSON.parse(json) as TokenPagePolicy;
}

/** The asset base and the two URLs the HTML loads. */
function assetsOf(html: string): { base: string; script: string; style: string } {
  const script = /<script type="module" src="([^"]+)"><\/script>/.exec(html)?.[1];
  const style = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1];
  assert.ok(script && style, 'the page names no script or stylesheet');
  return { base: script.replace(/web\/tokens-page\.js$/, ''), script, style };
}

describe('the token page over HTTP', () => {
  test('/tokens and /tokens/new are the page, with the CSP, nosniff and no caching; nothing is forwarded', async () => {
    for (const path of ['/tokens', '/tokens/', '/tokens/new', '/tokens/new?from=12']) {
      const res = await call(gw.url, { path });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('content-security-policy'), CSP);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.match(res.text, /^<!doctype html>/);
      assert.doesNotMatch(res.text, /<script(?![^>]*(type="application\/json"|type="module" src=))/, 'an inline script');
      assert.doesNotMatch(res.text, /style=|<style/, 'an inline style');
    }
    assert.equal(CONTENT_SECURITY_POLICY, CSP);
    assert.equal(gw.registry.requests.filter((r) => r.url.startsWith('/tokens')).length, 0);
    assert.deepEqual(gw.logLines().filter((l) => l['req.path'] === '/tokens').map((l) => [l['route.id'], l.status]), [['token-page', 200]]);
  });

  test('the page carries the live policy: public URL, registry name, index URL, prefix, expiry rules and the gateway clock', async () => {
    gw.setNow(Date.parse('2030-01-02T03:04:05Z'));
    try {
      const policy = policyOf((await call(gw.url, { path: '/tokens' })).text);
      assert.deepEqual(policy, {
        now: Date.parse('2030-01-02T03:04:05Z'), publicUrl: gw.url, basePath: '', registry: 'cargo', registryName: 'scopegate',
        indexUrl: `sparse+${gw.url}/index/`, tokenPrefix: 'sg_', issuedBy: 'self',
        expiry: { defaultMs: 90 * DAY, maxMs: 365 * DAY, allowNever: false },
      });
    } finally {
      gw.setNow(null);
    }
    const edited = await startGateway({
      editYaml: (y) => y.replace(/max_lifetime: \S+/, 'max_lifetime: null').replace(/allow_no_expiry: \S+/, 'allow_no_expiry: true').replace(/registry_name: \S+/, 'registry_name: acme-internal'),
    });
    try {
      const policy = policyOf((await call(edited.url, { path: '/tokens/new' })).text);
      assert.deepEqual([policy.registryName, policy.expiry.maxMs, policy.expiry.allowNever], ['acme-internal', null, true]);
    } finally {
      await edited.close();
    }
  });

  test('with a path prefix in public_url (a proxy strips it), the page\'s links and files carry it', async () => {
    const prefixed = await startGateway({ env: { SCOPEGATE_PUBLIC_URL: 'https://crates.example.com/r&d/reg/' } });
    try {
      const html = (await call(prefixed.url, { path: '/tokens/new' })).text;
      assert.equal(policyOf(html).basePath, '/r&d/reg');
      const { base, script, style } = assetsOf(html);
      assert.match(base, /^\/r&amp;d\/reg\/tokens\/assets\/[0-9a-f]{16}\/$/);
      assert.deepEqual([script, style], [`${base}web/tokens-page.js`, `${base}web/tokens.css`]);
      const links = [...html.matchAll(/<a [^>]*href="([^"]*)"/g)].map((m) => m[1]);
      assert.deepEqual(links, ['/r&amp;d/reg/tokens', '/r&amp;d/reg/tokens/new', '/r&amp;d/reg/tokens', '/r&amp;d/reg/tokens']);
      // What the gateway itself is asked for is the path the proxy leaves.
      const served = await call(prefixed.url, { path: script.replace('/r&amp;d/reg', '') });
      assert.equal(served.status, 200);
    } finally {
      await prefixed.close();
    }
  });

  test('scripts and styles are served from a content-hashed path, immutable, with their content types', async () => {
    const html = (await call(gw.url, { path: '/tokens' })).text;
    const { base, script, style } = assetsOf(html);
    assert.match(base, /^\/tokens\/assets\/[0-9a-f]{16}\/$/);
    const js = await call(gw.url, { path: script });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    const css = await call(gw.url, { path: style });
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(css.text, await readFile(new URL('src/web/tokens.css', REPO_ROOT), 'utf8'));
  });

  test('the browser validates crate patterns with the server\'s own compiled module, and every import it follows is served', async () => {
    const { base, script } = assetsOf((await call(gw.url, { path: '/tokens' })).text);
    const seen = new Set<string>();
    const visit = async (path: string): Promise<void> => {
      if (seen.has(path)) return;
      seen.add(path);
      const res = await call(gw.url, { path: base + path });
      assert.equal(res.status, 200, `${path} is imported but not served`);
      for (const specifier of moduleImports(res.text)) {
        const target = browserImport(path, specifier);
        assert.ok(target, `${path} imports ${specifier}`);
        await visit(target);
      }
    };
    await visit(script.slice(base.length));
    assert.ok(seen.has('core/crate-pattern.js') && seen.has('core/scope.js'), `the page does not load the core rules: ${[...seen].join(', ')}`);
    assert.ok([...seen].every((p) => /^(core|registries|web)\//.test(p)));
    const served = (await call(gw.url, { path: `${base}core/crate-pattern.js` })).text;
    assert.equal(served, await readFile(new URL('dist/src/core/crate-pattern.js', REPO_ROOT), 'utf8'));
  });

  test('anything else under /tokens/ is a 404, as are other methods, a stale build and server modules', async () => {
    const { base } = assetsOf((await call(gw.url, { path: '/tokens' })).text);
    const misses: [string, string][] = [
      ['GET', '/tokens/nope'], ['GET', '/tokens/new/x'], ['GET', '/tokens/assets/0000000000000000/web/tokens-page.js'],
      ['GET', `${base}http/web.js`], ['GET', `${base}web/tokens-page.js.map`], ['GET', `${base}web/tokens.html`], ['GET', `${base}../package.json`],
      ['POST', '/tokens'], ['PUT', '/tokens/new'], ['DELETE', `${base}web/tokens-page.js`],
    ];
    for (const [method, path] of misses) {
      const res = await rawRequest(gw.port, method, path);
      assert.equal(res.status, path.includes('..') ? 400 : 404, `${method} ${path}`);
      if (!path.includes('..')) assert.deepEqual(JSON.parse(res.text), cargoError(`the token page has nothing at ${method} ${path}; it is at ${gw.url}/tokens`));
    }
    assert.equal(gw.registry.requests.filter((r) => r.url.startsWith('/tokens')).length, 0, 'a page request was forwarded');
  });

  test('HEAD answers the headers of GET without a body', async () => {
    const res = await rawRequest(gw.port, 'HEAD', '/tokens');
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    assert.equal(res.headers['content-security-policy'], CSP);
    assert.ok(Number(res.headers['content-length']) > 1000);
  });
});

describe('which imports the browser may follow', () => {
  const rows: { from: string; specifier: string; expected: string | null }[] = [
    { from: 'web/tokens-page.js', specifier: './api.js', expected: 'web/api.js' },
    { from: 'web/format.js', specifier: '../core/crate-pattern.js', expected: 'core/crate-pattern.js' },
    { from: 'core/crate-pattern.js', specifier: './errors.js', expected: 'core/errors.js' },
    { from: 'web/naming.js', specifier: '../registries/npm-naming.js', expected: 'registries/npm-naming.js' },
    { from: 'web/api.js', specifier: '../http/respond.js', expected: null },
    { from: 'web/api.js', specifier: '../store/redis-store.js', expected: null },
    { from: 'web/api.js', specifier: 'node:crypto', expected: null },
    { from: 'web/api.js', specifier: 'ioredis', expected: null },
    { from: 'core/scope.js', specifier: '../../package.json', expected: null },
    { from: 'web/api.js', specifier: './policy.ts', expected: null },
  ];
  for (const { from, specifier, expected } of rows) {
    test(`${from} importing ${specifier} → ${expected ?? 'refused'}`, () => assert.equal(browserImport(from, specifier), expected));
  }

  test('import specifiers are read from compiled modules, type-only and inline text ignored', () => {
    const source = [
      "import { parseCratePattern } from '../core/crate-pattern.js';",
      'import { a, b as c } from "./dom.js";',
      "export { x } from './format.js';",
      "import './side-effect.js';",
      'export {};',
      "const text = 'import this from somewhere';",
      '//# sourceMappingURL=tokens-page.js.map',
    ].join('\n');
    assert.deepEqual(moduleImports(source), ['../core/crate-pattern.js', './dom.js', './format.js', './side-effect.js']);
  });
});
