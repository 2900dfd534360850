import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { render } from '../../src/modules/images/images.process.js';
import { errorOf, ImagesFailed } from '../../src/modules/images/images.errors.js';

describe('image processing time limit', () => {
  it('stops a pipeline that runs past it with a 503 and Retry-After', async () => {
    // Noise does not compress: a large PNG of it, turned and blurred hard, takes libvips many
    // seconds; the blur runs in the stage after the turn, which must have the limit too.
    const side = 4000;
    const noise = Buffer.alloc(side * side * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2_654_435_761) >>> 24;
    const png = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 1 })
      .toBuffer();
    const limits = { maxPixels: 50_000_000, maxFrames: 1, maxDimension: 10_000, timeoutSeconds: 1 };
    const err: unknown = await render(png, 'png', { blur: 100, rotate: 45 }, limits).catch(
      (e: unknown) => e,
    );
    // The renderer says why (too slow); the routes answer it 503 with Retry-After.
    if (!(err instanceof ImagesFailed)) throw new Error(`not stopped: ${String(err)}`);
    const answer = errorOf(err.failure);
    expect(answer).toBeInstanceOf(AppError);
    expect(answer).toMatchObject({
      code: 'IMAGE_PROCESSING_TIMEOUT',
      status: 503,
      headers: { 'retry-after': '5' },
    });
  }, 60_000);
});
