/**
 * A module's web page (web/pages/<name>/, built to dist/web/pages/<name>/index.html), served by
 * the module's own routes: at its prefix, where the same URL is often the API too.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WEB_ROOT } from './web.js';

export interface ModulePage {
  /** Whether the page is built (the API runs without it: tests, `npm run dev`). */
  readonly built: boolean;
  /** A browser opening the bare URL: it asks for HTML and sends no parameters. */
  wanted(this: void, request: FastifyRequest): boolean;
  /** Sends the page, revalidated on every load so a new build is picked up. */
  send(this: void, reply: FastifyReply): FastifyReply;
}

export function modulePage(name: string, root: string = WEB_ROOT): ModulePage {
  const file = `pages/${name}/index.html`;
  const built = existsSync(path.join(root, file));
  return {
    built,
    wanted: (request) =>
      built && !request.url.includes('?') && (request.headers.accept ?? '').includes('text/html'),
    send: (reply) => reply.header('cache-control', 'no-cache').sendFile(file, root),
  };
}
