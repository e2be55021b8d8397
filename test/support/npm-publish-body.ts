/**
 * npm publish bodies as npm 11 builds them (libnpmpublish; wire-facts §3.3): the packument with one
 * version and its tarball, base64, in `_attachments`. The tarball is a real gzipped tar with
 * `package/package.json`, so `npm install` can unpack what a test published.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** A gzipped tar holding `package/package.json` for `name@version`. */
export function npmTarball(name: string, version: string): Buffer {
  const manifest = Buffer.from(`${JSON.stringify({ name, version, description: 'scopegate test package' }, null, 2)}\n`);
  return gzipSync(Buffer.concat([tarEntry('package/package.json', manifest), Buffer.alloc(1024)]));
}

/** One ustar entry: a 512-byte header, then the content padded to a 512-byte boundary. */
function tarEntry(path: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => { header.write(value, offset, length, 'ascii'); };
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, path);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding]);
}

export interface PublishOptions {
  /** The dist-tag the version gets (npm's `--tag`); default `latest`. */
  readonly tag?: string;
  /** Where the registry is, for `dist.tarball` (the registry rewrites it anyway). */
  readonly registryUrl?: string;
}

/** The JSON body of `npm publish` for `name@version`. */
export function npmPublishBody(name: string, version: string, options: PublishOptions = {}): Record<string, unknown> {
  const tarball = npmTarball(name, version);
  const file = `${name.split('/').pop()}-${version}.tgz`;
  const registry = options.registryUrl ?? 'http://registry.invalid';
  return {
    _id: name,
    name,
    description: 'scopegate test package',
    'dist-tags': { [options.tag ?? 'latest']: version },
    versions: {
      [version]: {
        name, version, description: 'scopegate test package', _id: `${name}@${version}`,
        dist: {
          integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
          shasum: createHash('sha1').update(tarball).digest('hex'),
          tarball: `${registry}/${name}/-/${file}`,
        },
      },
    },
    access: null,
    _attachments: { [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } },
  };
}

/** The path segment npm sends for a name: `@scope/name` → `@scope%2fname`. */
export function npmSegment(name: string): string {
  return name.replace('/', '%2f');
}
