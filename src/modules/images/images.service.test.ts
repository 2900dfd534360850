import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newPublicId } from './images.service.js';

describe('newPublicId', () => {
  it('is 12 base64url characters that never begin with -: such a draw is drawn again', () => {
    // 0xf8 is 111110…: base64url's 62nd character, '-', comes first.
    const draws = [Buffer.alloc(9, 0xf8), Buffer.alloc(9, 0x00)];
    const sizes: number[] = [];
    const id = newPublicId((size) => {
      sizes.push(size);
      return draws.shift() ?? randomBytes(size);
    });
    expect(Buffer.alloc(9, 0xf8).toString('base64url')).toMatch(/^-/);
    expect(id).toBe('AAAAAAAAAAAA');
    expect(sizes).toEqual([9, 9]);
    for (let i = 0; i < 2000; i++) expect(newPublicId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{11}$/);
  });
});
