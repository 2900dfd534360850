import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import {
  accessLogOf,
  createLogger,
  jsonMilliseconds,
  jsonNumber,
  jsonString,
  LogFileError,
  reopenLogFiles,
} from '../src/core/logging.js';
import { buildTestApp, createTestDatabase, tempDir } from './helper.js';

/** Resolves once every line `logger` was given is in its files. */
function flushed(logger: Logger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    logger.flush((err) => (err ? reject(err) : resolve()));
  });
}

/** A logger at `info` writing to `file` only (batched, as `log_file` is). */
function fileLogger(file: string): Logger {
  return createLogger({ log_level: 'info', log_pretty: false, log_file: file, log_stdout: false });
}

/** The JSON lines of a log file. */
function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** An app on SQLite at `info`, logging to a file of its own (and stdout unless told not to). */
async function appLoggingToFile(options: { stdout: boolean }) {
  const dir = tempDir();
  const logFile = path.join(dir, 'logs', 'agora.log');
  const database = await createTestDatabase('sqlite');
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: { db: database.url, data_dir: dir, log_file: logFile, log_level: 'info' },
  });
  const logger = createLogger({ ...config, log_stdout: options.stdout });
  const app = await buildApp(config, { logger });
  return {
    app,
    logger,
    logFile,
    close: async (): Promise<void> => {
      await app.close();
      await database.drop();
    },
  };
}

describe('logging', () => {
  it('writes one JSON line per request to the log file, tagged with the request id', async () => {
    const { app, logger, logFile, close } = await appLoggingToFile({ stdout: true });
    try {
      const res = await app.inject({
        url: '/nope?x=1',
        headers: { authorization: 'Bearer do-not-log-me' },
      });
      const quiet = await app.inject({ url: '/healthz' });
      await flushed(logger);
      const lines = jsonLines(logFile);
      const mine = lines.filter((l) => l.req_id === res.headers['x-request-id']);
      expect(mine).toEqual([
        expect.objectContaining({
          msg: 'request completed',
          method: 'GET',
          url: '/nope?x=1',
          status: 404,
        }),
      ]);
      // Probes log at debug only, so they do not drown the log at info.
      expect(lines.some((l) => l.req_id === quiet.headers['x-request-id'])).toBe(false);
      expect(readFileSync(logFile, 'utf8')).not.toContain('do-not-log-me');
    } finally {
      await close();
    }
  });

  it('writes one line for a tax request: its audit line, which says what the request line would', async () => {
    const { app, logger, logFile, close } = await appLoggingToFile({ stdout: false });
    try {
      const admin = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
      const computed = await app.inject({
        url: '/tax/?married=yes&children=2&salary=55555',
        headers: { authorization: admin },
      });
      const refused = await app.inject({ url: '/tax/?married=yes&children=2&salary=55555' });
      expect([computed.statusCode, refused.statusCode]).toEqual([200, 401]);
      await flushed(logger);
      const lines = jsonLines(logFile);
      const of = (id: unknown) => lines.filter((l) => l.req_id === id);
      expect(of(computed.headers['x-request-id'])).toEqual([
        expect.objectContaining({
          msg: 'tax computed',
          method: 'GET',
          url: '/tax/?married=yes&children=2&salary=55555',
          status: 200,
          user: 'admin',
          result: expect.objectContaining({ tax: 2814 }),
        }),
      ]);
      // Refused before the route's work: no audit line, so the request line says it.
      expect(of(refused.headers['x-request-id'])).toEqual([
        expect.objectContaining({ msg: 'request completed', status: 401 }),
      ]);
    } finally {
      await close();
    }
  });

  it('flush waits until every line is in the file', async () => {
    // File only: the test above covers file and stdout; here the lines would flood the output.
    const file = path.join(tempDir(), 'flush.log');
    const logger = fileLogger(file);
    // Enough lines that the asynchronous writer is still busy when flush is called.
    const payload = 'x'.repeat(2000);
    for (let i = 0; i < 5000; i++) logger.info({ i, payload }, 'line');
    await flushed(logger);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect((JSON.parse(lines[4999] ?? '{}') as { i?: number }).i).toBe(4999);
  });

  it('keeps the debug lines of log_level: debug in the file, beside stdout', async () => {
    const file = path.join(tempDir(), 'debug.log');
    const logger = createLogger({ log_level: 'debug', log_pretty: false, log_file: file });
    logger.debug('a debug line');
    logger.info('an info line');
    await flushed(logger);
    expect(jsonLines(file).map((l) => l.msg)).toEqual(['a debug line', 'an info line']);
  });

  it('refuses to start with a log file it cannot open', () => {
    const dir = tempDir();
    const file = path.join(dir, 'plain-file');
    writeFileSync(file, '');
    // A path below a regular file cannot be created, whoever we run as (root ignores modes).
    expect(() =>
      createLogger({ log_level: 'info', log_pretty: false, log_file: path.join(file, 'x.log') }),
    ).toThrow(LogFileError);
  });
});

