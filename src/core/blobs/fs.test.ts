import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFsBlobStore, sha256Hex } from './index.js';

const tempDir = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'agora-blobs-'));

describe('fs blob store', () => {
  it('keeps a blob at <ab>/<sha256>, once, and forgets it on delete', async () => {
    const dir = await tempDir();
    const store = await openFsBlobStore(dir);
    const bytes = Buffer.from('some bytes');
    const sha256 = sha256Hex(bytes);
    expect(await store.put(bytes)).toEqual({ sha256, created: true });
    expect(await store.put(bytes)).toEqual({ sha256, created: false });
    expect(readdirSync(path.join(dir, sha256.slice(0, 2)))).toEqual([sha256]);
    expect((await store.get(sha256))?.equals(bytes)).toBe(true);
    await store.delete(sha256);
    expect(await store.has(sha256)).toBe(false);
    expect(await store.get(sha256)).toBeNull();
  });

  it('moves the blobs of the first layout (<ab>/<cd>/<sha256>) when it opens', async () => {
    const dir = await tempDir();
    const blobs = ['first', 'second', 'third'].map((text) => Buffer.from(text));
    for (const bytes of blobs) {
      const sha256 = sha256Hex(bytes);
      const folder = path.join(dir, sha256.slice(0, 2), sha256.slice(2, 4));
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, sha256), bytes);
    }
    // A write that a crash cut off, left under its temporary name.
    const cut = sha256Hex(blobs[0] ?? Buffer.alloc(0));
    const cutFolder = path.join(dir, cut.slice(0, 2), cut.slice(2, 4));
    writeFileSync(path.join(cutFolder, `${cut}.a1b2c3.tmp`), 'half');

    const store = await openFsBlobStore(dir);
    for (const bytes of blobs) {
      const sha256 = sha256Hex(bytes);
      expect((await store.get(sha256))?.equals(bytes)).toBe(true);
      expect(existsSync(path.join(dir, sha256.slice(0, 2), sha256.slice(2, 4)))).toBe(false);
    }
    expect(readFileSync(path.join(dir, 'LAYOUT'), 'utf8')).toMatch(/v2/);
    // Opening again finds nothing to move and keeps every blob.
    const again = await openFsBlobStore(dir);
    for (const bytes of blobs) expect(await again.has(sha256Hex(bytes))).toBe(true);
  });

  it('sweeps the temporary files a crash left behind, and only those', async () => {
    const dir = await tempDir();
    const store = await openFsBlobStore(dir);
    const { sha256 } = await store.put(Buffer.from('kept'));
    const folder = path.join(dir, sha256.slice(0, 2));
    const stale = path.join(folder, `${sha256}.a1b2c3d4e5f6.tmp`);
    const live = path.join(folder, `${sha256}.0a0b0c0d0e0f.tmp`);
    const other = path.join(folder, 'notes.tmp');
    for (const file of [stale, live, other]) writeFileSync(file, 'half');
    const hourAgo = new Date(Date.now() - 3600_000 - 1000);
    utimesSync(stale, hourAgo, hourAgo);
    utimesSync(other, hourAgo, hourAgo);

    const reopened = await openFsBlobStore(dir);
    expect(existsSync(stale)).toBe(false);
    // A write in progress (another process's, say), and a file that is not ours, stay.
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(await reopened.has(sha256)).toBe(true);
  });
});
