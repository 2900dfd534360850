/**
 * Every error the images module answers with: the union of its codes, and a named constructor
 * for each that fixes its code and status. The message, which names what was wrong with this
 * request (the format, the limit, the parameter), is the caller's.
 */
import { AppError } from '../../core/errors.js';

const CODES = {
  unsupported: ['IMAGE_UNSUPPORTED', 415],
  tooManyPixels: ['IMAGE_TOO_MANY_PIXELS', 422],
  tooManyFrames: ['IMAGE_TOO_MANY_FRAMES', 422],
  processingTimeout: ['IMAGE_PROCESSING_TIMEOUT', 503],
  busy: ['IMAGES_BUSY', 503],
  badFormat: ['IMAGE_BAD_FORMAT', 400],
  badSignature: ['IMAGE_BAD_SIGNATURE', 403],
  rangeNotSatisfiable: ['RANGE_NOT_SATISFIABLE', 416],
  badMultipart: ['IMAGE_BAD_MULTIPART', 400],
  badParameter: ['IMAGE_BAD_PARAMETER', 400],
  remoteRefused: ['IMAGE_REMOTE_REFUSED', 400],
  badUrl: ['IMAGE_BAD_URL', 400],
  remoteFailed: ['IMAGE_REMOTE_FAILED', 502],
  remoteTimeout: ['IMAGE_REMOTE_TIMEOUT', 504],
  tooLarge: ['IMAGE_TOO_LARGE', 413],
  noBody: ['IMAGE_NO_BODY', 400],
  empty: ['IMAGE_EMPTY', 400],
  badAlbum: ['IMAGE_BAD_ALBUM', 400],
  notFound: ['IMAGE_NOT_FOUND', 404],
  badCursor: ['IMAGE_BAD_CURSOR', 400],
  blobMissing: ['IMAGE_BLOB_MISSING', 500],
} as const;

type Kind = keyof typeof CODES;
export type ImagesErrorCode = (typeof CODES)[Kind][0];
export type ImagesError = AppError<ImagesErrorCode>;

type Constructor = (
  message: string,
  details?: unknown,
  headers?: Record<string, string>,
) => ImagesError;

export const ImagesErrors = Object.fromEntries(
  Object.entries(CODES).map(([kind, [code, status]]) => [
    kind,
    (message: string, details?: unknown, headers?: Record<string, string>): ImagesError =>
      new AppError(code, status, message, details, headers),
  ]),
) as Record<Kind, Constructor>;

/** An expected failure of the service or of the processing it runs: what, and no HTTP in it. */
export interface ImagesFailure {
  kind: Kind;
  message: string;
  /** When trying again makes sense (busy, too slow). */
  retryAfterS?: number;
}

/** What the service answers: the value, or the expected failure the routes turn into a status. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ImagesFailure };

/**
 * How the processing code (probe, limiter, renderer) reports an expected failure up to the
 * service, which returns it as an outcome: never seen by the routes.
 */
export class ImagesFailed extends Error {
  override name = 'ImagesFailed';
  constructor(readonly failure: ImagesFailure) {
    super(failure.message);
  }
}

/** The HTTP error of a failure: its code and status from the table above. */
export function errorOf(failure: ImagesFailure): ImagesError {
  return ImagesErrors[failure.kind](
    failure.message,
    undefined,
    failure.retryAfterS === undefined ? undefined : { 'retry-after': String(failure.retryAfterS) },
  );
}

/** The value of an outcome, or its failure thrown as the HTTP error (for routes). */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw errorOf(outcome.failure);
}