describe('batched log lines', () => {
  const burst = async (how: 'exit' | 'throw', count: number) => {
    const script = fileURLToPath(new URL('./fixtures/logs/burst-then-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, how, String(count)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { i: number; msg: string });
    return { code, stderr, lines };
  };

  it.each(['exit', 'throw'] as const)(
    'are all written when the process ends by %s with lines still in the batch',
    async (how) => {
      // More than a pipe holds (64 KiB), and not a multiple of the batch size.
      const { code, stderr, lines } = await burst(how, 3001);
      expect(code).toBe(how === 'exit' ? 3 : 1);
      if (how === 'throw') expect(stderr).toContain('crash after the burst');
      expect(lines).toHaveLength(3001);
      expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 3001 }, (_, i) => i));
    },
  );

  it('are all written, in order, when the first write finds stdout full and the process exits', async () => {
    // A slow reader: it starts reading 200 ms after the child has filled its stdout. An
    // asynchronous first write then failed (EAGAIN), its retry was due after the exit, and the
    // batch it carried was lost. (The delay is the reader's pace, not a wait for an event: the
    // lines must all arrive whatever it is.)
    const script = fileURLToPath(new URL('./fixtures/logs/burst-then-exit.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, 'full-then-exit', '2000', '1000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pause();
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('full\n')) setTimeout(() => child.stdout.resume(), 200);
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(stderr).toBe('full\n');
    expect(code).toBe(3);
    const lines = stdout.split('\n').filter((l) => l !== '');
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
      Array.from({ length: 2000 }, (_, i) => i),
    );
  });

  it('reach a file whole and in order, whatever their text and length', async () => {
    // Lines of every length and alphabet (multi-byte and astral characters, which the batch
    // measures only when nearly full), and one longer than a batch (32 KiB to a file).
    const file = path.join(tempDir(), 'batched.log');
    const logger = fileLogger(file);
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'binary', minLength: 500, maxLength: 3000 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
    );
    const texts = [...fc.sample(text, { numRuns: 1500, seed: 20 }), 'é€😀'.repeat(12_000)];
    for (const [i, t] of texts.entries()) logger.info({ i, text: t }, 'line');
    await flushed(logger);
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    const parsed = lines.map((l) => JSON.parse(l) as { i: number; text: string });
    expect(parsed.map((l) => l.i)).toEqual(texts.map((_, i) => i));
    expect(parsed.map((l) => l.text)).toEqual(texts);
  });

  it('never mix within a line when several processes share one stdout pipe', async () => {
    // Three writers on one pipe, lines of about 1 KiB: a write larger than the pipe writes at
    // once (4 KiB) could be cut by another process's write, which would break lines apart.
    const script = fileURLToPath(new URL('./fixtures/logs/burst-then-exit.ts', import.meta.url));
    const one = `"${process.execPath}" --import tsx "${script}" exit 2000 1000`;
    const child = spawn('sh', ['-c', `${one} & ${one} & ${one} & wait`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await once(child, 'close');
    const lines = stdout.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { pid: number; i: number });
    expect(parsed).toHaveLength(6000);
    const byProcess = new Map<number, number[]>();
    for (const l of parsed) byProcess.set(l.pid, [...(byProcess.get(l.pid) ?? []), l.i]);
    expect([...byProcess.values()]).toEqual(
      Array.from({ length: 3 }, () => Array.from({ length: 2000 }, (_, i) => i)),
    );
  });

  it('holds every request line of a burst answered just before SIGTERM', async () => {
    const { startServerProcess } = await import('./process.js');
    const server = await startServerProcess(['--data-dir', tempDir()], {
      AGORA_SHUTDOWN_DRAIN_MS: '0',
    });
    const closed = once(server.child, 'close');
    const ids = await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        const res = await fetch(`${server.url}/burst/${i}`);
        await res.arrayBuffer();
        return res.headers.get('x-request-id');
      }),
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await closed;
    const logged = new Set(
      server.lines.filter((l) => l.msg === 'request completed').map((l) => l.req_id),
    );
    expect(ids.filter((id) => !logged.has(id))).toEqual([]);
    expect(server.lines.at(-1)?.msg).toBe('shutdown complete');
  });
});

