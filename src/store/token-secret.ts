/** Minting and hashing token plaintexts (the random and hashing half of core/token-format). */
import crypto, { createHash, randomInt } from 'node:crypto';
import { BASE62, SECRET_LENGTH, formatToken } from '../core/token-format.js';

/** A new token plaintext: `prefix` + 32 CSPRNG base62 chars + checksum. */
export function mintToken(prefix: string): string {
  let secret = '';
  for (let i = 0; i < SECRET_LENGTH; i++) secret += BASE62[randomInt(62)];
  return formatToken(prefix, secret);
}

/**
 * Node's one-shot `crypto.hash` (20.12+) skips building a Hash object: a third of the cost of
 * `createHash`, and this runs on every request that carries a token (bench/RESULTS.md).
 */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : null;

/** SHA-256 (hex) of the whole plaintext: the only form a token is stored in (DESIGN §1). */
export function hashToken(plaintext: string): string {
  return digestHex('sha256', plaintext);
}

/**
 * The hex digest of a UTF-8 string. Hex, not a Buffer: `crypto.hash` returning a Buffer costs
 * ~2 µs against ~0.3 µs for hex, on the benchmark machine.
 */
export function digestHex(algorithm: 'sha256' | 'sha512', text: string): string {
  return oneShot !== null ? oneShot(algorithm, text, 'hex') : createHash(algorithm).update(text, 'utf8').digest('hex');
}
