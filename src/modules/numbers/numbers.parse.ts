/**
 * A streaming JSON-array parser that sums as it reads. It takes the text in chunks as it arrives
 * and never holds more than one number's digits, so a list of any length costs constant memory;
 * each chunk is one short synchronous step, which keeps the event loop free between chunks.
 */
import { ExactSum, integerOfDecimal } from './numbers.sum.js';

/** Why a text is not a JSON array of numbers, and where (byte offset from 0, element from 0). */
export class ArrayParseError extends Error {
  override name = 'ArrayParseError';
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly element: number,
  ) {
    super(`${reason} at byte ${offset} (element ${element})`);
  }
}

const enum State {
  /** Whitespace, then `[`. */
  Start,
  /** After `[`: whitespace, a value or `]`. */
  First,
  /** After `,`: whitespace, then a value. */
  Next,
  /** After a value: whitespace, `,` or `]`. */
  After,
  /** Inside a number. */
  Number,
  /** After `]`: whitespace only. */
  Done,
}

/** Where inside a number the parser is (JSON's number grammar). */
const enum Part {
  Sign, // after `-`
  Zero, // the integer part is `0`
  Int, // in the integer digits
  Dot, // after `.`
  Frac, // in the fraction digits
  Exp, // after `e`
  ExpSign, // after `e+` / `e-`
  ExpDigits, // in the exponent digits
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Digits a double holds exactly however they are summed (10^15 < 2^50). */
const FAST_DIGITS = 15;

function describe(byte: number): string {
  if (byte >= 0x21 && byte <= 0x7e) return `'${String.fromCharCode(byte)}'`;
  return `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * Sums a JSON array of numbers fed as byte chunks: `write(chunk)` for each chunk, then `end()`.
 * Both throw an `ArrayParseError` at the first problem.
 */
export class ArraySummer {
  readonly sum = new ExactSum();
  private state = State.Start;
  private part = Part.Sign;
  /** The current number: its value while short, its text once long or fractional. */
  private negative = false;
  private value = 0;
  private digits = 0;
  private text: string | null = null;
  private offset = 0;
  private element = 0;
  private numberStart = 0;

  /** Bytes consumed so far. */
  get bytes(): number {
    return this.offset;
  }

  write(chunk: Uint8Array): void {
    let state = this.state;
    let i = 0;
    const n = chunk.length;
    try {
      while (i < n) {
        let c = chunk[i] ?? 0;
        if (state === State.Number) {
          // The hot loop: digits of a short integer.
          if (this.part === Part.Int && this.text === null) {
            let value = this.value;
            let digits = this.digits;
            let d = c;
            while (d >= ZERO && d <= NINE && digits < FAST_DIGITS) {
              value = value * 10 + (d - ZERO);
              digits++;
              if (++i === n) break;
              d = chunk[i] ?? 0;
            }
            this.value = value;
            this.digits = digits;
            if (i === n) break;
            c = d;
            if (d >= ZERO && d <= NINE) {
              // A 16th digit: continue on the text path.
              this.text = (this.negative ? '-' : '') + String(value);
              continue;
            }
            if (c === COMMA) {
              // `123,` — the usual case: take the number and go on to the next one.
              this.sum.addInteger(this.negative ? -value : value);
              this.element++;
              if (++i < n) {
                d = chunk[i] ?? 0;
                if (d > ZERO && d <= NINE) {
                  this.numberStart = this.offset + i;
                  this.negative = false;
                  this.value = d - ZERO;
                  this.digits = 1;
                  i++;
                  continue;
                }
              }
              state = State.Next;
              continue;
            }
          }
          if (this.numberByte(c, i)) {
            i++;
            continue;
          }
          // The byte ends the number; it is handled below as a separator.
          this.finishNumber(i);
          state = State.After;
        }
        if (c === SPACE || c === LF || c === CR || c === TAB) {
          i++;
          continue;
        }
        switch (state) {
          case State.Start:
            if (c !== OPEN) throw this.fail(`expected '[' but found ${describe(c)}`, i);
            state = State.First;
            break;
          case State.First:
            if (c === CLOSE) state = State.Done;
            else {
              this.startValue(c, i);
              state = State.Number;
            }
            break;
          case State.Next:
            this.startValue(c, i);
            state = State.Number;
            break;
          case State.After:
            if (c === COMMA) {
              this.element++;
              state = State.Next;
            } else if (c === CLOSE) {
              state = State.Done;
            } else {
              throw this.fail(`expected ',' or ']' but found ${describe(c)}`, i);
            }
            break;
          case State.Done:
            throw this.fail(`unexpected ${describe(c)} after the end of the array`, i);
        }
        i++;
      }
    } finally {
      this.state = state;
      this.offset += i;
    }
  }

  /** The input is complete: checks that the array was closed and returns the sum. */
  end(): ExactSum {
    if (this.state === State.Number) {
      this.finishNumber(0);
      this.state = State.After;
    }
    if (this.state === State.Start) throw this.fail('empty input: expected a JSON array', 0);
    if (this.state !== State.Done) throw this.fail('the array is not closed (truncated input)', 0);
    return this.sum;
  }

  private fail(reason: string, at: number): ArrayParseError {
    return new ArrayParseError(reason, this.offset + at, this.element);
  }

  private startValue(c: number, at: number): void {
    if (c === MINUS || (c >= ZERO && c <= NINE)) this.startNumber(c, at);
    else if (c === CLOSE) throw this.fail("expected a number after ',' but found ']'", at);
    else throw this.fail(`expected a number but found ${describe(c)}`, at);
  }

  private startNumber(c: number, at: number): void {
    this.numberStart = this.offset + at;
    this.negative = c === MINUS;
    this.value = 0;
    this.digits = 0;
    this.text = null;
    if (c === MINUS) this.part = Part.Sign;
    else if (c === ZERO) this.part = Part.Zero;
    else {
      this.part = Part.Int;
      this.value = c - ZERO;
      this.digits = 1;
    }
  }

  /** Consumes one byte of a number (short integers take the fast path before this); false: it ends the number. */
  private numberByte(c: number, at: number): boolean {
    const digit = c >= ZERO && c <= NINE;
    switch (this.part) {
      case Part.Sign:
        if (!digit) throw this.fail(`expected a digit after '-' but found ${describe(c)}`, at);
        if (c === ZERO) this.part = Part.Zero;
        else {
          this.part = Part.Int;
          this.value = c - ZERO;
          this.digits = 1;
        }
        return true;
      case Part.Zero:
        if (digit) throw this.fail('leading zeros are not allowed in JSON numbers', at);
        break;
      case Part.Int:
        if (digit) {
          // Only reached on the text path (16 digits or more).
          this.text = `${this.text ?? ''}${String.fromCharCode(c)}`;
          return true;
        }
        break;
      case Part.Dot:
        if (!digit) throw this.fail(`expected a digit after '.' but found ${describe(c)}`, at);
        this.part = Part.Frac;
        this.text = `${this.text ?? ''}${String.fromCharCode(c)}`;
        return true;
      case Part.Frac:
        if (digit) {
          this.text = `${this.text ?? ''}${String.fromCharCode(c)}`;
          return true;
        }
        break;
      case Part.Exp:
        if (c === PLUS || c === MINUS) {
          this.part = Part.ExpSign;
          this.text = `${this.text ?? ''}${String.fromCharCode(c)}`;
          return true;
        }
        return this.exponentDigit(c, at);
      case Part.ExpSign:
        return this.exponentDigit(c, at);
      case Part.ExpDigits:
        if (digit) {
          this.text = `${this.text ?? ''}${String.fromCharCode(c)}`;
          return true;
        }
        return false;
    }
    // After the integer or fraction digits: a `.` or an exponent may follow.
    if (c === DOT && (this.part === Part.Zero || this.part === Part.Int)) {
      this.text = `${this.integerText()}.`;
      this.part = Part.Dot;
      return true;
    }
    if (c === LOWER_E || c === UPPER_E) {
      this.text = `${this.part === Part.Frac ? (this.text ?? '') : this.integerText()}e`;
      this.part = Part.Exp;
      return true;
    }
    return false;
  }

  private exponentDigit(c: number, at: number): boolean {
    if (c < ZERO || c > NINE) {
      throw this.fail(`expected a digit in the exponent but found ${describe(c)}`, at);
    }
    this.part = Part.ExpDigits;
    this.text = `${this.text ?? ''}${String.fromCharCode(c)}`;
    return true;
  }

  /** The integer part's text so far (the short value, or the long text). */
  private integerText(): string {
    if (this.text !== null) return this.text;
    return (this.negative ? '-' : '') + String(this.value);
  }

  private finishNumber(at: number): void {
    switch (this.part) {
      case Part.Sign:
        throw this.fail("expected a digit after '-'", at);
      case Part.Dot:
        throw this.fail("expected a digit after '.'", at);
      case Part.Exp:
      case Part.ExpSign:
        throw this.fail('expected a digit in the exponent', at);
      case Part.Zero:
      case Part.Int:
        if (this.text === null) this.sum.addInteger(this.negative ? -this.value : this.value);
        else this.sum.addIntegerText(this.text);
        return;
      case Part.Frac:
      case Part.ExpDigits: {
        // A whole number however written (1e23, 9007199254740993e0) stays exact.
        const exact = integerOfDecimal(this.text ?? '');
        if (exact === 'too-large') {
          throw new ArrayParseError('number out of range', this.numberStart, this.element);
        }
        if (exact !== null) {
          this.sum.addBigInt(exact);
          return;
        }
        const n = Number(this.text);
        if (!Number.isFinite(n)) {
          throw new ArrayParseError('number out of range', this.numberStart, this.element);
        }
        this.sum.addNumber(n);
        return;
      }
    }
  }
}
