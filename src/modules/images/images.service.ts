/**
 * The image repository: stores uploads once per content (sha256), keeps their metadata in SQL,
 * renders conversions and transformations through the limiter and caches them by
 * (source digest, canonical operations).
 */
import { randomBytes } from 'node:crypto';
import { create as createDisposition } from 'content-disposition';
import type { Kysely, Selectable } from 'kysely';
import type { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from '../../core/blobs/index.js';
import type { ImagesDatabase, ImagesImagesTable } from './images.tables.js';
import type { AppError } from '../../core/errors.js';
import { SizedLru } from './images.cache.js';
import {
  derivedPath,
  expandOps,
  extensionOf,
  isIdentity,
  MIME,
  type Format,
  type Ops,
} from './images.ops.js';
import {
  derivedKey,
  probe,
  render,
  type Limiter,
  type Limits,
  type Rendered,
} from './images.process.js';
import type { ImageMeta } from './images.schemas.js';
import * as repo from './images.repository.js';
import { ImagesErrors, ImagesFailed, type Outcome } from './images.errors.js';

/**
 * A new image id: 12 base64url characters (72 random bits), never beginning with `-`. Such an id
 * reads as an option on a command line (`agora images get -x…`, curl, most tools), and one id in
 * 64 began so; one is drawn again, so the others keep equal odds.
 */
export function newPublicId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(9).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A stored image as the API shows it (declared once, in images.schemas.ts). */
export type { ImageMeta } from './images.schemas.js';

/** An image's bytes with what is needed to serve them. */
export interface ImageBytes {
  data: Buffer;
  format: Format;
  /** The digest of these bytes (the strong ETag). */
  sha256: string;
  width: number;
  height: number;
}

export const ALBUM = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface ImagesServiceOptions {
  db: Kysely<ImagesDatabase>;
  blobs: BlobStore;
  limits: Limits;
  limiter: Limiter;
  /** Where images are served (`/images`), for the `url` of each. */
  mount: string;
  /** Memory for hot derived images (0: none). */
  memoryCacheBytes: number;
  /** `images.signing_key`: the previews' URLs in each image's metadata are signed with it. */
  signingKey: string;
}

/** An image whose row exists but whose bytes the blob store does not have. */
const blobMissing = (id: string): AppError =>
  ImagesErrors.blobMissing(`the bytes of image ${id} are missing`);

/** How long a looked-up image row is trusted before asking the database again. */
const ROW_TTL_MS = 10_000;

type Row = Selectable<ImagesImagesTable>;

/** The image repository: store, read, derive (cached), transform, list, pick, delete. */
export type ImagesService = ReturnType<typeof createImagesService>;

/** Runs an operation, its expected failure (thrown as ImagesFailed) returned as an outcome. */
async function attempt<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    if (err instanceof ImagesFailed) return { ok: false, failure: err.failure };
    throw err;
  }
}