describe('a log file that cannot be written (a full disk: /dev/full)', () => {
  it.runIf(existsSync('/dev/full'))(
    'never throws at whoever logs, and a flush ends instead of trying again forever',
    async () => {
      const logger = fileLogger('/dev/full');
      // 100 lines of 1 KiB: several batches of 32 KiB, each write failing with ENOSPC.
      expect(() => {
        for (let i = 0; i < 100; i++) logger.info({ i, padding: 'x'.repeat(1000) }, 'line');
      }).not.toThrow();
      const flushed = await new Promise<Error | undefined>((resolve) => logger.flush(resolve));
      expect(flushed).toBeUndefined();
    },
  );

  it.runIf(existsSync('/dev/full'))(
    'writes, in order, the lines that waited, once the file works again',
    async () => {
      // The log file's path leads to /dev/full, then (as after an operator freed space and the
      // file was reopened) to a regular file.
      const dir = tempDir();
      const link = path.join(dir, 'agora.log');
      const file = path.join(dir, 'real.log');
      symlinkSync('/dev/full', link);
      const logger = fileLogger(link);
      for (let i = 0; i < 100; i++) logger.info({ i, padding: 'x'.repeat(1000) }, 'line');
      unlinkSync(link);
      writeFileSync(file, '');
      symlinkSync(file, link);
      reopenLogFiles();
      await new Promise<Error | undefined>((resolve) => logger.flush(resolve));
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(
        Array.from({ length: 100 }, (_, i) => i),
      );
    },
  );

  it.runIf(existsSync('/dev/full'))(
    'leaves the server answering, its lines on stdout, and its stop clean',
    async () => {
      const { startServerProcess } = await import('./process.js');
      const server = await startServerProcess(['--data-dir', tempDir()], {
        AGORA_LOG_FILE: '/dev/full',
        AGORA_SHUTDOWN_DRAIN_MS: '0',
      });
      const closed = once(server.child, 'close');
      const statuses = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const res = await fetch(`${server.url}/nope/${i}`);
          await res.arrayBuffer();
          return res.status;
        }),
      );
      expect(statuses.every((s) => s === 404)).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      await closed;
      const completed = server.lines.filter((l) => l.msg === 'request completed');
      expect(completed).toHaveLength(200);
      expect(server.lines.at(-1)?.msg).toBe('shutdown complete');
    },
  );
});

describe('access lines', () => {
  /** Any UTF-16 text: lone surrogates, control characters, quotes and backslashes included. */
  const anyText = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  });
  const anyNumber = fc.oneof(fc.double(), fc.integer());

  it('write strings and numbers as JSON does', () => {
    fc.assert(
      fc.property(anyText, anyNumber, (text, n) => {
        expect(jsonString(text)).toBe(JSON.stringify(text));
        expect(jsonNumber(n)).toBe(JSON.stringify(n));
      }),
    );
  });

  it('write a duration in hundredths of a millisecond as JSON writes it rounded', () => {
    const durations = fc.oneof(
      fc.double({ min: 0, max: 1e7, noNaN: true }),
      fc.integer({ min: 0, max: 1e9 }).map((h) => h / 100),
      fc.double(),
    );
    fc.assert(
      fc.property(durations, (ms) => {
        expect(jsonMilliseconds(ms)).toBe(JSON.stringify(Math.round(ms * 100) / 100));
      }),
      { numRuns: 2000 },
    );
    expect([0, 2, 0.5, 0.05, 12.345, 1.005].map(jsonMilliseconds)).toEqual(
      [0, 2, 0.5, 0.05, 12.345, 1.005].map((ms) => JSON.stringify(Math.round(ms * 100) / 100)),
    );
  });

  it('are the lines pino writes, to the byte, whatever the fields hold', async () => {
    const file = path.join(tempDir(), 'access.log');
    const logger = createLogger({
      node_id: 'node "one"',
      log_level: 'debug',
      log_pretty: false,
      log_file: file,
      log_stdout: false,
      log_sync: true,
    });
    const runs = 200;
    fc.assert(
      fc.property(
        anyText,
        anyText,
        fc.integer({ min: 100, max: 599 }),
        anyNumber,
        anyText,
        (id, url, status, ms, module) => {
          const fields = { req_id: id, url, status, ms };
          logger.child({ module }).info(fields, 'request completed');
          accessLogOf(logger)
            .child({ module })
            .write(
              'info',
              `"req_id":${jsonString(id)},"url":${jsonString(url)},"status":${jsonNumber(status)},"ms":${jsonNumber(ms)}`,
              'request completed',
            );
        },
      ),
      { numRuns: runs },
    );
    await flushed(logger);
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    expect(lines).toHaveLength(2 * runs);
    // The same line twice, but for the time each was written.
    const untimed = (line: string) => line.replace(/,"time":\d+,/, ',');
    for (let i = 0; i < lines.length; i += 2) {
      expect(untimed(lines[i + 1] ?? '')).toBe(untimed(lines[i] ?? ''));
    }
  });
});

