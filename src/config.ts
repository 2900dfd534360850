/**
 * The configuration of this build: the core's settings and every module's section, composed from
 * the module list. What reads settings for the whole build (the server, the CLI, the docs script,
 * tests) takes them from here; core components take the core's `Config`.
 */
import { loadConfig as loadBuildConfig, type LoadConfigOptions } from './core/config.js';
import { composeConfigSchema, settingsOf, type ConfigOf } from './core/settings.js';
import { MODULES } from './modules/index.js';

export type Config = ConfigOf<typeof MODULES>;

/** The schema of every setting of this build. */
export const CONFIG_SCHEMA = composeConfigSchema(MODULES);

/** Every setting of this build that a variable (and maybe a flag) can set. */
export const SETTINGS = settingsOf(CONFIG_SCHEMA);

/**
 * Reads this build's configuration from every layer.
 * @throws ConfigError naming the first bad setting and its source.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  return loadBuildConfig({ ...options, modules: MODULES });
}