export function createImagesService(o: ImagesServiceOptions) {
  /** Rows by public id, for a short while (another node's delete shows here within ROW_TTL_MS). */
  const rows = new SizedLru<{ row: Row; at: number }>(10_000, 1);
  /** Hot derived images (thumbnails…) by derived key; immutable, so never stale. */
  const hot = new SizedLru<ImageBytes>(
    o.memoryCacheBytes,
    Math.min(o.memoryCacheBytes / 8, 2 * 1024 * 1024),
  );

  /** A square WebP preview's URL, as `thumbnail=N` is read (signed with a signing key). */
  const preview = (id: string, size: keyof ImageMeta['previews']): string =>
    `${o.mount}${derivedPath(id, expandOps({ thumbnail: Number(size), format: 'webp' }), o.signingKey)}`;

  function toMeta(row: Row): ImageMeta {
    const format = row.format as Format;
    return {
      id: row.public_id,
      sha256: row.sha256,
      format,
      content_type: MIME[format],
      width: row.width,
      height: row.height,
      bytes: row.bytes,
      filename: row.filename,
      album: row.album,
      created_at: row.created_at,
      url: `${o.mount}/${row.public_id}`,
      previews: {
        '320': preview(row.public_id, '320'),
        '640': preview(row.public_id, '640'),
      },
    };
  }

  /**
   * Checks and stores an upload; the same bytes twice share one blob. With `transfer`, the caller
   * gives `bytes` up (a request body, say): the blob store may take its memory.
   */
  async function store(
    bytes: Buffer,
    info: { filename?: string | null; album?: string | null; transfer?: boolean } = {},
  ): Promise<ImageMeta> {
    if (bytes.length === 0)
      throw new ImagesFailed({ kind: 'empty', message: 'the image is empty' });
    const album = info.album ?? null;
    if (album !== null && !ALBUM.test(album)) {
      throw new ImagesFailed({
        kind: 'badAlbum',
        message: 'album: lowercase letters, digits, _ and -, at most 64',
      });
    }
    const probed = await probe(bytes, o.limits);
    const size = bytes.length;
    const { sha256 } = await o.blobs.put(bytes, { transfer: info.transfer === true });
    const row = {
      public_id: newPublicId(),
      sha256,
      format: probed.format,
      width: probed.width,
      height: probed.height,
      bytes: size,
      filename: cleanFilename(info.filename),
      album,
      created_at: new Date().toISOString(),
    };
    await repo.insertImage(o.db, row);
    return toMeta({ id: 0, ...row });
  }

  async function rowOf(id: string): Promise<Row> {
    const cached = rows.get(id);
    if (cached && Date.now() - cached.at < ROW_TTL_MS) return cached.row;
    const row = /^[A-Za-z0-9_-]{1,32}$/.test(id) ? await repo.imageByPublicId(o.db, id) : undefined;
    if (!row) throw new ImagesFailed({ kind: 'notFound', message: `no image with id ${id}` });
    rows.set(id, { row, at: Date.now() }, 1);
    return row;
  }

  async function get(id: string): Promise<ImageMeta> {
    return toMeta(await rowOf(id));
  }

  /** The stored bytes, as uploaded. */
  async function original(id: string): Promise<{ meta: ImageMeta; image: ImageBytes }> {
    const row = await rowOf(id);
    const data = await o.blobs.get(row.sha256);
    if (!data) throw blobMissing(id);
    const meta = toMeta(row);
    return {
      meta,
      image: {
        data,
        format: meta.format,
        sha256: row.sha256,
        width: row.width,
        height: row.height,
      },
    };
  }

  /** The stored bytes of `meta` (or `range` of them), read as the stream is consumed. */
  async function openOriginal(meta: ImageMeta, range?: ByteRange): Promise<Readable> {
    const opened = await o.blobs.open(meta.sha256, range);
    if (!opened) throw blobMissing(meta.id);
    return opened.stream;
  }

  /** The image with `ops` applied: from the derived cache, or rendered and cached. */
  async function derived(
    id: string,
    ops: Ops,
  ): Promise<{ meta: ImageMeta; image: ImageBytes; cached: boolean }> {
    const row = await rowOf(id);
    // Only a request for nothing at all gets the bytes as uploaded. A conversion to the same
    // format is rendered like any other: orientation applied, metadata (author, GPS) stripped.
    if (isIdentity(ops)) return { ...(await original(id)), cached: true };
    const meta = toMeta(row);
    const key = derivedKey(meta.sha256, ops);
    const inMemory = hot.get(key);
    if (inMemory) return { meta, image: inMemory, cached: true };
    const hit = await repo.derivedByKey(o.db, key);
    if (hit) {
      const data = await o.blobs.get(hit.blob_sha256);
      if (data) {
        const image: ImageBytes = {
          data,
          format: hit.format as Format,
          sha256: hit.blob_sha256,
          width: hit.width,
          height: hit.height,
        };
        hot.set(key, image, data.length);
        return { meta, image, cached: true };
      }
    }
    // A miss: only now are the original's bytes read.
    const source = await o.blobs.get(meta.sha256);
    if (!source) throw blobMissing(id);
    const rendered = await renderLimited(source, meta.format, ops);
    const { sha256 } = await o.blobs.put(rendered.data);
    await repo.insertDerived(o.db, {
      key,
      source_sha256: meta.sha256,
      blob_sha256: sha256,
      format: rendered.format,
      width: rendered.width,
      height: rendered.height,
      bytes: rendered.data.length,
      created_at: new Date().toISOString(),
    });
    const image: ImageBytes = {
      data: rendered.data,
      format: rendered.format,
      sha256,
      width: rendered.width,
      height: rendered.height,
    };
    hot.set(key, image, rendered.data.length);
    return { meta, image, cached: false };
  }

  /** Renders without storing anything (`POST /images/transform`). */
  async function transform(bytes: Buffer, ops: Ops): Promise<Rendered> {
    const probed = await probe(bytes, o.limits);
    return renderLimited(bytes, probed.format, ops);
  }

  function renderLimited(bytes: Buffer, format: Format, ops: Ops): Promise<Rendered> {
    return o.limiter.run(() => render(bytes, format, ops, o.limits));
  }

  /** Newest first; `cursor` continues after the last item of the previous page. */
  async function list(q: {
    album?: string;
    cursor?: string;
    limit: number;
  }): Promise<{ items: ImageMeta[]; next_cursor: string | null }> {
    let before: number | undefined;
    if (q.cursor !== undefined) {
      before = Number(Buffer.from(q.cursor, 'base64url').toString('utf8'));
      if (!Number.isSafeInteger(before) || before < 1) {
        throw new ImagesFailed({
          kind: 'badCursor',
          message: 'cursor: not a cursor this server gave',
        });
      }
    }
    const rows = await repo.listImages(o.db, {
      ...(q.album !== undefined ? { album: q.album } : {}),
      ...(before !== undefined ? { before } : {}),
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => toMeta(r)),
      next_cursor:
        rows.length > q.limit && last ? Buffer.from(String(last.id)).toString('base64url') : null,
    };
  }

  /** A random image of `album`, or null when it is empty (the queue's kitty pictures). */
  async function random(album: string): Promise<ImageMeta | null> {
    const n = await repo.countInAlbum(o.db, album);
    if (n === 0) return null;
    const row = await repo.imageInAlbumAt(o.db, album, Math.floor(Math.random() * n));
    return row ? toMeta(row) : null;
  }

  /** Deletes an image; its blob and derived images go when no other image shares its bytes. */
  async function deleteImage(id: string): Promise<ImageMeta> {
    const row = await rowOf(id);
    rows.delete(id);
    await repo.deleteImage(o.db, row.id);
    if (!(await repo.bytesUsedByImage(o.db, row.sha256))) {
      const derived = await repo.deleteDerivedOf(o.db, row.sha256);
      for (const sha of new Set([row.sha256, ...derived])) {
        await deleteBlobIfUnused(sha);
      }
    }
    return toMeta(row);
  }

  async function deleteBlobIfUnused(sha256: string): Promise<void> {
    if (
      !(await repo.bytesUsedByImage(o.db, sha256)) &&
      !(await repo.bytesUsedByDerived(o.db, sha256))
    ) {
      await o.blobs.delete(sha256);
    }
  }

  /**
   * The operations, each answering an outcome: an expected failure (no such image, not an image,
   * too big, busy…) is returned for the routes to map; only the unexpected is thrown.
   */
  return {
    store: (...args: Parameters<typeof store>) => attempt(() => store(...args)),
    get: (id: string) => attempt(() => get(id)),
    original: (id: string) => attempt(() => original(id)),
    openOriginal,
    derived: (id: string, ops: Ops) => attempt(() => derived(id, ops)),
    transform: (bytes: Buffer, ops: Ops) => attempt(() => transform(bytes, ops)),
    list: (q: Parameters<typeof list>[0]) => attempt(() => list(q)),
    random,
    delete: (id: string) => attempt(() => deleteImage(id)),
  };
}

