import { describe, expect, it } from 'vitest';
import { CODE_COUNT, codeAt, indexOf } from './queue.codes.js';

describe('queue codes', () => {
  it('runs A00 … A99, B00 … Z99 and wraps to A00', () => {
    expect([0, 1, 99, 100, 2599, 2600, 2601].map(codeAt)).toEqual([
      'A00',
      'A01',
      'A99',
      'B00',
      'Z99',
      'A00',
      'A01',
    ]);
    const all = new Set(Array.from({ length: CODE_COUNT }, (_, i) => codeAt(i)));
    expect(all.size).toBe(2600);
    for (let i = 0; i < CODE_COUNT; i++) expect(indexOf(codeAt(i))).toBe(i);
    expect(['a00', 'A0', 'A000', 'AA0', '', '[00'].map(indexOf)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});
