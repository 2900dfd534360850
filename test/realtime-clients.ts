/**
 * Minimal SSE and WebSocket clients for tests: they collect what arrives and let a test await
 * "n events received" instead of sleeping.
 */
import http from 'node:http';
import WebSocket from 'ws';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface Collector<T> {
  items: T[];
  /** Resolves once `n` items have arrived (rejects if the stream ends first). */
  until: (n: number) => Promise<T[]>;
}

function collector<T>(): Collector<T> & { push(item: T): void; end(err?: Error): void } {
  const items: T[] = [];
  let waiters: { n: number; resolve: (v: T[]) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | null = null;
  return {
    items,
    push(item) {
      items.push(item);
      const ready = waiters.filter((w) => items.length >= w.n);
      waiters = waiters.filter((w) => items.length < w.n);
      for (const w of ready) w.resolve(items);
    },
    end(err) {
      ended = err ?? new Error(`stream ended after ${items.length} items`);
      for (const w of waiters) w.reject(ended);
      waiters = [];
    },
    until(n) {
      if (items.length >= n) return Promise.resolve(items);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiters.push({ n, resolve, reject }));
    },
  };
}

export interface SseClient extends Collector<SseFrame> {
  response: Promise<http.IncomingMessage>;
  /** Resolves when the server ends the stream. */
  closed: Promise<void>;
  close(): void;
}

/** Opens an SSE stream; frames with an `event` listed in `ignore` are not collected. */
export function openSse(
  url: string,
  headers: Record<string, string> = {},
  ignore = ['subscribed'],
): SseClient {
  const c = collector<SseFrame>();
  let req: http.ClientRequest | undefined;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      resolve(res);
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const frame: SseFrame = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') frame.id = value;
            else if (field === 'event') frame.event = value;
            else if (field === 'data') {
              frame.data += (hasData ? '\n' : '') + value;
              hasData = true;
            }
          }
          if (hasData && !ignore.includes(frame.event)) c.push(frame);
        }
      });
      res.on('end', () => {
        c.end();
        resolveClosed();
      });
      res.on('close', () => {
        c.end();
        resolveClosed();
      });
    });
    req.on('error', (err) => {
      reject(err);
      c.end(err);
      resolveClosed();
    });
  });
  return {
    items: c.items,
    until: c.until,
    response,
    closed,
    close() {
      req?.destroy();
    },
  };
}

export interface WsMessage {
  op: string;
  [key: string]: unknown;
}

export interface WsClient extends Collector<WsMessage> {
  socket: WebSocket;
  opened: Promise<void>;
  /** Resolves with the close code. */
  closed: Promise<number>;
  send(message: object): void;
  /** Messages other than events (subscribed, error, pong…). */
  control: Collector<WsMessage>;
}

export function openWs(url: string): WsClient {
  const events = collector<WsMessage>();
  const control = collector<WsMessage>();
  const socket = new WebSocket(url);
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => {
    socket.once('close', (code) => {
      events.end();
      control.end();
      resolve(code);
    });
  });
  socket.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString()) as WsMessage;
    if (message.op === 'event') events.push(message);
    else control.push(message);
  });
  return {
    items: events.items,
    until: events.until,
    socket,
    opened,
    closed,
    control,
    send(message) {
      socket.send(JSON.stringify(message));
    },
  };
}
