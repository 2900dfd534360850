/**
 * WAL checkpoints of an SQLite file, on a worker thread with its own connection.
 *
 * SQLite checkpoints on the connection that commits, once the WAL passes 1,000 pages: the commit
 * that crosses the line copies the WAL into the database and fsyncs both, on the event loop. On
 * ext4 that fsync also waits for every block other files allocated meanwhile (image blobs, say),
 * and stalls of a second or more were measured under uploads. Here the serving connection never
 * checkpoints (`wal_autocheckpoint = 0`); a worker runs a PASSIVE checkpoint every `intervalMs`,
 * which neither waits for nor blocks readers and writers. Should the worker fail, the serving
 * connection checkpoints for itself again.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import type { FastifyBaseLogger } from 'fastify';

/** What one checkpoint did, in WAL frames (pages). */
export interface CheckpointResult {
  /** 1 when another checkpoint was running. */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied into the database so far. */
  checkpointed: number;
}

export interface Checkpointer {
  /** Runs a checkpoint now (besides the periodic ones) and says what it did. */
  now(): Promise<CheckpointResult>;
  close(): Promise<void>;
}

/** SQLite's own threshold, restored on the serving connection if the worker fails. */
const AUTO_CHECKPOINT_PAGES = 1000;

// CommonJS, evaluated by the worker: no file of its own, so it runs the same from `dist/` and
// from the TypeScript sources under test.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.location, { timeout: workerData.busyTimeoutMs });
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
const timer = setInterval(() => {
  try {
    const result = checkpoint();
    if (result.log > 0) parentPort.postMessage({ type: 'checkpointed', result });
  } catch (err) {
    parentPort.postMessage({ type: 'failed', message: String(err && err.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message.type === 'now') {
    try {
      parentPort.postMessage({ type: 'done', id: message.id, result: checkpoint() });
    } catch (err) {
      parentPort.postMessage({ type: 'done', id: message.id, error: String(err && err.message) });
    }
  } else if (message.type === 'close') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

type FromWorker =
  | { type: 'failed'; message: string }
  | { type: 'checkpointed'; result: CheckpointResult }
  | { type: 'done'; id: number; result?: CheckpointResult; error?: string };

export function startCheckpointer(options: {
  /** The serving connection: its automatic checkpoints are turned off while the worker runs. */
  database: SQLite.Database;
  location: string;
  intervalMs: number;
  busyTimeoutMs: number;
  logger: FastifyBaseLogger;
  /** Told of each periodic checkpoint that found frames in the WAL. */
  onCheckpoint?: (result: CheckpointResult) => void;
}): Checkpointer {
  const { database, logger } = options;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      location: options.location,
      intervalMs: options.intervalMs,
      busyTimeoutMs: options.busyTimeoutMs,
    },
  });
  // The worker never keeps the process alive: a command that forgets to close still exits.
  worker.unref();
  database.pragma('wal_autocheckpoint = 0');

  const waiting = new Map<
    number,
    { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }
  >();
  let nextId = 1;
  let closing = false;
  let failed = false;
  const fallBack = (reason: string): void => {
    if (failed || closing) return;
    failed = true;
    logger.error(
      { reason },
      'sqlite: the checkpoint worker failed; checkpoints run on commit again',
    );
    if (database.open) database.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    for (const { reject } of waiting.values()) reject(new Error(reason));
    waiting.clear();
  };

  worker.on('message', (message: FromWorker) => {
    if (message.type === 'failed') {
      logger.warn({ reason: message.message }, 'sqlite: a checkpoint failed');
      return;
    }
    if (message.type === 'checkpointed') {
      options.onCheckpoint?.(message.result);
      return;
    }
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.result) pending?.resolve(message.result);
    else pending?.reject(new Error(message.error ?? 'checkpoint failed'));
  });
  worker.on('error', (err) => {
    fallBack(err.message);
  });
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      if (!closing) fallBack(`the worker exited with code ${code}`);
      resolve();
    });
  });

  return {
    now() {
      if (failed || closing)
        return Promise.reject(new Error('the checkpoint worker is not running'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ type: 'now', id });
      });
    },
    async close() {
      if (closing) return exited;
      closing = true;
      // Referenced again while it finishes: otherwise nothing may keep the process waiting.
      worker.ref();
      worker.postMessage({ type: 'close' });
      await exited;
    },
  };
}
