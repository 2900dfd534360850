/**
 * Where lists of numbers come from, and how they are summed without holding the event loop:
 * the simulated backend hands its range over in batches, an HTTP upstream is parsed chunk by
 * chunk as it streams, and both give the loop back every few milliseconds.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Agent, errors as undiciErrors, request } from 'undici';
import { ArrayParseError, ArraySummer } from './numbers.parse.js';
import { ExactSum } from './numbers.sum.js';

/** Longest stretch of summing before the loop is given back. */
const SLICE_MS = 2;
/** Largest piece of a chunk parsed in one go (a 64 KiB piece takes well under a millisecond). */
const PIECE_BYTES = 256 * 1024;
const BATCH = 8192;

/** The upstream failed: unreachable, bad status, malformed or truncated body, too slow. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
}

/** Feeds a chunk to the summer in pieces, yielding to the loop between pieces of a big chunk. */
export async function feed(summer: ArraySummer, chunk: Uint8Array): Promise<void> {
  if (chunk.length <= PIECE_BYTES) {
    summer.write(chunk);
    return;
  }
  for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
    summer.write(chunk.subarray(at, at + PIECE_BYTES));
    await nextTurn();
  }
}

/** The simulated backend: the integers 0 … count − 1, after `delayMs`. */
export async function sumSimulated(
  count: number,
  delayMs: number,
  signal?: AbortSignal,
): Promise<ExactSum> {
  if (delayMs > 0) await sleep(delayMs, undefined, signal ? { signal } : {});
  const sum = new ExactSum();
  const batch = new Int32Array(Math.min(BATCH, Math.max(count, 1)));
  let next = 0;
  let sliceStart = performance.now();
  while (next < count) {
    const length = Math.min(batch.length, count - next);
    for (let i = 0; i < length; i++) batch[i] = next + i;
    sum.addInt32Batch(batch, length);
    next += length;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await nextTurn();
      signal?.throwIfAborted();
      sliceStart = performance.now();
    }
  }
  return sum;
}

export interface HttpSourceOptions {
  url: string;
  timeoutMs: number;
  maxBytes: number;
  /** Called with each chunk's size, for the bytes-parsed metric. */
  onBytes?: (n: number) => void;
}

function describeNetworkError(err: unknown): string {
  if (err instanceof undiciErrors.HeadersTimeoutError)
    return 'the upstream sent no headers in time';
  if (err instanceof undiciErrors.BodyTimeoutError) return 'the upstream stopped sending';
  if (err instanceof undiciErrors.SocketError) {
    return 'the upstream closed the connection before the end of the body (truncated)';
  }
  if (err instanceof undiciErrors.ResponseContentLengthMismatchError) {
    return 'the upstream body is shorter than its Content-Length (truncated)';
  }
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNREFUSED') return 'the upstream refused the connection';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'the upstream host is unknown';
  if (e.code === 'ECONNRESET') return 'the upstream reset the connection';
  return `the upstream call failed (${e.code ?? e.message})`;
}

/** An HTTP upstream answering a JSON array; the body is parsed as it arrives. */
export class HttpSource {
  private readonly agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });

  constructor(private readonly options: HttpSourceOptions) {}

  async sum(signal?: AbortSignal): Promise<ExactSum> {
    const { url, timeoutMs, maxBytes } = this.options;
    const timeout = AbortSignal.timeout(timeoutMs);
    const abort = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        dispatcher: this.agent,
        signal: abort,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      throw this.failure(err, timeout);
    }
    const { statusCode, body } = response;
    try {
      if (statusCode !== 200) throw new UpstreamError(`the upstream answered HTTP ${statusCode}`);
      const summer = new ArraySummer();
      let bytes = 0;
      let sliceStart = performance.now();
      for await (const chunk of body) {
        // Buffered chunks arrive as microtasks, without a turn of the loop between them.
        if (performance.now() - sliceStart >= SLICE_MS) {
          await nextTurn();
          sliceStart = performance.now();
        }
        const piece = chunk as Buffer;
        bytes += piece.length;
        if (bytes > maxBytes) {
          throw new UpstreamError(`the upstream body is longer than ${maxBytes} bytes`);
        }
        this.options.onBytes?.(piece.length);
        await feed(summer, piece);
      }
      return summer.end();
    } catch (err) {
      throw this.failure(err, timeout);
    } finally {
      // Whatever happened, the connection is released (a half-read body would hold it).
      if (!body.destroyed) {
        body.on('error', () => undefined); // destroying an unread body reports an abort
        body.destroy();
      }
    }
  }

  private failure(err: unknown, timeout: AbortSignal): Error {
    if (err instanceof UpstreamError) return err;
    if (err instanceof ArrayParseError) {
      return new UpstreamError(`the upstream body is not a JSON array of numbers: ${err.message}`);
    }
    if (timeout.aborted) {
      return new UpstreamError(`the upstream did not finish within ${this.options.timeoutMs} ms`);
    }
    if ((err as Error).name === 'AbortError') return err as Error;
    return new UpstreamError(describeNetworkError(err));
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** Where the writing of a range array is: the decimal digits of the next number. */
interface RangeCursor {
  /** The next number's digits, right-aligned ASCII. */
  digits: Uint8Array;
  length: number;
  next: number;
}

const WIDTH = 20;

/** Writes `,n` (no comma before 0) for the next numbers until `out` is nearly full; returns the bytes written. */
function fillRange(cursor: RangeCursor, out: Uint8Array, count: number): number {
  // Module constants copied to locals: the hot loop then reads registers, not the module scope.
  const zero = ZERO;
  const nine = NINE;
  const comma = COMMA;
  const width = WIDTH;
  const digits = cursor.digits;
  let length = cursor.length;
  let i = cursor.next;
  let pos = 0;
  const limit = out.length - width - 2;
  while (i < count && pos < limit) {
    if (i > 0) out[pos++] = comma;
    for (let k = width - length; k < width; k++) out[pos++] = digits[k] ?? zero;
    // Add one to the decimal counter.
    let k = width - 1;
    while (digits[k] === nine) digits[k--] = zero;
    digits[k] = (digits[k] ?? zero) + 1;
    if (k < width - length) length = width - k;
    i++;
  }
  cursor.length = length;
  cursor.next = i;
  return pos;
}

/**
 * The text of the JSON array [0, 1, …, count − 1] in chunks of about `chunkBytes`, written
 * straight as bytes (a decimal counter, no number-to-string conversion per element).
 */
export function* rangeArrayChunks(count: number, chunkBytes = 64 * 1024): Generator<Buffer> {
  const cursor: RangeCursor = { digits: new Uint8Array(WIDTH).fill(ZERO), length: 1, next: 0 };
  let first = true;
  while (first || cursor.next < count) {
    const out = Buffer.allocUnsafe(Math.max(chunkBytes, 2 * WIDTH + 4));
    let pos = 0;
    if (first) {
      out[pos++] = OPEN;
      first = false;
    }
    pos += fillRange(cursor, out.subarray(pos), count);
    if (cursor.next >= count) out[pos++] = CLOSE;
    yield out.subarray(0, pos);
  }
}

/**
 * `rangeArrayChunks` as a byte stream that gives the loop back every few milliseconds: a fast
 * socket would otherwise take chunk after chunk in one synchronous run.
 */
export function rangeArrayStream(count: number): Readable {
  async function* sliced(): AsyncGenerator<Buffer> {
    let sliceStart = performance.now();
    for (const chunk of rangeArrayChunks(count)) {
      yield chunk;
      if (performance.now() - sliceStart >= SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
  }
  return Readable.from(sliced(), { objectMode: false });
}
