/**
 * Connections for uploads (forwarded requests with a body) to a plain-http upstream, on which an
 * early answer survives the registry closing the connection.
 *
 * A registry may answer an upload before it has read it (a size cap: 413 from the Content-Length
 * alone) and then close the connection with the rest of the upload unread, which resets it. The
 * gateway's next write of the body fails (EPIPE, ECONNRESET) while the answer still sits unread in
 * the socket, and Node's HTTP client destroys the socket on that write error, losing the answer
 * (nodejs/node#12339, #54366, open): the client got a 502 for a registry that had said 413. Here a
 * write that fails because the peer is gone is dropped instead, so the socket goes on reading: the
 * answer arrives as usual, and if none was sent, the reset ends the request as an unreachable
 * upstream, as before. Not kept alive: a connection whose writes were dropped is never reused.
 *
 * Over https the TLS layer writes to the TCP handle itself, below these methods: an https upstream
 * keeps Node's behaviour (a 502 for such an answer).
 */
import http from 'node:http';
import net from 'node:net';

/** Write errors that mean the registry has closed the connection; reading may still find its answer. */
const PEER_GONE = new Set(['EPIPE', 'ECONNRESET']);

type WriteCallback = (error?: Error | null) => void;

function dropIfPeerGone(callback: WriteCallback): WriteCallback {
  return (error) => callback(error != null && PEER_GONE.has((error as NodeJS.ErrnoException).code ?? '') ? null : error);
}

class UploadSocket extends net.Socket {
  override _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void {
    super._write(chunk, encoding, dropIfPeerGone(callback));
  }

  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: WriteCallback): void {
    super._writev!(chunks, dropIfPeerGone(callback));
  }
}

/** The agent for uploads to `upstreamUrl`, or null for an https upstream (see above). */
export function createUploadAgent(upstreamUrl: string): http.Agent | null {
  if (new URL(upstreamUrl).protocol === 'https:') return null;
  const agent = new http.Agent({ keepAlive: false, maxSockets: 256 });
  // As net.createConnection does, with the socket above.
  agent.createConnection = (options) => new UploadSocket(options as net.SocketConstructorOpts).connect(options as net.NetConnectOpts);
  return agent;
}
