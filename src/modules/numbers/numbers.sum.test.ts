import { describe, expect, it } from 'vitest';
import { rangeArrayChunks } from './numbers.source.js';
import { ArrayParseError, ArraySummer } from './numbers.parse.js';
import { ExactSum, integerOfDecimal } from './numbers.sum.js';

/** Sums `text` fed in pieces of `piece` bytes. */
function sumText(text: string, piece = Infinity): string {
  const bytes = Buffer.from(text);
  const summer = new ArraySummer();
  const step = Math.min(piece, bytes.length || 1);
  for (let at = 0; at < bytes.length; at += step) summer.write(bytes.subarray(at, at + step));
  return summer.end().toJSON();
}

function parseError(text: string): ArrayParseError {
  try {
    sumText(text);
  } catch (err) {
    if (err instanceof ArrayParseError) return err;
    throw err;
  }
  throw new Error(`no error for ${text}`);
}

describe('ArraySummer', () => {
  it('sums small lists, empty lists and whitespace', () => {
    expect(sumText('[1,2,3]')).toBe('6');
    expect(sumText('[]')).toBe('0');
    expect(sumText(' \n[ ]\t')).toBe('0');
    expect(sumText('[ 1 , -2 ,\r\n 3 ]')).toBe('2');
    expect(sumText('[0,-0,0]')).toBe('0');
  });

  it('sums integers past 2^53 exactly, as BigInt does', () => {
    const values = [
      9007199254740993n,
      9007199254740993n,
      -123456789012345678901234567890n,
      999999999999999999999999n,
      4503599627370496n,
      1n,
    ];
    const expected = values.reduce((a, b) => a + b, 0n);
    expect(sumText(`[${values.join(',')}]`)).toBe(expected.toString());
    // Many 15-digit numbers push the fast accumulator past 2^53 again and again.
    const many = Array.from({ length: 5000 }, (_, i) => 999_999_999_999_999n - BigInt(i));
    expect(sumText(`[${many.join(',')}]`)).toBe(many.reduce((a, b) => a + b, 0n).toString());
  });

  it('gives the same answer however the text is cut into chunks', () => {
    const text =
      '[12345678901234567890, -7, 0, 1.25e2, 3.5, -0.5, 1E-1, 42, 1000000000000000000001]';
    const whole = sumText(text);
    for (let piece = 1; piece <= text.length; piece++) expect(sumText(text, piece)).toBe(whole);
  });

  it('sums fractions with compensation', () => {
    expect(sumText('[0.1,0.2,0.3]')).toBe('0.6');
    // Naive summation loses the 1s entirely: 1e16 + 1 + 1 … − 1e16.
    const ones = Array.from({ length: 1000 }, () => '1').join(',');
    expect(Number(sumText(`[1e16,${ones},-1e16,0.5]`))).toBe(1000.5);
    expect(sumText('[1.5,2.5]')).toBe('4');
    expect(sumText('[1e2, 2E+1, 30e-1]')).toBe('123');
  });

  it('keeps whole numbers exact however they are written', () => {
    expect(sumText('[1e23]')).toBe('100000000000000000000000');
    expect(sumText('[9007199254740993e0]')).toBe('9007199254740993');
    expect(sumText('[9007199254740993.000, 1]')).toBe('9007199254740994');
    expect(sumText('[1.5e1, 150e-1, -2.5E+1, 0.0e7]')).toBe('5');
    expect(sumText('[1e300, -1e300, 1]')).toBe('1');
    // Not whole: the double path, as before.
    expect(sumText('[1e-2, 0.25]')).toBe('0.26');
    expect(integerOfDecimal('1e23')).toBe(10n ** 23n);
    expect(integerOfDecimal('-12.3400e2')).toBe(-1234n);
    expect(integerOfDecimal('1.5')).toBeNull();
    expect(integerOfDecimal('1e-999999999999')).toBeNull();
    expect(integerOfDecimal('1e999999999999')).toBe('too-large');
    expect(integerOfDecimal(`1e400`)).toBe('too-large');
    expect(integerOfDecimal(`1e399`)).toBe(10n ** 399n);
  });

  it('names the position of every kind of problem', () => {
    const cases: [string, RegExp, number, number][] = [
      ['[1,2,x]', /expected a number but found 'x'/, 5, 2],
      ['[1,"2"]', /expected a number but found '"'/, 3, 1],
      ['[1,null]', /found 'n'/, 3, 1],
      ['[1,[2]]', /found '\['/, 3, 1],
      ['[1,{}]', /found '\{'/, 3, 1],
      ['[1,2,]', /expected a number after ',' but found '\]'/, 5, 2],
      ['[1 2]', /expected ',' or '\]' but found '2'/, 3, 0],
      ['[01]', /leading zeros/, 2, 0],
      ['[-]', /digit after '-'/, 2, 0],
      ['[1.]', /digit after '\.'/, 3, 0],
      ['[1e]', /exponent/, 3, 0],
      ['[1,2', /not closed/, 4, 1],
      ['[1,2] 3', /after the end of the array/, 6, 1],
      ['{"a":1}', /expected '\[' but found '\{'/, 0, 0],
      ['', /empty input/, 0, 0],
      ['[1e999]', /out of range/, 1, 0],
      ['[1, 2e999999999]', /out of range/, 4, 1],
      ['[0.5e999]', /out of range/, 1, 0],
      ['[NaN]', /found 'N'/, 1, 0],
      ['[\u00a01]', /found byte 0xc2/, 1, 0],
    ];
    for (const [text, reason, offset, element] of cases) {
      const err = parseError(text);
      expect(err.message, text).toMatch(reason);
      expect(err.offset, text).toBe(offset);
      expect(err.element, text).toBe(element);
    }
  });

  it('counts the numbers it summed', () => {
    const summer = new ArraySummer();
    summer.write(Buffer.from('[1,2,3,4.5,12345678901234567890]'));
    expect(summer.end().count).toBe(5);
  });
});

describe('ExactSum', () => {
  it('adds batches of 32-bit integers exactly', () => {
    const batch = Int32Array.from({ length: 100_000 }, () => 2_147_483_647);
    const sum = new ExactSum();
    sum.addInt32Batch(batch);
    sum.addInt32Batch(batch);
    expect(sum.toJSON()).toBe((2_147_483_647n * 200_000n).toString());
    expect(sum.count).toBe(200_000);
  });

  it('keeps huge integral doubles exact, and refuses a fractional total that overflows a double', () => {
    const sum = new ExactSum();
    sum.addNumber(1.5e308);
    sum.addNumber(1.5e308);
    expect(BigInt(sum.toJSON())).toBe(BigInt(1.5e308) * 2n);
    sum.addNumber(0.5);
    expect(() => sum.toJSON()).toThrow(RangeError);
  });
});

describe('rangeArrayChunks', () => {
  it('writes the JSON array 0 … count − 1, across chunk and digit-length boundaries', () => {
    for (const count of [0, 1, 10, 11, 101, 12_345]) {
      const text = Buffer.concat([...rangeArrayChunks(count, 64)]).toString();
      expect(JSON.parse(text)).toEqual(Array.from({ length: count }, (_, i) => i));
    }
  });
});
