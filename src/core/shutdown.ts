/**
 * The first step of a drain: no new connections, while those open go on being served.
 *
 * A proxy that cannot connect (the port refuses) sends the request to another node — even a
 * POST, since nothing was sent — and stops choosing this node (nginx: `max_fails`). Requests on
 * connections already open are answered, each with `Connection: close`, so the proxy opens no
 * more requests on them. Closing the listener later instead, while a proxy keeps opening
 * connections, resets those waiting in the kernel's accept queue after the proxy has sent its
 * request: for a POST nginx does not try another node, and answers 502.
 */
import type { Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';

/** Stops accepting connections, leaving open ones (idle keep-alive ones included) alone. */
export function stopAccepting(server: HttpServer): void {
  // http.Server#close would also close idle keep-alive connections at once: a proxy may be
  // sending a request on one at that very moment. Only the listener goes now; the connections
  // close after their next answer, or when the server closes at the end of the drain.
  NetServer.prototype.close.call(server);
}
