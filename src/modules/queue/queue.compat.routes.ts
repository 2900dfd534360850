/**
 * The original web client's routes (Cats Queue Management System): they keep its 200 statuses
 * and its `{status}` answers, and the token's secret in a cookie, since that client has none.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isRecord } from '../../core/validation.js';
import { CODE_PATTERN } from './queue.codes.js';
import { KITTY_SCRIPT, KITTY_STYLE } from './queue.compat.page.js';
import { QueueErrors } from './queue.errors.js';
import { createLegacyBoard } from './queue.legacy.js';
import { acceptForms, type QueueRouteOptions } from './queue.routes.js';
import { QUEUE_TOPIC } from './queue.service.js';

/**
 * The compatibility routes keep the secrets in a cookie, since the original client has none:
 * every token this browser took (two tabs, a double click), newest last, so any of them can be
 * claimed. HttpOnly: the page's scripts never see a secret.
 */
const COOKIE = 'agora_queue';
/** Tokens one browser keeps; older ones have ended long before this many are taken. */
const KEPT = 16;

type Owned = Map<string, string>;

function cookieOf(request: FastifyRequest): Owned {
  const owned: Owned = new Map();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, value = ''] = part.trim().split('=');
    if (name !== COOKIE) continue;
    let text = '';
    try {
      text = decodeURIComponent(value);
    } catch {
      // A cookie mangled by something else: as if there were none.
    }
    for (const pair of text.split('~')) {
      const [code = '', secret = ''] = pair.split('.');
      if (CODE_PATTERN.test(code) && /^[\w-]{1,64}$/.test(secret)) owned.set(code, secret);
    }
  }
  return owned;
}

function cookieWith(owned: Owned, code: string, secret: string, path: string): string {
  owned.delete(code);
  owned.set(code, secret);
  const kept = [...owned].slice(-KEPT).map(([c, s]) => `${c}.${s}`);
  return `${COOKIE}=${encodeURIComponent(kept.join('~'))}; Path=${path}; HttpOnly; SameSite=Lax`;
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
        cookieWith(cookieOf(_request), outcome.token, outcome.secret, prefix || '/'),
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
      // No code at all is a malformed request (the original answered 500), not a cheat.
      if (typeof field !== 'string' || field.trim() === '') throw QueueErrors.badForm();
      const code = field.trim().toUpperCase();
      const secret = cookieOf(request).get(code) ?? '';
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
        case 'ended':
          return { status: 'ended' };
      }
    },
  );

  routes.get(
    '/update',
    {
      config: { quietLog: true },
      schema: {
        tags: ['queue'],
        summary: "Compatibility: the live board in the original's lines",
        description:
          'Unnamed messages: `update-append <code> <position>` for the whole line on connect ' +
          'and for each new token, `update-remove` when the first leaves; any other change is ' +
          'sent as every token removed, then the line again.',
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' } },
      },
    },
    async (request, reply) => {
      await app.realtime.openEventStream(request, reply, {
        topics: [QUEUE_TOPIC],
        // Events delivered while the line is read follow it (the board skips what it shows).
        frames: async () => {
          const board = createLegacyBoard(await service.line());
          return { first: board.start(), event: (e) => board.event(e) };
        },
      });
    },
  );

  routes.get('/static/kitty.js', { schema: { hide: true } }, (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(KITTY_SCRIPT),
  );
  routes.get('/static/kitty.css', { schema: { hide: true } }, (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(KITTY_STYLE),
  );

  routes.get(
    '/start-delay',
    { schema: { tags: ['queue'], summary: 'Compatibility: a no-op (nothing needs restarting)' } },
    async (_request, reply) => reply.code(204).send(),
  );
}
