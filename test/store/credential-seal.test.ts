/** Sealing the upstream credential under the token's plaintext (DESIGN §2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hkdfSync, randomBytes } from 'node:crypto';
import { deriveKey, openCredential, sealCredential } from '../../src/store/credential-seal.js';

const TOKEN = 'sg_4Vq8bXk2LmN7pR3sT9wY1zA6cE5fG0hJxKy7Qw';
const CREDENTIAL = 'cio_upstreamSecretToken_ÄÖ✓';

describe('credential seal', () => {
  it('opens what it sealed, given the same token', () => {
    for (const credential of [CREDENTIAL, '', 'Bearer ' + 'x'.repeat(4_000)]) {
      assert.equal(openCredential(sealCredential(credential, TOKEN), TOKEN), credential);
    }
  });

  it('derives its key exactly as HKDF-SHA256 does (the v1 format depends on it)', () => {
    for (const token of [TOKEN, 'sg_' + 'A'.repeat(38), 'ünïcode-token']) {
      const salt = randomBytes(16);
      assert.deepEqual(deriveKey(token, salt), Buffer.from(hkdfSync('sha256', token, salt, 'scopegate upstream credential v1', 32)));
    }
  });

  it('has the documented shape: v1 and four base64url parts', () => {
    assert.match(sealCredential(CREDENTIAL, TOKEN), /^v1\.[\w-]{22}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
  });

  it('does not contain the credential in any readable form', () => {
    const sealed = sealCredential(CREDENTIAL, TOKEN);
    assert.ok(!sealed.includes('upstreamSecret'));
    assert.ok(!sealed.includes(Buffer.from(CREDENTIAL).toString('base64url').slice(0, 12)));
  });

  it('two seals of the same credential differ', () => {
    assert.notEqual(sealCredential(CREDENTIAL, TOKEN), sealCredential(CREDENTIAL, TOKEN));
  });

  it('returns null for another token', () => {
    const sealed = sealCredential(CREDENTIAL, TOKEN);
    assert.equal(openCredential(sealed, TOKEN.slice(0, -1) + 'x'), null);
    assert.equal(openCredential(sealed, ''), null);
  });

  it('returns null when any part was tampered with', () => {
    const parts = sealCredential(CREDENTIAL, TOKEN).split('.');
    for (let index = 1; index < parts.length; index++) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[0]! ^= 0x01;
      const tampered = replacePart(parts, index, bytes.toString('base64url'));
      assert.equal(openCredential(tampered, TOKEN), null, `part ${index} flipped`);
    }
    assert.equal(openCredential(replacePart(parts, 0, 'v2'), TOKEN), null, 'version changed');
  });

  it('returns null for malformed values instead of throwing', () => {
    const sealed = sealCredential(CREDENTIAL, TOKEN);
    const malformed = ['', 'v1', 'v1....', sealed.slice(0, -2), sealed + '.', sealed.replace('.', '.!'), 'v1.a.b.c.d'];
    for (const value of malformed) assert.equal(openCredential(value, TOKEN), null, JSON.stringify(value));
  });
});

function replacePart(parts: readonly string[], index: number, value: string): string {
  const copy = [...parts];
  copy[index] = value;
  return copy.join('.');
}
