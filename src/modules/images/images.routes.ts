/**
 * The images HTTP surface: upload (multipart, raw body, remote URL), retrieval with ETag, 304,
 * Range and HEAD, conversion by extension, transformations by query, metadata, listing, admin
 * delete, stateless transform, batch; and the original service's compatibility routes.
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange } from '../../core/blobs/index.js';
import { Type } from 'typebox';
import { AppError, ErrorBody } from '../../core/errors.js';
import { WEB_ROOT } from '../../core/web.js';
import type { ImagesConfig } from './images.config.js';
import {
  derivedPath,
  extensionOf,
  formatOf,
  FORMATS,
  MIME,
  OpsError,
  parseOps,
  signature,
  type Format,
  type Ops,
} from './images.ops.js';
import { SizedLru } from './images.cache.js';
import type { RemoteFetcher } from './images.remote.js';
import {
  ALBUM,
  disposition,
  downloadName,
  type ImageBytes,
  type ImageMeta as StoredImage,
  type ImagesService,
} from './images.service.js';

export interface ImagesRouteOptions {
  config: ImagesConfig;
  service: ImagesService;
  remote: RemoteFetcher;
}

const ImageMeta = Type.Object(
  {
    id: Type.String(),
    sha256: Type.String(),
    format: Type.String(),
    content_type: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer(),
    filename: Type.Union([Type.String(), Type.Null()]),
    album: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String(),
    url: Type.String(),
  },
  { description: 'A stored image' },
);

const Binary = Type.Unsafe<Buffer>(
  Type.String({ description: 'the image bytes', format: 'binary' }),
);

/** `abc123.webp` → id and format; a bad extension is a 400. */
function splitId(raw: string): { id: string; format: Format | null; ext: string | null } {
  const dot = raw.lastIndexOf('.');
  if (dot < 0) return { id: raw, format: null, ext: null };
  const ext = raw.slice(dot + 1);
  const format = formatOf(ext);
  if (format === null) {
    throw new AppError(
      'IMAGE_BAD_FORMAT',
      400,
      `unknown extension .${ext}; known: ${FORMATS.join(', ')}, jpg, tif`,
    );
  }
  return { id: raw.slice(0, dot), format, ext };
}

function checkSignature(key: string, idWithExt: string, ops: Ops, sig: unknown): void {
  const expected = Buffer.from(signature(key, idWithExt, ops));
  const given = Buffer.from(typeof sig === 'string' ? sig : '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError(
      'IMAGE_BAD_SIGNATURE',
      403,
      'this transformation needs a valid signature (sig)',
    );
  }
}

/** One `bytes=` range of a representation of `size` bytes; null: serve it whole. */
function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'invalid' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return header.includes(',') ? null : 'invalid'; // several ranges: whole body
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return 'invalid';
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

/** What a GET may answer with: bytes in memory, or a stored blob read as it is sent. */
type Body =
  | { kind: 'bytes'; image: ImageBytes }
  | {
      kind: 'blob';
      sha256: string;
      size: number;
      format: Format;
      open: (range?: ByteRange) => Promise<Readable>;
    };

/**
 * Sends an image with a strong ETag (its digest), immutable caching, 304 and single Range
 * support. A stored original is streamed from the blob store, never held whole in memory.
 */
async function sendImage(
  request: FastifyRequest,
  reply: FastifyReply,
  body: Body,
  extra: Record<string, string> = {},
): Promise<FastifyReply> {
  const sha256 = body.kind === 'bytes' ? body.image.sha256 : body.sha256;
  const format = body.kind === 'bytes' ? body.image.format : body.format;
  const size = body.kind === 'bytes' ? body.image.data.length : body.size;
  const etag = `"${sha256}"`;
  void reply
    .header('etag', etag)
    .header('cache-control', 'public, max-age=31536000, immutable')
    .header('accept-ranges', 'bytes')
    .header('content-type', MIME[format])
    .headers(extra);
  const match = request.headers['if-none-match'];
  if (
    match !== undefined &&
    (match.trim() === '*' || match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))
  ) {
    return reply.code(304).send();
  }
  let range: ByteRange | null = null;
  const header = request.headers.range;
  const ifRange = request.headers['if-range'];
  if (header !== undefined && (ifRange === undefined || ifRange === etag)) {
    const r = parseRange(header, size);
    if (r === 'invalid') {
      void reply.header('content-range', `bytes */${size}`);
      throw new AppError(
        'RANGE_NOT_SATISFIABLE',
        416,
        `the range ${header} is outside the ${size} bytes`,
      );
    }
    if (r) {
      range = r;
      void reply.code(206).header('content-range', `bytes ${r.start}-${r.end}/${size}`);
    }
  }
  if (body.kind === 'bytes') {
    const data = body.image.data;
    return reply.send(range ? data.subarray(range.start, range.end + 1) : data);
  }
  const length = range ? range.end - range.start + 1 : size;
  return reply.header('content-length', String(length)).send(await body.open(range ?? undefined));
}

