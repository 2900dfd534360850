/**
 * The queue's HTTP API: the REST routes with real statuses, the live board over SSE and admin
 * bans. The original web client's routes are in queue.compat.routes.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody } from '../../core/errors.js';
import { modulePage } from '../../core/pages.js';
import { QUEUE_TOPIC, type QueueService } from './queue.service.js';
import { isRecord } from '../../core/validation.js';
import { Board, Claimed, IssuedToken, TokenParams } from './queue.schemas.js';
import { QueueErrors } from './queue.errors.js';
import { sendKittyPage } from './queue.compat.page.js';

export interface QueueRouteOptions {
  service: QueueService;
  /** The original's profile: its page (a stand-in) at the queue's root for every client but JSON ones. */
  compat?: boolean;
}

/** The secret from the JSON body or the `X-Token-Secret` header. */
function secretOf(request: FastifyRequest): string {
  const header = request.headers['x-token-secret'];
  if (typeof header === 'string' && header !== '') return header;
  const body: unknown = request.body;
  return isRecord(body) && typeof body.secret === 'string' ? body.secret : '';
}

/** Forms (the original client posts one; a claim may send its secret so too), as an object. */
export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
}

export const BOARD_STREAM_SCHEMA = {
  tags: ['queue'],
  summary: 'The live board: `snapshot` on connect, then every change; Last-Event-ID resumes',
  produces: ['text/event-stream'],
  response: { 200: { type: 'string', description: 'text/event-stream' } },
};

/** The live board over SSE: a `snapshot`, then every change. */
export function boardStream(
  app: FastifyInstance,
  service: QueueService,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    await app.realtime.openEventStream(request, reply, {
      topics: [QUEUE_TOPIC],
      ...app.realtime.resumeCursor(request),
      prelude: async () => [{ event: 'snapshot', data: await service.board() }],
    });
  };
}

export async function queueRoutes(
  app: FastifyInstance,
  { service, compat = false }: QueueRouteOptions,
): Promise<void> {
  acceptForms(app);
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post(
    '/tokens',
    {
      schema: {
        tags: ['queue'],
        summary: 'Take a token: its code, its secret (shown once), position and estimated wait',
        response: {
          201: IssuedToken,
          403: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const outcome = await service.issue(request.ip);
      if (outcome.kind === 'banned') throw QueueErrors.banned(outcome.until);
      if (outcome.kind === 'full') {
        throw QueueErrors.full(outcome.retryAfterS);
      }
      return reply.code(201).send({
        token: outcome.token,
        secret: outcome.secret,
        position: outcome.position,
        estimated_wait_s: outcome.estimatedWaitS,
      });
    },
  );

  routes.get(
    '/tokens/:token',
    {
      schema: {
        tags: ['queue'],
        summary:
          "A token's state (waiting/head/serving/used/expired/left), position, deadline and estimated wait",
        params: TokenParams,
        response: {
          200: Type.Object({
            token: Type.String(),
            state: Type.String(),
            position: Type.Union([Type.Integer(), Type.Null()]),
            deadline: Type.Union([Type.String(), Type.Null()]),
            estimated_wait_s: Type.Union([Type.Integer(), Type.Null()], {
              description: 'waiting: seconds until its turn starts at the latest; head: 0',
            }),
          }),
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const status = await service.status(request.params.token);
      if (!status) throw QueueErrors.tokenNotFound(request.params.token);
      const { estimatedWaitS, ...rest } = status;
      return { ...rest, estimated_wait_s: estimatedWaitS };
    },
  );

  routes.post(
    '/tokens/:token/claim',
    {
      schema: {
        tags: ['queue'],
        summary: 'Claim the picture on your turn (secret in the body or X-Token-Secret)',
        description:
          '425 with Retry-After when it is not your turn (no penalty); 403 and a ban for a code ' +
          'that is not live or a wrong secret; 410 for your own token once it has ended (no ' +
          'ban); 409 when the line is empty.',
        params: TokenParams,
        response: {
          200: Claimed,
          403: ErrorBody,
          409: ErrorBody,
          410: ErrorBody,
          425: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request) => {
      const outcome = await service.claim(request.params.token, secretOf(request), request.ip);
      switch (outcome.kind) {
        case 'claimed':
          return {
            image_url: outcome.imageUrl,
            view_until: new Date(outcome.viewUntil).toISOString(),
          };
        case 'not-your-turn':
          throw QueueErrors.notYourTurn(outcome.position, outcome.retryAfterS);
        case 'empty':
          throw QueueErrors.empty();
        case 'cheater':
          throw QueueErrors.cheater(outcome.reason);
        case 'banned':
          throw QueueErrors.banned(outcome.until);
        case 'no-picture':
          throw QueueErrors.noPicture();
        case 'ended':
          throw QueueErrors.tokenEnded(request.params.token);
      }
    },
  );

  routes.delete(
    '/tokens/:token',
    {
      schema: {
        tags: ['queue'],
        summary: 'Leave the line (the owner: secret in the body or X-Token-Secret)',
        description:
          'Never bans: 403 for a wrong secret or a code not in play, 410 for your own token ' +
          'once it has ended.',
        params: TokenParams,
        response: { 204: Type.Null(), 403: ErrorBody, 410: ErrorBody },
      },
    },
    async (request, reply) => {
      const outcome = await service.leave(request.params.token, secretOf(request), request.ip);
      switch (outcome.kind) {
        case 'banned':
          throw QueueErrors.banned(outcome.until);
        case 'not-owner':
          throw QueueErrors.notOwner(outcome.reason);
        case 'ended':
          throw QueueErrors.tokenEnded(request.params.token);
        case 'left':
          return reply.code(204).send(null);
      }
    },
  );

  const page = modulePage('queue');
  routes.get(
    '/',
    {
      schema: {
        tags: ['queue'],
        summary: 'The board: head, serving, the next 64 codes and the length of the line',
        description:
          'A browser opening the bare URL gets the web page. In the compatibility profile ' +
          "(queue.compat) every client but those that accept JSON gets the original's page.",
        response: { 200: Board },
      },
    },
    async (request, reply) => {
      if (compat) {
        if (!(request.headers.accept ?? '').includes('application/json')) {
          return sendKittyPage(reply, app.prefix);
        }
      } else if (page.wanted(request)) return page.send(reply);
      return service.board();
    },
  );

  // Mounted at the root, `/events` is the core's stream (with `?topics=queue`).
  if (app.prefix !== '') {
    routes.get(
      '/events',
      { config: { quietLog: true }, schema: BOARD_STREAM_SCHEMA },
      boardStream(app, service),
    );
  }

  routes.get(
    '/bans',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['queue'],
        summary: 'Bans in force (admin)',
        security: [{ adminToken: [] }],
        response: {
          200: Type.Array(
            Type.Object({
              ip: Type.String(),
              reason: Type.String(),
              created_at: Type.String(),
              expires_at: Type.String(),
            }),
          ),
        },
      },
    },
    () => service.bans(),
  );

  routes.delete(
    '/bans/:ip',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['queue'],
        summary: 'Lift a ban (admin)',
        security: [{ adminToken: [] }],
        params: Type.Object({ ip: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), 404: ErrorBody },
      },
    },
    async (request, reply) => {
      if (!(await service.unban(request.params.ip))) {
        throw QueueErrors.banNotFound(request.params.ip);
      }
      return reply.code(204).send(null);
    },
  );
}
