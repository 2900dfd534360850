/**
 * The core's work on every request, without Fastify hooks: Fastify calls its log controller once
 * a request's reply exists and again once the answer is finished, on every request it handles
 * (404s and framework errors too). A route with a hook has Fastify run that hook's chain on each
 * request; one with none skips it. The request id header, the duration metric and the 5xx
 * alerts are called from here, so that no route has a hook unless a module adds one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestLogController } from './logging.js';

/** Called as a request starts, its reply just made. Must not throw. */
export type IncomingObserver = (request: FastifyRequest, reply: FastifyReply) => void;
/** Called once its answer is finished (as an `onResponse` hook would be). Must not throw. */
export type CompletedObserver = (
  error: Error | null | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
) => void;

/** What plugins see of it (`app.requestEvents`). */
export interface RequestEventSource {
  onIncoming(observer: IncomingObserver): void;
  onCompleted(observer: CompletedObserver): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    requestEvents: RequestEventSource;
  }
}

/** Fastify's `logController`: the request line, and the observers plugins add. */
export class RequestEvents extends RequestLogController implements RequestEventSource {
  readonly #incoming: IncomingObserver[] = [];
  readonly #completed: CompletedObserver[] = [];

  onIncoming(observer: IncomingObserver): void {
    this.#incoming.push(observer);
  }

  onCompleted(observer: CompletedObserver): void {
    this.#completed.push(observer);
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    for (const observer of this.#incoming) observer(request, reply);
    super.incomingRequest(request, reply);
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    for (const observer of this.#completed) observer(error, request, reply);
    super.requestCompleted(error, request, reply);
  }
}
