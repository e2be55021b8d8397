/**
 * The admin API key check. Both sides are hashed to fixed-length SHA-256 digests and compared with
 * `crypto.timingSafeEqual`, so neither the key's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Returns a checker for `Authorization: Bearer <key>` (the scheme Prometheus' `authorization` sends). */
export function adminKeyChecker(key: string): (authorization: string | undefined) => boolean {
  const expected = digest(key);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
    // A missing key is still compared (against a digest of nothing), to keep one code path.
    return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
  };
}
