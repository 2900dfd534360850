/**
 * The `db` blob store on every dialect: blobs of any size up to the upload limit, in chunks
 * (MariaDB's default packet limit once refused anything past ~8 MiB), read back whole, as a
 * stream, and by range across chunk boundaries; rows from before chunks still read.
 */
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, type BlobStore } from '../src/core/blobs/index.js';
import { CHUNK_BYTES, createDbBlobStore } from '../src/core/blobs/db.js';
import { buildTestApp, dialects, type TestApp } from './helper.js';

describe.each(dialects())('the db blob store on %s', (dialect) => {
  let t: TestApp;
  let store: BlobStore;
  beforeAll(async () => {
    t = await buildTestApp({ dialect, build: { modules: [] } });
    store = createDbBlobStore(t.app.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores 25 MiB in chunks and gives them back whole, streamed and by range', async () => {
    const bytes = randomBytes(25 * 1024 * 1024);
    const { sha256, created } = await store.put(bytes);
    expect(created).toBe(true);
    expect(sha256).toBe(sha256Hex(bytes));
    expect((await store.put(bytes)).created).toBe(false);
    const chunks = await t.app.db
      .selectFrom('agora_blob_chunks')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow();
    expect(Number(chunks.n)).toBe(25);

    expect((await store.get(sha256))?.equals(bytes)).toBe(true);
    const whole = await store.open(sha256);
    expect(whole?.size).toBe(bytes.length);
    expect((await buffer(whole!.stream)).equals(bytes)).toBe(true);
    // Across two chunk boundaries, and within one chunk.
    for (const range of [
      { start: CHUNK_BYTES - 10, end: 3 * CHUNK_BYTES + 5 },
      { start: 5, end: 9 },
      { start: bytes.length - 1, end: bytes.length - 1 },
    ]) {
      const part = await store.open(sha256, range);
      expect((await buffer(part!.stream)).equals(bytes.subarray(range.start, range.end + 1))).toBe(
        true,
      );
    }

    await store.delete(sha256);
    expect(await store.get(sha256)).toBeNull();
    expect(await store.open(sha256)).toBeNull();
    const left = await t.app.db
      .selectFrom('agora_blob_chunks')
      .select('seq')
      .where('sha256', '=', sha256)
      .execute();
    expect(left).toEqual([]);
  });

  it('reads a blob stored whole, before chunks', async () => {
    const bytes = randomBytes(3000);
    const sha256 = sha256Hex(bytes);
    await t.app.db
      .insertInto('agora_blobs')
      .values({ sha256, data: bytes, bytes: bytes.length, created_at: new Date().toISOString() })
      .execute();
    expect((await store.get(sha256))?.equals(bytes)).toBe(true);
    const part = await store.open(sha256, { start: 10, end: 19 });
    expect((await buffer(part!.stream)).equals(bytes.subarray(10, 20))).toBe(true);
  });

  it('stores and reads an empty blob', async () => {
    const { sha256 } = await store.put(Buffer.alloc(0));
    expect((await store.get(sha256))?.length).toBe(0);
    expect((await buffer((await store.open(sha256))!.stream)).length).toBe(0);
  });
});
