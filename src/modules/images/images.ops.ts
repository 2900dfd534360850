/**
 * Formats and transformation parameters: what a URL may ask for, validated, and its canonical
 * text (the cache key and what signatures cover). Pure and free of sharp, so the client library
 * shares it with the server.
 */
import { createHmac } from 'node:crypto';

export const MIME = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
} as const;
export type Format = keyof typeof MIME;
export const FORMATS = Object.keys(MIME) as Format[];

/** A format name or file extension (`jpg`, `tif`, any case) to a format, or null. */
export function formatOf(name: string): Format | null {
  const n = name.toLowerCase();
  if (n === 'jpg') return 'jpeg';
  if (n === 'tif') return 'tiff';
  return (FORMATS as string[]).includes(n) ? (n as Format) : null;
}

/** The file extension of a format. */
export const extensionOf = (format: Format): string => (format === 'jpeg' ? 'jpg' : format);

export type Fit = 'cover' | 'contain' | 'fill' | 'inside' | 'outside';
const FITS: Fit[] = ['cover', 'contain', 'fill', 'inside', 'outside'];

/** Transformations, all optional; applied in the order of the fields below. */
export interface Ops {
  w?: number;
  h?: number;
  fit?: Fit;
  rotate?: number;
  flip?: boolean;
  flop?: boolean;
  grayscale?: boolean;
  blur?: number;
  sharpen?: boolean;
  mask?: 'circle' | 'rounded';
  quality?: number;
  format?: Format;
}

/** Operations as a caller may write them: `thumbnail: n` is short for n×n with fit `cover`. */
export type OpsInput = Ops & { thumbnail?: number };

/** `ops` with the shorthand spelt out, as the server reads (and signs) it. */
export function expandOps({ thumbnail, ...ops }: OpsInput): Ops {
  return thumbnail === undefined ? ops : { ...ops, w: thumbnail, h: thumbnail, fit: 'cover' };
}

/** The query parameters a transformation URL may carry (plus `sig` when signing is on). */
export const OP_PARAMS = [
  'w',
  'h',
  'fit',
  'rotate',
  'flip',
  'flop',
  'grayscale',
  'blur',
  'sharpen',
  'quality',
  'format',
  'thumbnail',
  'mask',
] as const;

/** A transformation parameter is unknown or out of range; the message starts with its name. */
export class OpsError extends Error {
  override name = 'OpsError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

const bad = (param: string, message: string): OpsError => new OpsError(param, message);

function integer(param: string, raw: string, min: number, max: number): number {
  if (!/^-?\d{1,9}$/.test(raw)) throw bad(param, `must be an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw bad(param, `must be an integer from ${min} to ${max}`);
  return n;
}

function boolean(param: string, raw: string): boolean {
  if (raw === 'true' || raw === '1' || raw === '') return true;
  if (raw === 'false' || raw === '0') return false;
  throw bad(param, 'must be true, 1, false or 0');
}

/**
 * Reads transformation parameters; any unknown or out-of-range one is a 400 naming it.
 * `ignore` lists parameters handled elsewhere (e.g. `sig`).
 */
export function parseOps(
  query: Record<string, string | string[] | undefined>,
  limits: { maxDimension: number },
  ignore: readonly string[] = [],
): Ops {
  const ops: Ops = {};
  const max = limits.maxDimension;
  for (const [param, value] of Object.entries(query)) {
    if (value === undefined || ignore.includes(param)) continue;
    if (!(OP_PARAMS as readonly string[]).includes(param)) {
      throw bad(param, `unknown parameter; known: ${OP_PARAMS.join(', ')}`);
    }
    if (Array.isArray(value)) throw bad(param, 'given more than once');
    switch (param as (typeof OP_PARAMS)[number]) {
      case 'w':
        ops.w = integer(param, value, 1, max);
        break;
      case 'h':
        ops.h = integer(param, value, 1, max);
        break;
      case 'thumbnail': {
        const n = integer(param, value, 1, max);
        ops.w = n;
        ops.h = n;
        ops.fit = 'cover';
        break;
      }
      case 'fit':
        if (!(FITS as string[]).includes(value))
          throw bad(param, `must be one of ${FITS.join(', ')}`);
        ops.fit = value as Fit;
        break;
      case 'rotate': {
        const degrees = integer(param, value, -360, 360);
        // A full turn is no turn: normalise so equal requests share one cached result.
        const normalised = ((degrees % 360) + 360) % 360;
        if (normalised !== 0) ops.rotate = normalised;
        break;
      }
      case 'flip':
        if (boolean(param, value)) ops.flip = true;
        break;
      case 'flop':
        if (boolean(param, value)) ops.flop = true;
        break;
      case 'grayscale':
        if (boolean(param, value)) ops.grayscale = true;
        break;
      case 'sharpen':
        if (boolean(param, value)) ops.sharpen = true;
        break;
      case 'blur': {
        if (value === 'true' || value === '1' || value === '') {
          ops.blur = 2;
          break;
        }
        if (value === 'false' || value === '0') break;
        const sigma = Number(value);
        if (!/^\d{1,3}(\.\d{1,2})?$/.test(value) || sigma < 0.3 || sigma > 100) {
          throw bad(param, 'must be true, or a sigma from 0.3 to 100');
        }
        ops.blur = sigma;
        break;
      }
      case 'mask':
        if (value !== 'circle' && value !== 'rounded')
          throw bad(param, 'must be circle or rounded');
        ops.mask = value;
        break;
      case 'quality':
        ops.quality = integer(param, value, 1, 100);
        break;
      case 'format': {
        const format = formatOf(value);
        if (format === null) throw bad(param, `must be one of ${FORMATS.join(', ')} (or jpg)`);
        ops.format = format;
        break;
      }
    }
  }
  if (ops.fit !== undefined && (ops.w === undefined || ops.h === undefined)) {
    throw bad('fit', 'needs both w and h');
  }
  return ops;
}

/** True when `ops` asks for nothing (the original bytes are the answer). */
export const isIdentity = (ops: Ops): boolean => Object.keys(ops).length === 0;

/** A canonical text of the operations: equal requests give equal keys. */
export function normaliseOps(ops: Ops): string {
  const order: (keyof Ops)[] = [
    'w',
    'h',
    'fit',
    'rotate',
    'flip',
    'flop',
    'grayscale',
    'blur',
    'sharpen',
    'mask',
    'quality',
    'format',
  ];
  return order
    .filter((k) => ops[k] !== undefined)
    .map((k) => `${k}=${String(ops[k])}`)
    .join('&');
}

/** The cache key of a derived image: the source's digest and the canonical operations. */
/** The HMAC of a transformation (id with extension, canonical operations), base64url. */
export function signature(key: string, idWithExt: string, ops: Ops): string {
  return createHmac('sha256', key)
    .update(`${idWithExt}?${normaliseOps(ops)}`)
    .digest('base64url');
}

/**
 * The path (after the mount) of an image with `ops`: the format as the extension, the other
 * operations as the query, and `sig` when a signing key is given.
 */
export function derivedPath(id: string, ops: Ops, signingKey = ''): string {
  const ext = ops.format ? `.${extensionOf(ops.format)}` : '';
  const { format: _format, ...rest } = ops;
  const params = [normaliseOps(rest)].filter((p) => p !== '');
  if (signingKey && Object.keys(ops).length > 0) {
    params.push(`sig=${signature(signingKey, `${id}${ext}`, ops)}`);
  }
  return `/${id}${ext}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}