/** A stored original as a streamed body. */
function blobBody(service: ImagesService, meta: StoredImage): Body {
  return {
    kind: 'blob',
    sha256: meta.sha256,
    size: meta.bytes,
    format: meta.format,
    open: (range) => service.openOriginal(meta, range),
  };
}

/**
 * The file name an `X-Filename` header carries: RFC 8187 (`UTF-8''k%C3%B6t.png`), or raw UTF-8
 * bytes (which Node reads as Latin-1, one character per byte), or plain Latin-1 text.
 */
function headerFilename(value: string | string[] | undefined): string | null {
  if (typeof value !== 'string') return null;
  const extended = /^UTF-8''(.+)$/i.exec(value);
  if (extended) {
    try {
      return decodeURIComponent(extended[1] ?? '');
    } catch {
      return null;
    }
  }
  const utf8 = Buffer.from(value, 'latin1').toString('utf8');
  return utf8.includes('\uFFFD') ? value : utf8;
}

/**
 * A multipart request the parser can read: its boundary present and 1–70 characters long
 * (RFC 2046). The parser itself fails on anything else with an error that says nothing to the
 * client (a 500); this names the problem instead.
 */
function checkBoundary(request: FastifyRequest): void {
  const type = request.headers['content-type'] ?? '';
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(type);
  const boundary = m?.[1] ?? m?.[2] ?? '';
  if (boundary.length < 1 || boundary.length > 70) {
    throw new AppError(
      'IMAGE_BAD_MULTIPART',
      400,
      'multipart/form-data needs a boundary parameter of 1 to 70 characters',
    );
  }
}

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** How long a URL's derived image is served from memory without looking at the row again. */
const URL_CACHE_MS = 10_000;

/** `parseOps` with its errors as 400s naming the parameter. */
function opsFrom(
  query: Record<string, string | string[] | undefined>,
  maxDimension: number,
  ignore: readonly string[] = [],
): Ops {
  try {
    return parseOps(query, { maxDimension }, ignore);
  } catch (err) {
    if (err instanceof OpsError) {
      throw new AppError('IMAGE_BAD_PARAMETER', 400, err.message, { parameter: err.parameter });
    }
    throw err;
  }
}

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
  const page = existsSync(path.join(WEB_ROOT, 'pages/images/index.html'));
  /** A browser opening the bare URL gets the gallery; anything with parameters is the API. */
  const wantsPage = (request: FastifyRequest): boolean =>
    page && !request.url.includes('?') && (request.headers.accept ?? '').includes('text/html');

  /** Every image of an upload request, whatever its form. */
  async function* uploads(
    request: FastifyRequest,
  ): AsyncGenerator<{ bytes: Buffer; filename: string | null; album: string | null }> {
    const queryAlbum = (request.query as { album?: string }).album ?? null;
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
    const body = request.body;
    if (Buffer.isBuffer(body)) {
      yield {
        bytes: body,
        filename: headerFilename(request.headers['x-filename']),
        album: queryAlbum,
      };
      return;
    }
    if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { url?: unknown }).url === 'string'
    ) {
      const { bytes, filename } = await remote.fetch((body as { url: string }).url);
      const album = (body as { album?: unknown }).album;
      yield { bytes, filename, album: typeof album === 'string' ? album : queryAlbum };
      return;
    }
    throw new AppError(
      'IMAGE_NO_BODY',
      400,
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
        stored.push(await service.store(upload.bytes, { ...upload, transfer: true }));
      }
      const [first] = stored;
      if (!first) throw new AppError('IMAGE_NO_BODY', 400, 'the upload holds no file');
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
          200: Type.Object({
            items: Type.Array(ImageMeta),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request, reply) => {
      if (wantsPage(request)) {
        return reply
          .header('cache-control', 'no-cache')
          .sendFile('pages/images/index.html', WEB_ROOT);
      }
      return service.list(request.query);
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
      const query = request.query as Record<string, string | string[] | undefined>;
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
        const meta = await service.get(id);
        const inline = { 'content-disposition': disposition('inline', downloadName(meta)) };
        return sendImage(request, reply, blobBody(service, meta), inline);
      }
      const { meta, image, cached } = await service.derived(id, ops);
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
    (request) => service.get(request.params.id),
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
      const deleted = await service.delete(request.params.id);
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
      const query = request.query as Record<string, string | string[] | undefined>;
      const ops = opsFrom(query, config.max_dimension, ['sig']);
      // With signing on, rendering on request is for signed operations only, here as anywhere.
      if (config.signing_key) checkSignature(config.signing_key, 'transform', ops, query.sig);
      let first: Buffer | null = null;
      for await (const upload of uploads(request)) {
        first ??= upload.bytes;
      }
      if (!first) throw new AppError('IMAGE_NO_BODY', 400, 'the request holds no image');
      const rendered = await service.transform(first, ops);
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
          200: Type.Object({
            results: Type.Array(
              Type.Union([
                Type.Object({
                  id: Type.String(),
                  ok: Type.Literal(true),
                  url: Type.String(),
                  format: Type.String(),
                  width: Type.Integer(),
                  height: Type.Integer(),
                  bytes: Type.Integer(),
                }),
                Type.Object({
                  id: Type.String(),
                  ok: Type.Literal(false),
                  error: Type.Object({ code: Type.String(), message: Type.String() }),
                }),
              ]),
            ),
          }),
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
          try {
            const { image } = await service.derived(id, ops);
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
          } catch (err) {
            if (err instanceof AppError && err.status < 500) {
              return { id, ok: false as const, error: { code: err.code, message: err.message } };
            }
            throw err;
          }
        }),
      );
      return { results };
    },
  );
}

