/**
 * Exact sums (the streaming JSON-array parser that feeds them is numbers.parse.ts).
 *
 * Integers are summed exactly whatever their size: small ones (up to 15 digits) in a double that
 * is moved into a BigInt before it could lose a unit, long ones straight from their digits into
 * the BigInt, and those written with a fraction or an exponent (`1e23`, `2.50e1`) from their
 * digits too. A list with any number that is not whole is summed with Neumaier's compensated
 * summation (the integers' exact total is added at the end), so the answer is the closest double
 * to the true sum in all but pathological cases.
 */

/** Past this the small accumulator is moved into the BigInt (2^52: adding < 2^50 stays exact). */
const FLUSH = 2 ** 52;

export class ExactSum {
  /** Integers, exactly: `big + small`. */
  private big = 0n;
  private small = 0;
  /** Non-integers: Neumaier's running sum and its compensation. */
  private float = 0;
  private compensation = 0;
  private fractional = false;
  /** How many numbers were added. */
  count = 0;

  /** Adds a safe integer (|n| < 2^50 keeps the fast path exact; larger ones are flushed). */
  addInteger(n: number): void {
    this.count++;
    if (n >= FLUSH || n <= -FLUSH) {
      this.big += BigInt(n);
      return;
    }
    const s = this.small + n;
    if (s >= FLUSH || s <= -FLUSH) {
      this.big += BigInt(s);
      this.small = 0;
    } else {
      this.small = s;
    }
  }

  /** Adds an integer given by its decimal text (any length). */
  addIntegerText(text: string): void {
    this.count++;
    this.big += BigInt(text);
  }

  /** Adds an integer already made exact. */
  addBigInt(n: bigint): void {
    this.count++;
    this.big += n;
  }

  /** Adds any finite double; integers stay on the exact path. */
  addNumber(n: number): void {
    if (Number.isInteger(n)) {
      if (Number.isSafeInteger(n)) this.addInteger(n);
      else {
        this.count++;
        this.big += BigInt(n);
      }
      return;
    }
    this.count++;
    this.fractional = true;
    const t = this.float + n;
    this.compensation +=
      Math.abs(this.float) >= Math.abs(n) ? this.float - t + n : n - t + this.float;
    this.float = t;
  }

  /**
   * Adds every element of a batch of 32-bit integers (the simulated source hands numbers over
   * this way): at most 2^16 of them sum to less than 2^47, exactly, in a plain double.
   */
  addInt32Batch(batch: Int32Array, length = batch.length): void {
    let offset = 0;
    while (offset < length) {
      const end = Math.min(length, offset + 65536);
      let s = 0;
      for (let i = offset; i < end; i++) s += batch[i] ?? 0;
      this.addInteger(s);
      this.count += end - offset - 1;
      offset = end;
    }
  }

  /** Adds every element of a batch of doubles. */
  addBatch(batch: Float64Array, length = batch.length): void {
    let small = this.small;
    for (let i = 0; i < length; i++) {
      const n = batch[i] ?? 0;
      // The common case, inlined: a modest integer.
      if (n < 2 ** 50 && n > -(2 ** 50) && Number.isInteger(n)) {
        small += n;
        if (small >= FLUSH || small <= -FLUSH) {
          this.big += BigInt(small);
          small = 0;
        }
        this.count++;
      } else {
        this.small = small;
        this.addNumber(n);
        small = this.small;
      }
    }
    this.small = small;
  }

  /** True when a fraction (or an exponent) was seen: the total is then a double. */
  get isFractional(): boolean {
    return this.fractional;
  }

  /** The exact integer total (fractions ignored). */
  integerTotal(): bigint {
    return this.big + BigInt(this.small);
  }

  /**
   * The total as JSON text: an exact integer, or the compensated double when fractions were seen.
   * Throws a RangeError when a fractional total does not fit in a double.
   */
  toJSON(): string {
    const integers = this.integerTotal();
    if (!this.fractional) return integers.toString();
    const whole = Number(integers);
    // The exact integers join the compensated sum as one more term.
    const t = this.float + whole;
    const c =
      this.compensation +
      (Math.abs(this.float) >= Math.abs(whole) ? this.float - t + whole : whole - t + this.float);
    const total = t + c;
    if (!Number.isFinite(total)) throw new RangeError('the total does not fit in a double');
    return JSON.stringify(total);
  }
}

/**
 * Longest integer (in digits) that a number written with a fraction or an exponent may stand
 * for and still be summed exactly: past the double range (309 digits) with room to spare, and
 * short enough that `[1e999999999]` cannot make the server build a billion-digit BigInt.
 */
const MAX_EXACT_DIGITS = 400;

/**
 * The exact integer a JSON number written with a fraction or an exponent stands for (`1e23`,
 * `9007199254740993e0`, `1.5e1`, `150e-1`); null when it has a fractional part; `'too-large'`
 * past MAX_EXACT_DIGITS digits.
 */
export function integerOfDecimal(text: string): bigint | null | 'too-large' {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return null;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  // value = digits × 10^shift; exponents too long to be read are out of any range anyway.
  if (exp.replace(/^[+-]?0*/, '').length > 9) {
    return exp.startsWith('-') ? null : 'too-large';
  }
  let digits = (int + frac).replace(/^0+(?=\d)/, '');
  let shift = Number(exp) - frac.length;
  if (/^0+$/.test(digits)) return 0n;
  // Trailing zeros absorb a negative shift: 150e-1 is 15.
  while (shift < 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    shift++;
  }
  if (shift < 0) return null;
  if (digits.length + shift > MAX_EXACT_DIGITS) return 'too-large';
  const magnitude = BigInt(digits) * 10n ** BigInt(shift);
  return sign === '-' ? -magnitude : magnitude;
}
