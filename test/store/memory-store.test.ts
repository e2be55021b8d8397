/** MemoryTokenStore passes the same contract as the Redis store. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryTokenStore } from '../../src/store/memory-store.js';
import { StoreUnavailableError } from '../../src/store/token-store.js';
import { runTokenStoreContract } from './token-store-contract.js';

runTokenStoreContract('MemoryTokenStore', async () => {
  const store = new MemoryTokenStore();
  return { store, cleanup: () => store.close() };
});

it('a closed MemoryTokenStore refuses work as an unavailable store', async () => {
  const store = new MemoryTokenStore();
  await store.close();
  await assert.rejects(store.findByHash('00'), StoreUnavailableError);
  await assert.rejects(store.ping(), StoreUnavailableError);
});
