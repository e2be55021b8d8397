/**
 * One suite of scope semantics (DESIGN §1), run against every registry adapter: the rows, tokens
 * and expectations are identical, and only how a request for an operation is built differs
 * (`scope-semantics-cargo.test.ts`, `scope-semantics-npm.test.ts`). So the shared core —
 * `decide()`, pattern matching, the publish-new/publish-update probe, expiry — provably behaves
 * the same for cargo and npm.
 *
 * Wire-exact: on deny the answer is the registry's error envelope around the exact message and the
 * upstream received no such write; on allow it received the write once, with the swapped
 * credential. The scopegate token never reaches the upstream at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

/** The operations every registry has, by the scope each needs. */
export type SharedOp = 'publish-new' | 'publish-update' | 'yank' | 'change-owners';
export const SHARED_OPS: readonly SharedOp[] = ['publish-new', 'publish-update', 'yank', 'change-owners'];

/** A request as the registry's own client would send it. */
export interface BuiltRequest {
  readonly method: string;
  /** The path as sent (also what the upstream receives for this write). */
  readonly path: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
}

/** One request the upstream received. */
export interface UpstreamSeen {
  readonly method: string;
  readonly url: string;
  /** Every header, flattened, to search for a leaked token. */
  readonly headerText: string;
  readonly authorization: string | undefined;
}

/** A gateway in front of one registry, as the suite needs it. */
export interface SemanticsGateway {
  readonly url: string;
  /** The credential the upstream must see in place of a scopegate token. */
  readonly upstreamCredential: string;
  setNow(ms: number | null): void;
  createToken(apiToken: Record<string, unknown>): Promise<string>;
  /** Requests the upstream received since `clearUpstream()`. */
  upstreamRequests(): readonly UpstreamSeen[];
  clearUpstream(): void;
  close(): Promise<void>;
}

export interface RegistryUnderTest {
  /** `cargo`, `npm`: names the suite. */
  readonly registry: string;
  /** What the registry calls a package, as messages say it. */
  readonly noun: string;
  /** The error body the client receives for `message`. */
  errorBody(message: string): unknown;
  /** The `Authorization` value the registry's client sends a token as (cargo: raw; npm: `Bearer`). */
  authorization(token: string): string;
  /** The status the upstream answers an allowed `op` with. */
  allowedStatus(op: SharedOp): number;
  /** Starts the gateway and its upstream, with the package `existing` already published. */
  startGateway(existing: string): Promise<SemanticsGateway>;
  /** Prepares the upstream so that `op` on `name` can succeed, and builds the client's request for it. */
  buildRequest(gw: SemanticsGateway, op: SharedOp, name: string, n: number): Promise<BuiltRequest>;
}

const DAY = 86_400_000;
const EXISTING = 'gw-existing';
const SCOPE_OF: Record<SharedOp, string> = { 'publish-new': 'publish-new', 'publish-update': 'publish-update', yank: 'yank', 'change-owners': 'change-owners' };
const ALL = ['publish-new', 'publish-update', 'yank', 'change-owners'];
const SCOPE_SETS: readonly (string[] | null)[] = [null, [], ['publish-new'], ['publish-update'], ['yank'], ['change-owners'], ['read'], ALL];
/** Patterns that are valid, and mean the same, under every registry's name rules. */
const PATTERN_SETS: readonly (string[] | null)[] = [null, [], [EXISTING], ['gw-*'], ['other', 'gw-existing*'], ['other']];
const EXPIRY = Math.floor((Date.now() + 30 * DAY) / 1000) * 1000;

