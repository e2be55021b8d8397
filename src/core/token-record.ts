/**
 * The token record as the gateway reasons about it (DESIGN §1–2), and its flat string form as
 * stored (one Redis hash per token). {@link parseTokenRecord} is the only way from stored fields
 * to a record: a corrupted or foreign hash is refused, never half-trusted.
 */
import { cargoNaming, type CratePattern, type PackageNaming } from './crate-pattern.js';
import { parseScope, type Scope } from './scope.js';

/** A token record. Times are epoch milliseconds. */
export interface TokenRecord {
  readonly id: number;
  /** SHA-256 (hex) of the token's plaintext: the lookup key. */
  readonly hash: string;
  /** The upstream login (per-token mode) or the operator-named account (static mode). */
  readonly account: string;
  readonly name: string;
  /** `null`: legacy-style, full access. A list, even `[]`: only those scopes. */
  readonly endpointScopes: readonly Scope[] | null;
  /** `null` and `[]` both mean all crates. */
  readonly crateScopes: readonly CratePattern[] | null;
  readonly createdAt: number;
  /** `null`: never expires. Valid while `now < expiredAt`. */
  readonly expiredAt: number | null;
  readonly lastUsedAt: number | null;
  /** When revoked, else null. A revoked record is kept (for listings) until it is dropped. */
  readonly revokedAt: number | null;
  /**
   * The upstream credential, AES-256-GCM sealed under a key derived (HKDF-SHA256) from the plaintext
   * token (per-token mode), as `v1.<salt>.<iv>.<tag>.<ciphertext>` (base64url parts; see
   * `store/credential-seal.ts`); null in static mode.
   */
  readonly sealedCredential: string | null;
}

/** Flat string form of a record, as kept in a Redis hash. */
export type StoredTokenFields = Record<string, string>;

/** Serialises a record for storage. */
export function storeTokenRecord(record: TokenRecord): StoredTokenFields {
  return {
    id: String(record.id),
    hash: record.hash,
    account: record.account,
    name: record.name,
    endpoint_scopes: JSON.stringify(record.endpointScopes),
    crate_scopes: JSON.stringify(record.crateScopes === null ? null : record.crateScopes.map((p) => p.source)),
    created_at: String(record.createdAt),
    expired_at: record.expiredAt === null ? '' : String(record.expiredAt),
    last_used_at: record.lastUsedAt === null ? '' : String(record.lastUsedAt),
    revoked_at: record.revokedAt === null ? '' : String(record.revokedAt),
    sealed_credential: record.sealedCredential ?? '',
  };
}

/**
 * Parses stored fields into a record; null when anything is missing or malformed. Crate patterns
 * are parsed by `naming`, the registry's name rules (the store is given the adapter's).
 */
export function parseTokenRecord(fields: StoredTokenFields, naming: PackageNaming = cargoNaming): TokenRecord | null {
  const id = parseInteger(fields.id);
  const createdAt = parseInteger(fields.created_at);
  const expiredAt = parseOptionalInteger(fields.expired_at);
  const lastUsedAt = parseOptionalInteger(fields.last_used_at);
  const revokedAt = parseOptionalInteger(fields.revoked_at);
  const endpointScopes = parseList(fields.endpoint_scopes, parseScope);
  const crateScopes = parseList(fields.crate_scopes, (v) => naming.parsePattern(v));
  const { hash, account, name } = fields;
  if (id === null || createdAt === null || hash === undefined || account === undefined || name === undefined) return null;
  if (expiredAt === undefined || lastUsedAt === undefined || revokedAt === undefined) return null;
  if (endpointScopes === undefined || crateScopes === undefined) return null;
  return {
    id, hash, account, name, endpointScopes, crateScopes, createdAt, expiredAt, lastUsedAt, revokedAt,
    sealedCredential: fields.sealed_credential ? fields.sealed_credential : null,
  };
}

function parseInteger(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** `''` → null (absent), digits → number, anything else → undefined (corrupt). */
function parseOptionalInteger(value: string | undefined): number | null | undefined {
  if (value === undefined || value === '') return null;
  return parseInteger(value) ?? undefined;
}

/** JSON `null` → null; a JSON array whose every item parses → the list; else undefined. */
function parseList<T>(json: string | undefined, parseItem: (v: unknown) => T | null): readonly T[] | null | undefined {
  if (json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (value === null) return null;
  if (!Array.isArray(value)) return undefined;
  const items = value.map(parseItem);
  return items.every((item): item is T => item !== null) ? items : undefined;
}