describe('request lines through a logger of its own', () => {
  it('go through that logger, with the same fields, the tax audit line too, at its level', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const t = await buildTestApp({ build: { logger } });
    try {
      const plain = await t.app.inject({ url: '/nope' });
      const probe = await t.app.inject({ url: '/healthz' });
      const tax = await t.app.inject({
        url: '/tax/?married=no&children=0&salary=30000',
        headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      });
      expect([plain.statusCode, tax.statusCode]).toEqual([404, 200]);
      const of = (id: unknown) => lines.filter((l) => l.req_id === id);
      expect(of(plain.headers['x-request-id'])).toEqual([
        expect.objectContaining({ level: 20, msg: 'request received', url: '/nope' }),
        expect.objectContaining({ level: 30, msg: 'request completed', url: '/nope', status: 404 }),
      ]);
      // A probe's line is at debug, which this logger writes.
      expect(of(probe.headers['x-request-id'])).toEqual([
        expect.objectContaining({ level: 20, msg: 'request received' }),
        expect.objectContaining({ level: 20, msg: 'request completed', url: '/healthz' }),
      ]);
      expect(of(tax.headers['x-request-id'])).toEqual([
        expect.objectContaining({ level: 20, msg: 'request received' }),
        expect.objectContaining({
          msg: 'tax computed',
          module: 'tax',
          user: 'admin',
          params: { married: 'no', children: '0', salary: '30000' },
          result: expect.objectContaining({ tax: expect.any(Number) as unknown }) as unknown,
        }),
      ]);
    } finally {
      await t.close();
    }
  });
});

describe('log rotation', () => {
  it('reopens the log file on SIGHUP, so a renamed file stops growing and a new one starts', async () => {
    const { renameSync } = await import('node:fs');
    const { startServerProcess } = await import('./process.js');
    const dir = tempDir();
    const logFile = path.join(dir, 'agora.log');
    const server = await startServerProcess(['--data-dir', dir, '--log-file', logFile]);
    await fetch(`${server.url}/before-rotation`);
    await server.waitForLog(/^request completed$/, { url: '/before-rotation' });
    renameSync(logFile, `${logFile}.1`);
    server.child.kill('SIGHUP');
    await server.waitForLog(/^log files reopened$/);
    await fetch(`${server.url}/after-rotation`);
    await server.waitForLog(/^request completed$/, { url: '/after-rotation' });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const rotated = readFileSync(`${logFile}.1`, 'utf8');
    const fresh = readFileSync(logFile, 'utf8');
    expect(rotated).toContain('/before-rotation');
    expect(rotated).not.toContain('/after-rotation');
    expect(fresh).toContain('/after-rotation');
    expect(fresh).toContain('log files reopened');
  });
});

describe('errors in log lines', () => {
  it('never carry a driver’s SQL, parameter values or client, and keep messages short', async () => {
    const dir = tempDir();
    const logFile = path.join(dir, 'agora.log');
    const logger = fileLogger(logFile);
    const blob = 'ff'.repeat(100_000);
    const err = Object.assign(new Error(`Got a packet bigger than allowed near X'${blob}'`), {
      code: 'ER_NET_PACKET_TOO_LARGE',
      sql: `insert into agora_blobs (data) values (X'${blob}')`,
      sqlMessage: 'Got a packet bigger than allowed',
      parameters: [Buffer.from(blob)],
      cause: Object.assign(new Error('inner'), { sql: `select ${blob}`, client: { secretKey: 7 } }),
    });
    logger.error({ err }, 'request failed');
    await flushed(logger);
    const text = readFileSync(logFile, 'utf8');
    expect(text.length).toBeLessThan(8000);
    const line = JSON.parse(text) as { err: Record<string, unknown> & { cause: object } };
    expect(line.err).toMatchObject({ code: 'ER_NET_PACKET_TOO_LARGE', type: 'Error' });
    expect(line.err.message).toMatch(/^Got a packet bigger/);
    expect(String(line.err.message).length).toBeLessThanOrEqual(1001);
    for (const field of ['sql', 'sqlMessage', 'parameters'])
      expect(line.err).not.toHaveProperty(field);
    expect(line.err.cause).not.toHaveProperty('sql');
    expect(line.err.cause).not.toHaveProperty('client');
    expect(text).not.toContain('secretKey');
  });
});

describe('node id', () => {
  it('is on every line: the configured name, or host:pid', async () => {
    const dir = tempDir();
    const files = [path.join(dir, 'a.log'), path.join(dir, 'b.log')];
    const named = createLogger({
      node_id: 'eu-1',
      log_level: 'info',
      log_file: files[0]!,
      log_pretty: false,
      log_stdout: false,
    });
    const unnamed = fileLogger(files[1]!);
    named.info('hello');
    unnamed.info('hello');
    for (const logger of [named, unnamed]) await flushed(logger);
    const [a, b] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { node: string });
    expect(a?.node).toBe('eu-1');
    expect(b?.node).toBe(`${hostname()}:${process.pid}`);
  });
});
