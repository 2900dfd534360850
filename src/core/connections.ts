/**
 * Client connections that cost a descriptor and give nothing back: the default cap on how many
 * may be open (below the process's open-files limit), and the closing of those that never send.
 */
import { readFileSync } from 'node:fs';
import {
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';

/** Descriptors kept for everything but client connections: files, databases, threads, logs. */
const RESERVED_DESCRIPTORS = 64;

/**
 * The soft limit of open files, from `/proc/self/limits` (Linux); null where it cannot be read
 * or is unlimited.
 */
export function openFilesLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m?.[1] || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/**
 * The default `http.max_connections`: 90 % of the open-files limit, less a reserve; `Infinity`
 * (Node's default, no limit) where the limit is unknown.
 */
export function connectionLimit(files = openFilesLimit()): number {
  if (files === null) return Infinity;
  return Math.max(16, Math.floor(files * 0.9) - RESERVED_DESCRIPTORS);
}

/**
 * Closes every connection that has sent nothing at all `ms` after it was opened. Node's
 * `headersTimeout` starts with the first byte of a request: a connection that sends none is held
 * until the client goes, however many of them pile up.
 */
export function closeSilentConnections(server: Server, ms: number): void {
  server.on('connection', (socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, ms);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
    });
  });
}

/** Set once the server closes or drains: from then on, every answer closes its connection. */
export interface ClosingFlag {
  now: boolean;
}

/**
 * Node's `ServerResponse`, except that once `closing.now` every answer says `Connection: close`
 * and Node closes the connection after it. Decided as the head is written, so that the answer to
 * a request that arrived before closing started says it too: a client (a proxy) told so sends its
 * next request on a new connection, to another node once this one stops, rather than on this one
 * as it closes. Checked here rather than in an `onSend` hook, which every answer would pay for.
 * (`app.inject` makes its own responses: this is about connections, which it has none of.)
 */
export function closingAwareResponse(closing: ClosingFlag): typeof ServerResponse {
  return class ClosingAwareResponse<
    Request extends IncomingMessage = IncomingMessage,
  > extends ServerResponse<Request> {
    // Node's two forms: (status, headers) and (status, message, headers).
    override writeHead(
      statusCode: number,
      messageOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
      headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
    ): this {
      if (closing.now) this.shouldKeepAlive = false;
      return typeof messageOrHeaders === 'string' || messageOrHeaders === undefined
        ? super.writeHead(statusCode, messageOrHeaders, headers)
        : super.writeHead(statusCode, messageOrHeaders);
    }
  };
}