/**
 * The name kept for an upload: its last path segment (`../../etc/passwd` is `passwd`), without
 * control or bidirectional-override characters (which can make `gpj.exe` read as `exe.jpg`),
 * trimmed, at most 255 characters; null when nothing is left. Any other Unicode is kept: it is
 * served in `filename*` (RFC 6266), never raw in a header.
 */
export function cleanFilename(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const last = raw.split(/[/\\]/).pop() ?? '';
  const clean = last.replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, '').trim();
  if (clean === '' || clean === '.' || clean === '..') return null;
  // At most 255 code points (what every database's column counts), cut between characters as a
  // reader sees them, never inside one.
  let kept = '';
  let points = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(
    clean,
  )) {
    const n = Array.from(segment).length;
    if (points + n > 255) break;
    kept += segment;
    points += n;
  }
  return kept;
}

/** `Content-Disposition` for an image download: ASCII `filename` plus UTF-8 `filename*`. */
export function disposition(type: 'inline' | 'attachment', name: string): string {
  return createDisposition(cleanFilename(name) ?? 'image', { type });
}

/** `name.ext` for downloads: the original name, or the id with the format's extension. */
export function downloadName(meta: ImageMeta, format: Format = meta.format): string {
  if (meta.filename && format === meta.format) return meta.filename;
  const base = meta.filename ? meta.filename.replace(/\.[^.]*$/, '') : meta.id;
  return `${base}.${extensionOf(format)}`;
}
