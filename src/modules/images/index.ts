/**
 * The images module: a content-addressed image repository and processing engine on sharp, with
 * the original service's compatibility routes. Other modules use `app.images` (store, random).
 */
import os from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { AgoraModule, ModuleOptions } from '../../core/module.js';
import { imagesMigrations } from './migrations/index.js';
import { Limiter } from './images.process.js';
import { createRemoteFetcher } from './images.remote.js';
import { compatRoutes, imagesRoutes } from './images.routes.js';
import { ImagesService, type ImageMeta } from './images.service.js';

export type { ImageMeta } from './images.service.js';
export { derivedPath, signature, type Ops } from './images.ops.js';

/** What other modules may ask of the image repository. */
export interface ImagesApi {
  store(
    bytes: Buffer,
    info?: { filename?: string | null; album?: string | null },
  ): Promise<ImageMeta>;
  random(album: string): Promise<ImageMeta | null>;
}

declare module 'fastify' {
  interface FastifyInstance {
    images: ImagesApi;
  }
}

const imagesPlugin: FastifyPluginAsync<ModuleOptions> = async (app, { mount }) => {
  const config = app.config.images;
  const prefix = mount === '/' ? '' : mount;
  const limiter = new Limiter(config.concurrency || os.availableParallelism(), config.queue);
  const service = new ImagesService({
    db: app.db,
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
    store: (bytes, info) => service.store(bytes, info),
    random: (album) => service.random(album),
  } satisfies ImagesApi);
  await app.register(imagesRoutes, { prefix, config, service, remote });
  await app.register(compatRoutes, { config, service, remote });
};

export const imagesModule: AgoraModule = {
  name: 'images',
  title: 'Images',
  description:
    'Image repository and processing engine: upload, convert by extension, resize, rotate, filters, masks, bulk.',
  defaultPrefix: '/images',
  page: '/',
  migrations: imagesMigrations,
  // Not encapsulated: `app.images` must be visible to the modules mounted after this one.
  plugin: fp(imagesPlugin, { name: 'agora-images', fastify: '5.x' }),
};
