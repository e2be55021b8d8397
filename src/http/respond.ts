/**
 * The one module that writes gateway-made responses: catalogued errors, shaped per registry
 * (cargo `{"errors":[{"detail"}]}`), and the token API's JSON.
 */
import type http from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GatewayError } from '../core/errors.js';
import type { RegistryAdapter } from '../registries/registry.js';

export function sendError(res: http.ServerResponse, adapter: RegistryAdapter, error: GatewayError, path: string, publicUrl: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = adapter.errorBody(error.message);
  // Built in place: two object spreads here cost ~2 µs of a denial's ~60 (bench/RESULTS.md).
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)) };
  const extra = adapter.errorHeaders(error.status, path, publicUrl);
  for (const name in extra) headers[name] = extra[name]!;
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  if (error.allow !== undefined) headers.allow = error.allow.join(', ');
  res.writeHead(error.status, headers);
  res.end(body);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(value), extra);
}

/** {@link sendJson} for a document that is JSON text already. */
export function sendJsonText(res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

export function sendEmpty(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'cache-control': 'no-store' });
  res.end();
}

/**
 * An error for a request Node's parser refused (the server's `clientError`): there is no
 * response object, so the bytes are written to the socket, which is then closed (after a parse
 * error the connection's framing is lost). Same body and headers as {@link sendError}.
 */
export function sendErrorToSocket(socket: Duplex, adapter: RegistryAdapter, error: GatewayError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = adapter.errorBody(error.message);
  socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n`
    + `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

const timedOut = new WeakSet<http.ServerResponse>();

/**
 * Answers 408 a request whose body was still arriving after `limits.request_timeout`, then cuts
 * the connection: the rest of the body is never read, and a request already forwarded is aborted
 * upstream with it (the proxy aborts its upstream request when the client's goes). Node's own
 * handling would only have destroyed the socket, leaving cargo an empty reply.
 */
export function answerTimedOut(res: http.ServerResponse, adapter: RegistryAdapter, error: GatewayError, publicUrl: string): void {
  timedOut.add(res);
  const socket = res.socket;
  res.setHeader('connection', 'close');
  res.once('finish', () => socket?.destroy());
  sendError(res, adapter, error, res.req.url ?? '', publicUrl);
}

/** Whether {@link answerTimedOut} answered this response (the pipeline then has nothing left to say). */
export function answeredTimedOut(res: http.ServerResponse): boolean {
  return timedOut.has(res);
}
