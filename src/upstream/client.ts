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

/** The start of an answer: its status and its body up to the first line break. */
export interface UpstreamFirstLine {
  readonly status: number;
  /** The body's first line, without its line break (the whole body when it has none). */
  readonly line: string;
  /** True when the line ran past `maxBytes` and was cut there. */
  readonly cut: boolean;
}

const MAX_BODY = 1024 * 1024;

export interface UpstreamClient {
  /** GETs `path`; an answer over `maxBytes` (default 1 MiB) is an error. */
  get(path: string, credential: string | null, timeoutMs: number, maxBytes?: number): Promise<UpstreamResponse>;
  /**
   * GETs `path` and reads the answer only up to its first line break (at most `maxBytes`, default
   * 1 MiB), then drops the connection: the rest, however long, is never read.
   */
  getFirstLine(path: string, credential: string | null, timeoutMs: number, maxBytes?: number): Promise<UpstreamFirstLine>;
}

export function createUpstreamClient(upstreamUrl: string, agent: http.Agent): UpstreamClient {
  const base = new URL(upstreamUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  /** Sends the GET; `read` gets the response and settles the promise. */
  function request<T>(path: string, credential: string | null, timeoutMs: number, read: (res: http.IncomingMessage, req: http.ClientRequest, resolve: (value: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (credential !== null) headers.authorization = credential;
      const req = (base.protocol === 'https:' ? https : http).request({ host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), path: prefix + path, method: 'GET', headers, agent });
      // A deadline for the whole answer, not an idle timeout: an upstream that drips a byte at a
      // time would otherwise hold a probe, and the publish waiting on it, for as long as it likes.
      const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.once('close', () => clearTimeout(deadline));
      req.on('error', reject);
      req.on('response', (res) => {
        res.on('error', reject);
        read(res, req, resolve);
      });
      req.end();
    });
  }
  return {
    get(path, credential, timeoutMs, maxBytes = MAX_BODY) {
      return request(path, credential, timeoutMs, (res, req, resolve) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
    },
    getFirstLine(path, credential, timeoutMs, maxBytes = MAX_BODY) {
      return request(path, credential, timeoutMs, (res, req, resolve) => {
        const status = res.statusCode ?? 0;
        let head: Buffer = Buffer.alloc(0);
        let finished = false;
        const done = (line: Buffer, cut: boolean): void => {
          if (finished) return;
          finished = true;
          resolve({ status, line: line.toString('utf8').replace(/\r$/, ''), cut });
          // Whatever follows is not wanted: stop reading, and let the socket go rather than reuse it mid-answer.
          if (!res.complete) req.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
          const end = head.indexOf(0x0a);
          if (end !== -1 && end <= maxBytes) done(head.subarray(0, end), false);
          else if (head.length > maxBytes) done(head.subarray(0, maxBytes), true);
        });
        res.on('end', () => done(head, false));
      });
    },
  };
}
