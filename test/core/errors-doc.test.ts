/** docs/errors.md and the error catalogue stay in step (STYLE "Errors": one catalogue, documented). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CATALOGUE, gatewayError } from '../../src/core/errors.js';

/** The compiled test lives at dist/test/core/, three levels below the repository root. */
const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

interface DocRow { code: string; status: number; summary: string }

/** Rows of the form `| \`SG_…\` | 403 | summary |`. */
function documentedErrors(markdown: string): DocRow[] {
  return [...markdown.matchAll(/^\|\s*`([^`]+)`\s*\|\s*(\d{3})\s*\|\s*(.*?)\s*\|\s*$/gm)].map((m) => ({ code: m[1]!, status: Number(m[2]), summary: m[3]! }));
}

const documented = documentedErrors(DOC);
const catalogued = Object.entries(CATALOGUE).map(([code, e]) => ({ code, status: e.status, summary: e.summary }));
const byCode = (rows: DocRow[]) => new Map(rows.map((r) => [r.code, r.status]));

describe('docs/errors.md', () => {
  it('documents every catalogued code, and no other', () => {
    assert.deepEqual(documented.map((r) => r.code).sort(), catalogued.map((r) => r.code).sort());
  });

  it('documents each code once', () => {
    const seen = documented.map((r) => r.code);
    assert.deepEqual(seen.filter((c, i) => seen.indexOf(c) !== i), []);
  });

  it('gives each code the status the catalogue gives it', () => {
    assert.deepEqual(byCode(documented), byCode(catalogued));
  });

  it('gives each code the catalogue\'s one-line summary', () => {
    assert.deepEqual(new Map(documented.map((r) => [r.code, r.summary])), new Map(catalogued.map((r) => [r.code, r.summary])));
  });

  it('says how errors are rendered: cargo\'s body shape and Retry-After on 503s', () => {
    assert.match(DOC, /\{"errors":\[\{"detail"/);
    assert.match(DOC, /Retry-After/);
  });
});

describe('the catalogue', () => {
  for (const { code, status } of catalogued) {
    it(`${code} is spelled SG_<AREA>_<WHAT> and has an error status`, () => {
      assert.match(code, /^SG_[A-Z]+_[A-Z_]+$/);
      assert.ok(status >= 400 && status <= 599, `status ${status}`);
    });
  }

  it('every 503 tells the client when to retry, and nothing else does', () => {
    const retrying = catalogued.map((r) => r.code as keyof typeof CATALOGUE).filter((code) => {
      const params = { tokensUrl: 'http://gw/tokens', why: 'x', prefix: 'sg_', expiredAt: 'x', scope: 'x', patterns: 'x', crate: 'x', method: 'GET', path: '/', name: 'x', limit: 'x', status: 500 };
      return (gatewayError as (c: string, p: unknown) => { retryAfter?: number })(code, params).retryAfter !== undefined;
    });
    assert.deepEqual(retrying, catalogued.filter((r) => r.status === 503).map((r) => r.code));
  });
});
