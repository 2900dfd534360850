/**
 * The `db` blob store: blobs in the SQL database, for several nodes sharing PostgreSQL or
 * MariaDB. The bytes go in chunks of 1 MiB (`agora_blob_chunks`): any size up to
 * `images.max_bytes` fits every engine's default packet and statement limits, and a blob is read
 * out chunk by chunk as it is sent. The row in `agora_blobs`, written in the same transaction,
 * says the blob exists and how long it is; rows from before chunks keep their bytes themselves.
 */
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { isUniqueViolation } from '../db/portable.js';
import type { Database } from '../db/tables.js';
import { checkDigest, sha256Hex, type BlobStore, type ByteRange } from './index.js';

/** Bytes per chunk row. */
export const CHUNK_BYTES = 1024 * 1024;

interface Found {
  bytes: number;
  /** The bytes themselves, for a row from before chunks; null for a chunked blob. */
  inline: Buffer | null;
}

export function createDbBlobStore(db: Kysely<Database>): BlobStore {
  /** The index row; the bytes only for a blob stored whole (the length is checked in SQL). */
  const find = async (sha256: string): Promise<Found | null> => {
    checkDigest(sha256);
    const row = await db
      .selectFrom('agora_blobs')
      .select(['bytes', sql<number | string>`length(data)`.as('inline_bytes')])
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!row) return null;
    const inlineBytes = Number(row.inline_bytes);
    if (inlineBytes === 0 || inlineBytes !== row.bytes) return { bytes: row.bytes, inline: null };
    const whole = await db
      .selectFrom('agora_blobs')
      .select('data')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return { bytes: row.bytes, inline: whole ? Buffer.from(whole.data) : null };
  };

  const chunk = async (sha256: string, seq: number): Promise<Buffer> => {
    const row = await db
      .selectFrom('agora_blob_chunks')
      .select('data')
      .where('sha256', '=', sha256)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!row) throw new Error(`blob ${sha256}: chunk ${seq} is missing`);
    return Buffer.from(row.data);
  };

  /** The chunks holding `range`, one query each as the reader asks for them, cut to the range. */
  async function* chunks(sha256: string, range: ByteRange): AsyncGenerator<Buffer> {
    const first = Math.floor(range.start / CHUNK_BYTES);
    const last = Math.floor(range.end / CHUNK_BYTES);
    for (let seq = first; seq <= last; seq++) {
      const data = await chunk(sha256, seq);
      const from = seq === first ? range.start - seq * CHUNK_BYTES : 0;
      const to = seq === last ? range.end - seq * CHUNK_BYTES + 1 : data.length;
      yield data.subarray(from, to);
    }
  }

  return {
    kind: 'db',
    async put(bytes) {
      const sha256 = sha256Hex(bytes);
      if (await this.has(sha256)) return { sha256, created: false };
      try {
        await db.transaction().execute(async (trx) => {
          // The index row first: a concurrent writer of the same bytes waits on it, then fails
          // the unique check (below), instead of both writing chunks.
          await trx
            .insertInto('agora_blobs')
            .values({
              sha256,
              data: Buffer.alloc(0),
              bytes: bytes.length,
              created_at: new Date().toISOString(),
            })
            .execute();
          for (let seq = 0; seq * CHUNK_BYTES < bytes.length; seq++) {
            await trx
              .insertInto('agora_blob_chunks')
              .values({
                sha256,
                seq,
                data: bytes.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES),
              })
              .execute();
          }
        });
        return { sha256, created: true };
      } catch (err) {
        // Another request stored the same bytes in between: that is the same blob.
        if (isUniqueViolation(err)) return { sha256, created: false };
        throw err;
      }
    },
    async get(sha256) {
      const found = await find(sha256);
      if (!found) return null;
      if (found.inline) return found.inline;
      const rows = await db
        .selectFrom('agora_blob_chunks')
        .select('data')
        .where('sha256', '=', sha256)
        .orderBy('seq')
        .execute();
      return Buffer.concat(rows.map((r) => Buffer.from(r.data)));
    },
    async open(sha256, range) {
      const found = await find(sha256);
      if (!found) return null;
      const wanted = range ?? { start: 0, end: found.bytes - 1 };
      if (found.inline) {
        return {
          size: found.bytes,
          stream: Readable.from([found.inline.subarray(wanted.start, wanted.end + 1)]),
        };
      }
      if (found.bytes === 0) return { size: 0, stream: Readable.from([]) };
      return { size: found.bytes, stream: Readable.from(chunks(sha256, wanted)) };
    },
    async has(sha256) {
      checkDigest(sha256);
      const row = await db
        .selectFrom('agora_blobs')
        .select('sha256')
        .where('sha256', '=', sha256)
        .executeTakeFirst();
      return row !== undefined;
    },
    async delete(sha256) {
      checkDigest(sha256);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('agora_blobs').where('sha256', '=', sha256).execute();
        await trx.deleteFrom('agora_blob_chunks').where('sha256', '=', sha256).execute();
      });
    },
    async close() {
      // The database is the db plugin's to close.
    },
  };
}
