/**
 * pino to stdout and, optionally, to a file; pretty output for development. Fastify adds the
 * request id to every line logged through `request.log`.
 */
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  LogController,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type LogFn,
  type Logger,
} from 'pino';
import { nodeIdOf, type Config } from './config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Log this route's completed requests at debug, not info (probes, scrapes). */
    quietLog?: boolean;
  }
}

/** Every open log file of this process, for rotation (see `reopenLogFiles`). */
const reopeners = new Set<() => void>();

/**
 * Reopens every log file by its path, so an external rotation (logrotate: rename, then SIGHUP)
 * makes new lines go to a new file. The server calls this on SIGHUP.
 */
export function reopenLogFiles(): number {
  for (const reopen of reopeners) reopen();
  return reopeners.size;
}

export class LogFileError extends Error {
  override name = 'LogFileError';
}

/**
 * stdout and log files are written in batches: lines wait in memory (`LineBatch`) until the next
 * one would not fit in a batch, or for at most `LOG_FLUSH_MS`; one write call then carries about
 * ten request lines instead of one each. Each batch is one synchronous write, so no write is ever
 * under way when the process ends: what waits in memory is written when the process exits, on a
 * crash too, and on a signal the server flushes before it exits. (An asynchronous write still in
 * the thread pool at `process.exit` was lost, or retried after the process had gone when the pipe
 * was full.) A log reader that falls behind slows the server down rather than growing its memory.
 */
export const LOG_FLUSH_MS = 100;
/**
 * The most one write carries to a pipe or a socket: what a pipe writes at once (PIPE_BUF), so
 * that the lines of the workers of `--workers N`, sharing one stdout, never mix within a line.
 */
const LOG_MAX_WRITE = 4096;
/**
 * The most one write carries to a regular file: appends to a file are written whole, whoever
 * else appends, so a batch can be larger there, and cost fewer writes.
 */
const LOG_MAX_WRITE_FILE = 32 * 1024;
/**
 * The most a destination that fails (a full disk) keeps, to write once it works again; lines
 * past it are dropped and counted, rather than letting memory grow.
 */
const LOG_MAX_PENDING = 8 * 1024 * 1024;

/** pino's destination. */
type SonicBoom = ReturnType<typeof pino.destination>;

/** What sonic-boom has but does not declare: its descriptor, whether it was closed. */
interface SonicBoomState {
  readonly fd: number;
  readonly destroyed: boolean;
}

/** Every batch with lines still to write, flushed when the process exits. */
const liveBatches = new Set<LineBatch>();
let flushOnExit = false;

/**
 * Lines gathered in memory, then handed to pino's destination (sonic-boom) as one batch. Each line
 * is encoded into the batch's buffer as it comes: it is not measured first (unless the batch is
 * nearly full), nor joined with the others, nor encoded again for the write. (sonic-boom batches
 * by itself too, with `minLength`, but it appends each line to its pending string and measures
 * that whole string again on every line.)
 */
