/** The images module's SQL, every function taking the executor (database or transaction) first. */
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import { isUniqueViolation } from '../../core/db/portable.js';
import type { ImagesDatabase, ImagesDerivedTable, ImagesImagesTable } from './images.tables.js';

export type Executor = Kysely<ImagesDatabase> | Transaction<ImagesDatabase>;
export type ImageRow = Selectable<ImagesImagesTable>;
export type DerivedRow = Selectable<ImagesDerivedTable>;

export async function insertImage(db: Executor, row: Insertable<ImagesImagesTable>): Promise<void> {
  await db.insertInto('images_images').values(row).execute();
}

export function imageByPublicId(db: Executor, publicId: string): Promise<ImageRow | undefined> {
  return db
    .selectFrom('images_images')
    .selectAll()
    .where('public_id', '=', publicId)
    .executeTakeFirst();
}

export function derivedByKey(db: Executor, key: string): Promise<DerivedRow | undefined> {
  return db.selectFrom('images_derived').selectAll().where('key', '=', key).executeTakeFirst();
}

/** Records a derived image; a concurrent request that recorded the same key first wins. */
export async function insertDerived(
  db: Executor,
  row: Insertable<ImagesDerivedTable>,
): Promise<void> {
  try {
    await db.insertInto('images_derived').values(row).execute();
  } catch (err) {
    // The same derivation was cached by a concurrent request: same bytes, nothing to do.
    if (!isUniqueViolation(err)) throw err;
  }
}

/** Newest first, `limit` of them, of `album` if given, older than the image `before` if given. */
export function listImages(
  db: Executor,
  q: { album?: string; before?: number; limit: number },
): Promise<ImageRow[]> {
  let query = db.selectFrom('images_images').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.album !== undefined) query = query.where('album', '=', q.album);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  return query.execute();
}

export async function countInAlbum(db: Executor, album: string): Promise<number> {
  const { count } = await db
    .selectFrom('images_images')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('album', '=', album)
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** The `index`-th image of `album`, in upload order. */
export function imageInAlbumAt(
  db: Executor,
  album: string,
  index: number,
): Promise<ImageRow | undefined> {
  return db
    .selectFrom('images_images')
    .selectAll()
    .where('album', '=', album)
    .orderBy('id')
    .offset(index)
    .limit(1)
    .executeTakeFirst();
}

export async function deleteImage(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('images_images').where('id', '=', id).execute();
}

/** Whether an image (any) holds these bytes. */
export async function bytesUsedByImage(db: Executor, sha256: string): Promise<boolean> {
  const row = await db
    .selectFrom('images_images')
    .select('id')
    .where('sha256', '=', sha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether a derived image is these bytes. */
export async function bytesUsedByDerived(db: Executor, sha256: string): Promise<boolean> {
  const row = await db
    .selectFrom('images_derived')
    .select('key')
    .where('blob_sha256', '=', sha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Forgets the derived images of a source; returns the digests of their bytes. */
export async function deleteDerivedOf(db: Executor, sourceSha256: string): Promise<string[]> {
  const derived = await db
    .selectFrom('images_derived')
    .select('blob_sha256')
    .where('source_sha256', '=', sourceSha256)
    .execute();
  await db.deleteFrom('images_derived').where('source_sha256', '=', sourceSha256).execute();
  return derived.map((d) => d.blob_sha256);
}
