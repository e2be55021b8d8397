/**
 * Tokens for the benchmark, written straight into the gateways' Redis the way the token API
 * writes them (sealed upstream credential, SHA-256 key), so seeding 10,000 takes seconds.
 */
import { parseScope, type Scope } from '../src/core/scope.js';
import { sealCredential } from '../src/store/credential-seal.js';
import { createRedisClient, waitForReady } from '../src/store/redis-client.js';
import { RedisTokenStore } from '../src/store/redis-store.js';
import { hashToken, mintToken } from '../src/store/token-secret.js';

/** What the upstream receives in place of every benchmark token. */
export const UPSTREAM_CREDENTIAL = 'bench-upstream-credential';
const DAY_MS = 86_400_000;
const BATCH = 200;

export interface TokenSeeder {
  /** Creates `count` tokens holding `scopes` on every crate; returns their plaintexts. */
  create(count: number, scopes: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

export async function openSeeder(redisUrl: string, keyPrefix = 'sg:'): Promise<TokenSeeder> {
  const client = createRedisClient({ url: redisUrl, commandTimeoutMs: 5_000 });
  await waitForReady(client, 5_000);
  const store = new RedisTokenStore(client, { keyPrefix });
  return {
    async create(count, scopes) {
      const endpointScopes = scopes.map((s) => parseScope(s)).filter((s): s is Scope => s !== null);
      const plaintexts: string[] = [];
      for (let start = 0; start < count; start += BATCH) {
        const batch = Array.from({ length: Math.min(BATCH, count - start) }, () => mintToken('sg_'));
        await Promise.all(batch.map((token, i) => {
          const now = Date.now();
          return store.create({
            hash: hashToken(token), account: 'bench', name: `bench-${start + i}`, endpointScopes, crateScopes: null,
            createdAt: now, expiredAt: now + DAY_MS, sealedCredential: sealCredential(UPSTREAM_CREDENTIAL, token),
          }, DAY_MS);
        }));
        plaintexts.push(...batch);
      }
      return plaintexts;
    },
    close: () => store.close(),
  };
}
