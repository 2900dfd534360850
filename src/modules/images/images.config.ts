import { Type, type Static } from 'typebox';

/** The images module's settings (`images:` in agora.yaml). */
export const ImagesConfig = Type.Object(
  {
    /**
     * The original's profile (progimage): the upload's `full_name` is `<id>____<name>`, and
     * `GET /fs/<full_name>` serves the stored file.
     */
    compat: Type.Boolean({
      description:
        "the original client's profile: full_name as <id>____<name> in upload answers, GET /fs/<full_name>",
      default: false,
    }),
    /** Largest upload (raw, multipart file or remote import), in bytes (413 past it). */
    max_bytes: Type.Integer({
      description: 'largest upload or remote import in bytes (413 past it)',
      minimum: 1024,
      maximum: 1024 * 1024 * 1024,
      default: 25 * 1024 * 1024,
    }),
    /** Largest image, in pixels (width × height), read from the header before decoding (422). */
    max_pixels: Type.Integer({
      description: 'largest image in pixels, checked before decoding (422 past it)',
      minimum: 1,
      maximum: 1_000_000_000,
      default: 50_000_000,
    }),
    /** Most frames of an animated image (422 past it). */
    max_frames: Type.Integer({
      description: 'most frames of an animated image (422 past it)',
      minimum: 1,
      maximum: 10_000,
      default: 100,
    }),
    /** Most files in one multipart upload. */
    max_files: Type.Integer({
      description: 'most files in one multipart upload',
      minimum: 1,
      maximum: 1000,
      default: 50,
    }),
    /** Largest width or height a transformation may ask for. */
    max_dimension: Type.Integer({
      description: 'largest width or height a transformation may ask for',
      minimum: 16,
      maximum: 100_000,
      default: 8192,
    }),
    /** Images processed at once; 0: the number of CPU cores. */
    concurrency: Type.Integer({
      description: 'images processed at once; 0: the number of CPU cores',
      minimum: 0,
      maximum: 256,
      default: 0,
    }),
    /** Processing requests that may wait for a slot; past it, 503 with Retry-After. */
    queue: Type.Integer({
      description: 'processing requests that may wait; past it 503 with Retry-After',
      minimum: 0,
      maximum: 100_000,
      default: 64,
    }),
    /** One image's processing is abandoned after this (503). */
    process_timeout_s: Type.Integer({
      description: 'one image processing is abandoned after this (503)',
      minimum: 1,
      maximum: 3600,
      default: 30,
    }),
    /** Remote imports (`{"url": …}`) must finish within this. */
    remote_timeout_ms: Type.Integer({
      description: 'a remote import must finish within this',
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
    }),
    /**
     * Allow remote imports from loopback, private, link-local and metadata addresses. Off: such
     * URLs are refused (SSRF protection); turn on only for trusted, internal use.
     */
    remote_allow_private: Type.Boolean({
      description:
        'allow remote imports from loopback/private/link-local addresses (off: SSRF guard)',
      default: false,
    }),
    /** Memory for hot derived images (thumbnails…) served without disk or database; 0: off. */
    memory_cache_mb: Type.Integer({
      description: 'memory for hot derived images served without disk or database; 0: off',
      minimum: 0,
      maximum: 65_536,
      default: 64,
    }),
    /** When set, transformation URLs must carry `sig`, an HMAC-SHA256 of the path and query. */
    signing_key: Type.String({
      secret: 'value',
      description: 'when set, transformation URLs need an HMAC signature `sig`',
      default: '',
    }),
  },
  { additionalProperties: false, default: {} },
);
export type ImagesConfig = Static<typeof ImagesConfig>;
