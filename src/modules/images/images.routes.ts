/**
 * The images HTTP API: upload (multipart, raw body, remote URL), retrieval with ETag, 304,
 * Range and HEAD, conversion by extension, transformations by query, metadata, listing, admin
 * delete, stateless transform and batch. The original service's routes are in
 * images.compat.routes.ts, the helpers both use in images.http.ts.
 */
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody } from '../../core/errors.js';
import { modulePage } from '../../core/pages.js';
import { derivedPath, extensionOf, FORMATS, MIME } from './images.ops.js';
import { SizedLru } from './images.cache.js';
import { ALBUM, disposition, downloadName, type ImageBytes } from './images.service.js';
import { isRecord, queryValues } from '../../core/validation.js';
import {
  blobBody,
  checkBoundary,
  checkSignature,
  headerFilename,
  opsFrom,
  sendImage,
  splitId,
  type ImagesRouteOptions,
} from './images.http.js';
import { BatchAnswer, Binary, IdParams, ImageList, ImageMeta } from './images.schemas.js';
import { ImagesErrors } from './images.errors.js';
import { errorOf, unwrap } from './images.errors.js';

/** How long a URL's derived image is served from memory without looking at the row again. */
const URL_CACHE_MS = 10_000;

export async function imagesRoutes(
  app: FastifyInstance,
  { config, service, remote }: ImagesRouteOptions,
): Promise<void> {
  await app.register(multipart, {
    limits: {
      fileSize: config.max_bytes,
      files: config.max_files,
      fields: 10,
      fieldSize: 1024,
      parts: config.max_files + 10,
    },
  });
  // Raw uploads: an image Content-Type (or octet-stream) and the bytes as the body.
  app.addContentTypeParser(
    /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/i,
    { parseAs: 'buffer', bodyLimit: config.max_bytes },
    (_request, body, done) => {
      done(null, body);
    },
  );
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  /**
   * Hot derived images by request URL (signature included: a URL is cached only once it passed).
   * Entries live as long as the service trusts a row (a delete elsewhere shows within that).
   */
  const byUrl = new SizedLru<{ image: ImageBytes; headers: Record<string, string>; at: number }>(
    (config.memory_cache_mb * 1024 * 1024) / 4,
    256 * 1024,
  );
  /** A browser opening the bare URL gets the gallery; anything with parameters is the API. */
  const page = modulePage('images');

  /** Every image of an upload request, whatever its form. */
  async function* uploads(
    request: FastifyRequest,
  ): AsyncGenerator<{ bytes: Buffer; filename: string | null; album: string | null }> {
    const album0 = queryValues(request.query).album;
    const queryAlbum = typeof album0 === 'string' ? album0 : null;
    if (request.isMultipart()) {
      checkBoundary(request);
      let album = queryAlbum;
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          if (part.fieldname === 'album' && typeof part.value === 'string') album = part.value;
          continue;
        }
        const bytes = await part.toBuffer();
        yield { bytes, filename: part.filename || null, album };
      }
      return;
    }
    const body: unknown = request.body;
    if (Buffer.isBuffer(body)) {
      yield {
        bytes: body,
        filename: headerFilename(request.headers['x-filename']),
        album: queryAlbum,
      };
      return;
    }
    if (isRecord(body) && typeof body.url === 'string') {
      const { bytes, filename } = await remote.fetch(body.url);
      const album = body.album;
      yield { bytes, filename, album: typeof album === 'string' ? album : queryAlbum };
      return;
    }
    throw ImagesErrors.noBody(
      'send the image as multipart (field image), as the raw body with an image Content-Type, or as JSON {"url": "…"}',
    );
  }

  routes.post(
    '/',
    {
      bodyLimit: config.max_bytes,
      schema: {
        tags: ['images'],
        summary: 'Upload one image, several (multipart), or import one from a URL',
        description:
          'Multipart: every file part is an image (field `image`; several → bulk, answered as an ' +
          'array). Raw: the bytes with an image Content-Type. JSON: `{"url": "https://…"}` imports ' +
          'a remote image (no private addresses, no redirects). `?album=` (or an `album` field) ' +
          'files the image in an album. 415 not an image, 413 too large, 422 too many pixels.',
        querystring: Type.Object(
          { album: Type.Optional(Type.String({ pattern: ALBUM.source })) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Union([ImageMeta, Type.Array(ImageMeta)]),
          400: ErrorBody,
          413: ErrorBody,
          415: ErrorBody,
          422: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const stored = [];
      for await (const upload of uploads(request)) {
        // The body is not read again: its memory may go to a blob writer thread.
        stored.push(unwrap(await service.store(upload.bytes, { ...upload, transfer: true })));
      }
      const [first] = stored;
      if (!first) throw ImagesErrors.noBody('the upload holds no file');
      return reply.code(201).send(stored.length > 1 ? stored : first);
    },
  );

  routes.get(
    '/',
    {
      schema: {
        tags: ['images'],
        summary: 'Stored images, newest first, with cursor pagination',
        querystring: Type.Object(
          {
            album: Type.Optional(Type.String({ pattern: ALBUM.source })),
            cursor: Type.Optional(Type.String({ maxLength: 64 })),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: ImageList,
        },
      },
    },
    async (request, reply) => {
      if (page.wanted(request)) return page.send(reply);
      return unwrap(await service.list(request.query));
    },
  );

  routes.get(
    '/:id',
    {
      schema: {
        tags: ['images'],
        summary: 'The image as uploaded; `/:id.ext` converts it; query parameters transform it',
        description:
          `Extensions: ${FORMATS.join(', ')}, jpg, tif. Parameters: w, h, fit (cover/contain/fill/` +
          'inside/outside, with w and h), thumbnail=N (N×N cover), rotate (degrees), flip, flop, ' +
          'grayscale, blur (true or a sigma), sharpen, mask (circle/rounded), quality (1–100), ' +
          'format. Order: EXIF orientation, resize, rotate, flip, flop, grayscale, blur, sharpen, ' +
          'mask, encode. Results are cached; strong ETag, 304, Range; metadata is stripped.',
        params: IdParams,
        produces: Object.values(MIME),
        response: {
          200: Binary,
          206: Binary,
          304: Type.Null(),
          400: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      // A derived image asked for by this exact URL a moment ago: no parsing, no lookups.
      const known = byUrl.get(request.url);
      if (known && Date.now() - known.at < URL_CACHE_MS) {
        void reply.header('x-cache', 'hit');
        return sendImage(request, reply, { kind: 'bytes', image: known.image }, known.headers);
      }
      const { id, format } = splitId(request.params.id);
      const query = queryValues(request.query);
      const ops = opsFrom(query, config.max_dimension, ['sig']);
      if (format) ops.format = format;
      // With signing on, every derived URL (conversion or transformation) must be signed. What
      // is signed is the canonical spelling (`.jpg` for `.jpeg`, the format as the extension).
      if (config.signing_key && Object.keys(ops).length > 0) {
        const signed = ops.format ? `${id}.${extensionOf(ops.format)}` : id;
        checkSignature(config.signing_key, signed, ops, query.sig);
      }
      if (Object.keys(ops).length === 0) {
        // The original, as uploaded: streamed from the blob store.
        const meta = unwrap(await service.get(id));
        const inline = { 'content-disposition': disposition('inline', downloadName(meta)) };
        return sendImage(request, reply, blobBody(service, meta), inline);
      }
      const { meta, image, cached } = unwrap(await service.derived(id, ops));
      const headers = {
        'content-disposition': disposition('inline', downloadName(meta, image.format)),
      };
      void reply.header('x-cache', cached ? 'hit' : 'miss');
      byUrl.set(request.url, { image, headers, at: Date.now() }, image.data.length);
      return sendImage(request, reply, { kind: 'bytes', image }, headers);
    },
  );

  routes.get(
    '/:id/meta',
    {
      schema: {
        tags: ['images'],
        summary: 'The metadata of a stored image',
        params: IdParams,
        response: { 200: ImageMeta, 404: ErrorBody },
      },
    },
    async (request) => unwrap(await service.get(request.params.id)),
  );

  routes.delete(
    '/:id',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['images'],
        summary: 'Delete an image (admin); its bytes go when no other image shares them',
        security: [{ adminToken: [] }],
        params: IdParams,
        response: { 200: ImageMeta, 404: ErrorBody },
      },
    },
    async (request) => {
      const deleted = unwrap(await service.delete(request.params.id));
      byUrl.clear();
      return deleted;
    },
  );

  routes.post(
    '/transform',
    {
      bodyLimit: config.max_bytes,
      schema: {
        tags: ['images'],
        summary: 'Transform the image sent (raw, multipart or {url}) without storing it',
        description:
          'Takes the same query parameters as GET /images/:id. With `images.signing_key` set, ' +
          '`sig` must sign `transform?<normalised operations>`.',
        produces: Object.values(MIME),
        response: { 200: Binary, 400: ErrorBody, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody },
      },
    },
    async (request, reply) => {
      const query = queryValues(request.query);
      const ops = opsFrom(query, config.max_dimension, ['sig']);
      // With signing on, rendering on request is for signed operations only, here as anywhere.
      if (config.signing_key) checkSignature(config.signing_key, 'transform', ops, query.sig);
      let first: Buffer | null = null;
      for await (const upload of uploads(request)) {
        first ??= upload.bytes;
      }
      if (!first) throw ImagesErrors.noBody('the request holds no image');
      const rendered = unwrap(await service.transform(first, ops));
      return reply
        .header('content-type', MIME[rendered.format])
        .header('cache-control', 'no-store')
        .send(rendered.data);
    },
  );

  routes.post(
    '/batch',
    {
      // The answer carries signed URLs: with signing on, only an administrator may ask (an open
      // batch would sign, and render, any operations for anyone).
      preHandler: async (request) => {
        if (config.signing_key) await app.requireAdmin(request);
      },
      schema: {
        tags: ['images'],
        summary: 'Apply one transformation to many stored images; each result reported on its own',
        description: 'With `images.signing_key` set, admin only (the result URLs are signed).',
        security: [{}, { adminToken: [] }],
        body: Type.Object(
          {
            ids: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 100 }),
            ops: Type.Optional(
              Type.Record(
                Type.String(),
                Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
              ),
            ),
            format: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: BatchAnswer,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request) => {
      const raw = Object.fromEntries(
        Object.entries(request.body.ops ?? {}).map(([k, v]) => [k, String(v)]),
      );
      if (request.body.format !== undefined) raw.format = request.body.format;
      const ops = opsFrom(raw, config.max_dimension);
      const results = await Promise.all(
        request.body.ids.map(async (id) => {
          const outcome = await service.derived(id, ops);
          if (!outcome.ok) {
            const error = errorOf(outcome.failure);
            // The request's own fault for this id: said in its place. Busy or slow: the whole
            // batch is refused (503), to be sent again.
            if (error.status >= 500) throw error;
            return { id, ok: false as const, error: { code: error.code, message: error.message } };
          }
          const { image } = outcome.value;
          const url = `${app.prefix}${derivedPath(id, ops, config.signing_key)}`;
          return {
            id,
            ok: true as const,
            url,
            format: image.format,
            width: image.width,
            height: image.height,
            bytes: image.data.length,
          };
        }),
      );
      return { results };
    },
  );
}
