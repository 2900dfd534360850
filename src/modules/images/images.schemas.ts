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
  },
  { description: 'A stored image' },
);
/** A stored image as the API shows it. */
export type ImageMeta = Static<typeof ImageMeta>;

export const Binary = Type.Unsafe<Buffer>(
  Type.String({ description: 'the image bytes', format: 'binary' }),
);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
