/**
 * Content-addressed blob stores: bytes are kept under their sha256, so the same bytes are stored
 * once however often they are saved. `fs` (the default) keeps files under the data directory;
 * `db` keeps them in the SQL database, for several nodes sharing PostgreSQL or MariaDB. The
 * interface is small enough for an object store later.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdir,
  open as openFile,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { createBlobWriters, type BlobWritersOptions, type Written } from './writers.js';

export interface BlobStore {
  readonly kind: 'fs' | 'db';
  /**
   * Stores `bytes` under their sha256 unless already there; true when newly stored. With
   * `transfer`, the caller gives the buffer up: the store may take its memory (the fs store hands
   * it to a writer thread), and it may be empty afterwards.
   */
  put(bytes: Buffer, options?: { transfer?: boolean }): Promise<Written>;
  /** The bytes, or null when no blob has this digest. */
  get(sha256: string): Promise<Buffer | null>;
  /**
   * The bytes from `range.start` to `range.end` (inclusive; all of them without a range) as a
   * stream, read as it is consumed, and the blob's whole size; null when no blob has this digest.
   */
  open(sha256: string, range?: ByteRange): Promise<BlobReader | null>;
  has(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  /** Waits for the writes under way and releases what the store holds. */
  close(): Promise<void>;
}

/** Bytes `start` to `end`, both included. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobReader {
  /** The whole blob's size in bytes. */
  size: number;
  stream: Readable;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const DIGEST = /^[0-9a-f]{64}$/;

export function checkDigest(sha256: string): void {
  if (!DIGEST.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
}

/** How much of a file one read takes when a blob is streamed out. */
const READ_CHUNK = 1024 * 1024;

/** The name of the file that says which layout a blob directory has. */
const LAYOUT_FILE = 'LAYOUT';
const LAYOUT = 'agora blobs v2: <ab>/<sha256>\n';

/**
 * Files at `<dir>/<ab>/<sha256>` (256 folders, as git does), written to a temporary name and
 * renamed into place. The first layout had a second level, `<ab>/<cd>/`: a new folder for
 * nearly every upload of the first tens of thousands, each an inode and a disk block to create;
 * a directory in that layout is moved to this one when the store opens (renames only). Opening
 * also removes the temporary files of writes a crash cut off (an hour old or more). Bytes put with
 * `transfer` are hashed and written by writer threads (writers.ts); the others here.
 */
export async function openFsBlobStore(
  dir: string,
  options: {
    /** The most writer threads. */
    writerThreads?: number;
    /** Told if the writer threads keep dying and are given up (writes then happen here). */
    onWritersGiveUp?: (reason: string) => void;
    /** Starts a writer thread (tests replace it). */
    spawnWriter?: BlobWritersOptions['spawn'];
  } = {},
): Promise<BlobStore> {
  await mkdir(dir, { recursive: true });
  await upgradeLayout(dir);
  await sweepTemporaryFiles(dir, Date.now() - STALE_TEMPORARY_MS);
  const folderOf = (sha256: string): string => {
    checkDigest(sha256);
    return path.join(dir, sha256.slice(0, 2));
  };
  const where = (sha256: string): string => path.join(folderOf(sha256), sha256);
  const exists = async (file: string): Promise<boolean> => {
    try {
      await stat(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  };
  /** Folders known to exist: past the first few hundred uploads, no `mkdir` at all. */
  const folders = new Set<string>();
  const writers = createBlobWriters({
    dir,
    threads: options.writerThreads ?? 2,
    onGiveUp: options.onWritersGiveUp,
    spawn: options.spawnWriter,
  });
  return {
    kind: 'fs',
    async put(bytes, putOptions) {
      const written = putOptions?.transfer ? writers.write(bytes) : null;
      if (written) return written;
      const sha256 = sha256Hex(bytes);
      const file = where(sha256);
      if (await exists(file)) return { sha256, created: false };
      const folder = folderOf(sha256);
      if (!folders.has(folder)) {
        await mkdir(folder, { recursive: true });
        folders.add(folder);
      }
      // A reader never sees a half-written file; two writers of the same bytes both succeed.
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, bytes, { flag: 'wx' });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { sha256, created: true };
    },
    async get(sha256) {
      try {
        return await readFile(where(sha256));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async open(sha256, range) {
      let handle;
      try {
        handle = await openFile(where(sha256));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      try {
        const { size } = await handle.stat();
        // Large reads: a whole image in a few chunks, not sixteen per megabyte.
        const stream = handle.createReadStream({
          highWaterMark: READ_CHUNK,
          ...(range ? { start: range.start, end: range.end } : {}),
        });
        return { size, stream };
      } catch (err) {
        await handle.close();
        throw err;
      }
    },
    has: (sha256) => exists(where(sha256)),
    async delete(sha256) {
      await rm(where(sha256), { force: true });
    },
    close: () => writers.close(),
  };
}

/**
 * A temporary file this old is a write that a crash cut off: a live one (perhaps another
 * process's, on a shared directory) lasts milliseconds.
 */
const STALE_TEMPORARY_MS = 3600_000;
const TEMPORARY = /^[0-9a-f]{64}\.[0-9a-f]{12}\.tmp$/;

/** Removes the temporary files last modified before `before` (ms since the epoch). */
async function sweepTemporaryFiles(dir: string, before: number): Promise<void> {
  for (const ab of await readdir(dir, { withFileTypes: true })) {
    if (!ab.isDirectory() || !FOLDER.test(ab.name)) continue;
    const folder = path.join(dir, ab.name);
    for (const name of await readdir(folder)) {
      if (!TEMPORARY.test(name)) continue;
      const file = path.join(folder, name);
      const modified = await stat(file).then(
        (s) => s.mtimeMs,
        () => Infinity, // gone meanwhile: renamed into place, or swept by another process
      );
      if (modified < before) await rm(file, { force: true });
    }
  }
}

/** A folder of either layout: two hex digits of the digest. */
const FOLDER = /^[0-9a-f]{2}$/;

/** Moves the blobs of a first-layout directory (`<ab>/<cd>/<sha256>`) to `<ab>/<sha256>`. */
async function upgradeLayout(dir: string): Promise<void> {
  const marker = path.join(dir, LAYOUT_FILE);
  if (
    await readFile(marker, 'utf8').then(
      (text) => text === LAYOUT,
      () => false,
    )
  )
    return;
  for (const ab of await readdir(dir, { withFileTypes: true })) {
    if (!ab.isDirectory() || !FOLDER.test(ab.name)) continue;
    const outer = path.join(dir, ab.name);
    for (const cd of await readdir(outer, { withFileTypes: true })) {
      if (!cd.isDirectory() || !FOLDER.test(cd.name)) continue;
      const inner = path.join(outer, cd.name);
      for (const name of await readdir(inner)) {
        // Complete blobs only: a temporary file there was a write cut off by a crash.
        if (DIGEST.test(name)) await rename(path.join(inner, name), path.join(outer, name));
        else await rm(path.join(inner, name), { force: true });
      }
      await rmdir(inner);
    }
  }
  // Written last: a crash before this point makes the next start finish the move.
  await writeFile(marker, LAYOUT);
}

export { createDbBlobStore } from './db.js';
