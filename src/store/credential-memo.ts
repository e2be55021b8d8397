/**
 * Opened upstream credentials, remembered per token for the token cache's TTL — but never in the
 * clear. Opening a sealed credential (HKDF-SHA256, then AES-256-GCM) is the costliest step of an
 * allowed request (~25 µs of CPU, about a tenth of the gateway's time on an allowed request; see
 * bench/RESULTS.md). The memo keeps the credential XORed with a keystream of
 * `SHAKE256(MEMO_DOMAIN || iv || token)` (an XOF keyed by the token's 190 random bits, with a
 * fresh random IV per memo, so no keystream is ever used twice), keyed by the token's lookup
 * hash. Unlocking it costs one hash (a fifth of opening the seal) and needs the token itself,
 * exactly like the sealed form: a heap dump of the gateway holds lookup hashes and masked bytes,
 * never a plaintext token or upstream credential. The lookup hash is SHA-256(token), a different
 * function of the token, so it does not yield the keystream.
 *
 * No integrity tag: the memo never leaves the process, and it is only ever opened with the token
 * whose lookup hash found it, for the record whose sealed form it was made from.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { openCredential } from './credential-seal.js';
import { dropExpired } from './expiring.js';

const MEMO_DOMAIN = 'scopegate credential memo v1\0';
const IV_BYTES = 16;

interface Memo {
  /** The sealed form it was opened from: a memo serves that record only. */
  readonly sealed: string;
  readonly iv: Buffer;
  readonly data: Buffer;
  readonly until: number;
}

export interface CredentialOpener {
  /** The credential sealed in `sealed`, opened with `tokenPlaintext`; null when it cannot be. */
  open(sealed: string, tokenPlaintext: string, tokenHash: string): string | null;
}

/** Opens every time: no memo (`cache.enabled: false`). */
export const OPEN_EVERY_TIME: CredentialOpener = Object.freeze({
  open: (sealed: string, tokenPlaintext: string) => openCredential(sealed, tokenPlaintext),
});

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
    dropExpired(this.memos, now);
    if (this.memos.size >= this.options.maxEntries) {
      const oldest = this.memos.keys().next();
      if (!oldest.done) this.memos.delete(oldest.value);
    }
    // From Node's buffer pool (allocUnsafe): `randomBytes` makes an ArrayBuffer per call, so
    // 10,000 memos held 10,000 of them (process.memoryUsage().arrayBuffers); pooled, they share 8 KiB slabs.
    const iv = randomFillSync(Buffer.allocUnsafe(IV_BYTES));
    const data = xor(Buffer.from(credential, 'utf8'), iv, tokenPlaintext);
    this.memos.set(tokenHash, { sealed, iv, data, until: now + this.options.ttlMs });
  }
}

function unlock(memo: Memo, tokenPlaintext: string): string {
  return xor(Buffer.from(memo.data), memo.iv, tokenPlaintext).toString('utf8');
}

/** XORs `bytes` in place with the keystream for (`iv`, token) and returns it. */
function xor(bytes: Buffer, iv: Buffer, tokenPlaintext: string): Buffer {
  if (bytes.length === 0) return bytes;
  const keystream = createHash('shake256', { outputLength: bytes.length }).update(MEMO_DOMAIN).update(iv).update(tokenPlaintext, 'utf8').digest();
  for (let i = 0; i < bytes.length; i++) bytes[i]! ^= keystream[i]!;
  return bytes;
}
