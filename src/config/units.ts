/**
 * Durations and sizes as the config spells them. The patterns are shared with the JSON Schema
 * (`schema.ts`), so what the schema accepts is exactly what these functions parse.
 */

/** `<n>ms|s|m|h|d`, e.g. `30d`, `12h`, `100ms`: a whole number and a unit, nothing else. */
export const DURATION_PATTERN = '^([0-9]+)(ms|s|m|h|d)$';

/** `<n>`, `<n>KiB|MiB|GiB` (binary units only: `MB` would be ambiguous), e.g. `64KiB`, `1048576`. */
export const SIZE_PATTERN = '^([0-9]+)(KiB|MiB|GiB)?$';

const DURATION = new RegExp(DURATION_PATTERN);
const SIZE = new RegExp(SIZE_PATTERN);

const MS_PER_UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTES_PER_UNIT: Readonly<Record<string, number>> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/**
 * Parses a duration into milliseconds: `parseDuration('30d') === 2_592_000_000`.
 * Returns null for anything else (no fractions, signs, spaces or upper case) and for values
 * beyond `Number.MAX_SAFE_INTEGER` milliseconds.
 */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (match === null) return null;
  const ms = Number(match[1]) * (MS_PER_UNIT[match[2]!] ?? Number.NaN);
  return Number.isSafeInteger(ms) ? ms : null;
}

/**
 * Parses a size into bytes: `parseSize('1MiB') === 1_048_576`, `parseSize(512) === 512`,
 * `parseSize('512') === 512`. Returns null for negative or fractional numbers, other units and
 * values beyond `Number.MAX_SAFE_INTEGER` bytes.
 */
export function parseSize(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const match = SIZE.exec(value);
  if (match === null) return null;
  const unit = match[2];
  const bytes = Number(match[1]) * (unit === undefined ? 1 : (BYTES_PER_UNIT[unit] ?? Number.NaN));
  return Number.isSafeInteger(bytes) ? bytes : null;
}
