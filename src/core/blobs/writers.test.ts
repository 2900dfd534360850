import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openFsBlobStore, sha256Hex } from './index.js';
import { BlobWriteError, createBlobWriters, spawnWriter, type BlobWriters } from './writers.js';

const tempDir = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'agora-writers-'));

/** A buffer with its own memory, as a request body has. */
const owned = (text: string): Buffer => {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
};

/** A thread that dies on its first message. */
const dying = (): Worker =>
  new Worker("require('node:worker_threads').parentPort.on('message', () => process.exit(3));", {
    eval: true,
  });

/** A write that a thread took (the writers answer null when none can). */
const taken = (writers: BlobWriters, bytes: Buffer) => {
  const written = writers.write(bytes);
  if (!written) throw new Error('no writer thread took the bytes');
  return written;
};

const blobFile = (dir: string, sha256: string): string =>
  path.join(dir, sha256.slice(0, 2), sha256);

describe('blob writer threads', () => {
  it('store a transferred buffer where the store finds it, and take its memory', async () => {
    const dir = await tempDir();
    const store = await openFsBlobStore(dir);
    const bytes = owned('a transferred upload');
    const copy = Buffer.from(bytes);
    const sha256 = sha256Hex(copy);

    expect(await store.put(bytes, { transfer: true })).toEqual({ sha256, created: true });
    // The memory went to the thread: the caller's buffer is empty now.
    expect(bytes.length).toBe(0);
    expect(readFileSync(blobFile(dir, sha256)).equals(copy)).toBe(true);
    expect(readdirSync(path.join(dir, sha256.slice(0, 2)))).toEqual([sha256]);
    // Either path sees the other's blobs.
    expect(await store.put(Buffer.from(copy))).toEqual({ sha256, created: false });
    const inProcess = Buffer.from('written in-process first');
    const first = await store.put(inProcess);
    expect(await store.put(owned('written in-process first'), { transfer: true })).toEqual({
      sha256: first.sha256,
      created: false,
    });
    await store.close();
  });

  it('copy a buffer that shares its memory, leaving the rest alone', async () => {
    const dir = await tempDir();
    const writers = createBlobWriters({ dir, threads: 2 });
    const whole = Buffer.from('header|the part to store|trailer');
    const part = whole.subarray(7, 24);
    const small = Buffer.from('pooled'); // a slice of Node's shared pool
    const [a, b] = await Promise.all([taken(writers, part), taken(writers, small)]);
    expect(a.sha256).toBe(sha256Hex(Buffer.from('the part to store')));
    expect(b.sha256).toBe(sha256Hex(Buffer.from('pooled')));
    expect(whole.toString()).toBe('header|the part to store|trailer');
    expect(small.toString()).toBe('pooled');
    expect(readFileSync(blobFile(dir, a.sha256)).toString()).toBe('the part to store');
    await writers.close();
  });

  it('store many concurrent writes, each whole, on several threads', async () => {
    const dir = await tempDir();
    const writers = createBlobWriters({ dir, threads: 3 });
    const texts = Array.from({ length: 60 }, (_, i) => `blob ${i} `.repeat(1000 + i));
    const results = await Promise.all(texts.map((text) => taken(writers, owned(text))));
    texts.forEach((text, i) => {
      const sha256 = sha256Hex(Buffer.from(text));
      expect(results[i]).toEqual({ sha256, created: true });
      expect(readFileSync(blobFile(dir, sha256), 'utf8')).toBe(text);
    });
    await writers.close();
  });

  it('answer a file-system error with its code and leave no temporary file', async () => {
    const dir = await tempDir();
    const bytes = owned('cannot be written');
    const sha256 = sha256Hex(Buffer.from(bytes));
    // A file where the blob's folder should be.
    writeFileSync(path.join(dir, sha256.slice(0, 2)), 'in the way');
    const writers = createBlobWriters({ dir, threads: 1 });
    const error = await taken(writers, bytes).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BlobWriteError);
    expect(['EEXIST', 'ENOTDIR']).toContain((error as BlobWriteError).code);
    expect(readdirSync(dir)).toEqual([sha256.slice(0, 2)]);
    // The thread lives on.
    const next = await taken(writers, owned('fine'));
    expect(next.created).toBe(true);
    await writers.close();
  });

  it('fail the writes of a thread that dies, and start another for the next', async () => {
    const dir = await tempDir();
    let spawned = 0;
    const writers = createBlobWriters({
      dir,
      threads: 1,
      spawn: (d) => (++spawned === 1 ? dying() : spawnWriter(d)),
    });
    await expect(taken(writers, owned('lost'))).rejects.toThrow(/stopped: exit code 3/);
    const sha256 = sha256Hex(Buffer.from('kept'));
    expect(await taken(writers, owned('kept'))).toEqual({ sha256, created: true });
    expect(spawned).toBe(2);
    await writers.close();
  });

  it('give up after threads die three times in a row; the store then writes in-process', async () => {
    const dir = await tempDir();
    const reasons: string[] = [];
    const store = await openFsBlobStore(dir, {
      writerThreads: 1,
      spawnWriter: dying,
      onWritersGiveUp: (reason) => reasons.push(reason),
    });
    for (let i = 0; i < 3; i++) {
      await expect(store.put(owned(`lost ${i}`), { transfer: true })).rejects.toThrow(
        BlobWriteError,
      );
    }
    expect(reasons).toEqual(['exit code 3']);
    const bytes = owned('written in-process');
    const { sha256, created } = await store.put(bytes, { transfer: true });
    expect(created).toBe(true);
    expect(bytes.toString()).toBe('written in-process');
    expect(readFileSync(blobFile(dir, sha256), 'utf8')).toBe('written in-process');
    expect(reasons).toHaveLength(1);
    await store.close();
  });

  it('finish the writes under way before closing', async () => {
    const dir = await tempDir();
    const writers = createBlobWriters({ dir, threads: 2 });
    const pending = [taken(writers, owned('one')), taken(writers, owned('two'))];
    const closed = writers.close();
    const results = await Promise.all(pending);
    await closed;
    for (const result of results) expect(existsSync(blobFile(dir, result.sha256))).toBe(true);
    expect(writers.write(owned('late'))).toBeNull();
  });
});
