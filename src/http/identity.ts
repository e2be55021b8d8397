/**
 * The identity probe (DESIGN §2): ask the upstream who a registry credential belongs to, e.g.
 * cargo `GET /api/v1/me` → `/user/login`. The login becomes the account that owns new tokens.
 */
import { gatewayError } from '../core/errors.js';
import { Rejection, type RequestContext } from './context.js';

export async function identifyAccount(ctx: RequestContext, credential: string): Promise<{ account: string }> {
  const { upstream, config } = ctx.deps;
  const { path, login } = config.upstream.identity;
  const answer = await upstream.get(path, credential, config.upstream.probeTimeoutMs).catch((e: Error) => {
    throw new Rejection(gatewayError('SG_IDENTITY_UNAVAILABLE'), `identity-probe-failed: ${e.message}`);
  });
  if (answer.status === 401 || answer.status === 403) {
    throw new Rejection(gatewayError('SG_IDENTITY_REJECTED', { status: answer.status }), 'identity-rejected');
  }
  let account: unknown;
  try {
    account = answer.status === 200 ? readPointer(JSON.parse(answer.body), login) : undefined;
  } catch {
    account = undefined;
  }
  if (typeof account !== 'string' || account === '') {
    throw new Rejection(gatewayError('SG_IDENTITY_UNAVAILABLE'), `identity-probe-answered-${answer.status}-without-login`);
  }
  ctx.log['token.account'] = account;
  return { account };
}

/** RFC 6901 JSON pointer lookup. */
export function readPointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let current = value;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
