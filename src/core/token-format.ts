/**
 * The scopegate token format (DESIGN §1 ★): prefix + 32 random base62 chars + 6 base62 chars of
 * CRC32 over everything before them (41 chars with `sg_`). The checksum lets the gateway refuse
 * typos and garbage without a store lookup, and lets secret scanners find leaked tokens.
 *
 * `node:zlib`'s crc32 is a pure computation, not I/O; it is the one Node import the core allows.
 */
import { crc32 } from 'node:zlib';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SECRET_LENGTH = 32;
const BASE62_ONLY = /^[0-9A-Za-z]*$/;
const CHECKSUM_LENGTH = 6;

/** Assembles a token from its prefix and 32 random base62 chars (the caller supplies randomness). */
export function formatToken(prefix: string, secret: string): string {
  if (secret.length !== SECRET_LENGTH || ![...secret].every((c) => BASE62.includes(c))) {
    throw new Error(`a token secret is ${SECRET_LENGTH} base62 characters`);
  }
  return prefix + secret + checksum(prefix + secret);
}

/** What an `Authorization` value turned out to be. */
export type PresentedCredential =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed'; readonly why: string }
  | { readonly kind: 'scopegate'; readonly token: string }
  | { readonly kind: 'legacy'; readonly value: string };

/**
 * Reads an `Authorization` header. cargo sends the token raw, with no scheme (wire-facts §1.3);
 * npm sends `Bearer <token>`; both are accepted, as crates.io accepts both. A value that does not
 * start with the prefix is a legacy credential, kept whole (scheme included) for pass-through.
 */
export function readCredential(header: string | undefined, prefix: string): PresentedCredential {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  if (!/^[\x20-\x7e\t]*$/.test(header)) {
    return { kind: 'malformed', why: 'the Authorization header has characters outside printable ASCII' };
  }
  // cargo's raw token has no space to split on: the common case needs no regex split.
  const trimmed = header.trim();
  const [first = '', rest = ''] = /\s/.test(trimmed) ? trimmed.split(/\s+(.*)/s) : [trimmed];
  const schemed = !first.startsWith(prefix) && rest.trim().startsWith(prefix);
  if (schemed && first.toLowerCase() !== 'bearer') {
    // Never pass a scopegate token on as a "legacy" credential just because of an odd scheme.
    return { kind: 'malformed', why: `unexpected authentication scheme \`${first}\`: send the token alone or as \`Bearer <token>\`` };
  }
  const candidate = schemed ? rest.trim() : trimmed;
  if (!candidate.startsWith(prefix)) {
    // Never pass on a scopegate token hidden in an odd wrapping (`Bearer Bearer …`, from an npm
    // `_authToken` that already says Bearer; quotes; `token=…`; inside Basic's base64): forwarded
    // as a "legacy" credential, the registry and its logs would see the token.
    if (containsToken(header, prefix)) {
      return { kind: 'malformed', why: 'the scopegate token in it is wrapped in something else: send the token alone or as `Bearer <token>`' };
    }
    return { kind: 'legacy', value: header };
  }
  const expectedLength = prefix.length + SECRET_LENGTH + CHECKSUM_LENGTH;
  if (candidate.length !== expectedLength) {
    return { kind: 'malformed', why: `a ${prefix} token is ${expectedLength} characters long, this one is ${candidate.length}` };
  }
  const body = candidate.slice(0, -CHECKSUM_LENGTH);
  if (!BASE62_ONLY.test(body.slice(prefix.length)) || checksum(body) !== candidate.slice(-CHECKSUM_LENGTH)) {
    return { kind: 'malformed', why: 'its checksum does not match (a character was changed or lost when it was copied)' };
  }
  return { kind: 'scopegate', token: candidate };
}

/** `text` with every well-formed token in it replaced by `<prefix>[redacted]` (for log lines). */
export function maskTokens(text: string, prefix: string): string {
  if (!text.includes(prefix)) return text;
  return text.replace(embeddedToken(prefix), (token) => (checksum(token.slice(0, -CHECKSUM_LENGTH)) === token.slice(-CHECKSUM_LENGTH) ? `${prefix}[redacted]` : token));
}

/** Whether `value`, or the base64 payload of a `Basic` value, holds a well-formed token anywhere. */
function containsToken(value: string, prefix: string): boolean {
  const pattern = embeddedToken(prefix);
  const found = (text: string): boolean => {
    for (const [token] of text.matchAll(pattern)) if (checksum(token.slice(0, -CHECKSUM_LENGTH)) === token.slice(-CHECKSUM_LENGTH)) return true;
    return false;
  };
  if (found(value)) return true;
  const basic = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value)?.[1];
  return basic !== undefined && found(Buffer.from(basic, 'base64').toString('latin1'));
}

const embeddedPatterns = new Map<string, RegExp>();
/** prefix + 38 base62 characters; one compiled pattern per configured prefix. */
function embeddedToken(prefix: string): RegExp {
  let pattern = embeddedPatterns.get(prefix);
  if (pattern === undefined) {
    pattern = new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}`, 'g');
    embeddedPatterns.set(prefix, pattern);
  }
  return pattern;
}

function checksum(text: string): string {
  let n = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}