/** An independent statement of DESIGN §1 for these rows, in the registry's own words. */
function expected(r: RegistryUnderTest, gw: SemanticsGateway, op: SharedOp, scopes: string[] | null, patterns: string[] | null, expired: boolean, name: string): { status: number; message?: string } {
  if (expired) return { status: 403, message: `this token expired at ${new Date(EXPIRY).toISOString().replace('.000Z', 'Z')}; create a new one at ${gw.url}/tokens` };
  const scope = SCOPE_OF[op];
  if (scopes !== null && !scopes.includes(scope)) {
    const publishing = op === 'publish-new' || op === 'publish-update';
    if (publishing && !scopes.includes('publish-new') && !scopes.includes('publish-update')) {
      return { status: 403, message: 'this token does not have the `publish-new` or `publish-update` scope; create a token with that scope' };
    }
    const why = op === 'publish-new' ? ` (\`${name}\` is a new ${r.noun})` : op === 'publish-update' ? ` (\`${name}\` already exists)` : '';
    return { status: 403, message: `this token does not have the \`${scope}\` scope${why}; create a token with that scope` };
  }
  const matches = (p: string): boolean => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p);
  if (patterns !== null && patterns.length > 0 && !patterns.some(matches)) {
    return { status: 403, message: `this token may only act on ${r.noun}s matching ${patterns.map((p) => `\`${p}\``).join(', ')}; \`${name}\` is not one of them` };
  }
  return { status: r.allowedStatus(op) };
}

export function scopeSemanticsSuite(r: RegistryUnderTest): void {
  let gw: SemanticsGateway;
  let counter = 0;

  before(async () => { gw = await r.startGateway(EXISTING); });
  after(async () => { await gw?.close(); });

  async function check(token: string, op: SharedOp, scopes: string[] | null, patterns: string[] | null, expired: boolean): Promise<void> {
    const n = ++counter;
    const name = op === 'publish-new' ? `gw-new-${n}` : EXISTING;
    const request = await r.buildRequest(gw, op, name, n);
    gw.clearUpstream();
    const headers = { ...request.headers, authorization: r.authorization(token) };
    const res = await fetch(gw.url + request.path, { method: request.method, headers, body: typeof request.body === 'string' || request.body === undefined ? request.body : new Uint8Array(request.body) });
    const text = await res.text();
    const want = expected(r, gw, op, scopes, patterns, expired, name);
    const writes = gw.upstreamRequests().filter((seen) => seen.method === request.method && seen.url === request.path);
    assert.equal(res.status, want.status, `${op}: ${text}`);
    if (want.message !== undefined) {
      assert.deepEqual(JSON.parse(text), r.errorBody(want.message), op);
      assert.equal(writes.length, 0, `${op}: a denied request reached the upstream`);
    } else {
      assert.equal(writes.length, 1, `${op}: the allowed request did not reach the upstream once`);
      assert.equal(writes[0]!.authorization, gw.upstreamCredential, `${op}: the upstream did not get the swapped credential`);
    }
    for (const seen of gw.upstreamRequests()) assert.ok(!seen.headerText.includes(token), `${op}: the scopegate token reached the upstream`);
  }

  describe(`${r.registry}: a valid token may do exactly what its scopes and ${r.noun} patterns allow`, () => {
    for (const scopes of SCOPE_SETS) {
      for (const patterns of PATTERN_SETS) {
        test(`endpoint_scopes ${JSON.stringify(scopes)}, crate_scopes ${JSON.stringify(patterns)}`, async () => {
          const token = await gw.createToken({ name: 'shared', endpoint_scopes: scopes, crate_scopes: patterns, expired_at: new Date(EXPIRY).toISOString() });
          gw.setNow(EXPIRY - DAY);
          try {
            for (const op of SHARED_OPS) await check(token, op, scopes, patterns, false);
          } finally {
            gw.setNow(null);
          }
        });
      }
    }
  });

  describe(`${r.registry}: an expired token is refused with its expiry date, whatever its scopes`, () => {
    for (const scopes of [null, ALL]) {
      for (const patterns of [null, ['gw-*']]) {
        test(`endpoint_scopes ${JSON.stringify(scopes)}, crate_scopes ${JSON.stringify(patterns)}`, async () => {
          const token = await gw.createToken({ name: 'expired', endpoint_scopes: scopes, crate_scopes: patterns, expired_at: new Date(EXPIRY).toISOString() });
          gw.setNow(EXPIRY);
          try {
            for (const op of SHARED_OPS) await check(token, op, scopes, patterns, true);
          } finally {
            gw.setNow(null);
          }
        });
      }
    }
  });
}
