/** The token format (DESIGN §1 ★) and reading the Authorization header (wire-facts §1.3). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASE62, SECRET_LENGTH, formatToken, maskTokens, readCredential, type PresentedCredential } from '../../src/core/token-format.js';

const PREFIX = 'sg_';
const SECRET = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const TOKEN = formatToken(PREFIX, SECRET);
/** The token with the character at `index` swapped for another base62 character. */
const withChange = (index: number): string => {
  const c = TOKEN[index]!;
  return TOKEN.slice(0, index) + (c === 'x' ? 'y' : 'x') + TOKEN.slice(index + 1);
};
const CHECKSUM = { kind: 'malformed', why: 'its checksum does not match (a character was changed or lost when it was copied)' } as const;
const length = (n: number) => ({ kind: 'malformed', why: `a sg_ token is 41 characters long, this one is ${n}` }) as const;
const NON_ASCII = { kind: 'malformed', why: 'the Authorization header has characters outside printable ASCII' } as const;
const WRAPPED = { kind: 'malformed', why: 'the scopegate token in it is wrapped in something else: send the token alone or as `Bearer <token>`' } as const;

describe('formatToken', () => {
  it('a token is the prefix, the 32-character secret and a 6-character checksum: 41 characters with `sg_`', () => {
    assert.equal(TOKEN.length, 41);
    assert.ok(TOKEN.startsWith(PREFIX + SECRET));
    assert.match(TOKEN.slice(-6), /^[0-9A-Za-z]{6}$/);
  });
  it('the same secret always gives the same token', () => assert.equal(formatToken(PREFIX, SECRET), TOKEN));
  it('a different secret gives a different checksum', () => assert.notEqual(formatToken(PREFIX, SECRET.replace('A', 'B')).slice(-6), TOKEN.slice(-6)));
  it('a different prefix gives a token of that prefix that reads back under it', () => {
    const other = formatToken('acme_', SECRET);
    assert.equal(other.length, 5 + 32 + 6);
    assert.deepEqual(readCredential(other, 'acme_'), { kind: 'scopegate', token: other });
  });
  it('every formatted token reads back as itself', () => {
    for (let i = 0; i < 200; i++) {
      const secret = Array.from({ length: SECRET_LENGTH }, (_, j) => BASE62[(i * 31 + j * 7 + j * j) % 62]).join('');
      const token = formatToken(PREFIX, secret);
      assert.deepEqual(readCredential(token, PREFIX), { kind: 'scopegate', token });
    }
  });
  const badSecrets: { name: string; input: string }[] = [
    { name: 'a short secret is a programming error', input: SECRET.slice(1) },
    { name: 'a long secret is a programming error', input: `${SECRET}a` },
    { name: 'a secret with a non-base62 character is a programming error', input: `${SECRET.slice(1)}-` },
  ];
  for (const row of badSecrets) it(row.name, () => assert.throws(() => formatToken(PREFIX, row.input), /32 base62 characters/));
});

