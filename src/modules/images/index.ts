/**
 * The images module: a content-addressed image repository and processing engine on sharp, with
 * the original service's compatibility routes. This file is all the rest of Agora sees of it:
 * other modules use `app.images` (store, random); the server part loads with the app.
 */
import { defineModule } from '../../core/module.js';
import { imagesCommands } from './images.cli.js';
import { ImagesConfig } from './images.config.js';
import type { ImageMeta } from './images.service.js';

export type { ImageMeta } from './images.service.js';

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

export const imagesModule = defineModule({
  name: 'images',
  title: 'Images',
  description:
    'Image repository and processing engine: upload, convert by extension, resize, rotate, filters, masks, bulk.',
  defaultPrefix: '/images',
  page: '/',
  config: ImagesConfig,
  commands: (program) => {
    imagesCommands(program);
  },
  load: async () => (await import('./images.plugin.js')).imagesRuntime,
});
