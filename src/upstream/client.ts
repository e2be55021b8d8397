/**
 * Small GETs the gateway makes on its own behalf: the existence probe, the identity probe and the
 * registry config document. Bounded in time and size; never follows redirects.
 */
import http from 'node:http';
import https from 'node:https';

export interface UpstreamResponse {
  readonly status: number;
  readonly body: string;
}

const MAX_BODY = 1024 * 1024;

export interface UpstreamClient {
  /** GETs `path`; an answer over `maxBytes` (default 1 MiB) is an error. */
  get(path: string, credential: string | null, timeoutMs: number, maxBytes?: number): Promise<UpstreamResponse>;
}

export function createUpstreamClient(upstreamUrl: string, agent: http.Agent): UpstreamClient {
  const base = new URL(upstreamUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    get(path, credential, timeoutMs, maxBytes = MAX_BODY) {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (credential !== null) headers.authorization = credential;
        const req = (base.protocol === 'https:' ? https : http).request({ host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), path: prefix + path, method: 'GET', headers, agent });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.end();
      });
    },
  };
}
