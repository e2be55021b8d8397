/**
 * crates.io's static host (static.crates.io) for the test registry's `cdn` option: a second
 * listener that serves the `.crate` files, as an object store does, by exact key. crates.io's
 * config.json points `dl` here, and its API download endpoint answers with a redirect here.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import type { RecordedRequest } from './cargo-registry.js';
import type { RegistryStore } from './cargo-registry-store.js';

/** A running static host. */
export interface StaticHost {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * The object key of a `.crate`, `crates/{name}/{name}-{version}.crate`, and the path cargo builds
 * from crates.io's marker-less `dl` (`…/crates/{name}/{version}/download`), which static.crates.io
 * also serves. Keys are exact: the name as stored, in its case and `-`/`_` spelling.
 */
const KEY = /^\/crates\/([^/]+)\/(?:\1-([^/]+)\.crate|([^/]+)\/download)$/;

/** Starts the static host on 127.0.0.1 with an ephemeral port, serving `store`'s `.crate` files. */
export async function startStaticHost(store: RegistryStore): Promise<StaticHost> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.alloc(0) });
    req.resume();
    const match = req.method === 'GET' || req.method === 'HEAD' ? KEY.exec(decodeURIComponentSafe((req.url ?? '').split('?')[0]!)) : null;
    const [, name = '', archiveVersion, pathVersion] = match ?? [];
    const line = match === null ? undefined : store.linesOf(name).find((l) => l.name === name && l.vers === (archiveVersion ?? pathVersion));
    const crate = line === undefined ? undefined : store.download(line.name, line.vers).body;
    if (!Buffer.isBuffer(crate)) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 }).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': crate.length }).end(crate);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = (): Promise<void> => new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
  return { url, requests, close };
}

function decodeURIComponentSafe(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