class LineBatch {
  readonly #inner: SonicBoom;
  /** The same sonic-boom, made with `contentMode: 'buffer'` (its typings know strings only). */
  readonly #sink: { write(batch: Buffer): boolean };
  readonly #state: SonicBoomState;
  readonly #maxBytes: number;
  /** The batch being filled, its bytes used and its lines. */
  #buffer: Buffer;
  #used = 0;
  #lines = 0;
  /** Batches that waited while writes failed, in order, and their bytes. */
  #waiting: Buffer[] = [];
  #waitingBytes = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(inner: SonicBoom, maxBytes: number) {
    this.#inner = inner;
    this.#sink = inner as unknown as { write(batch: Buffer): boolean };
    this.#state = inner as unknown as SonicBoomState;
    this.#maxBytes = maxBytes;
    this.#buffer = Buffer.allocUnsafeSlow(maxBytes);
    this.#timer = setInterval(() => this.release(), LOG_FLUSH_MS);
    this.#timer.unref();
    liveBatches.add(this);
    if (!flushOnExit) {
      flushOnExit = true;
      process.on('exit', () => {
        for (const batch of liveBatches) {
          try {
            batch.flushSync();
          } catch {
            // A destination that cannot take them (stdout closed): the exit code stays the same.
          }
        }
      });
    }
    inner.on('close', () => {
      clearInterval(this.#timer);
      liveBatches.delete(this);
    });
    // A write that fails (ENOSPC, EIO) is told once on stderr, not thrown at whoever logged. It is
    // tried again every LOG_FLUSH_MS; lines logged meanwhile wait (up to LOG_MAX_PENDING, then
    // are dropped and counted) and are written once the destination works again.
    inner.on('error', (err: Error) => {
      if (this.#failing) return;
      this.#failing = true;
      tellStderr(
        `agora: cannot write logs (${err.message}); lines wait, up to 8 MiB, then are dropped`,
      );
    });
    inner.on('write', () => {
      if (!this.#failing) return;
      this.#failing = false;
      tellStderr(`agora: logs are written again; ${this.#dropped} lines were dropped meanwhile`);
      this.#dropped = 0;
    });
  }

  #failing = false;
  #dropped = 0;

  /** Has sonic-boom try the write that failed again; its 'write' event ends the failure. */
  #recovered(): boolean {
    this.#sink.write(Buffer.alloc(0));
    return !this.#failing;
  }

  get fd(): number {
    return this.#state.fd;
  }

  write(line: string): boolean {
    // A UTF-16 unit takes at most 3 bytes in UTF-8: a line that surely fits is encoded into the
    // batch unmeasured.
    if (this.#used + line.length * 3 > this.#maxBytes) {
      const bytes = Buffer.byteLength(line);
      if (this.#used + bytes > this.#maxBytes) this.#seal();
      if (bytes > this.#maxBytes) {
        // Longer than a batch: a batch of its own.
        this.#handOver(Buffer.from(line, 'utf8'), 1);
        return true;
      }
    }
    this.#used += this.#buffer.write(line, this.#used);
    this.#lines++;
    return true;
  }

  /** Ends the batch being filled: written at once, or kept while writes fail. */
  #seal(): void {
    if (this.#used === 0) return;
    const batch = this.#buffer.subarray(0, this.#used);
    const lines = this.#lines;
    // A new buffer for the next batch: sonic-boom keeps a batch it could not write, to try again.
    this.#buffer = Buffer.allocUnsafeSlow(this.#maxBytes);
    this.#used = 0;
    this.#lines = 0;
    this.#handOver(batch, lines);
  }

  #handOver(batch: Buffer, lines: number): void {
    // Closed under the batch (the timer can fire before its 'close'): nowhere to write them.
    if (this.#state.destroyed) return;
    if (this.#failing) {
      // Batches wait for the timer's next try, up to LOG_MAX_PENDING.
      if (this.#waitingBytes + batch.length > LOG_MAX_PENDING) this.#dropped += lines;
      else {
        this.#waiting.push(batch);
        this.#waitingBytes += batch.length;
      }
      return;
    }
    this.#writeWaiting();
    this.#sink.write(batch);
  }

  /**
   * Writes what waited while writes failed, in order, before anything newer. (sonic-boom may end
   * the failure by itself, writing the batch it kept as a file is reopened.)
   */
  #writeWaiting(): void {
    if (this.#waiting.length === 0) return;
    const waited = this.#waiting;
    this.#waiting = [];
    this.#waitingBytes = 0;
    for (const batch of waited) this.#sink.write(batch);
  }

  /** Hands the waiting lines to the destination, which writes them at once. */
  release(): void {
    if (this.#state.destroyed) return;
    if (this.#failing && !this.#recovered()) return;
    this.#writeWaiting();
    this.#seal();
  }

  /**
   * Writes everything logged so far before returning (each batch is written as it is handed
   * over). Not sonic-boom's `flushSync`: on a write that keeps failing (a full disk) it tries
   * again every 100 ms forever, and a process flushing at exit would never end.
   */
  flushSync(): void {
    this.release();
  }

  /** Calls `done` once every line logged so far is written (with the error when it could not be). */
  flush(done: (err?: Error) => void): void {
    try {
      this.flushSync();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  /** Reopens the file by its path (rotation): lines logged before go to the renamed file. */
  reopen(): void {
    this.release();
    this.#inner.reopen();
  }

  on(event: 'close', listener: () => void): void {
    this.#inner.on(event, listener);
  }
}

/** Whether `fd` is a regular file (not a pipe, a socket or a terminal; not open: no). */
function isFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** A destination on `fd` or `file`, its lines batched, each batch one synchronous write. */
function batchedDestination(target: { fd: number } | { dest: string; append: true }): LineBatch {
  const maxBytes = 'dest' in target || isFile(target.fd) ? LOG_MAX_WRITE_FILE : LOG_MAX_WRITE;
  // `dest`, not `fd`: pino reads `process.stdout.fd` when `dest` is missing, and making
  // `process.stdout` turns a pipe on stdout non-blocking, where a full pipe then fails a write
  // (EAGAIN) that sonic-boom retries after sleeping 100 ms, instead of waiting for the reader.
  const dest = 'dest' in target ? target : { dest: target.fd };
  return new LineBatch(
    pino.destination({ ...dest, sync: true, maxWrite: maxBytes, contentMode: 'buffer' }),
    maxBytes,
  );
}

/** A line on stderr about the logs themselves (they cannot go through the failing logger). */
function tellStderr(text: string): void {
  try {
    writeSync(2, `${text}\n`);
  } catch {
    // stderr closed too: nothing else can be told.
  }
}

/** Where the request lines of a logger made by `createLogger` go (see `accessLogOf`). */
const ACCESS = Symbol('agora.accessLog');

/** Paths never written to logs: credentials and card numbers. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-token-secret"]',
  '*.password',
  '*.secret',
  '*.credit_card',
];

/** The longest error message a log line keeps (a driver's message can quote a statement). */
const MAX_ERROR_MESSAGE = 1000;
/** What a driver's error may carry that must never reach a log: SQL text and parameter values. */
const UNLOGGED_ERROR_FIELDS = new Set([
  'sql',
  'sqlMessage',
  'parameters',
  'values',
  'query',
  'client',
]);

/**
 * pino's error serializer, less what must not be logged: the SQL a driver attaches (mysql2 puts
 * the whole statement, parameters inlined, in `sql`: one 40 MB line holding an image's bytes),
 * parameter values, a driver's client object; messages are cut to 1,000 characters.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const kept = Object.entries(pino.stdSerializers.err(err)).filter(
    ([field]) => !UNLOGGED_ERROR_FIELDS.has(field),
  );
  const out: Record<string, unknown> = Object.fromEntries(kept);
  const cut = (text: unknown, max: number): unknown =>
    typeof text === 'string' && text.length > max ? `${text.slice(0, max)}…` : text;
  out.message = cut(out.message, MAX_ERROR_MESSAGE);
  out.stack = cut(out.stack, 4 * MAX_ERROR_MESSAGE);
  if (err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

/**
 * Creates the process logger.
 * @throws LogFileError when the log file cannot be opened for appending.
 */
export function createLogger(
  config: Pick<Config, 'log_level' | 'log_file' | 'log_pretty'> & {
    /** This node's name on every line (see `nodeIdOf`); lines of several nodes can be told apart. */
    node_id?: string;
    /** False: the file only. */
    log_stdout?: boolean;
    /** Write the file synchronously (audit trails: a line is on disk before the answer leaves). */
    log_sync?: boolean;
  },
): Logger {
  const options = {
    level: config.log_level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid, node: nodeIdOf({ node_id: config.node_id ?? '' }) },
    serializers: { err: serializeError, error: serializeError },
  };
  const streams: { stream: DestinationStream }[] = [];
  if (config.log_pretty) {
    streams.push({
      stream: pino.transport({
        target: 'pino-pretty',
        options: { translateTime: 'SYS:HH:MM:ss.l' },
      }),
    });
  } else if (config.log_stdout !== false) {
    streams.push({ stream: batchedDestination({ fd: 1 }) });
  }
  if (config.log_file) {
    try {
      // Fail now, with a clear message, rather than on the first line written.
      mkdirSync(path.dirname(path.resolve(config.log_file)), { recursive: true });
      closeSync(openSync(config.log_file, 'a'));
    } catch (err) {
      throw new LogFileError(`Cannot open log file ${config.log_file}: ${(err as Error).message}`);
    }
    const file = config.log_sync
      ? pino.destination({ dest: config.log_file, append: true, sync: true })
      : batchedDestination({ dest: config.log_file, append: true });
    const reopen = (): void => file.reopen();
    reopeners.add(reopen);
    file.on('close', () => reopeners.delete(reopen));
    streams.push({ stream: file });
  }
  const only = streams[0];
  // Not pino.multistream: it gives each stream a level of its own, `info` unless told, and so
  // dropped the debug lines of `log_level: debug` as soon as a log file was set.
  const destination = streams.length === 1 && only ? only.stream : fanOut(streams);
  const logger = pino(options, destination);
  const access = new DestinationAccessLog(destination, chindingsOf(options.base));
  Object.defineProperty(logger, ACCESS, { value: access });
  // pino's own flush returns at once for an asynchronous file (sonic-boom waits only when it has a
  // minimum write length); shutdown and tests need the lines to have reached the file.
  logger.flush = (done?: (err?: Error) => void): void => {
    flushAll(
      streams.map((s) => s.stream),
      done ?? noop,
    );
  };
  return logger;
}

const noop = (): void => undefined;

/** One destination writing each line to every stream (they all take the logger's level). */
function fanOut(streams: { stream: DestinationStream }[]): DestinationStream {
  const targets = streams.map((s) => s.stream);
  return {
    write(line: string): void {
      for (const target of targets) target.write(line);
    },
  };
}

/** What pino's destinations offer: sonic-boom (stdout, files) and thread-stream (transports). */
interface Flushable {
  fd?: number;
  flushSync?: () => void;
  flush?: (cb: (err?: Error) => void) => void;
  once?: (event: 'ready', listener: () => void) => unknown;
}

/** Calls `done` once every stream has handed everything written so far to the OS. */
function flushAll(streams: DestinationStream[], done: (err?: Error) => void): void {
  let pending = streams.length;
  let failure: Error | undefined;
  const settle = (err?: Error): void => {
    failure ??= err;
    if (--pending === 0) done(failure);
  };
  if (pending === 0) done();
  for (const stream of streams as Flushable[]) {
    if (stream instanceof LineBatch) {
      stream.flush(settle);
      continue;
    }
    const { flushSync, fd } = stream;
    // A synchronous destination (the tax audit file) has written every line already; its
    // `flushSync` would only try a failed write again, every 100 ms, forever.
    if ((stream as { sync?: boolean }).sync === true) settle();
    else if (typeof fd === 'number' && typeof flushSync === 'function') {
      const now = (): void => {
        try {
          flushSync.call(stream);
          settle();
        } catch (err) {
          settle(err as Error);
        }
      };
      // A file opened asynchronously has no descriptor until it is ready.
      if (fd < 0 && stream.once) stream.once('ready', now);
      else now();
    } else if (typeof stream.flush === 'function') stream.flush(settle);
    else settle();
  }
}

/**
 * A JSON string, as pino writes it: most strings need no escape, and are checked here rather than
 * sent through `JSON.stringify` (a call into the runtime each).
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters, `"`, `\` and surrogates (a lone one is escaped): the general way.
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0xd800) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** A JSON number, as pino writes it: `null` for one that JSON has not (NaN, infinities). */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'null';
}

/**
 * A duration in milliseconds, rounded to hundredths, as JSON writes `Math.round(ms * 100) / 100`
 * (`2`, `0.5`, `12.34`), put together from integers: turning a fractional number into text is a
 * call into the runtime, which cost as much as the rest of a request line's numbers.
 */
export function jsonMilliseconds(ms: number): string {
  const hundredths = Math.round(ms * 100);
  if (!Number.isSafeInteger(hundredths) || hundredths < 0) return jsonNumber(hundredths / 100);
  const whole = Math.floor(hundredths / 100);
  const fraction = hundredths - whole * 100;
  if (fraction === 0) return `${whole}`;
  if (fraction % 10 === 0) return `${whole}.${fraction / 10}`;
  return `${whole}.${fraction < 10 ? '0' : ''}${fraction}`;
}

/**
 * What a line about a request says of it first (`"req_id":…,"method":…,"url":…`): the request
 * line, and the lines that stand for it (the tax audit line).
 */
export function requestFields(request: FastifyRequest): string {
  return `"req_id":${jsonString(request.id)},"method":${jsonString(request.method)},"url":${jsonString(request.url)}`;
}

/** pino's bindings of a line (`,"pid":…,"node":…`), in its order. */
function chindingsOf(bindings: Readonly<Record<string, string | number>>): string {
  let out = '';
  for (const [key, value] of Object.entries(bindings)) {
    out += `,${jsonString(key)}:${typeof value === 'number' ? jsonNumber(value) : jsonString(value)}`;
  }
  return out;
}

/**
 * Lines written on every request — its completion line, the tax audit line — with a few fields
 * of known types, serialized by their writer (`jsonString`, `jsonNumber`): pino walks a line's
 * object key by key and, on a server that logs objects of many shapes, each lookup is a
 * megamorphic one; in a profile of the tax route that walk cost more than the rest of the audit.
 * The line is pino's to the byte (level, time, bindings, the fields, `msg`), and nothing in it is
 * redacted: the fields are chosen by the caller.
 */
export interface AccessLog {
  /**
   * Writes `{"level":…,"time":…,<bindings>,<fields>,"msg":<message>}`. `fields`: JSON members,
   * `"key":value,…`, not empty. The caller has checked that `level` is on.
   */
  write(level: Level, fields: string, message: string): void;
  /** The same log with more bindings (`{module: 'tax'}`), as pino's `child`. */
  child(bindings: Readonly<Record<string, string>>): AccessLog;
}

/** pino's numbers for its levels. */
const LEVEL_VALUES: Readonly<Record<Level, number>> = {
  fatal: 60,
  error: 50,
  warn: 40,
  info: 30,
  debug: 20,
  trace: 10,
};

/** The access log of a logger made by `createLogger`: straight to its destination. */
class DestinationAccessLog implements AccessLog {
  constructor(
    private readonly destination: DestinationStream,
    /** `,"pid":…,"node":…` and the child's bindings. */
    private readonly chindings: string,
  ) {}

  write(level: Level, fields: string, message: string): void {
    this.destination.write(
      `{"level":${LEVEL_VALUES[level]},"time":${Date.now()}${this.chindings},${fields},"msg":${jsonString(message)}}\n`,
    );
  }

  child(bindings: Readonly<Record<string, string>>): AccessLog {
    return new DestinationAccessLog(this.destination, this.chindings + chindingsOf(bindings));
  }
}

/** The access log of any other logger (a test's, say): through the logger, fields parsed back. */
class LoggerAccessLog implements AccessLog {
  constructor(private readonly logger: FastifyBaseLogger) {}

  write(level: Level, fields: string, message: string): void {
    this.logger[level](JSON.parse(`{${fields}}`) as Record<string, unknown>, message);
  }

  child(bindings: Readonly<Record<string, string>>): AccessLog {
    return new LoggerAccessLog(this.logger.child(bindings));
  }
}

/** Where `logger`'s request lines go: its destination for a `createLogger` logger. */
export function accessLogOf(logger: FastifyBaseLogger): AccessLog {
  const withAccess = logger as FastifyBaseLogger & { [ACCESS]?: AccessLog };
  return withAccess[ACCESS] ?? new LoggerAccessLog(logger);
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * A route wrote this request's line itself (the tax audit line: status, time and more): the
     * completion line would say it again.
     */
    lineWritten: boolean;
  }
}

/**
 * One line per request, when it completes. Routes polled by machines (`config.quietLog`: health,
 * metrics) log it at debug. Each line carries the request id (`req_id`), as every line logged
 * through `request.log` does.
 */
export class RequestLogController extends LogController {
  readonly #access: AccessLog;

  /** `logger`: the app's logger, whose request lines go to `accessLogOf(logger)`. */
  constructor(logger: FastifyBaseLogger) {
    super({ requestIdLogLabel: 'req_id' });
    this.#access = accessLogOf(logger);
  }

  override incomingRequest(request: FastifyRequest, _reply?: FastifyReply): void {
    // The completion line says it all at info; at debug, also say when a request starts.
    if (isEnabled(request.log, 'debug')) {
      request.log.debug({ method: request.method, url: request.url }, 'request received');
    }
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    // Most completions are below the configured level: build nothing for them. A success logs
    // at info or below, so with info off there is nothing to decide.
    if (!error && (request.lineWritten || !isEnabled(reply.log, 'info'))) return;
    const level = error ? 'error' : request.routeOptions.config.quietLog ? 'debug' : 'info';
    // `info` was just asked (it is a success).
    if (level !== 'info' && !isEnabled(reply.log, level)) return;
    if (error) {
      // Through the request's own logger: an error is serialized, and redacted if need be.
      const ms = Math.round(reply.elapsedTime * 100) / 100;
      reply.log.error(
        { method: request.method, url: request.url, status: reply.statusCode, ms, err: error },
        'request errored',
      );
      return;
    }
    // The level is the request logger's to decide (a route may set its own); the line goes to
    // the access log, with the request id, without building a child logger.
    this.#access.write(
      level,
      `${requestFields(request)},"status":${jsonNumber(reply.statusCode)},"ms":${jsonMilliseconds(reply.elapsedTime)}`,
      'request completed',
    );
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type Level = (typeof LEVELS)[number];

/**
 * A request's logger that becomes a real pino child (with the request id bound) only when the
 * request logs something at an enabled level. Building a child per request costs more than the
 * rest of a cheap request; most requests below the configured level never log.
 */
class LazyChildLogger implements FastifyBaseLogger {
  #real: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private real(): FastifyBaseLogger {
    this.#real ??= this.parent.child(this.bindings, this.options);
    return this.#real;
  }

  /** Whether `level` is on: decided by the parent until a child exists or has its own level. */
  enabled(level: Level): boolean {
    if (this.#real !== null || this.options.level !== undefined) return true;
    return isEnabled(this.parent, level);
  }

  get level(): string {
    return this.#real ? this.#real.level : (this.options.level ?? this.parent.level);
  }

  set level(level: string) {
    this.real().level = level;
  }

  // One method per level, on the prototype (a request's logger is one small object, not six
  // closures): the level's call when it is on, through the real child.
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;
  static {
    for (const level of LEVELS) {
      LazyChildLogger.prototype[level] = function (
        this: LazyChildLogger,
        ...args: Parameters<LogFn>
      ): void {
        if (this.enabled(level)) this.real()[level](...args);
      };
    }
  }
  silent(): void {
    // nothing, by definition
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

/** Whether `logger` writes `level`: pino loggers say so; any other logger gets every call. */
function isEnabled(logger: FastifyBaseLogger, level: Level): boolean {
  if (logger instanceof LazyChildLogger) return logger.enabled(level);
  const pinoLike = logger as FastifyBaseLogger & { isLevelEnabled?: (l: string) => boolean };
  return pinoLike.isLevelEnabled ? pinoLike.isLevelEnabled(level) : true;
}

/** Fastify's `childLoggerFactory`: request loggers that cost nothing until they log. */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
