/** Every error the numbers module answers with: the union of its codes, and a constructor for each. */
import { AppError } from '../../core/errors.js';

export type NumbersErrorCode =
  | 'NUMBERS_TOTAL_OUT_OF_RANGE'
  | 'NUMBERS_UPSTREAM_FAILED'
  | 'NUMBERS_BODY_TOO_LARGE'
  | 'NUMBERS_BAD_ARRAY'
  | 'NUMBERS_FAN_OUT_BUSY';

export type NumbersError = AppError<NumbersErrorCode>;

export const NumbersErrors = {
  totalOutOfRange: (): NumbersError =>
    new AppError('NUMBERS_TOTAL_OUT_OF_RANGE', 422, 'the total does not fit in a double'),
  upstreamFailed: (why: string): NumbersError => new AppError('NUMBERS_UPSTREAM_FAILED', 502, why),
  /** The rest of the body is not read: the connection is closed rather than drained. */
  bodyTooLarge: (limit: number): NumbersError =>
    new AppError(
      'NUMBERS_BODY_TOO_LARGE',
      413,
      `the body is larger than ${limit} bytes`,
      { limit },
      { connection: 'close' },
    ),
  fanOutBusy: (max: number): NumbersError =>
    new AppError(
      'NUMBERS_FAN_OUT_BUSY',
      503,
      `${String(max)} fan-outs are running on this node already: try again in a moment`,
      undefined,
      { 'retry-after': '1' },
    ),
  badArray: (why: string, offset: number, element: number): NumbersError =>
    new AppError(
      'NUMBERS_BAD_ARRAY',
      400,
      `the body is not a JSON array of numbers: ${why}`,
      { offset, element },
      { connection: 'close' },
    ),
};
