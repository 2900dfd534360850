/**
 * Builds the Agora app: core plugins, then the enabled modules at their prefixes. Never listens
 * (that is `server.ts`), so tests build it and use `app.inject`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type RawServerDefault } from 'fastify';
import type { Logger } from 'pino';
import admin from './core/admin.js';
import type { Bus } from './core/bus/index.js';
import busPlugin from './core/bus/index.js';
import { modulePrefix, type Config } from './core/config.js';
import { migrationSets } from './core/db/migrations/index.js';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './core/db/index.js';
import databasePlugin from './core/db/plugin.js';
import blobsPlugin from './core/blobs/plugin.js';
import errors, { clientErrorHandler, defaultEnvelope, frameworkErrors } from './core/errors.js';
import {
  closeSilentConnections,
  closingAwareResponse,
  connectionLimit,
  type ClosingFlag,
} from './core/connections.js';
import health from './core/health.js';
import { createLogger, lazyChildLoggerFactory } from './core/logging.js';
import mail, { type Mailer } from './core/mail.js';
import metrics from './core/metrics.js';
import type { AgoraModule, ModuleRuntime } from './core/module.js';
import openapi from './core/openapi.js';
import realtime from './core/realtime/index.js';
import { RequestEvents } from './core/request-events.js';
import requestId, { genReqId } from './core/request-id.js';
import { pinTickObjectShape } from './core/tick-shape.js';
import { createValidatorCompiler } from './core/validation.js';
import web, { rootAnswers, type Info } from './core/web.js';
import { MODULES } from './modules/index.js';
import { VERSION } from './version.js';

/** A route's first path segment (`/admin` of `/admin/config`), unless it is a parameter. */
const firstSegment = (url: string): string | null => /^\/[^/:*]+/.exec(url)?.[0] ?? null;

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

export interface BuildOptions {
  logger?: Logger;
  /** An already-open database (closed with the app); otherwise opened from config. */
  database?: DatabaseHandle;
  bus?: Bus;
  /** Modules to mount instead of the built-in ones (tests). */
  modules?: readonly AgoraModule[];
  /** Mailer for admin alerts (tests); otherwise from the `mail` settings. */
  mailer?: Mailer | null;
  /** Directory of built web pages (tests). */
  webRoot?: string;
}

/** The modules `config.modules` switches on, in the list's order. */
export function selectModules(
  config: Config,
  available: readonly AgoraModule[] = MODULES,
): AgoraModule[] {
  const wanted = config.modules;
  return available.filter((m) => wanted.includes('all') || wanted.includes(m.name));
}

/** A module with its server part imported. */
export interface LoadedModule {
  module: AgoraModule;
  runtime: ModuleRuntime;
}

/** Imports the server part of each module. */
export async function loadModules(modules: readonly AgoraModule[]): Promise<LoadedModule[]> {
  return Promise.all(modules.map(async (module) => ({ module, runtime: await module.load() })));
}

/** The migration sets of loaded modules, the core's first. */
export function migrationsOf(loaded: readonly LoadedModule[]): ReturnType<typeof migrationSets> {
  return migrationSets(
    loaded.map(({ module, runtime }) => ({ name: module.name, migrations: runtime.migrations })),
  );
}

/**
 * A module's own section of the configuration (`<name>:`); undefined if it has no settings.
 * @throws when the configuration was loaded without the module (not this build's `loadConfig`).
 */
function sectionOf(config: Config, module: AgoraModule): unknown {
  const sections: Readonly<Record<string, unknown>> = config;
  const section = sections[module.name];
  if (module.config && section === undefined) {
    throw new Error(
      `the configuration has no "${module.name}" section: load it with the modules it runs`,
    );
  }
  return section;
}

/**
 * Opens the database, migrates it, and assembles the app.
 * @throws when the database is unreachable or a migration fails (the database is closed again).
 */
