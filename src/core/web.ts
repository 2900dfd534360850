/**
 * The web shell: the Vite-built pages in `dist/web` and `/api/info`, which the landing page
 * reads to list the enabled modules.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Type, type Static } from 'typebox';

export const Info = Type.Object({
  name: Type.Literal('agora'),
  version: Type.String(),
  docs: Type.String(),
  modules: Type.Array(
    Type.Object({
      name: Type.String(),
      title: Type.String(),
      description: Type.String(),
      prefix: Type.String(),
      page: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});
export type Info = Static<typeof Info>;

/**
 * What API clients (not browsers) get at `GET /` when no module is mounted there: a module may
 * offer it (an original service's status answer). Browsers keep the landing page.
 */
export type RootAnswer = (request: FastifyRequest, reply: FastifyReply) => unknown;

declare module 'fastify' {
  interface FastifyInstance {
    /** Offers the answer to API clients at `GET /`; the last offer wins. */
    offerRootAnswer(answer: RootAnswer): void;
    /** The answer offered, if any. */
    rootAnswer(): RootAnswer | null;
  }
}

/** Registered before the modules, so they can offer a root answer. */
export const rootAnswers = fp(
  async (app: FastifyInstance) => {
    const offered: { answer: RootAnswer | null } = { answer: null };
    app.decorate('offerRootAnswer', (answer: RootAnswer) => {
      offered.answer = answer;
    });
    app.decorate('rootAnswer', () => offered.answer);
  },
  { name: 'agora-root-answers', fastify: '5.x' },
);

/** Built pages live in `<project>/dist/web`, whether we run from `src/` (tsx) or `dist/`. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export interface WebOptions {
  info: Info;
  root?: string;
}

async function webPlugin(app: FastifyInstance, options: WebOptions): Promise<void> {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.get(
    '/api/info',
    {
      schema: {
        tags: ['core'],
        summary: 'This server and its enabled modules',
        response: { 200: Info },
      },
    },
    () => options.info,
  );

  const root = options.root ?? WEB_ROOT;
  if (!existsSync(root)) {
    app.log.warn({ root }, 'web pages are not built (run `npm run build`); serving the API only');
    return;
  }
  // Only files that exist get routes (no wildcard), so unknown paths still reach the JSON 404.
  // A module mounted at `/` (tax, for the original client) keeps `/`; the landing page then
  // stays reachable at /index.html.
  const rootTaken = app.hasRoute({ method: 'GET', url: '/' });
  const answer = rootTaken ? null : app.rootAnswer();
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: rootTaken || answer ? false : ['index.html'],
    cacheControl: true,
    maxAge: '1h',
    // The build writes .br and .gz next to each text file: sent as they are, never compressed
    // per request.
    preCompressed: true,
    setHeaders(reply, filePath) {
      // Hashed assets never change; pages must be revalidated to pick up new builds. (The file
      // sent may be the page's `.br` or `.gz`.)
      const file = filePath.replace(/\.(br|gz)$/, '');
      if (file.includes('/assets/'))
        void reply.header('cache-control', 'public, max-age=31536000, immutable');
      else if (file.endsWith('.html')) void reply.header('cache-control', 'no-cache');
    },
  });
  if (answer) {
    app.get('/', { schema: { hide: true } }, (request, reply) =>
      (request.headers.accept ?? '').includes('text/html')
        ? reply.header('cache-control', 'no-cache').sendFile('index.html')
        : answer(request, reply),
    );
  }
  // The API reference, at the address the landing page and `/api/info` give.
  // With indexes on, the static files already serve it at `/docs/` (and so `/docs`: trailing
  // slashes are ignored).
  if ((rootTaken || answer) && existsSync(path.join(root, 'docs/index.html'))) {
    app.get('/docs', { schema: { hide: true } }, (_request, reply) =>
      reply.header('cache-control', 'no-cache').sendFile('docs/index.html'),
    );
  }
  // Browsers ask for /favicon.ico on every page that names no icon; answer with ours.
  if (existsSync(path.join(root, 'favicon.svg'))) {
    app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
      reply
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .sendFile('favicon.svg'),
    );
  }
}

export default fp(webPlugin, { name: 'agora-web', fastify: '5.x' });
