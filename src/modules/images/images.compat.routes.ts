/** The original image service's routes, kept for its clients (see docs/modules/images.md). */
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorBody } from '../../core/errors.js';
import { extensionOf, formatOf, FORMATS, MIME } from './images.ops.js';
import { disposition, downloadName } from './images.service.js';
import {
  blobBody,
  checkBoundary,
  checkSignature,
  sendImage,
  type ImagesRouteOptions,
} from './images.http.js';
import { Binary, IdParams } from './images.schemas.js';
import { ImagesErrors } from './images.errors.js';
import { unwrap } from './images.errors.js';

/** What the original called a stored file's full name: `<id>____<name>` (ids are 12 base64url characters). */
const FULL_NAME = /^([A-Za-z0-9_-]{12})____(.+)$/;

/**
 * The original service's routes: `POST /storage/`, `GET /storage/:id`,
 * `GET /converter/:id/:format`, and with `images.compat` its static files at `GET /fs/<full_name>`.
 */
export async function compatRoutes(
  app: FastifyInstance,
  { config, service }: ImagesRouteOptions,
): Promise<void> {
  await app.register(multipart, {
    limits: { fileSize: config.max_bytes, files: 1, fields: 10, parts: 11 },
  });
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post(
    '/storage/',
    {
      bodyLimit: config.max_bytes,
      schema: {
        tags: ['images'],
        summary: 'Compatibility: upload (multipart field image)',
        response: {
          200: Type.Object({
            message: Type.String(),
            id: Type.String(),
            full_name: Type.String(),
            content_type: Type.String(),
          }),
          400: ErrorBody,
        },
      },
    },
    async (request) => {
      if (!request.isMultipart()) {
        throw ImagesErrors.noBody('send the image as multipart/form-data, field image');
      }
      checkBoundary(request);
      const file = await request.file();
      if (!file) throw ImagesErrors.noBody('the upload holds no file');
      const meta = unwrap(
        await service.store(await file.toBuffer(), {
          filename: file.filename || null,
          transfer: true,
        }),
      );
      return {
        message: 'file created, uploading started',
        id: meta.id,
        full_name: config.compat ? `${meta.id}____${downloadName(meta)}` : downloadName(meta),
        content_type: meta.content_type,
      };
    },
  );

  routes.get(
    '/storage/:id',
    {
      schema: {
        tags: ['images'],
        summary: 'Compatibility: download the stored file as an attachment',
        params: IdParams,
        produces: Object.values(MIME),
        response: { 200: Binary, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const meta = unwrap(await service.get(request.params.id));
      return sendImage(request, reply, blobBody(service, meta), {
        'content-disposition': disposition('attachment', downloadName(meta)),
      });
    },
  );

  if (config.compat) {
    routes.get(
      '/fs/:fullName',
      {
        schema: {
          tags: ['images'],
          summary: "Compatibility: the stored file at the original's static path (<id>____<name>)",
          params: Type.Object({ fullName: Type.String({ maxLength: 400 }) }),
          produces: Object.values(MIME),
          response: { 200: Binary, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        const id = FULL_NAME.exec(request.params.fullName)?.[1];
        if (id === undefined) {
          throw ImagesErrors.notFound(`no stored file ${request.params.fullName.slice(0, 100)}`);
        }
        const meta = unwrap(await service.get(id));
        return sendImage(request, reply, blobBody(service, meta), {
          'content-disposition': disposition('inline', downloadName(meta)),
        });
      },
    );
  }

  routes.get(
    '/converter/:id/:format',
    {
      schema: {
        tags: ['images'],
        summary: 'Compatibility: the stored image converted to format',
        description:
          'With `images.signing_key` set, `sig` must be the signature of `/images/:id.:ext`.',
        params: Type.Object({
          id: Type.String({ maxLength: 64 }),
          format: Type.String({ maxLength: 8 }),
        }),
        querystring: Type.Object({ sig: Type.Optional(Type.String({ maxLength: 128 })) }),
        produces: Object.values(MIME),
        response: { 200: Binary, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const format = formatOf(request.params.format);
      if (!format) {
        throw ImagesErrors.badFormat(
          `unknown format ${request.params.format}; known: ${FORMATS.join(', ')}, jpg`,
        );
      }
      if (config.signing_key) {
        const id = `${request.params.id}.${extensionOf(format)}`;
        checkSignature(config.signing_key, id, { format }, request.query.sig);
      }
      const { meta, image } = unwrap(await service.derived(request.params.id, { format }));
      return sendImage(
        request,
        reply,
        { kind: 'bytes', image },
        {
          'content-disposition': disposition('attachment', downloadName(meta, format)),
        },
      );
    },
  );
}
