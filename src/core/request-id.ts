/**
 * Request ids and the headers every answer carries: `X-Request-Id` on every response (a
 * well-formed incoming id is reused so a request can be followed across a proxy or another
 * service, anything else is replaced), and `Connection: close` once the server is closing.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ClosingFlag } from './connections.js';
import { isForwarded, UNTRUSTED_PROXY_WARNING } from './proxy.js';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Fastify's `genReqId`: the incoming id when it is safe to log and echo, else a fresh UUID.
 * Either way the id needs no escaping inside a JSON string or a header.
 */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}

declare module 'fastify' {
  interface FastifyInstance {
    /** True once the node drains before stopping (SIGTERM): /readyz answers 503. */
    readonly draining: boolean;
    /** Starts draining: /readyz turns 503 and every answer says `Connection: close`. */
    startDraining(): void;
  }
}

async function requestIdPlugin(
  app: FastifyInstance,
  options: { closing: ClosingFlag },
): Promise<void> {
  // Node closes idle keep-alive connections once, when closing starts; a connection whose request
  // finishes later would stay open until the shutdown timeout. Tell those clients to go. While
  // draining too: a proxy that kept a connection idle could send on it just as it closes (a 502
  // for a POST); told to close, it opens a new one, to another node once this one stops. The
  // answers' `Connection: close` is written by the app's ServerResponse (`closingAwareResponse`),
  // as each head is written.
  const { closing } = options;
  let draining = false;
  app.addHook('preClose', async () => {
    closing.now = true;
  });
  app.decorate('draining', {
    getter: () => draining,
  });
  app.decorate('startDraining', () => {
    draining = true;
    closing.now = true;
  });
  // As each request starts (not from a hook: see request-events.ts), so that every answer sent
  // through Fastify carries the id, errors and 404s included; a route that takes over the
  // response (`reply.hijack()`, as SSE does) writes the id itself.
  // A proxy Agora was not told to trust makes every client look like the proxy (admin guard,
  // bans, login limits): say so once. After the warning (or with trust_proxy set) it costs one
  // boolean.
  let warnUntrustedProxy = app.config.trust_proxy.length === 0;
  app.requestEvents.onIncoming((request, reply) => {
    void reply.header('x-request-id', request.id);
    if (warnUntrustedProxy && isForwarded(request.headers)) {
      warnUntrustedProxy = false;
      app.log.warn({ peer: request.socket.remoteAddress }, UNTRUSTED_PROXY_WARNING);
    }
  });
}

export default fp(requestIdPlugin, {
  name: 'agora-request-id',
  fastify: '5.x',
  decorators: { fastify: ['config', 'requestEvents'] },
});
