/**
 * The images module's wire shapes, the single source of each: TypeBox schemas for the routes,
 * and their static types for the service, the client library (src/client) and the web page.
 */
import { Type, type Static } from 'typebox';
import { FORMATS, type Format } from './images.ops.js';

/** An output format: `jpeg`, `png`, `webp`, `avif`, `gif` or `tiff`. */
export const FormatSchema = Type.Unsafe<Format>(Type.String({ enum: [...FORMATS] }));

export const ImageMeta = Type.Object(
  {
    id: Type.String(),
    sha256: Type.String(),
    format: FormatSchema,
    content_type: Type.String(),
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer(),
    filename: Type.Union([Type.String(), Type.Null()]),
    album: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String(),
    url: Type.String(),
    previews: Type.Object(
      { '320': Type.String(), '640': Type.String() },
      {
        description:
          'URLs of square WebP previews of the image, by size in pixels (what a gallery shows), ' +
          'signed when `images.signing_key` is set: a page can show them without the key',
      },
    ),
  },
  { description: 'A stored image' },
);
/** A stored image as the API shows it. */
export type ImageMeta = Static<typeof ImageMeta>;

export const Binary = Type.Unsafe<Buffer>(
  Type.String({ description: 'the image bytes', format: 'binary' }),
);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** A page of `GET /images`, newest first. */
export const ImageList = Type.Object({
  items: Type.Array(ImageMeta),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type ImageList = Static<typeof ImageList>;

/** One id of a batch: where its derived image is, or why there is none. */
export const BatchResult = Type.Union([
  Type.Object({
    id: Type.String(),
    ok: Type.Literal(true),
    url: Type.String(),
    format: FormatSchema,
    width: Type.Integer(),
    height: Type.Integer(),
    bytes: Type.Integer(),
  }),
  Type.Object({
    id: Type.String(),
    ok: Type.Literal(false),
    error: Type.Object({ code: Type.String(), message: Type.String() }),
  }),
]);
export type BatchResult = Static<typeof BatchResult>;

export const BatchAnswer = Type.Object({ results: Type.Array(BatchResult) });
