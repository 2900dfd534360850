/** Every error the queue answers with: the union of its codes, and a constructor for each. */
import { AppError } from '../../core/errors.js';

export type QueueErrorCode =
  | 'QUEUE_BANNED'
  | 'QUEUE_FULL'
  | 'QUEUE_TOKEN_NOT_FOUND'
  | 'QUEUE_NOT_YOUR_TURN'
  | 'QUEUE_EMPTY'
  | 'QUEUE_CHEATER'
  | 'QUEUE_NOT_OWNER'
  | 'QUEUE_TOKEN_ENDED'
  | 'QUEUE_BAD_FORM'
  | 'QUEUE_NO_PICTURE'
  | 'QUEUE_BAN_NOT_FOUND';

export type QueueError = AppError<QueueErrorCode>;

export const QueueErrors = {
  banned: (until: number): QueueError => {
    const at = new Date(until).toISOString();
    return new AppError('QUEUE_BANNED', 403, `this client is banned until ${at}`, { until: at });
  },
  full: (retryAfterS: number): QueueError =>
    new AppError('QUEUE_FULL', 503, 'all 2600 codes are in the line; try again later', undefined, {
      'retry-after': String(retryAfterS),
    }),
  tokenNotFound: (token: string): QueueError =>
    new AppError('QUEUE_TOKEN_NOT_FOUND', 404, `no token ${token}`),
  notYourTurn: (position: number, retryAfterS: number): QueueError =>
    new AppError(
      'QUEUE_NOT_YOUR_TURN',
      425,
      `not your turn yet: you are number ${position} in the line`,
      { position },
      { 'retry-after': String(retryAfterS) },
    ),
  empty: (): QueueError =>
    new AppError('QUEUE_EMPTY', 409, 'the line is empty: take a token first'),
  cheater: (reason: string): QueueError =>
    new AppError('QUEUE_CHEATER', 403, `${reason}: this client is now banned`),
  notOwner: (reason: string): QueueError =>
    new AppError('QUEUE_NOT_OWNER', 403, `${reason}: only the token's owner can do this`),
  tokenEnded: (token: string): QueueError =>
    new AppError(
      'QUEUE_TOKEN_ENDED',
      410,
      `your token ${token} has ended (used, expired or left): take a new one`,
    ),
  badForm: (): QueueError =>
    new AppError('QUEUE_BAD_FORM', 400, 'the form must have a token-field with a token code'),
  noPicture: (): QueueError =>
    new AppError(
      'QUEUE_NO_PICTURE',
      503,
      'no picture can be served right now; your turn is kept',
      undefined,
      { 'retry-after': '5' },
    ),
  banNotFound: (ip: string): QueueError =>
    new AppError('QUEUE_BAN_NOT_FOUND', 404, `no ban for ${ip}`),
};
