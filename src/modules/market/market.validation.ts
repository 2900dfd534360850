/**
 * Hand-written validation with the original contract's exact messages, checked in its order.
 * Bodies arrive as whatever JSON (or non-JSON) the client sent: see `NOT_JSON`.
 */
import { isRecord } from '../../core/validation.js';
import { MAX_AMOUNT, MAX_DESCRIPTION, MAX_PRICE, type ProductInput } from './market.schemas.js';

/** What the market's body parser yields for a body that is not JSON at all. */
export const NOT_JSON = Symbol('not JSON');

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

function has(body: Readonly<Record<string, unknown>>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, key) && body[key] !== undefined;
}

function checkAmount(body: unknown): Checked<number> {
  if (!isRecord(body) || Object.keys(body).length === 0) return fail('insufficient arguments');
  if (!has(body, 'amount')) return fail('lack of `amount` argument');
  const amount = body.amount;
  // Booleans are not integers here (they were in the original's Python).
  if (typeof amount !== 'number' || !Number.isInteger(amount))
    return fail('`amount` value should be an integer');
  if (amount <= 0) return fail('`amount` value should be a positive integer');
  if (amount > MAX_AMOUNT) return fail(`\`amount\` value should be at most ${MAX_AMOUNT}`);
  return { ok: true, value: amount };
}

export interface BuyInput {
  amount: number;
  creditCard: string;
  expectedPrice?: number;
}

/**
 * `numericCard` (the original's profile): a card sent as a JSON number is taken as its digits,
 * when they are exactly 16 and the number is exact (the original took `str(card)` of anything).
 */
export function checkBuy(body: unknown, numericCard = false): Checked<BuyInput> {
  const amount = checkAmount(body);
  if (!amount.ok) return amount;
  // checkAmount has made sure of it; this tells the type.
  if (!isRecord(body)) return fail('insufficient arguments');
  if (!has(body, 'credit_card')) return fail('lack of `credit_card` argument');
  const given = body.credit_card;
  const card =
    numericCard && typeof given === 'number' && Number.isSafeInteger(given) && given > 0
      ? String(given)
      : given;
  // ASCII digits only: /\d/ would not match other scripts' digits in JS, but say it plainly.
  if (typeof card !== 'string' || !/^[0-9]{16}$/.test(card))
    return fail('`credit_card` value should be 16 length of digits');
  if (!has(body, 'expected_price'))
    return { ok: true, value: { amount: amount.value, creditCard: card } };
  const expected = body.expected_price;
  if (
    typeof expected !== 'number' ||
    !Number.isInteger(expected) ||
    expected < 0 ||
    expected > MAX_PRICE
  )
    return fail(`\`expected_price\` value should be an integer from 0 to ${MAX_PRICE}`);
  return { ok: true, value: { amount: amount.value, creditCard: card, expectedPrice: expected } };
}

export function checkReplenish(body: unknown): Checked<number> {
  return checkAmount(body);
}

export function checkProduct(body: unknown): Checked<ProductInput> {
  if (!isRecord(body)) return fail('invalid arguments');
  if (!has(body, 'description') || !has(body, 'price')) return fail('insufficient arguments');
  const { description, price } = body;
  if (typeof price !== 'number' || !Number.isInteger(price))
    return fail('argument price is not a valid int');
  if (price < 0) return fail('argument price should be a non-negative integer');
  if (price > MAX_PRICE) return fail(`argument price should be at most ${MAX_PRICE}`);
  if (
    typeof description !== 'string' ||
    description.trim().length === 0 ||
    description.length > MAX_DESCRIPTION
  ) {
    return fail(
      `argument description should be a non-empty string of at most ${MAX_DESCRIPTION} characters`,
    );
  }
  return { ok: true, value: { description, price } };
}

/** Product ids in paths: positive integers that fit the column. */
export function parseId(raw: string): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) return null;
  const id = Number(raw);
  return id <= 2_147_483_647 ? id : null;
}

/** How an id that is not one is echoed back in a message: bounded, printable. */
export function showId(raw: string): string {
  const printable = raw.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

/** `Idempotency-Key`: 1–255 printable ASCII characters. */
export function checkIdempotencyKey(
  raw: string | string[] | undefined,
): Checked<string | undefined> {
  if (raw === undefined) return { ok: true, value: undefined };
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(raw)) {
    return fail('`Idempotency-Key` should be 1 to 255 printable ASCII characters');
  }
  return { ok: true, value: raw };
}
