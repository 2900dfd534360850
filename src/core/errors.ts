/**
 * One error type, one error handler, one not-found handler for the whole service.
 *
 * Modules throw `AppError`s with stable codes (or return typed results for expected outcomes);
 * the handler maps every error — ours, Fastify's (bad JSON, body too large, validation) and
 * unexpected ones — to a JSON body in the envelope of the module that owns the URL.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { Type, type Static } from 'typebox';

export class AppError<C extends string = string> extends Error {
  override name = 'AppError';
  constructor(
    /**
     * Stable, machine-readable code (`PRODUCT_NOT_FOUND`); never parse `message`. A module's
     * codes are a union in its `<name>.errors.ts`, with a named constructor for each.
     */
    readonly code: C,
    readonly status: number,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** Whether `err` is an AppError (of any module), its code a string (`instanceof` would say any). */
export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** What Agora depends on at run time, and may lose. */
export type Dependency = 'database' | 'bus';

/** Seconds a client is asked to wait before retrying a request a lost dependency refused. */
export const DEPENDENCY_RETRY_AFTER_S = 2;

/**
 * A dependency could not do its part in time: unreachable, its connection lost or frozen, a
 * statement past its time limit. The request is answered 503 with `Retry-After`: nothing was
 * committed that the client does not know about (an ambiguous commit is retried safely with an
 * `Idempotency-Key`), and the dependency may be back in a moment.
 */
export class DependencyError extends AppError {
  override name = 'DependencyError';
  constructor(
    readonly dependency: Dependency,
    /** What went wrong, safe to log: no host, user, SQL or parameter. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      dependency === 'database' ? 'DATABASE_UNAVAILABLE' : 'BUS_UNAVAILABLE',
      503,
      dependency === 'database'
        ? 'the database is not available right now; try again shortly'
        : 'the event bus is not available right now; try again shortly',
      undefined,
      { 'retry-after': String(DEPENDENCY_RETRY_AFTER_S) },
    );
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Exit code of a start-up failure caused by a dependency (database, migration, admin data). */
export const EXIT_DEPENDENCY = 2;

/**
 * A failure that stops the server from starting, with the exit code that names its kind
 * (2: a dependency — database, admin data — is unreachable or missing).
 */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What an envelope needs to render an error. */
export interface ErrorInfo {
  code: string;
  status: number;
  message: string;
  requestId: string;
  details?: unknown;
}

/** Renders an error body; a module may supply its own (market: `{error, exe_id}`). */
export type ErrorEnvelope = (error: ErrorInfo) => unknown;

/** The default error body of Agora. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
    request_id: Type.String(),
  },
  { description: 'Every error of the core and of modules without their own envelope' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const defaultEnvelope: ErrorEnvelope = (e): ErrorBody => ({
  error: {
    code: e.code,
    message: e.message,
    ...(e.details === undefined ? {} : { details: e.details }),
  },
  request_id: e.requestId,
});

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Makes `envelope` render every error under `prefix` (unknown routes included); the longest
     * prefix wins, and a second call for the same prefix replaces the first.
     */
    useErrorEnvelope(prefix: string, envelope: ErrorEnvelope): void;
    /** Sends an error in the envelope that owns the request's URL. */
    sendError(request: FastifyRequest, reply: FastifyReply, error: ErrorInfo): FastifyReply;
  }
}

const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const STATUS_CODES_BY_NUMBER: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

/** Fastify's own client errors, given stable codes and messages a client can act on. */
function fromFastifyError(
  err: FastifyError,
): { code: string; status: number; message: string; details?: unknown } | null {
  if (err.validation) {
    const details = err.validation.map((v) => ({
      path: `${err.validationContext ?? ''}${v.instancePath}`,
      message: v.message ?? 'is invalid',
    }));
    return { code: 'VALIDATION_FAILED', status: 400, message: err.message, details };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'BAD_JSON', status: 400, message: err.message };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'Request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, message: err.message };
    default:
      break;
  }
  const status = err.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // JSON.parse errors surface as plain SyntaxErrors with statusCode 400.
    const code =
      err instanceof SyntaxError ? 'BAD_JSON' : (STATUS_CODES_BY_NUMBER[status] ?? 'BAD_REQUEST');
    return { code, status, message: err.message };
  }
  return null;
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route runs (a malformed `%`
 * escape, an over-long parameter) is answered in the envelope of the module the URL belongs to,
 * with the request id, like every other error.
 */
export function frameworkErrors(
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  void reply.header('x-request-id', request.id);
  void reply.server.sendError(request, reply, {
    code:
      err.code === 'FST_ERR_BAD_URL'
        ? 'BAD_URL'
        : (STATUS_CODES_BY_NUMBER[err.statusCode ?? 400] ?? 'BAD_REQUEST'),
    status: err.statusCode ?? 400,
    message: err.message,
    requestId: request.id,
  });
}

