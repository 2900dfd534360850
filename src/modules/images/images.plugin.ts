/** The images module's server part: service, processing limiter, remote fetcher and routes. */
import os from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ModuleOptions, ModuleRuntime } from '../../core/module.js';
import type { ImagesApi } from './index.js';
import { imagesMigrations } from './migrations/index.js';
import type { ImagesConfig } from './images.config.js';
import { Limiter } from './images.process.js';
import { createRemoteFetcher } from './images.remote.js';
import { compatRoutes } from './images.compat.routes.js';
import { imagesRoutes } from './images.routes.js';
import { unwrap } from './images.errors.js';
import { createImagesService } from './images.service.js';
import type { ImagesTables } from './images.tables.js';
import type { TablesOf } from '../../core/db/tables.js';
import { defaultEnvelope } from '../../core/errors.js';

const imagesPlugin: FastifyPluginAsync<ModuleOptions<ImagesConfig>> = async (
  app,
  { routePrefix: prefix, config },
) => {
  const limiter = new Limiter(config.concurrency || os.availableParallelism(), config.queue);
  const service = createImagesService({
    db: app.db.withTables<TablesOf<ImagesTables>>(),
    blobs: app.blobs,
    limits: {
      maxPixels: config.max_pixels,
      maxFrames: config.max_frames,
      maxDimension: config.max_dimension,
      timeoutSeconds: config.process_timeout_s,
    },
    limiter,
    mount: prefix,
    memoryCacheBytes: config.memory_cache_mb * 1024 * 1024,
    signingKey: config.signing_key,
  });
  const remote = createRemoteFetcher({
    maxBytes: config.max_bytes,
    timeoutMs: config.remote_timeout_ms,
    allowPrivate: config.remote_allow_private,
  });
  app.addHook('onClose', async () => {
    await remote.close();
  });
  app.decorate('images', {
    store: async (bytes, info) => unwrap(await service.store(bytes, info)),
    random: (album) => service.random(album),
  } satisfies ImagesApi);
  await app.register(imagesRoutes, { prefix, config, service, remote });
  await app.register(compatRoutes, { config, service, remote });
  // The original's routes live at the root: their errors keep the default envelope even with a
  // module (tax) mounted at `/`.
  for (const path of ['/storage', '/converter', '/fs']) app.useErrorEnvelope(path, defaultEnvelope);
};

export const imagesRuntime: ModuleRuntime<ImagesConfig> = {
  migrations: imagesMigrations,
  // Not encapsulated: `app.images` must be visible to the modules mounted after this one.
  plugin: fp(imagesPlugin, { name: 'agora-images', fastify: '5.x' }),
};
