/**
 * Every error the market answers with: the union of its codes, and a constructor for each. The
 * messages are the original service's, which its clients compare.
 */
import { AppError } from '../../core/errors.js';

export type MarketErrorCode =
  | 'MARKET_BAD_REQUEST'
  | 'PRODUCT_NOT_FOUND'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_KEY_IN_PROGRESS'
  | 'PRICE_CHANGED';

export type MarketError = AppError<MarketErrorCode>;

export const MarketErrors = {
  badRequest: (message: string): MarketError => new AppError('MARKET_BAD_REQUEST', 400, message),
  /** On the market's own routes (query, buy, replenish), in the original's words. */
  productNotFound: (shownId: string): MarketError =>
    new AppError('PRODUCT_NOT_FOUND', 404, `not found product with id=${shownId}`),
  /** On the product CRUD routes, whose original worded it the other way round. */
  productNotFoundCrud: (shownId: string): MarketError =>
    new AppError('PRODUCT_NOT_FOUND', 404, `product not found with id=${shownId}`),
  keyReused: (): MarketError =>
    new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      422,
      'this Idempotency-Key was used with a different request',
    ),
  /** A buy made at `expected_price` while the product costs `price` now: nothing was bought. */
  priceChanged: (expected: number, price: number): MarketError =>
    new AppError(
      'PRICE_CHANGED',
      409,
      `the price changed: it is ${price} now, not ${expected}; nothing was bought`,
      { price },
    ),
  keyInProgress: (): MarketError =>
    new AppError(
      'IDEMPOTENCY_KEY_IN_PROGRESS',
      409,
      'a request with this Idempotency-Key is in progress',
      undefined,
      { 'retry-after': '1' },
    ),
};
