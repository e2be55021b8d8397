/**
 * Peeks at a publish body's JSON head (bounded) to learn the crate name, then hands back a stream
 * that replays the head and the rest unchanged, so the upstream receives the original bytes.
 */
import type { Readable } from 'node:stream';
import { gatewayError } from '../core/errors.js';
import type { PublishHead } from '../registries/registry.js';
import { peekBody } from './body.js';
import { Rejection, type RequestContext } from './context.js';

export async function readPublishCrate(ctx: RequestContext): Promise<{ name: string; body: Readable }> {
  const { adapter, config } = ctx.deps;
  const lengthHeader = ctx.req.headers['content-length'];
  const contentLength = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  const limits = { jsonMax: config.limits.publishJsonMaxBytes, bodyMax: config.limits.publishBodyMaxBytes };
  const read = (bytes: Buffer): PublishHead => adapter.readPublishHead(bytes, contentLength, limits);
  const first = read(Buffer.alloc(0));
  if (first.kind === 'error') throw new Rejection(first.error, first.error.code);
  const { head, body } = await peekBody(ctx.req, (bytes) => {
    const outcome = read(bytes);
    return outcome.kind === 'need-more' ? outcome.bytes : null;
  });
  const outcome = read(head);
  if (outcome.kind === 'ok') return { name: outcome.name, body };
  // An unforwarded rest of `req` is left for Node to discard; destroying `req` would kill the reply.
  if (body !== ctx.req) body.destroy();
  if (outcome.kind === 'error') throw new Rejection(outcome.error, outcome.error.code);
  throw new Rejection(gatewayError('SG_PUBLISH_MALFORMED', { why: 'the body ended before its JSON metadata did' }), 'SG_PUBLISH_MALFORMED');
}
