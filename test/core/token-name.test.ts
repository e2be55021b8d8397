/** Token names: anything printable; no control or text-direction characters ★ (core/token-name.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable, tokenNameProblem } from '../../src/core/token-name.js';

describe('tokenNameProblem', () => {
  it('accepts ordinary names, spaces, punctuation and any script', () => {
    for (const name of ['ci', ' ', 'publish serde (CI)', 'déploiement', '発行', 'emoji 🚀', 'a\u00a0b']) assert.equal(tokenNameProblem(name), null, name);
  });
  const refused: [string, string][] = [
    ['an escape sequence', '\u001b[2J'],
    ['a bell', 'x\u0007'],
    ['a carriage return', 'ok\rALL TOKENS REVOKED'],
    ['a newline', 'a\nb'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007f'],
    ['a C1 control (CSI)', 'a\u009b2J'],
    ['a right-to-left override', 'ci\u202egnp.exe'],
    ['a directional isolate', '\u2067x'],
    ['a left-to-right mark', 'a\u200e'],
  ];
  it('refuses half a surrogate pair, which UTF-8 cannot store, and accepts a whole pair', () => {
    for (const name of ['lone \ud800 high', 'lone \udc00 low', 'reversed \udc00\ud800', 'end \ud83e']) {
      assert.match(tokenNameProblem(name) ?? '', /^it contains \\u\{d[89a-f][0-9a-f]{2}\}, half of a UTF-16 surrogate pair without the other half, which is no character; use well-formed text$/, JSON.stringify(name));
    }
    assert.equal(tokenNameProblem('crab \ud83e\udd80'), null);
  });
  for (const [what, name] of refused) {
    it(`refuses ${what}, naming the character`, () => {
      assert.match(tokenNameProblem(name) ?? '', /^it contains \\u\{[0-9a-f]{4}\}, a control or text-direction character; use printable text$/);
    });
  }
});

describe('printable', () => {
  it('writes each such character as \\u{…} and leaves the rest alone', () => {
    assert.equal(printable('\u001b[2Jok\r\u202e é'), '\\u{001b}[2Jok\\u{000d}\\u{202e} é');
    assert.equal(printable('plain name'), 'plain name');
  });
});
