/**
 * A deliberately misbehaving upstream for the `http` source: each mode answers in its own bad
 * (or slow but good) way, counts the calls it gets, and lets a test await the close of the
 * connection a call came on.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';

export type UpstreamMode =
  | 'ok'
  | 'slow'
  | 'hang'
  | 'truncated-chunked'
  | 'truncated-length'
  | 'malformed'
  | 'unclosed'
  | 'status-500'
  | 'huge';

export interface TestUpstream {
  url: string;
  mode: UpstreamMode;
  /** Calls received so far. */
  calls: number;
  /** The connection of the latest call. */
  lastSocket: Socket | null;
  /** Resolves when the answer of `ok` / `slow` may be sent (lets a test hold calls in flight). */
  gate: Promise<void>;
  /** Resolves at the first call after `expectCall()`. */
  called: Promise<void>;
  expectCall(): void;
  close(): Promise<void>;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function startUpstream(): Promise<TestUpstream> {
  const sockets = new Set<Socket>();
  let onCall = (): void => undefined;
  const upstream: TestUpstream = {
    url: '',
    mode: 'ok',
    calls: 0,
    lastSocket: null,
    gate: Promise.resolve(),
    called: Promise.resolve(),
    expectCall() {
      upstream.called = new Promise((resolve) => {
        onCall = resolve;
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((req, res) => {
    upstream.calls++;
    upstream.lastSocket = req.socket;
    onCall();
    // A client that gives up resets the connection mid-answer: that is expected here.
    answer(upstream.mode, res).catch(() => undefined);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined); // clients that give up reset the connection
    s.once('close', () => sockets.delete(s));
  });

  async function answer(mode: UpstreamMode, res: ServerResponse): Promise<void> {
    switch (mode) {
      case 'ok':
        await upstream.gate;
        res.setHeader('content-type', 'application/json');
        res.end('[1,2,3]');
        return;
      case 'slow':
        // Valid, but in small chunks with pauses between them.
        await upstream.gate;
        res.setHeader('content-type', 'application/json');
        for (const piece of ['[', '1', '0,2', '0', ',', '3', '0]']) {
          res.write(piece);
          await tick();
          await tick();
        }
        res.end();
        return;
      case 'hang':
        return; // never answers
      case 'truncated-chunked':
        res.setHeader('content-type', 'application/json');
        res.write('[1,2,3,');
        await tick();
        res.socket?.destroy();
        return;
      case 'truncated-length':
        res.setHeader('content-length', '100');
        res.write('[1,2,3,');
        await tick();
        res.socket?.destroy();
        return;
      case 'malformed':
        res.end('[1,2,"three"]');
        return;
      case 'unclosed':
        res.end('[1,2,3');
        return;
      case 'status-500':
        res.statusCode = 500;
        res.end('{"error":"boom"}');
        return;
      case 'huge': {
        // An endless array: the source must stop at its byte limit.
        res.write('[');
        const chunk = Buffer.from('1,'.repeat(32 * 1024));
        while (!res.destroyed) {
          if (!res.write(chunk)) await drainedOrClosed(res);
        }
        return;
      }
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  upstream.url = `http://127.0.0.1:${address.port}/list`;
  return upstream;
}

/** Waits for `drain` or `close`, and leaves no listener behind (a race of two `once` would). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
