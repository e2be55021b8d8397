/** Minting and hashing token plaintexts (the random and hashing half of core/token-format). */
import { createHash, randomInt } from 'node:crypto';
import { BASE62, SECRET_LENGTH, formatToken } from '../core/token-format.js';

/** A new token plaintext: `prefix` + 32 CSPRNG base62 chars + checksum. */
export function mintToken(prefix: string): string {
  let secret = '';
  for (let i = 0; i < SECRET_LENGTH; i++) secret += BASE62[randomInt(62)];
  return formatToken(prefix, secret);
}

/** SHA-256 (hex) of the whole plaintext: the only form a token is stored in (DESIGN §1). */
export function hashToken(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}
