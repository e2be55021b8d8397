/**
 * Request bodies, bounded. The token API reads small JSON bodies whole; a publish is only peeked
 * at (the JSON head) and then streamed upstream unchanged, head first.
 */
import type http from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

export class BodyTooLargeError extends Error {}

/**
 * Why a request's body cannot be forwarded with the framing it arrived with, or null. Checked
 * before anything else, for every request: the upstream connection is a shared keep-alive socket,
 * so a body the forward would send unframed becomes the *next request* on it (request smuggling).
 * `Transfer-Encoding` is hop-by-hop and is stripped, and then
 * - Node's client sends a GET or HEAD body with no length at all, and
 * - http-proxy sets `Content-Length: 0` on a DELETE or OPTIONS without one (its `deleteLength`),
 * so those bodies are refused here rather than re-framed. A coding other than `chunked` (`gzip,
 * chunked`) would reach the registry still encoded but no longer labelled. Node's parser has
 * already refused `Transfer-Encoding` together with `Content-Length`, and bad lengths.
 * (cargo and npm send no body on GET/HEAD, and `cargo owner --remove`'s DELETE body has a length.)
 */
export function framingProblem(req: http.IncomingMessage): string | null {
  const method = req.method ?? '';
  const coding = req.headers['transfer-encoding'];
  const length = req.headers['content-length'];
  if (coding === undefined && (length === undefined || length === '0')) return null;
  if (BODILESS.has(method)) return `a ${method} request has no body here; send it without one`;
  if (coding === undefined) return null;
  if (coding.trim().toLowerCase() !== 'chunked') return `Transfer-Encoding \`${coding}\` is not supported; send the body with Content-Length or as plain \`chunked\``;
  if (LENGTH_ONLY.has(method)) return `a ${method} body must be sent with Content-Length, not Transfer-Encoding: chunked`;
  return null;
}

/** Requests that asked `Expect: 100-continue` and have not been told to go on yet. */
const awaitingContinue = new WeakSet<http.IncomingMessage>();

/**
 * For a request with `Expect: 100-continue` (the server's `checkContinue`): sends `100 Continue`
 * when something first reads the body, i.e. once the gateway has decided it wants it, instead
 * of at once as Node does by default. A request refused before that never invites its upload
 * (curl, and so cargo, sends one for bodies over 1 MiB). Not after a final answer: Node reads
 * and drops the unread body then, and a late 100 would follow the response on the wire.
 */
export function continueOnFirstRead(req: http.IncomingMessage, res: http.ServerResponse): http.IncomingMessage {
  awaitingContinue.add(req);
  const read = req._read;
  req._read = function (this: http.IncomingMessage, size: number): void {
    req._read = read;
    if (awaitingContinue.delete(req) && !res.headersSent) res.writeContinue();
    read.call(this, size);
  };
  return req;
}

/**
 * True while a request still waits for `100 Continue`: answered without it, its client has not
 * sent the body and will not, so the connection must close rather than wait to read one.
 */
export function stillAwaitingContinue(req: http.IncomingMessage): boolean {
  return awaitingContinue.has(req);
}

const BODILESS = new Set(['GET', 'HEAD']);
const LENGTH_ONLY = new Set(['DELETE', 'OPTIONS']);

/** Reads the whole body, refusing more than `max` bytes. */
export async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BodyTooLargeError(`more than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads from `req` until `enough(bytesSoFar)` returns a wanted size already met, or the body ends.
 * Returns what was read and a stream that replays it followed by the rest of `req` (`req` itself,
 * unless it had already ended). The caller must not destroy `req` when it does not forward it.
 */
export function peekBody(req: http.IncomingMessage, wanted: (head: Buffer) => number | null): Promise<{ head: Buffer; body: Readable }> {
  return new Promise((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    let ended = false;
    const onEnd = (): void => {
      ended = true;
      finish();
    };
    const finish = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', reject);
      req.pause();
      if (!ended) {
        // The head goes back in front of what is still to come, and `req` itself is the body: no
        // extra stream stage for every chunk of a 50 MiB upload (bench/RESULTS.md, publish).
        req.unshift(head);
        return resolve({ head, body: req });
      }
      const body = new PassThrough();
      body.end(head);
      resolve({ head, body });
    };
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const need = wanted(head);
      if (need === null || head.length >= need) finish();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}
