/**
 * The thread that runs password hashing (scrypt) for credential checks.
 *
 * `crypto.scrypt` runs on libuv's thread pool — four threads, shared with every file operation
 * of the process (the fs blob store's reads included). A flood of wrong passwords at 50/s filled
 * it, and image GETs went from 8 ms to 2 s. Here the checks run one at a time on a thread of
 * their own: the pool stays free for everyone else, and a flood only ever delays other logins.
 * At most `queue` checks wait; past that a check is refused at once (the caller answers 503).
 */
import { Buffer } from 'node:buffer';
import type { ScryptOptions } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** A key derivation with `crypto.scrypt`'s arguments. */
export type Derive = (
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
) => Promise<Buffer>;

export interface Hasher {
  derive: Derive;
  close(): Promise<void>;
}

/** Too many checks are waiting already. */
export class HasherBusy extends Error {
  override name = 'HasherBusy';
}

// CommonJS evaluated by the worker: no file of its own, so it runs the same from `dist/` and
// from the TypeScript sources under test.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', ({ id, password, salt, length, options }) => {
  try {
    const key = scryptSync(password, Buffer.from(salt), length, options);
    parentPort.postMessage({ id, key: key.buffer.slice(key.byteOffset, key.byteOffset + key.length) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message) });
  }
});
`;

type Answer = { id: number } & ({ key: ArrayBuffer } | { error: string });

interface Pending {
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

/** One hashing thread, started at the first check; it never keeps the process alive when idle. */
export function createHasher(options: { queue: number }): Hasher {
  let worker: Worker | null = null;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;

  const start = (): Worker => {
    const w = new Worker(SOURCE, { eval: true });
    w.unref();
    const fail = (reason: string): void => {
      if (worker !== w) return;
      worker = null;
      for (const p of pending.values())
        p.reject(new Error(`the hashing thread stopped: ${reason}`));
      pending.clear();
    };
    w.on('message', (answer: Answer) => {
      const p = pending.get(answer.id);
      if (!p) return;
      pending.delete(answer.id);
      if (pending.size === 0) w.unref();
      if ('error' in answer) p.reject(new Error(answer.error));
      else p.resolve(Buffer.from(answer.key));
    });
    w.on('error', (err) => {
      fail(err.message);
    });
    w.on('exit', (code) => {
      fail(`exit code ${code}`);
    });
    return w;
  };

  return {
    derive(password, salt, length, scryptOptions) {
      if (closed) return Promise.reject(new Error('the hasher is closed'));
      // One check runs; `queue` more may wait.
      if (pending.size > options.queue) {
        return Promise.reject(new HasherBusy('too many credential checks are waiting'));
      }
      worker ??= start();
      const w = worker;
      const id = nextId++;
      return new Promise<Buffer>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (pending.size === 1) w.ref();
        w.postMessage({ id, password, salt: new Uint8Array(salt), length, options: scryptOptions });
      });
    },
    async close() {
      closed = true;
      const w = worker;
      worker = null;
      for (const p of pending.values()) p.reject(new Error('the hasher is closed'));
      pending.clear();
      if (w) await w.terminate();
    },
  };
}
