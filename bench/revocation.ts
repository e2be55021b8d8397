/**
 * Revocation latency across processes: a token cached in two gateway processes is revoked through
 * one of them (`DELETE /api/v1/tokens/current`), while both are polled back to back with it. The
 * time from sending the revocation to the first refusal, per process, is what an operator waits
 * before a leaked token stops working everywhere.
 */
import http from 'node:http';

export interface RevocationSpec {
  /** Gateways sharing one Redis; the revocation is sent to the first. */
  readonly gateways: readonly string[];
  readonly tokens: readonly string[];
  /** A request each token is allowed to make (polled until it is refused). */
  readonly method: string;
  readonly path: string;
  /** Give up on one revocation after this long (reported as this value). */
  readonly timeoutMs: number;
}

export interface RevocationResult {
  /** Per revocation: the slowest process's delay, in ms. */
  readonly delays: readonly number[];
  /** Revocations at least one process did not see within the timeout. */
  readonly timedOut: number;
}

export async function runRevocations(spec: RevocationSpec): Promise<RevocationResult> {
  const agents = spec.gateways.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const control = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const delays: number[] = [];
  let timedOut = 0;
  try {
    for (const token of spec.tokens) {
      // Cache the token in every process first.
      for (const [i, gateway] of spec.gateways.entries()) {
        const status = await send(gateway, spec.method, spec.path, token, agents[i]!);
        if (status !== 200) throw new Error(`a fresh token got ${status} from ${gateway}, expected 200`);
      }
      let stop = false;
      const started = performance.now();
      const seen = spec.gateways.map(async (gateway, i) => {
        while (!stop) {
          const status = await send(gateway, spec.method, spec.path, token, agents[i]!);
          if (status === 403) return performance.now() - started;
          if (performance.now() - started > spec.timeoutMs) return Number.POSITIVE_INFINITY;
        }
        return Number.POSITIVE_INFINITY;
      });
      const revoked = await send(spec.gateways[0]!, 'DELETE', '/api/v1/tokens/current', token, control);
      if (revoked !== 204) throw new Error(`revocation answered ${revoked}, expected 204`);
      const slowest = Math.max(...(await Promise.all(seen)));
      stop = true;
      if (slowest === Number.POSITIVE_INFINITY) timedOut++;
      delays.push(Math.min(slowest, spec.timeoutMs));
    }
  } finally {
    for (const agent of [...agents, control]) agent.destroy();
  }
  return { delays, timedOut };
}

function send(base: string, method: string, path: string, token: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers: { authorization: token }, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}
