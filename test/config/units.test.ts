import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseSize } from '../../src/config/units.js';

const DAY = 86_400_000;

const durations: { input: string; expected: number | null }[] = [
  { input: '0ms', expected: 0 },
  { input: '100ms', expected: 100 },
  { input: '1s', expected: 1_000 },
  { input: '2m', expected: 120_000 },
  { input: '12h', expected: 43_200_000 },
  { input: '30d', expected: 30 * DAY },
  { input: '0s', expected: 0 },
  { input: '007s', expected: 7_000 },
  { input: '104249991d', expected: 104_249_991 * DAY }, // the most days below 2^53 ms
  { input: '104249992d', expected: null }, // beyond Number.MAX_SAFE_INTEGER ms
  { input: '99999999999999999999ms', expected: null },
  { input: '', expected: null },
  { input: '30', expected: null },
  { input: 'd', expected: null },
  { input: '30 days', expected: null },
  { input: '30 d', expected: null },
  { input: ' 30d', expected: null },
  { input: '30d ', expected: null },
  { input: '30D', expected: null },
  { input: '1.5h', expected: null },
  { input: '-1s', expected: null },
  { input: '+1s', expected: null },
  { input: '1h30m', expected: null },
  { input: '1w', expected: null },
  { input: '1us', expected: null },
  { input: '1e3ms', expected: null },
];

for (const { input, expected } of durations) {
  test(`parseDuration(${JSON.stringify(input)}) is ${String(expected)}`, () => {
    assert.equal(parseDuration(input), expected);
  });
}

const sizes: { input: string | number; expected: number | null }[] = [
  { input: 0, expected: 0 },
  { input: 1048576, expected: 1_048_576 },
  { input: '0', expected: 0 },
  { input: '512', expected: 512 },
  { input: '64KiB', expected: 65_536 },
  { input: '1MiB', expected: 1_048_576 },
  { input: '128MiB', expected: 134_217_728 },
  { input: '2GiB', expected: 2_147_483_648 },
  { input: '8388607GiB', expected: 8_388_607 * 1024 ** 3 }, // the most GiB below 2^53 bytes
  { input: '8388608GiB', expected: null },
  { input: Number.MAX_SAFE_INTEGER, expected: Number.MAX_SAFE_INTEGER },
  { input: Number.MAX_SAFE_INTEGER + 1, expected: null },
  { input: -1, expected: null },
  { input: 1.5, expected: null },
  { input: Number.NaN, expected: null },
  { input: Number.POSITIVE_INFINITY, expected: null },
  { input: '', expected: null },
  { input: '1MB', expected: null },
  { input: '1mib', expected: null },
  { input: '1 MiB', expected: null },
  { input: '1.5MiB', expected: null },
  { input: '-1', expected: null },
  { input: 'KiB', expected: null },
  { input: '1B', expected: null },
  { input: '1TiB', expected: null },
];

for (const { input, expected } of sizes) {
  test(`parseSize(${typeof input === 'string' ? JSON.stringify(input) : String(input)}) is ${String(expected)}`, () => {
    assert.equal(parseSize(input), expected);
  });
}
