/**
 * A real Verdaccio 6.8 (the `verdaccio` dev dependency) for the npm tests, on a free port with its
 * own temporary storage and htpasswd, behind a thin recording proxy that keeps every request the
 * registry receives (method, raw URL, headers, body), so a test can prove what reached it.
 * Setup follows wire-facts §3.1; users are created with `PUT /-/user/org.couchdb.user:<name>`,
 * whose answer carries the user's JWT: `Bearer <jwt>` is their registry credential (`Basic` works
 * too, §3.2, but costs a bcrypt check, about 0.2 s, on every request).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, REPO_ROOT } from './gateway.js';

/** One request as Verdaccio received it. */
export interface VerdaccioRequest {
  readonly method: string;
  /** The raw `req.url`, exactly as forwarded. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Verdaccio {
  /** The recording proxy's URL, `http://127.0.0.1:PORT`: what the gateway is pointed at. */
  readonly url: string;
  /** Verdaccio itself, for setup that must not show up in `requests`. */
  readonly directUrl: string;
  /** Every request received through `url`, in arrival order. */
  readonly requests: VerdaccioRequest[];
  clearRequests(): void;
  /** `Bearer <jwt>`: the registry credential of a user, as `npm login` would have stored it. */
  credential(user: string): string;
  close(): Promise<void>;
}

/** Users created at start: login → password. */
export const VERDACCIO_USERS = { alice: 'alice-password-1', bob: 'bob-password-1' } as const;

const BIN = fileURLToPath(new URL('node_modules/verdaccio/bin/verdaccio', REPO_ROOT));
const START_TIMEOUT_MS = 30_000;

/**
 * Reads are open to all (`$all`, as many private registries run), so that with `reads: public` a
 * denied token's read still works anonymously and the write that follows shows the gateway's
 * message; publishing and unpublishing need a user. `@private/*` packages are the exception: only
 * users may read them (Verdaccio answers anyone else 401 with `WWW-Authenticate`).
 */
function verdaccioConfig(port: number): string {
  return [
    'storage: ./storage',
    'auth: { htpasswd: { file: ./htpasswd, max_users: 100 } }',
    'uplinks: {}',
    "packages: { '@private/*': { access: $authenticated, publish: $authenticated, unpublish: $authenticated }, '**': { access: $all, publish: $authenticated, unpublish: $authenticated } }",
    'security: { api: { jwt: { sign: { expiresIn: 7d } } } }',
    'log: { type: stdout, format: json, level: error }',
    `listen: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

export async function startVerdaccio(users: Readonly<Record<string, string>> = VERDACCIO_USERS): Promise<Verdaccio> {
  const dir = await mkdtemp(join(tmpdir(), 'scopegate-verdaccio-'));
  const port = await freePort();
  await writeFile(join(dir, 'config.yaml'), verdaccioConfig(port));
  const child = spawn(process.execPath, [BIN, '--config', join(dir, 'config.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const directUrl = `http://127.0.0.1:${port}`;
  const credentials = new Map<string, string>();
  try {
    await waitForPing(directUrl, child, () => stderr);
    for (const [name, password] of Object.entries(users)) credentials.set(name, `Bearer ${await addUser(directUrl, name, password)}`);
  } catch (e) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const recorder = await startRecorder(port);
  return {
    url: recorder.url,
    directUrl,
    requests: recorder.requests,
    clearRequests: () => { recorder.requests.length = 0; },
    credential: (user) => {
      const credential = credentials.get(user);
      if (credential === undefined) throw new Error(`no verdaccio user ${user}`);
      return credential;
    },
    close: async () => {
      await recorder.close();
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${stderr()}`);
    const ok = await fetch(`${url}/-/ping`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`verdaccio did not answer /-/ping within ${START_TIMEOUT_MS} ms:\n${stderr()}`);
}

/** Creates the user; returns the JWT Verdaccio answers with. */
async function addUser(url: string, name: string, password: string): Promise<string> {
  const res = await fetch(`${url}/-/user/org.couchdb.user:${name}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || typeof body.token !== 'string') throw new Error(`creating verdaccio user ${name}: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** A pass-through proxy that records each request whole before forwarding it unchanged (Host included). */
async function startRecorder(targetPort: number): Promise<{ url: string; requests: VerdaccioRequest[]; close(): Promise<void> }> {
  const requests: VerdaccioRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', (e) => { res.writeHead(502); res.end(`recorder: ${e.message}`); });
      upstream.end(body);
    });
  });
  server.on('connection', (socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}