/**
 * The server's `clientError` handler: a request Node's parser refuses (a bad request line,
 * Content-Length with Transfer-Encoding, a NUL, headers too large, a timeout) never reaches
 * Fastify. It gets a JSON error with a request id of its own all the same (no URL is known, so
 * the default envelope), then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const requestId = randomUUID();
  const body = JSON.stringify(
    defaultEnvelope({
      code: STATUS_CODES_BY_NUMBER[status] ?? 'BAD_REQUEST',
      status,
      message:
        status === 431
          ? 'the request headers are too large'
          : status === 408
            ? 'the request took too long to arrive'
            : 'the request is not valid HTTP',
      requestId,
    }),
  );
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroySoon();
}

/**
 * A browser opening a URL (a navigation asks for HTML first); scripts, API clients and the
 * originals' clients ask for JSON or anything, and keep the JSON envelope.
 */
export function isPageRequest(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const accept = request.headers.accept;
  return typeof accept === 'string' && /^\s*text\/html\b/i.test(accept);
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The error as a small page: what happened, the request id to quote, and a way back. */
export function errorPage(error: ErrorInfo): string {
  const title = `${error.status} ${STATUS_CODES[error.status] ?? 'Error'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Agora</title>
<style>
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
code { overflow-wrap: anywhere; }
a { color: inherit; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(error.message)}</p>
<p>Request id: <code>${escapeHtml(error.requestId)}</code>. Quote it when you report this.</p>
<p><a href="/">Back to Agora</a></p>
</main>
</body>
</html>
`;
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  const envelopes: { prefix: string; envelope: ErrorEnvelope }[] = [];
  // A second router that only knows which paths exist, to tell 405 from 404.
  const known = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true });
  const noop = (): void => undefined;

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!METHODS.includes(method as HTTPMethod)) continue;
      if (known.find(method as HTTPMethod, route.url)) continue;
      try {
        known.on(method as HTTPMethod, route.url, noop);
      } catch {
        // Same path in another shape (e.g. both with and without trailing slash): already known.
      }
    }
  });

  function envelopeFor(url: string): ErrorEnvelope {
    const pathname = url.split('?', 1)[0] ?? url;
    for (const { prefix, envelope } of envelopes) {
      if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return envelope;
    }
    return defaultEnvelope;
  }

  app.decorate('useErrorEnvelope', (prefix: string, envelope: ErrorEnvelope) => {
    const key = prefix.replace(/\/$/, '');
    // A later choice for the same prefix replaces the earlier one (a module's own after the default).
    const index = envelopes.findIndex((e) => e.prefix === key);
    if (index >= 0) envelopes.splice(index, 1);
    envelopes.push({ prefix: key, envelope });
    envelopes.sort((a, b) => b.prefix.length - a.prefix.length);
  });

  app.decorate('sendError', (request: FastifyRequest, reply: FastifyReply, error: ErrorInfo) => {
    if (isPageRequest(request)) {
      return reply
        .code(error.status)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(errorPage(error));
    }
    return reply
      .code(error.status)
      .type('application/json; charset=utf-8')
      .send(envelopeFor(request.url)(error));
  });

  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    let info: { code: string; status: number; message: string; details?: unknown };
    if (err instanceof AppError) {
      info = { code: err.code, status: err.status, message: err.message, details: err.details };
      if (err.headers) void reply.headers(err.headers);
      if (err instanceof DependencyError) {
        request.log.warn({ code: err.code, status: 503, reason: err.reason }, err.message);
        // Unlike load shedding, a lost dependency is something the administrator must hear of.
        app.alerts?.report(
          `${err.dependency} unavailable`,
          `Request ${request.id} (${request.method} ${request.url}) was answered 503: ` +
            `the ${err.dependency} failed (${err.reason}). See the server log for this request id.`,
        );
      }
      // 503 is a deliberate refusal (busy, full): worth a warning, not a stack trace.
      else if (err.status === 503) request.log.warn({ code: err.code, status: 503 }, err.message);
      else if (err.status >= 500) request.log.error({ err }, 'request failed');
    } else {
      const client = fromFastifyError(err);
      if (client) {
        info = client;
        request.log.info({ code: client.code, status: client.status }, client.message);
      } else {
        // Unexpected: log everything, answer nothing that could leak internals.
        request.log.error({ err }, 'unhandled error');
        info = { code: 'INTERNAL_ERROR', status: 500, message: 'Internal server error' };
      }
    }
    return app.sendError(request, reply, { ...info, requestId: request.id });
  });

  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?', 1)[0] ?? request.url;
    const allowed = METHODS.filter((m) => m !== request.method && known.find(m, pathname) !== null);
    if (allowed.length > 0) {
      if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
      void reply.header('allow', allowed.join(', '));
      return app.sendError(request, reply, {
        code: 'METHOD_NOT_ALLOWED',
        status: 405,
        message: `Method ${request.method} is not allowed on ${pathname}`,
        requestId: request.id,
      });
    }
    return app.sendError(request, reply, {
      code: 'NOT_FOUND',
      status: 404,
      message: `Route ${request.method} ${pathname} not found`,
      requestId: request.id,
    });
  });
}

export default fp(errorsPlugin, { name: 'agora-errors', fastify: '5.x' });