/** The original service's routes: `POST /storage/`, `GET /storage/:id`, `GET /converter/:id/:format`. */
export async function compatRoutes(
  app: FastifyInstance,
  { config, service }: ImagesRouteOptions,
): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: config.max_bytes, files: 1, fields: 10, parts: 11 },
  });
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post(
    '/storage/',
    {
      bodyLimit: config.max_bytes,
      schema: {
        tags: ['images'],
        summary: 'Compatibility: upload (multipart field image)',
        response: {
          200: Type.Object({
            message: Type.String(),
            id: Type.String(),
            full_name: Type.String(),
            content_type: Type.String(),
          }),
          400: ErrorBody,
        },
      },
    },
    async (request) => {
      if (!request.isMultipart()) {
        throw new AppError(
          'IMAGE_NO_BODY',
          400,
          'send the image as multipart/form-data, field image',
        );
      }
      checkBoundary(request);
      const file = await request.file();
      if (!file) throw new AppError('IMAGE_NO_BODY', 400, 'the upload holds no file');
      const meta = await service.store(await file.toBuffer(), {
        filename: file.filename || null,
        transfer: true,
      });
      return {
        message: 'file created, uploading started',
        id: meta.id,
        full_name: downloadName(meta),
        content_type: meta.content_type,
      };
    },
  );

  routes.get(
    '/storage/:id',
    {
      schema: {
        tags: ['images'],
        summary: 'Compatibility: download the stored file as an attachment',
        params: IdParams,
        produces: Object.values(MIME),
        response: { 200: Binary, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const meta = await service.get(request.params.id);
      return sendImage(request, reply, blobBody(service, meta), {
        'content-disposition': disposition('attachment', downloadName(meta)),
      });
    },
  );

  routes.get(
    '/converter/:id/:format',
    {
      schema: {
        tags: ['images'],
        summary: 'Compatibility: the stored image converted to format',
        description:
          'With `images.signing_key` set, `sig` must be the signature of `/images/:id.:ext`.',
        params: Type.Object({
          id: Type.String({ maxLength: 64 }),
          format: Type.String({ maxLength: 8 }),
        }),
        querystring: Type.Object({ sig: Type.Optional(Type.String({ maxLength: 128 })) }),
        produces: Object.values(MIME),
        response: { 200: Binary, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const format = formatOf(request.params.format);
      if (!format) {
        throw new AppError(
          'IMAGE_BAD_FORMAT',
          400,
          `unknown format ${request.params.format}; known: ${FORMATS.join(', ')}, jpg`,
        );
      }
      if (config.signing_key) {
        const id = `${request.params.id}.${extensionOf(format)}`;
        checkSignature(config.signing_key, id, { format }, request.query.sig);
      }
      const { meta, image } = await service.derived(request.params.id, { format });
      return sendImage(
        request,
        reply,
        { kind: 'bytes', image },
        {
          'content-disposition': disposition('attachment', downloadName(meta, format)),
        },
      );
    },
  );
}
