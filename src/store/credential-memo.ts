/**
 * Opened upstream credentials, remembered per token for the token cache's TTL (`cache.ttl`; also
 * with `cache.enabled: false`, since a memo holds no verdict) — but never in the clear. Opening a
 * sealed credential (HKDF-SHA256, then AES-256-GCM) is the costliest step of an
 * allowed request (~25 µs of CPU, about a tenth of the gateway's time on an allowed request; see
 * bench/RESULTS.md). The memo keeps the credential XORed with a keystream of 64-byte blocks
 * `SHA-512(MEMO_DOMAIN || nonce || ":" || block number || ":" || token)` (a PRF keyed by the token's
 * 190 random bits, with a fresh random nonce per memo, so no keystream is ever used twice), keyed
 * by the token's lookup hash. Unlocking it costs one hash per 64 bytes of credential (~1 µs for
 * a typical one, against ~25 µs to open the seal) and needs the token itself, exactly like the
 * sealed form: a heap dump of the gateway holds lookup hashes and masked bytes, never a plaintext
 * token or upstream credential. The lookup hash is SHA-256(token), a different function of the
 * token, so it does not yield the keystream; and the token comes last in every keystream input,
 * so a block's digest cannot be extended into another's.
 *
 * No integrity tag: the memo never leaves the process, and it is only ever opened with the token
 * whose lookup hash found it, for the record whose sealed form it was made from.
 */
import { randomFillSync } from 'node:crypto';
import { openCredential } from './credential-seal.js';
import { makeRoom } from './expiring.js';
import { digestHex } from './token-secret.js';

const MEMO_DOMAIN = 'scopegate credential memo v2\0';
const NONCE_BYTES = 16;
/** SHA-512's output, in bytes: one keystream block. */
const BLOCK_BYTES = 64;
/** The value of each lower-case hex digit, by character code. */
const HEX_VALUE = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

interface Memo {
  /** The sealed form it was opened from: a memo serves that record only. */
  readonly sealed: string;
  /** Random, hex: makes this memo's keystream its own. */
  readonly nonce: string;
  readonly data: Buffer;
  readonly until: number;
}

export interface CredentialOpener {
  /** The credential sealed in `sealed`, opened with `tokenPlaintext`; null when it cannot be. */
  open(sealed: string, tokenPlaintext: string, tokenHash: string): string | null;
}

export class CredentialMemo implements CredentialOpener {
  // Oldest first, as in the token cache: a refreshed memo is deleted and re-added.
  private readonly memos = new Map<string, Memo>();
  private readonly now: () => number;

  constructor(private readonly options: { readonly ttlMs: number; readonly maxEntries: number; readonly now?: () => number }) {
    this.now = options.now ?? (() => performance.now());
  }

  open(sealed: string, tokenPlaintext: string, tokenHash: string): string | null {
    const memo = this.memos.get(tokenHash);
    if (memo !== undefined) {
      if (memo.sealed === sealed && memo.until > this.now()) return unlock(memo, tokenPlaintext);
      this.memos.delete(tokenHash);
    }
    const credential = openCredential(sealed, tokenPlaintext);
    if (credential !== null) this.keep(tokenHash, sealed, credential, tokenPlaintext);
    return credential;
  }

  get size(): number {
    return this.memos.size;
  }

  private keep(tokenHash: string, sealed: string, credential: string, tokenPlaintext: string): void {
    const now = this.now();
    makeRoom(this.memos, now, this.options.maxEntries);
    // The nonce is a string (hex): `randomBytes` makes an ArrayBuffer per call, so 10,000 memos
    // held 10,000 of them (process.memoryUsage().arrayBuffers).
    const nonce = randomFillSync(Buffer.allocUnsafe(NONCE_BYTES)).toString('hex');
    const data = xor(Buffer.from(credential, 'utf8'), nonce, tokenPlaintext);
    this.memos.set(tokenHash, { sealed, nonce, data, until: now + this.options.ttlMs });
  }
}

function unlock(memo: Memo, tokenPlaintext: string): string {
  return xor(Buffer.from(memo.data), memo.nonce, tokenPlaintext).toString('utf8');
}

/** XORs `bytes` in place with the keystream for (`nonce`, token) and returns it. */
function xor(bytes: Buffer, nonce: string, tokenPlaintext: string): Buffer {
  let block = '';
  for (let i = 0; i < bytes.length; i++) {
    const at = i % BLOCK_BYTES;
    if (at === 0) block = digestHex('sha512', `${MEMO_DOMAIN}${nonce}:${i / BLOCK_BYTES}:${tokenPlaintext}`);
    bytes[i]! ^= (HEX_VALUE[block.charCodeAt(2 * at)]! << 4) | HEX_VALUE[block.charCodeAt(2 * at + 1)]!;
  }
  return bytes;
}
