/**
 * The OpenAPI document, generated from every route's TypeBox schemas, at `/openapi.json`
 * (made once, sent gzipped to clients that accept it, revalidated by ETag); the console's
 * reference page at `/docs` reads it. Registered before any route so every route is collected.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface OpenApiOptions {
  version: string;
}

async function openapiPlugin(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Agora',
        version: options.version,
        description:
          'One service, several modules. Every response carries `X-Request-Id`; every error is JSON.',
      },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer' },
          basicAuth: { type: 'http', scheme: 'basic' },
        },
      },
    },
  });
  // The routes are all known once the server is ready: the document is made then, once.
  let made: { json: string; gzip: Buffer; etag: string } | undefined;
  const document = (): { json: string; gzip: Buffer; etag: string } => {
    if (!made) {
      const json = JSON.stringify(app.swagger());
      const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
      made = { json, gzip: gzipSync(json), etag };
    }
    return made;
  };
  app.get('/openapi.json', { schema: { hide: true } }, (request, reply) => {
    const doc = document();
    void reply
      .type('application/json; charset=utf-8')
      .header('etag', doc.etag)
      .header('cache-control', 'no-cache')
      .header('vary', 'accept-encoding');
    if (request.headers['if-none-match'] === doc.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? ''))
      return reply.header('content-encoding', 'gzip').send(doc.gzip);
    return reply.send(doc.json);
  });
}

export default fp(openapiPlugin, { name: 'agora-openapi', fastify: '5.x' });