const rows: { name: string; header: string | undefined; expected: PresentedCredential }[] = [
  // Accepted scopegate tokens.
  { name: 'cargo\'s raw token (no scheme) is read', header: TOKEN, expected: { kind: 'scopegate', token: TOKEN } },
  { name: 'npm\'s `Bearer <token>` is read', header: `Bearer ${TOKEN}`, expected: { kind: 'scopegate', token: TOKEN } },
  { name: 'the scheme is case-insensitive and may be followed by several spaces', header: `bearer   ${TOKEN}`, expected: { kind: 'scopegate', token: TOKEN } },
  { name: 'a tab after the scheme is accepted', header: `BEARER\t${TOKEN}`, expected: { kind: 'scopegate', token: TOKEN } },
  { name: 'surrounding whitespace is trimmed', header: `  ${TOKEN} `, expected: { kind: 'scopegate', token: TOKEN } },
  // Malformed scopegate tokens: refused without a store lookup.
  { name: 'a changed secret character fails the checksum', header: withChange(10), expected: CHECKSUM },
  { name: 'a changed first secret character fails the checksum', header: withChange(3), expected: CHECKSUM },
  { name: 'a changed checksum character fails the checksum', header: withChange(40), expected: CHECKSUM },
  { name: 'a changed character behind `Bearer` fails the checksum', header: `Bearer ${withChange(20)}`, expected: CHECKSUM },
  { name: 'a non-base62 character of the right length fails the checksum', header: `${TOKEN.slice(0, 10)}-${TOKEN.slice(11)}`, expected: CHECKSUM },
  { name: 'a lost character is reported with both lengths', header: TOKEN.slice(0, -1), expected: length(40) },
  { name: 'an extra character is reported with both lengths', header: `${TOKEN}x`, expected: length(42) },
  { name: 'the bare prefix is a malformed token', header: 'sg_', expected: length(3) },
  { name: 'two tokens in one header are a malformed token', header: `${TOKEN} ${TOKEN}`, expected: length(83) },
  { name: 'non-ASCII in the header is malformed', header: `${TOKEN.slice(0, -1)}é`, expected: NON_ASCII },
  { name: 'a control character in the header is malformed', header: `Bearer ${TOKEN}\u0000`, expected: NON_ASCII },
  { name: 'non-ASCII in a value without the prefix is malformed too', header: 'Bearer tökén', expected: NON_ASCII },
  // Legacy credentials: kept whole, scheme included, for pass-through.
  { name: 'a raw value without the prefix is a legacy credential', header: 'cio1234567890', expected: { kind: 'legacy', value: 'cio1234567890' } },
  { name: 'a Bearer value without the prefix is legacy, keeping the scheme', header: 'Bearer npm_abc', expected: { kind: 'legacy', value: 'Bearer npm_abc' } },
  { name: 'a Basic credential is legacy, kept whole', header: 'Basic abc', expected: { kind: 'legacy', value: 'Basic abc' } },
  { name: 'a legacy value keeps its surrounding whitespace', header: ' secret ', expected: { kind: 'legacy', value: ' secret ' } },
  // A scopegate token behind another scheme must never be passed upstream as a legacy credential.
  { name: 'the prefix behind another scheme is malformed, naming the scheme', header: `Token ${TOKEN}`, expected: { kind: 'malformed', why: 'unexpected authentication scheme `Token`: send the token alone or as `Bearer <token>`' } },
  ...[
    ['behind a second `Bearer` (an npm _authToken that already says Bearer)', `Bearer Bearer ${TOKEN}`],
    ['in quotes', `"${TOKEN}"`],
    ['after `token=`', `token=${TOKEN}`],
    ['inside a Basic credential\'s base64', `Basic ${Buffer.from(`alice:${TOKEN}`).toString('base64')}`],
  ].map(([where, header]) => ({ name: `a well-formed token ${where} is malformed, never legacy`, header, expected: WRAPPED })),
  { name: 'a Basic credential without a token inside is legacy', header: `Basic ${Buffer.from('alice:secret').toString('base64')}`, expected: { kind: 'legacy', value: `Basic ${Buffer.from('alice:secret').toString('base64')}` } },
  { name: 'the prefix is case-sensitive', header: TOKEN.replace('sg_', 'SG_'), expected: { kind: 'legacy', value: TOKEN.replace('sg_', 'SG_') } },
  { name: 'a bare `Bearer` is legacy', header: 'Bearer', expected: { kind: 'legacy', value: 'Bearer' } },
  // No credential at all.
  { name: 'no header is no credential', header: undefined, expected: { kind: 'none' } },
  { name: 'an empty header is no credential', header: '', expected: { kind: 'none' } },
  { name: 'a whitespace-only header is no credential', header: ' \t ', expected: { kind: 'none' } },
];

describe('readCredential', () => {
  for (const row of rows) it(row.name, () => assert.deepEqual(readCredential(row.header, PREFIX), row.expected));
});

describe('maskTokens', () => {
  it('replaces every well-formed token, and only those', () => {
    assert.equal(maskTokens(`/a/${TOKEN}/b/${TOKEN}`, PREFIX), '/a/sg_[redacted]/b/sg_[redacted]');
    assert.equal(maskTokens('/api/v1/crates/sg_sample/1.0.0/yank', PREFIX), '/api/v1/crates/sg_sample/1.0.0/yank');
    const typo = `${TOKEN.slice(0, 10)}${TOKEN[10] === 'a' ? 'b' : 'a'}${TOKEN.slice(11)}`;
    assert.equal(maskTokens(`/x/${typo}`, PREFIX), `/x/${typo}`, 'a checksum mismatch is not a token');
    assert.equal(maskTokens('/plain/path', PREFIX), '/plain/path');
  });
});
