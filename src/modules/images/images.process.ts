/**
 * The processing engine, on sharp (libvips): what an upload is (a real image of an accepted
 * format, within the pixel and frame limits, checked from the header before any decoding) and
 * the rendering of transformations (parsed in `images.ops.ts`). libvips works on its own
 * threads, so the event loop only waits; a bounded limiter keeps the CPU (and memory) in check.
 */
import { createHash } from 'node:crypto';
import sharp, { type Sharp } from 'sharp';
import { FORMATS, formatOf, normaliseOps, type Format, type Ops } from './images.ops.js';
import { ImagesFailed } from './images.errors.js';

// libvips keeps recent operations and their results (up to 50 MB and 100 of them) in case the
// same one is asked for again. Agora never asks twice: a repeated derivation is served from its
// own cache of encoded results. That memory would only be held, never used.
sharp.cache(false);

export interface Limits {
  maxPixels: number;
  maxFrames: number;
  maxDimension: number;
  timeoutSeconds: number;
}

export interface Probe {
  format: Format;
  width: number;
  height: number;
  frames: number;
}

/** The image behind `bytes`, checked against the limits (415 not an image, 422 too big). */
export async function probe(bytes: Buffer, limits: Limits): Promise<Probe> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImagesFailed({
      kind: 'unsupported',
      message: 'the body is not an image of a supported format',
    });
  }
  let format: Format | null = null;
  if (meta.format === 'heif') format = meta.compression === 'av1' ? 'avif' : null;
  else if (meta.format !== 'svg') format = formatOf(meta.format);
  if (format === null || !meta.width || !meta.height) {
    throw new ImagesFailed({
      kind: 'unsupported',
      message: `unsupported image format ${meta.format}; accepted: ${FORMATS.join(', ')}`,
    });
  }
  const frames = meta.pages ?? 1;
  // For an animated image `height` is one frame's height: the pixel budget is per frame.
  const frameHeight = meta.pageHeight ?? meta.height;
  if (meta.width * frameHeight > limits.maxPixels) {
    throw new ImagesFailed({
      kind: 'tooManyPixels',
      message: `the image is ${meta.width}×${frameHeight} pixels, more than the ${limits.maxPixels} allowed`,
    });
  }
  if (frames > limits.maxFrames) {
    throw new ImagesFailed({
      kind: 'tooManyFrames',
      message: `the image has ${frames} frames, more than the ${limits.maxFrames} allowed`,
    });
  }
  // EXIF orientations 5–8 swap the sides: report what a viewer shows.
  const swapped = (meta.orientation ?? 1) >= 5;
  return {
    format,
    width: swapped ? frameHeight : meta.width,
    height: swapped ? meta.width : frameHeight,
    frames,
  };
}

export const derivedKey = (sha256: string, ops: Ops): string =>
  createHash('sha256')
    .update(`${sha256}|${normaliseOps(ops)}`)
    .digest('hex');

/** The output format: the asked one, else the source's (PNG for a masked JPEG: it needs alpha). */
export function outputFormat(source: Format, ops: Ops): Format {
  if (ops.format) return ops.format;
  if (ops.mask && source === 'jpeg') return 'png';
  return source;
}

function maskSvg(width: number, height: number, mask: 'circle' | 'rounded'): Buffer {
  const shape =
    mask === 'circle'
      ? `<ellipse cx="${width / 2}" cy="${height / 2}" rx="${width / 2}" ry="${height / 2}"/>`
      : `<rect width="${width}" height="${height}" rx="${Math.round(Math.min(width, height) / 8)}"/>`;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shape}</svg>`,
  );
}

function encode(image: Sharp, format: Format, quality: number | undefined): Sharp {
  const q = quality === undefined ? {} : { quality };
  switch (format) {
    case 'jpeg':
      // JPEG has no alpha: transparent parts become white, not black.
      return image.flatten({ background: '#ffffff' }).jpeg({ ...q, mozjpeg: false });
    case 'png':
      return image.png(quality === undefined ? {} : { quality, palette: quality < 100 });
    case 'webp':
      return image.webp(q);
    case 'avif':
      return image.avif({ ...q, effort: 2 });
    case 'gif':
      return image.gif();
    case 'tiff':
      return image.tiff(q);
  }
}

export interface Rendered {
  data: Buffer;
  format: Format;
  width: number;
  height: number;
}

/**
 * Renders `ops` on `bytes`. Order: EXIF orientation, resize (w/h/fit, thumbnail), rotate, flip,
 * flop, grayscale, blur, sharpen, mask, encode (format, quality). Metadata (EXIF, GPS, …) is not
 * copied to the result. Animated images are processed as their first frame.
 */
export async function render(
  bytes: Buffer,
  source: Format,
  ops: Ops,
  limits: Limits,
): Promise<Rendered> {
  try {
    return await pipeline(bytes, source, ops, limits);
  } catch (err) {
    // libvips stops a pipeline that runs past its time; every stage has the same limit.
    if (/timeout/i.test((err as Error).message)) {
      throw new ImagesFailed({
        kind: 'processingTimeout',
        message: 'the image took too long to process',
        retryAfterS: 5,
      });
    }
    throw err;
  }
}

async function pipeline(
  bytes: Buffer,
  source: Format,
  ops: Ops,
  limits: Limits,
): Promise<Rendered> {
  const format = outputFormat(source, ops);
  let image = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error' })
    .timeout({ seconds: limits.timeoutSeconds })
    .rotate(); // EXIF orientation
  if (ops.w !== undefined || ops.h !== undefined) {
    image = image.resize({
      ...(ops.w === undefined ? {} : { width: ops.w }),
      ...(ops.h === undefined ? {} : { height: ops.h }),
      // One side alone keeps the aspect ratio; both without a fit fit inside the box.
      fit: ops.fit ?? 'inside',
    });
  }
  if (ops.rotate !== undefined) {
    // A second pipeline stage: sharp applies one rotate per pipeline.
    const { data } = await image.png({ compressionLevel: 0 }).toBuffer({ resolveWithObject: true });
    image = sharp(data)
      .timeout({ seconds: limits.timeoutSeconds })
      .rotate(ops.rotate, { background: { r: 0, g: 0, b: 0, alpha: 0 } });
  }
  if (ops.flip) image = image.flip();
  if (ops.flop) image = image.flop();
  if (ops.grayscale) image = image.grayscale();
  if (ops.blur !== undefined) image = image.blur(ops.blur);
  if (ops.sharpen) image = image.sharpen();
  if (ops.mask) {
    const { data, info } = await image
      .ensureAlpha()
      .png({ compressionLevel: 0 })
      .toBuffer({ resolveWithObject: true });
    image = sharp(data)
      .timeout({ seconds: limits.timeoutSeconds })
      .composite([{ input: maskSvg(info.width, info.height, ops.mask), blend: 'dest-in' }]);
  }
  const { data, info } = await encode(image, format, ops.quality).toBuffer({
    resolveWithObject: true,
  });
  return { data, format, width: info.width, height: info.height };
}

/**
 * At most `concurrency` renders at once, at most `queue` waiting; past that, 503 with
 * Retry-After. libvips already spreads one render over its threads, so this bounds CPU and
 * memory rather than parallelism.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        throw new ImagesFailed({
          kind: 'busy',
          message: 'too many images are being processed; try again shortly',
          retryAfterS: 1,
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.active--;
    }
  }
}
