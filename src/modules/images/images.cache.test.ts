import { describe, expect, it } from 'vitest';
import { SizedLru } from './images.cache.js';

describe('SizedLru', () => {
  it('evicts the least recently used entries past its size, and skips oversized ones', () => {
    const lru = new SizedLru<string>(10, 6);
    lru.set('a', 'A', 4);
    lru.set('b', 'B', 4);
    expect(lru.get('a')).toBe('A'); // a is now the most recent
    lru.set('c', 'C', 4); // 12 > 10: b goes
    expect(lru.get('b')).toBeUndefined();
    expect([lru.get('a'), lru.get('c')]).toEqual(['A', 'C']);
    expect(lru.size).toBe(8);
    lru.set('big', 'X', 7);
    expect(lru.get('big')).toBeUndefined();
    lru.set('a', 'A2', 2);
    expect(lru.size).toBe(6);
    lru.delete('c');
    expect(lru.size).toBe(2);
    expect(new SizedLru<string>(0).get('x')).toBeUndefined();
  });
});
