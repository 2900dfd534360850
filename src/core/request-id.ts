/**
 * Request ids: every response carries `X-Request-Id`; a well-formed incoming one is reused so a
 * request can be followed across a proxy or another service, anything else is replaced.
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** Fastify's `genReqId`: the incoming id when it is safe to log and echo, else a fresh UUID. */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}

async function requestIdPlugin(app: FastifyInstance): Promise<void> {
  // Callback-style hooks: on the hottest path, an async hook costs a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
}

export default fp(requestIdPlugin, { name: 'agora-request-id', fastify: '5.x' });
