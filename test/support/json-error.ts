/** The message `JSON.parse` gives for `text`, which must not be JSON (for asserting parse errors verbatim). */
export function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected invalid JSON');
}
