/**
 * What a module gives the core. `index.ts` in the module's folder exports one `AgoraModule`, made
 * with `defineModule`: its name, its settings' schema and its commands, which load nothing of the
 * server, and `load()`, which imports the rest (plugin, migrations, error envelope) when the app is
 * built. So the CLI and the configuration know every module without loading any of them, and the
 * core knows none: the list in src/modules/index.ts is the only place that names them.
 */
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Migration } from 'kysely';
import type { Static, TObject } from 'typebox';
import type { Config, ConfigSection, LoadConfigOptions } from './config.js';
import type { ErrorEnvelope } from './errors.js';

export interface ModuleOptions<C = unknown> {
  /**
   * Where the module is mounted (its configured prefix). The plugin itself is registered at the
   * root, so a module may serve routes under more than one prefix (market: `/market`, `/product`).
   */
  mount: string;
  /**
   * The mount as a Fastify route prefix: the same, but `''` for a module mounted at `/`. (Not
   * `prefix`: Fastify would take that option for the plugin's own prefix.)
   */
  routePrefix: string;
  /** The module's own section of the configuration (`<name>:` in agora.yaml). */
  config: C;
}

/** The part of a module that runs in the server, imported only when the app is built. */
export interface ModuleRuntime<C = unknown> {
  /** Registered at the root with the module's mount and settings (method: options vary by module). */
  plugin(this: void, app: FastifyInstance, options: ModuleOptions<C>): Promise<void>;
  migrations?: Record<string, Migration>;
  /** Renders errors for every URL under the module's prefix, unknown routes included. */
  envelope?: ErrorEnvelope;
}

/** What a command may ask of the build: its configuration, read from its own flags too. */
export interface CommandContext {
  loadConfig(this: void, sources: Pick<LoadConfigOptions, 'flags' | 'configFile'>): Promise<Config>;
}

export interface AgoraModule<
  N extends string = string,
  S extends TObject = TObject,
> extends ConfigSection<N, S> {
  title: string;
  description: string;
  defaultPrefix: string;
  /** The module's web page, relative to its prefix (`/` for `/market/`); omitted: no page. */
  page?: string;
  /** Adds the module's `agora …` commands; a command imports what it needs when it runs. */
  commands?(program: Command, context: CommandContext): void;
  load(): Promise<ModuleRuntime<Static<S>>>;
}

/** A module, its name and settings' schema kept in its type (for the configuration's type). */
export function defineModule<const N extends string, S extends TObject = TObject>(
  module: AgoraModule<N, S>,
): AgoraModule<N, S> {
  return module;
}
