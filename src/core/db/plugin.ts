/**
 * The database plugin: `app.db` (Kysely) and `app.database` (dialect, readiness probe), destroyed
 * when the app closes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database, DatabaseHandle } from './index.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    database: DatabaseHandle;
  }
}

async function databasePlugin(
  app: FastifyInstance,
  options: { handle: DatabaseHandle },
): Promise<void> {
  app.decorate('db', options.handle.db);
  app.decorate('database', options.handle);
  app.addHook('onClose', async () => {
    await options.handle.destroy();
  });
}

export default fp(databasePlugin, { name: 'agora-db', fastify: '5.x' });
