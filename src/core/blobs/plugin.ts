/** `app.blobs`: the blob store chosen by `blobs.store`. */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { blobStoreOf } from '../config.js';
import { createDbBlobStore, openFsBlobStore, type BlobStore } from './index.js';

declare module 'fastify' {
  interface FastifyInstance {
    blobs: BlobStore;
  }
}

async function blobsPlugin(app: FastifyInstance): Promise<void> {
  const { dir, writer_threads: writerThreads } = app.config.blobs;
  const blobs =
    blobStoreOf(app.config) === 'db'
      ? createDbBlobStore(app.db)
      : await openFsBlobStore(dir === '' ? path.join(app.config.data_dir, 'blobs') : dir, {
          writerThreads,
          onWritersGiveUp: (reason) => {
            app.log.error({ reason }, 'blobs: the writer threads keep failing; writing in-process');
          },
        });
  app.decorate('blobs', blobs);
  app.addHook('onClose', () => blobs.close());
}

export default fp(blobsPlugin, { name: 'agora-blobs', fastify: '5.x', dependencies: ['agora-db'] });
