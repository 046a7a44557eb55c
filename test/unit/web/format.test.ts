import { describe, expect, test } from 'vitest';
import {
  formatClock,
  formatCompact,
  formatCount,
  formatEta,
  formatPercent,
  formatRate,
  formatSpan,
  formatStopwatch,
} from '../../../web/src/format.js';

describe('formatCount', () => {
  test('groups thousands and rounds', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(100_000)).toBe('100,000');
    expect(formatCount(1_234_567.6)).toBe('1,234,568');
  });
  test('non-finite values read as a dash', () => {
    expect(formatCount(Number.NaN)).toBe('—');
    expect(formatCount(Infinity)).toBe('—');
  });
});

describe('formatCompact', () => {
  test.each([
    [0, '0'],
    [950, '950'],
    [1_000, '1.0k'],
    [12_345, '12.3k'],
    [999_949, '999.9k'],
    [999_950, '1.0M'],
    [4_500_000, '4.5M'],
    [2_000_000_000, '2.0G'],
  ])('%d → %s', (n, text) => {
    expect(formatCompact(n)).toBe(text);
  });
});

describe('formatRate', () => {
  test.each([
    [0, '0/s'],
    [-3, '0/s'],
    [Number.NaN, '0/s'],
    [0.01, '<0.1/s'],
    [0.25, '0.3/s'],
    [3.44, '3.4/s'],
    [9.96, '10/s'],
    [123.4, '123/s'],
    [999.4, '999/s'],
    [12_345, '12.3k/s'],
  ])('%d tasks/s → %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });
});

describe('formatSpan', () => {
  test.each([
    [0, '0s'],
    [42.9, '42s'],
    [60, '1m 00s'],
    [185, '3m 05s'],
    [3_600, '1h 00m'],
    [7_440, '2h 04m'],
    [86_400 * 3 + 3_600 * 4, '3d 04h'],
    [86_400 * 100, '>99d'],
  ])('%d s → %s', (seconds, text) => {
    expect(formatSpan(seconds)).toBe(text);
  });
  test('negative or non-finite spans read as a dash', () => {
    expect(formatSpan(-1)).toBe('—');
    expect(formatSpan(Infinity)).toBe('—');
  });
});

describe('formatEta', () => {
  test('unknown, nearly done and rounded up', () => {
    expect(formatEta(null)).toBe('—');
    expect(formatEta(Infinity)).toBe('—');
    expect(formatEta(0)).toBe('0s');
    expect(formatEta(0.2)).toBe('<1s');
    expect(formatEta(41.1)).toBe('42s');
    expect(formatEta(184.5)).toBe('3m 05s');
  });
});

describe('formatStopwatch', () => {
  test.each([
    [0, '0:00'],
    [7_999, '0:07'],
    [754_000, '12:34'],
    [3_723_000, '1:02:03'],
    [-5, '0:00'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatStopwatch(ms)).toBe(text);
  });
});

describe('formatPercent', () => {
  test('never shows 100% before the end', () => {
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.424)).toBe('42%');
    expect(formatPercent(0.996)).toBe('99%');
    expect(formatPercent(0.99999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(Number.NaN)).toBe('0%');
  });
});

describe('formatClock', () => {
  test('local 24 h time, zero-padded', () => {
    const at = new Date(2025, 0, 2, 9, 5, 7).getTime();
    expect(formatClock(at)).toBe('09:05:07');
    expect(formatClock(new Date(2025, 0, 2, 23, 59, 0).getTime())).toBe(
      '23:59:00',
    );
  });
});
