/**
 * Where the test registry serves `.crate` files: at the path its `dl` template names (cargo fills
 * in the markers, wire-facts §1.5), or, with a static host (`cdn`), by redirecting there.
 */
import { depPrefix } from './cargo-registry-index.js';
import { errorReply, type RegistryStore, type Reply } from './cargo-registry-store.js';

/** What a request at the download template's path asked for. */
export interface TemplateDownload {
  readonly crate: string;
  readonly version: string;
  readonly prefix?: string;
  readonly lowerprefix?: string;
  readonly checksum?: string;
}

const MARKERS: Record<string, string> = {
  '{crate}': '(?<crate>[^/?]+)',
  '{version}': '(?<version>[^/?]+)',
  // The shapes of cargo's `make_dep_prefix` (depPrefix), so adjacent markers parse one way.
  '{prefix}': '(?<prefix>[12]|3/[^/?]|[^/?]{2}/[^/?]{2})',
  '{lowerprefix}': '(?<lowerprefix>[12]|3/[^/?]|[^/?]{2}/[^/?]{2})',
  '{sha256-checksum}': '(?<checksum>[0-9a-f]{64})',
};

/**
 * Matches request targets against the `dl` template as cargo fills it in (`download.rs`): without
 * any marker, `/{crate}/{version}/download` is appended. The query is part of the match only when
 * the template has one.
 */
export function downloadMatcher(dl: string): (pathAndQuery: string) => TemplateDownload | null {
  const template = Object.keys(MARKERS).some((m) => dl.includes(m)) ? dl : `${dl}/{crate}/{version}/download`;
  const source = template.split(/(\{[a-z0-9-]+\})/).map((part) => (Object.hasOwn(MARKERS, part) ? MARKERS[part]! : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  const pattern = new RegExp(`^${source}$`);
  const withQuery = template.includes('?');
  return (pathAndQuery) => {
    const target = withQuery ? pathAndQuery : pathAndQuery.split('?')[0]!;
    const groups = pattern.exec(target)?.groups;
    if (groups?.crate === undefined || groups.version === undefined) return null;
    try {
      return { crate: decodeURIComponent(groups.crate), version: decodeURIComponent(groups.version), prefix: groups.prefix, lowerprefix: groups.lowerprefix, checksum: groups.checksum };
    } catch {
      return null; // malformed percent-encoding: no such download
    }
  };
}

/** A templated download, served only when every marker's value is the one cargo would have filled in. */
export function templateDownload(store: RegistryStore, asked: TemplateDownload): Reply {
  const line = store.linesOf(asked.crate).find((l) => l.vers === asked.version);
  const notFound = errorReply(404, 'Not Found');
  if (line === undefined) return notFound;
  if (asked.prefix !== undefined && asked.prefix !== depPrefix(line.name)) return notFound;
  if (asked.lowerprefix !== undefined && asked.lowerprefix !== depPrefix(line.name.toLowerCase())) return notFound;
  if (asked.checksum !== undefined && asked.checksum !== line.cksum) return notFound;
  return store.download(line.name, line.vers);
}

/**
 * crates.io's download endpoint with a static host: a 302 to the `.crate`'s key there, made from
 * the path as given and not looked up (a wrong name or version is the static host's 404).
 */
export function redirectToCdn(cdn: string, name: string, version: string): Reply {
  const key = `/crates/${encodeURIComponent(name)}/${encodeURIComponent(`${name}-${version}`)}.crate`;
  return { status: 302, body: '', contentType: 'text/plain', headers: { Location: `${cdn}${key}` } };
}
