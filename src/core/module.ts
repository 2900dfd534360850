/**
 * What a module gives the core. A module is a Fastify plugin mounted at its (configurable)
 * prefix, plus its migrations and its error envelope. Its CLI commands are listed apart, in
 * src/modules/commands.ts, so that the CLI does not load every module to start.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Migration } from 'kysely';
import type { ErrorEnvelope } from './errors.js';

export interface ModuleOptions {
  /**
   * Where the module is mounted (its configured prefix). The plugin itself is registered at the
   * root, so a module may serve routes under more than one prefix (market: `/market`, `/product`).
   */
  mount: string;
}

export interface AgoraModule {
  name: string;
  title: string;
  description: string;
  defaultPrefix: string;
  /** The module's web page, relative to its prefix (`/` for `/market/`); omitted: no page. */
  page?: string;
  migrations?: Record<string, Migration>;
  /** Renders errors for every URL under the module's prefix, unknown routes included. */
  envelope?: ErrorEnvelope;
  plugin: FastifyPluginAsync<ModuleOptions>;
}
