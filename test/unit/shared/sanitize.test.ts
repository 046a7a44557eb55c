import { describe, expect, test } from 'vitest';
import { stripControls, stripControlsLine } from '../../../shared/sanitize.js';

describe('stripControls', () => {
  test('removes ANSI escapes, C1 controls and bidi overrides, keeps tab and newline', () => {
    const text =
      'boom\u001b[2J\u001b]0;owned\u0007 at\tline 1\nnext\u009b31m \u202eevil\u202c \u2066iso\u2069\u200f';
    expect(stripControls(text)).toBe(
      'boom[2J]0;owned at\tline 1\nnext31m evil iso',
    );
  });

  test('leaves ordinary text, accents, emoji and right-to-left scripts alone', () => {
    const text = 'résumé 工作 🐜 שלום عربي';
    expect(stripControls(text)).toBe(text);
    expect(stripControlsLine(text)).toBe(text);
  });

  test('a name is one line: tab, newline and carriage return go too, and it is trimmed', () => {
    expect(stripControlsLine(' lab\r\n-pc\t7\u0000\u007f ')).toBe('lab-pc7');
  });

  test('every C0 but tab and newline, DEL and every C1 is removed', () => {
    const all = Array.from({ length: 0xa0 }, (_, c) => String.fromCharCode(c));
    const kept = [...stripControls(all.join(''))].map((ch) => ch.charCodeAt(0));
    expect(kept).toEqual([
      9,
      10,
      ...Array.from({ length: 0x7f - 0x20 }, (_, k) => 0x20 + k),
    ]);
  });
});
