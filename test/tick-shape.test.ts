/**
 * The tick shape kept at start-up (src/core/tick-shape.ts): every `process.nextTick` entry made
 * later, after collections, has the kept entry's hidden class. V8's own view of it is read in a
 * child run with natives syntax.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { keptTickEntry, pinTickObjectShape } from '../src/core/tick-shape.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/ticks/shape.ts', import.meta.url));

describe('tick shape', () => {
  it('keeps one nextTick entry, the same one on a second call', () => {
    expect(pinTickObjectShape()).toBe(true);
    const kept = keptTickEntry();
    expect(kept).toBeTypeOf('object');
    expect(Object.keys(kept ?? {})).toEqual(['callback', 'args']);
    expect(pinTickObjectShape()).toBe(true);
    expect(keptTickEntry()).toBe(kept);
  });

  it('has the hidden class of entries made after many ticks and collections', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--allow-natives-syntax',
      '--expose-gc',
      '--import',
      'tsx',
      SCRIPT,
    ]);
    expect(JSON.parse(stdout)).toEqual({ pinned: true, sameMap: true });
  });
});
