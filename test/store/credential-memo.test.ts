/** The credential memo: what opening the seal gives, cheaper the second time, never kept in the clear. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialMemo } from '../../src/store/credential-memo.js';
import { sealCredential } from '../../src/store/credential-seal.js';
import { hashToken, mintToken } from '../../src/store/token-secret.js';

const CREDENTIAL = 'cio_upstreamSecretToken_ÄÖ✓';

function sealedFor(credential = CREDENTIAL): { token: string; hash: string; sealed: string } {
  const token = mintToken('sg_');
  return { token, hash: hashToken(token), sealed: sealCredential(credential, token) };
}

/** Everything the memo holds, as one string of its bytes (what a heap dump would show). */
function memoBytes(memo: CredentialMemo): string {
  const memos = (memo as unknown as { memos: Map<string, { data: Buffer; nonce: string }> }).memos;
  return [...memos.values()].map((m) => `${m.data.toString('latin1')}${m.data.toString('utf8')}${m.data.toString('base64')}`).join('');
}

describe('credential memo', () => {
  it('opens what the seal holds, first from the seal and then from the memo', () => {
    const memo = new CredentialMemo({ ttlMs: 60_000, maxEntries: 10 });
    for (const credential of [CREDENTIAL, '', 'Bearer ' + 'x'.repeat(4_000)]) {
      const { token, hash, sealed } = sealedFor(credential);
      assert.equal(memo.open(sealed, token, hash), credential);
      assert.equal(memo.open(sealed, token, hash), credential);
    }
    assert.equal(memo.size, 3);
  });

  it('keeps no credential in readable form', () => {
    const memo = new CredentialMemo({ ttlMs: 60_000, maxEntries: 10 });
    const { token, hash, sealed } = sealedFor();
    memo.open(sealed, token, hash);
    const held = memoBytes(memo);
    assert.ok(!held.includes('upstreamSecret'));
    assert.ok(!held.includes(Buffer.from(CREDENTIAL).toString('base64').slice(0, 12)));
  });

  it('a wrong token opens nothing and leaves nothing behind', () => {
    const memo = new CredentialMemo({ ttlMs: 60_000, maxEntries: 10 });
    const { sealed } = sealedFor();
    const other = mintToken('sg_');
    assert.equal(memo.open(sealed, other, hashToken(other)), null);
    assert.equal(memo.size, 0);
  });

  it('drops expired memos as new ones are made, not only when full', () => {
    let clock = 0;
    const memo = new CredentialMemo({ ttlMs: 1_000, maxEntries: 100, now: () => clock });
    for (let i = 0; i < 5; i++) {
      const { token, hash, sealed } = sealedFor();
      memo.open(sealed, token, hash);
    }
    assert.equal(memo.size, 5);
    clock = 1_000;
    const { token, hash, sealed } = sealedFor();
    assert.equal(memo.open(sealed, token, hash), CREDENTIAL);
    assert.equal(memo.size, 1);
  });

  it('serves only the record it was made from, for the TTL, and drops the oldest when full', () => {
    let clock = 0;
    const memo = new CredentialMemo({ ttlMs: 1_000, maxEntries: 2, now: () => clock });
    const { token, hash, sealed } = sealedFor();
    assert.equal(memo.open(sealed, token, hash), CREDENTIAL);
    const resealed = sealCredential('another credential', token);
    assert.equal(memo.open(resealed, token, hash), 'another credential');
    clock = 2_000;
    assert.equal(memo.open(resealed, token, hash), 'another credential');
    for (let i = 0; i < 3; i++) {
      const next = sealedFor();
      memo.open(next.sealed, next.token, next.hash);
    }
    assert.equal(memo.size, 2);
  });
});
