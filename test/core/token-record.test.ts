/** Token records: stored as flat strings, parsed back only when every field is sound. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCratePattern } from '../../src/core/crate-pattern.js';
import { parseTokenRecord, storeTokenRecord, type StoredTokenFields, type TokenRecord } from '../../src/core/token-record.js';

const RECORD: TokenRecord = {
  id: 7,
  hash: 'a'.repeat(64),
  account: 'alice',
  name: 'ci publish',
  endpointScopes: ['publish-update', 'yank'],
  crateScopes: ['serde', 'Serde_*'].map((p) => parseCratePattern(p)!),
  createdAt: Date.UTC(2026, 0, 1),
  expiredAt: Date.UTC(2026, 3, 1),
  lastUsedAt: Date.UTC(2026, 0, 2),
  revokedAt: null,
  sealedCredential: 'v1.c2FsdA.aXY.dGFn.Y2lwaGVy',
};

describe('store → parse round trip', () => {
  const rows: { name: string; record: TokenRecord }[] = [
    { name: 'a full record survives', record: RECORD },
    { name: 'null endpoint scopes (legacy-style) stay null', record: { ...RECORD, endpointScopes: null } },
    { name: 'empty endpoint scopes stay empty, not null', record: { ...RECORD, endpointScopes: [] } },
    { name: 'null crate scopes stay null', record: { ...RECORD, crateScopes: null } },
    { name: 'empty crate scopes stay empty, not null', record: { ...RECORD, crateScopes: [] } },
    { name: 'a record that never expires, was never used and is revoked survives', record: { ...RECORD, expiredAt: null, lastUsedAt: null, revokedAt: Date.UTC(2026, 0, 3) } },
    { name: 'a static-mode record without a sealed credential survives', record: { ...RECORD, sealedCredential: null } },
    { name: 'zero times and an empty name survive', record: { ...RECORD, id: 0, name: '', createdAt: 0, expiredAt: 0 } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(parseTokenRecord(storeTokenRecord(row.record)), row.record));

  it('the stored form is flat strings, patterns kept as written', () => {
    assert.deepEqual(storeTokenRecord({ ...RECORD, revokedAt: null, sealedCredential: null }), {
      id: '7', hash: 'a'.repeat(64), account: 'alice', name: 'ci publish',
      endpoint_scopes: '["publish-update","yank"]', crate_scopes: '["serde","Serde_*"]',
      created_at: String(Date.UTC(2026, 0, 1)), expired_at: String(Date.UTC(2026, 3, 1)), last_used_at: String(Date.UTC(2026, 0, 2)),
      revoked_at: '', sealed_credential: '',
    });
  });
});

describe('corrupt stored fields are refused whole', () => {
  const stored = storeTokenRecord(RECORD);
  const without = (key: string): StoredTokenFields => Object.fromEntries(Object.entries(stored).filter(([k]) => k !== key));
  const rows: { name: string; fields: StoredTokenFields }[] = [
    ...['id', 'hash', 'account', 'name', 'endpoint_scopes', 'crate_scopes', 'created_at'].map((key) => ({ name: `a missing \`${key}\` is refused`, fields: without(key) })),
    { name: 'a hash with no fields at all (a foreign or half-written key) is refused', fields: {} },
    { name: 'a non-numeric id is refused', fields: { ...stored, id: 'seven' } },
    { name: 'a negative id is refused', fields: { ...stored, id: '-7' } },
    { name: 'a fractional id is refused', fields: { ...stored, id: '7.5' } },
    { name: 'an id too large to be an exact integer is refused', fields: { ...stored, id: '9007199254740993' } },
    { name: 'an expiry too large to be a time is refused', fields: { ...stored, expired_at: '9'.repeat(400) } },
    { name: 'an empty created_at is refused', fields: { ...stored, created_at: '' } },
    { name: 'an ISO date where epoch ms belong is refused', fields: { ...stored, expired_at: '2026-04-01T00:00:00Z' } },
    { name: 'a non-numeric last_used_at is refused', fields: { ...stored, last_used_at: 'never' } },
    { name: 'a non-numeric revoked_at is refused', fields: { ...stored, revoked_at: 'yes' } },
    { name: 'endpoint scopes that are not JSON are refused', fields: { ...stored, endpoint_scopes: 'yank' } },
    { name: 'endpoint scopes that are a JSON object are refused', fields: { ...stored, endpoint_scopes: '{"yank":true}' } },
    { name: 'an unknown endpoint scope is refused', fields: { ...stored, endpoint_scopes: '["yank","legacy"]' } },
    { name: 'a wrongly cased endpoint scope is refused', fields: { ...stored, endpoint_scopes: '["Yank"]' } },
    { name: 'a crate scope list that is a JSON string is refused', fields: { ...stored, crate_scopes: '"serde"' } },
    { name: 'an invalid crate pattern is refused', fields: { ...stored, crate_scopes: '["serde","*foo"]' } },
    { name: 'a non-string crate pattern is refused', fields: { ...stored, crate_scopes: '["serde",1]' } },
    { name: 'a truncated JSON list is refused', fields: { ...stored, crate_scopes: '["serde"' } },
  ];
  for (const row of rows) it(row.name, () => assert.equal(parseTokenRecord(row.fields), null));

  it('fields it does not know are ignored', () => assert.deepEqual(parseTokenRecord({ ...stored, extra: 'x' }), RECORD));
});
