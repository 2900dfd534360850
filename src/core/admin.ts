/**
 * The admin guard and the core's admin routes. With `admin_token` configured, admin routes need
 * `Authorization: Bearer <token>` (compared in constant time); without it, only loopback clients
 * (as seen through the trusted proxies) are admitted, and never a request forwarded by a proxy
 * that `trust_proxy` does not name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { redactConfig } from './config.js';
import { AppError, ErrorBody } from './errors.js';
import { isValidTopic } from './bus/types.js';
import { isForwarded } from './proxy.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** A `preHandler` for admin routes. */
    requireAdmin: (request: FastifyRequest) => Promise<void>;
  }
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** Constant-time check of a bearer header against the configured token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  // Compare digests: equal length whatever the input, so the timing says nothing about the token.
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}

export const adminSecurity = [{ adminToken: [] }];
export const AdminErrors = { 401: ErrorBody, 403: ErrorBody };

async function adminPlugin(app: FastifyInstance): Promise<void> {
  const token = app.config.admin_token;
  const trustsProxies = app.config.trust_proxy.length > 0;

  app.decorate('requireAdmin', async (request: FastifyRequest) => {
    if (token) {
      if (!bearerMatches(request.headers.authorization, token)) {
        throw new AppError('ADMIN_AUTH_REQUIRED', 401, 'admin token required', undefined, {
          'www-authenticate': 'Bearer realm="agora-admin"',
        });
      }
      return;
    }
    // Through a proxy Agora does not trust, the peer is the proxy: a loopback peer says nothing
    // about the client (behind nginx on this host, every remote client would pass).
    if (!trustsProxies && isForwarded(request.headers)) {
      throw new AppError(
        'ADMIN_FORWARDED',
        403,
        'this request came through a proxy and trust_proxy is not set: admin routes need the admin token',
      );
    }
    if (!isLoopback(request.ip)) {
      throw new AppError(
        'ADMIN_LOOPBACK_ONLY',
        403,
        'admin routes accept loopback clients only until admin_token is configured',
      );
    }
  });

  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.get(
    '/admin/config',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'The effective configuration, secrets masked',
        security: adminSecurity,
        response: { 200: Type.Record(Type.String(), Type.Unknown()), ...AdminErrors },
      },
    },
    () => redactConfig(app.config),
  );

  routes.post(
    '/admin/events',
    {
      preHandler: app.requireAdmin,
      bodyLimit: 64 * 1024,
      schema: {
        tags: ['admin'],
        summary: 'Publish an event on the bus (announcements, operations)',
        security: adminSecurity,
        body: Type.Object(
          {
            topic: Type.String({ minLength: 1, maxLength: 100 }),
            type: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$' }),
            data: Type.Optional(Type.Unknown()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ topic: Type.String(), offset: Type.Integer() }),
          400: ErrorBody,
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const { topic, type, data } = request.body;
      if (!isValidTopic(topic))
        throw new AppError('INVALID_TOPIC', 400, `invalid topic name: ${JSON.stringify(topic)}`);
      const event = await app.bus.publish(topic, type, data ?? null);
      return { topic: event.topic, offset: event.offset };
    },
  );
}

export default fp(adminPlugin, {
  name: 'agora-admin',
  fastify: '5.x',
  dependencies: ['agora-bus', 'agora-errors'],
  decorators: { fastify: ['config'] },
});
