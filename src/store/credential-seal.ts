/**
 * Sealing the upstream credential inside a token record (DESIGN §2, per-token mode). The key is
 * derived from the token's plaintext, which is never stored, so Redis alone (a dump, a replica,
 * a stolen backup) never reveals an upstream credential; only a request presenting the token can
 * open it.
 *
 * Sealed form: `v1.<salt>.<iv>.<tag>.<ciphertext>`, each part base64url. AES-256-GCM; key =
 * HKDF-SHA256(ikm = token plaintext, salt = 16 random bytes per record, info = {@link INFO}).
 * The plaintext token already carries 190 bits of randomness, so HKDF (not a slow password hash)
 * is the right derivation; the per-record salt keeps keys distinct even if a plaintext repeated.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';
/** Binds derived keys to this purpose and format version. */
const INFO = 'scopegate upstream credential v1';
const SALT_BYTES = 16;
/** 96-bit IV: the size GCM is specified for (NIST SP 800-38D). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Encrypts `credential` under a key derived from `tokenPlaintext`; a fresh salt and IV each time. */
export function sealCredential(credential: string, tokenPlaintext: string): string {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(tokenPlaintext, salt), iv, { authTagLength: TAG_BYTES });
  // The version is authenticated too, so a sealed value cannot be relabelled as another format.
  cipher.setAAD(Buffer.from(VERSION));
  const ciphertext = Buffer.concat([cipher.update(credential, 'utf8'), cipher.final()]);
  return [VERSION, salt, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/**
 * Decrypts a value from {@link sealCredential}. Returns null, never throws, when the token is not
 * the one it was sealed for, or the value is malformed or was tampered with: the caller denies.
 */
export function openCredential(sealed: string, tokenPlaintext: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) return null;
  const [salt, iv, tag, ciphertext] = parts.slice(1).map(decodePart);
  if (salt?.length !== SALT_BYTES || iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === undefined) {
    return null;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(tokenPlaintext, salt), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(VERSION));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // GCM authentication failed: wrong token or altered bytes.
    return null;
  }
}

/** HKDF-Expand's input for the one block a 32-byte key needs: `info || 0x01` (RFC 5869 §2.3). */
const EXPAND_BLOCK_1 = Buffer.concat([Buffer.from(INFO), Buffer.from([1])]);

/**
 * HKDF-SHA256 (RFC 5869) written out as its two HMACs: Extract `PRK = HMAC(salt, ikm)`, then
 * Expand `T(1) = HMAC(PRK, info || 0x01)`, which is the whole 32-byte key. Byte for byte what
 * `hkdfSync('sha256', ikm, salt, INFO, 32)` returns (a test checks), at well under half its cost:
 * `hkdfSync` builds KeyObjects on every call, and this runs on every allowed request.
 */
export function deriveKey(tokenPlaintext: string, salt: Buffer): Buffer {
  const prk = createHmac('sha256', salt).update(tokenPlaintext, 'utf8').digest();
  return createHmac('sha256', prk).update(EXPAND_BLOCK_1).digest().subarray(0, KEY_BYTES);
}

/** Strict base64url: Node's decoder silently skips foreign characters, which would hide tampering. */
function decodePart(part: string): Buffer | undefined {
  return /^[A-Za-z0-9_-]*$/.test(part) ? Buffer.from(part, 'base64url') : undefined;
}
