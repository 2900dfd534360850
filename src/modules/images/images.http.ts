/**
 * HTTP helpers of the images routes, API and compatibility alike: ids with extensions,
 * signatures, ranges, sending bytes or a stored blob with ETag and 304, upload file names,
 * multipart boundaries and operations from a query.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange } from '../../core/blobs/index.js';
import type { ImagesConfig } from './images.config.js';
import {
  formatOf,
  FORMATS,
  MIME,
  OpsError,
  parseOps,
  signature,
  type Format,
  type Ops,
} from './images.ops.js';
import type { RemoteFetcher } from './images.remote.js';
import {
  type ImageBytes,
  type ImageMeta as StoredImage,
  type ImagesService,
} from './images.service.js';
import { ImagesErrors } from './images.errors.js';

export interface ImagesRouteOptions {
  config: ImagesConfig;
  service: ImagesService;
  remote: RemoteFetcher;
}

/** `abc123.webp` → id and format; a bad extension is a 400. */
export function splitId(raw: string): { id: string; format: Format | null; ext: string | null } {
  const dot = raw.lastIndexOf('.');
  if (dot < 0) return { id: raw, format: null, ext: null };
  const ext = raw.slice(dot + 1);
  const format = formatOf(ext);
  if (format === null) {
    throw ImagesErrors.badFormat(
      `unknown extension .${ext}; known: ${FORMATS.join(', ')}, jpg, tif`,
    );
  }
  return { id: raw.slice(0, dot), format, ext };
}

export function checkSignature(key: string, idWithExt: string, ops: Ops, sig: unknown): void {
  const expected = Buffer.from(signature(key, idWithExt, ops));
  const given = Buffer.from(typeof sig === 'string' ? sig : '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw ImagesErrors.badSignature('this transformation needs a valid signature (sig)');
  }
}

/** One `bytes=` range of a representation of `size` bytes; null: serve it whole. */
export function parseRange(
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
export type Body =
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
export async function sendImage(
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
      throw ImagesErrors.rangeNotSatisfiable(`the range ${header} is outside the ${size} bytes`);
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
export function blobBody(service: ImagesService, meta: StoredImage): Body {
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
export function headerFilename(value: string | string[] | undefined): string | null {
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
export function checkBoundary(request: FastifyRequest): void {
  const type = request.headers['content-type'] ?? '';
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(type);
  const boundary = m?.[1] ?? m?.[2] ?? '';
  if (boundary.length < 1 || boundary.length > 70) {
    throw ImagesErrors.badMultipart(
      'multipart/form-data needs a boundary parameter of 1 to 70 characters',
    );
  }
}

/** `parseOps` with its errors as 400s naming the parameter. */
export function opsFrom(
  query: Record<string, string | string[] | undefined>,
  maxDimension: number,
  ignore: readonly string[] = [],
): Ops {
  try {
    return parseOps(query, { maxDimension }, ignore);
  } catch (err) {
    if (err instanceof OpsError) {
      throw ImagesErrors.badParameter(err.message, { parameter: err.parameter });
    }
    throw err;
  }
}
