/**
 * Token names ★: any text, as on crates.io, except what would act on an operator's terminal or
 * reorder the text around it. A name is shown by `scopegate token list` and `notify-expiring`
 * in a terminal, where an escape sequence can clear the screen, retitle the window or forge
 * output, and on the token page, where a bidi override shows the name reversed. crates.io refuses
 * only the empty name (cratesio-tokens §6.1), and so does this, besides these characters (and
 * half a surrogate pair, which is no character).
 */

/** C0 and C1 controls, DEL, and the bidirectional formatting characters (Unicode UAX #9). */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'gu');

/**
 * A UTF-16 surrogate not paired with another: JSON's `"\ud800"` escape makes one, but it is no
 * character, and UTF-8 (Redis, logs, terminals) cannot carry it. It would be stored as U+FFFD, so
 * the name every later read shows would not be the one the creator was answered with. crates.io's
 * JSON parser (serde_json) refuses it as well. (With the `u` flag, a class of surrogates matches
 * only unpaired ones.)
 */
const UNPAIRED_SURROGATE = /[\ud800-\udfff]/u;

/** Why `name` cannot be a token's name, or null. (The empty name is the caller's check: crates.io's own message.) */
export function tokenNameProblem(name: string): string | null {
  const lone = UNPAIRED_SURROGATE.exec(name)?.[0];
  if (lone !== undefined) return `it contains ${escapeOne(lone)}, half of a UTF-16 surrogate pair without the other half, which is no character; use well-formed text`;
  const found = UNPRINTABLE.exec(name)?.[0];
  if (found === undefined) return null;
  return `it contains ${escapeOne(found)}, a control or text-direction character; use printable text`;
}

/** `text` with every such character written as `\u{…}`: for terminal output of names stored before the check. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE_ALL, escapeOne);
}

const escapeOne = (c: string): string => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`;