export async function buildApp(
  config: Config,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  // Before any request, once per process: without it, a third of server processes ran their
  // ticks through V8's runtime, 30 % slower (src/core/tick-shape.ts).
  pinTickObjectShape();
  const logger = options.logger ?? createLogger(config);
  const modules = await loadModules(options.modules ?? selectModules(config));
  const database = options.database ?? openDatabase(config, logger);
  try {
    await migrateToLatest(database.db, migrationsOf(modules));
  } catch (err) {
    await database.destroy();
    throw err;
  }

  // Per-request work of the core, called by Fastify's log controller rather than from hooks.
  const requestEvents = new RequestEvents(logger);
  // Set once the app closes or drains (request-id.ts): answers then close their connections.
  const closing: ClosingFlag = { now: false };
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse>({
    loggerInstance: logger,
    genReqId,
    logController: requestEvents,
    childLoggerFactory: lazyChildLoggerFactory,
    bodyLimit: config.body_limit,
    trustProxy: config.trust_proxy.length > 0 ? [...config.trust_proxy] : false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Bounded waits for what a client sends: idle and trickling connections cannot pile up.
    keepAliveTimeout: config.http.keep_alive_timeout_ms,
    requestTimeout: config.http.request_timeout_ms,
    http: {
      headersTimeout: config.http.headers_timeout_ms,
      // How often Node looks for connections past those limits (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, config.http.headers_timeout_ms),
      ServerResponse: closingAwareResponse(closing),
    },
    clientErrorHandler,
    frameworkErrors,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
  });
  // Past the open-files limit every accept fails, new requests included: refuse the excess
  // connections instead, while there are descriptors left to do it.
  app.server.maxConnections = config.http.max_connections || connectionLimit();
  closeSilentConnections(app.server, config.http.headers_timeout_ms);
  app.setValidatorCompiler(createValidatorCompiler());
  app.decorate('config', config);
  app.decorate('requestEvents', requestEvents);
  app.decorateRequest('lineWritten', false);

  // The first segments of the core's own routes (every route registered outside a module): their
  // errors keep the default envelope whatever module is mounted at `/`.
  const corePaths = new Set<string>();
  const inModule = { now: false };
  app.addHook('onRoute', (route) => {
    const segment = inModule.now ? null : firstSegment(route.url);
    if (segment !== null) corePaths.add(segment);
  });

  try {
    await app.register(errors);
    await app.register(requestId, { closing });
    await app.register(metrics);
    await app.register(openapi, { version: VERSION });
    await app.register(databasePlugin, { handle: database });
    await app.register(blobsPlugin);
    await app.register(busPlugin, options.bus ? { bus: options.bus } : {});
    await app.register(realtime);
    await app.register(health);
    await app.register(mail, options.mailer === undefined ? {} : { mailer: options.mailer });
    await app.register(admin);
    await app.register(rootAnswers);

    const info: Info = { name: 'agora', version: VERSION, docs: '/docs', modules: [] };
    inModule.now = true;
    for (const { module: mod, runtime } of modules) {
      const prefix = modulePrefix(config, mod.name, mod.defaultPrefix);
      // Each module's envelope only under its own paths: one mounted at `/` (tax, for its
      // original client) does not answer for the others, nor for the core's routes.
      app.useErrorEnvelope(prefix, runtime.envelope ?? defaultEnvelope);
      await app.register(runtime.plugin, {
        mount: prefix,
        routePrefix: prefix === '/' ? '' : prefix,
        config: sectionOf(config, mod),
      });
      info.modules.push({
        name: mod.name,
        title: mod.title,
        description: mod.description,
        prefix,
        page: mod.page === undefined ? null : `${prefix.replace(/\/$/, '')}${mod.page}`,
      });
    }

    inModule.now = false;

    await app.register(web, { info, ...(options.webRoot ? { root: options.webRoot } : {}) });
    for (const path of corePaths) app.useErrorEnvelope(path, defaultEnvelope);
    await app.ready();
  } catch (err) {
    // A half-built app still holds the database and timers: release them before failing.
    await app.close().catch(() => undefined);
    await database.destroy();
    throw err;
  }
  return app;
}
