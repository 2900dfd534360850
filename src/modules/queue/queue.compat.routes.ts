/**
 * The original web client's routes (Cats Queue Management System): they keep its 200 statuses
 * and its `{status}` answers, and the token's secret in a cookie, since that client has none.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isRecord } from '../../core/validation.js';
import {
  acceptForms,
  BOARD_STREAM_SCHEMA,
  boardStream,
  type QueueRouteOptions,
} from './queue.routes.js';

/** The compatibility routes keep the secret in a cookie, since the original client has none. */
const COOKIE = 'agora_queue';

function cookieOf(request: FastifyRequest): { code: string; secret: string } | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, value = ''] = part.trim().split('=');
    if (name !== COOKIE) continue;
    const [code = '', secret = ''] = decodeURIComponent(value).split('.');
    return { code, secret };
  }
  return null;
}

export async function queueCompatRoutes(
  app: FastifyInstance,
  { service }: QueueRouteOptions,
): Promise<void> {
  acceptForms(app);
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = app.prefix;

  routes.get(
    '/get-token',
    { schema: { tags: ['queue'], summary: 'Compatibility: take a token ({status, token})' } },
    async (_request, reply) => {
      const outcome = await service.issue(_request.ip);
      if (outcome.kind === 'banned') return { status: 'banned' };
      if (outcome.kind === 'full') return { status: 'full' };
      void reply.header(
        'set-cookie',
        `${COOKIE}=${encodeURIComponent(`${outcome.token}.${outcome.secret}`)}; Path=${prefix || '/'}; HttpOnly; SameSite=Lax`,
      );
      return { status: 'ok', token: outcome.token };
    },
  );

  routes.post(
    '/post-token',
    { schema: { tags: ['queue'], summary: 'Compatibility: claim (form field token-field)' } },
    async (request) => {
      const body: unknown = request.body;
      const field = isRecord(body) ? body['token-field'] : undefined;
      const code = typeof field === 'string' ? field.trim().toUpperCase() : '';
      const cookie = cookieOf(request);
      const secret = cookie?.code === code ? cookie.secret : '';
      const outcome = await service.claim(code, secret, request.ip);
      switch (outcome.kind) {
        case 'claimed':
          return { status: 'success', image_url: outcome.imageUrl };
        case 'not-your-turn':
          return { status: 'wrong_turn' };
        case 'empty':
          return { status: 'db_empty' };
        case 'cheater':
          return { status: 'cheater' };
        case 'banned':
          return { status: 'banned' };
        case 'no-picture':
          return { status: 'wrong_turn' };
      }
    },
  );

  routes.get(
    '/update',
    {
      config: { quietLog: true },
      schema: { ...BOARD_STREAM_SCHEMA, summary: 'Compatibility: the event stream' },
    },
    boardStream(app, service),
  );

  routes.get(
    '/start-delay',
    { schema: { tags: ['queue'], summary: 'Compatibility: a no-op (nothing needs restarting)' } },
    async (_request, reply) => reply.code(204).send(),
  );
}
