/**
 * The token page (DESIGN §3), answered by the gateway itself and never forwarded: `/tokens` (your
 * tokens) and `/tokens/new` (crates.io's "New API Token" form; `?from=<id>` regenerates), plus its
 * files under `/tokens/assets/<build>/`. The page is static; it talks only to the token API.
 *
 * Its scripts are the compiled `src/web/*.ts` and the pure `src/core` modules they import, so the
 * browser checks patterns with the very `PackageNaming` the server applies. The files the browser
 * may fetch are the closure of the entry module's static imports, computed once; an import of
 * anything but another module under `core/`, `registries/` (both pure) or `web/` — a bare or
 * `node:` specifier, a shell module — fails the load, so nothing Node-only reaches the page unnoticed.
 *
 * Every answer carries a strict CSP (no inline script or style; the policy JSON is a data block,
 * which CSP does not treat as script) and `nosniff`. Asset URLs contain a hash of every file, so
 * they are cached for good; the HTML, which embeds the live policy, is never cached.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { gatewayError } from '../core/errors.js';
import { isTokenPagePath, TOKEN_PAGE_ASSETS } from '../core/gateway-answers.js';
import { maskTokens } from '../core/token-format.js';
import type { TokenPagePolicy } from '../web/policy.js';
import { tokensUrl } from './authenticate.js';
import { Rejection, type GatewayDeps, type RequestContext } from './context.js';

export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Compiled browser modules (`dist/src/`), and the HTML and CSS that tsc does not copy (`src/`). */
const COMPILED = new URL('../', import.meta.url);
const SOURCES = new URL('../../../src/', import.meta.url);
const ENTRY = 'web/tokens-page.js';
const STYLES = 'web/tokens.css';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

interface Asset { readonly body: Buffer; readonly type: string }
interface TokenPage {
  /** `/tokens/assets/<build>/`: changes whenever any file does. */
  readonly base: string;
  readonly assets: ReadonlyMap<string, Asset>;
  readonly html: string;
}

let loaded: Promise<TokenPage> | undefined;

export async function serveTokenPage(ctx: RequestContext, path: string): Promise<void> {
  const method = ctx.req.method ?? '';
  ctx.log['route.id'] = 'token-page';
  ctx.log.verdict = 'allow';
  if (method === 'GET' || method === 'HEAD') {
    const page = await (loaded ??= loadTokenPage());
    if (isTokenPagePath(path)) return send(ctx, 'text/html; charset=utf-8', renderPage(page, ctx.deps, ctx.now), 'no-store');
    const asset = path.startsWith(page.base) ? page.assets.get(path.slice(page.base.length)) : undefined;
    if (asset !== undefined) return send(ctx, asset.type, asset.body, 'public, max-age=31536000, immutable');
  }
  throw new Rejection(gatewayError('SG_PAGE_NOT_FOUND', { method, path: maskTokens(path, ctx.deps.config.tokens.prefix), tokensUrl: tokensUrl(ctx.deps) }), 'page-not-found');
}

function send(ctx: RequestContext, type: string, body: string | Buffer, cacheControl: string): void {
  ctx.res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cacheControl, 'content-length': String(Buffer.byteLength(body)) });
  ctx.res.end(body); // Node sends no body for HEAD
}

/** The policy the page needs, from the live config (a SIGHUP reload shows on the next load). */
export function pagePolicy(deps: GatewayDeps, now: number): TokenPagePolicy {
  const { config, adapter } = deps;
  const indexPath = adapter.name === 'cargo' && adapter.configPath !== null ? posix.dirname(adapter.configPath) : null;
  return {
    now, publicUrl: config.publicUrl, basePath: new URL(config.publicUrl).pathname.replace(/\/+$/, ''),
    registry: adapter.name, registryName: config.tokens.registryName,
    indexUrl: indexPath === null ? null : `sparse+${config.publicUrl}${indexPath}/`,
    tokenPrefix: config.tokens.prefix,
    issuedBy: config.upstream.auth === 'static' ? 'operator' : 'self',
    expiry: { defaultMs: config.tokens.defaultLifetimeMs, maxMs: config.tokens.maxLifetimeMs, allowNever: config.tokens.allowNoExpiry },
  };
}

function renderPage(page: TokenPage, deps: GatewayDeps, now: number): string {
  const values = pagePolicy(deps, now);
  // `<` escaped, so no value can close the data block (`</script>`).
  const policy = JSON.stringify(values).replaceAll('<', '\\u003c');
  // The browser is at public_url, whose path prefix (if any) a proxy strips before the gateway
  // sees the request: the page's links and files are written with it, or they miss the gateway.
  const root = escapeAttribute(values.basePath);
  return page.html.replaceAll('{{root}}', root).replaceAll('{{assets}}', root + page.base).replace('{{policy}}', () => policy);
}

/** Text for a double-quoted attribute (a URL path may hold `&`; the parser already encoded `"`, `<` and `>`). */
const escapeAttribute = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');

async function loadTokenPage(): Promise<TokenPage> {
  const assets = new Map<string, Asset>();
  await addModule(ENTRY, assets);
  assets.set(STYLES, { body: await readFile(new URL(STYLES, SOURCES)), type: TYPES['.css']! });
  const build = createHash('sha256');
  for (const [path, asset] of [...assets].sort(([a], [b]) => a.localeCompare(b))) build.update(path).update('\0').update(asset.body);
  return { base: `${TOKEN_PAGE_ASSETS}${build.digest('hex').slice(0, 16)}/`, assets, html: await readFile(new URL('web/tokens.html', SOURCES), 'utf8') };
}

/** Adds a compiled module (path relative to `dist/src/`) and, recursively, every module it imports. */
async function addModule(path: string, assets: Map<string, Asset>): Promise<void> {
  if (assets.has(path)) return;
  const body = await readFile(new URL(path, COMPILED));
  assets.set(path, { body, type: TYPES['.js']! });
  for (const specifier of moduleImports(body.toString('utf8'))) {
    const target = browserImport(path, specifier);
    if (target === null) throw new Error(`token page: ${path} imports ${JSON.stringify(specifier)}, which the browser cannot load; browser code may only import modules under src/core, src/registries or src/web`);
    await addModule(target, assets);
  }
}

/** The specifiers of a compiled module's static `import`/`export … from` statements (tsc's output, one per line). */
export function moduleImports(source: string): string[] {
  const found = source.matchAll(/^\s*(?:import|export)\b[^'"`;]*?(?:\bfrom\s*)?['"]([^'"]+)['"]\s*;?\s*$/gm);
  return [...found].map((m) => m[1]!);
}

/**
 * Where a relative import of `from` leads (`core/crate-pattern.js`), or null unless it stays within
 * the pure layers (`core/`, `registries/`, STYLE "Shape") or the page's own `web/`.
 */
export function browserImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  return /^(core|registries|web)\/[a-z0-9-]+\.js$/.test(target) ? target : null;
}
