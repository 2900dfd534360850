/**
 * The only place that reads `process.env`.
 *
 * Precedence: defaults < agora.yaml (or --config FILE) < AGORA_* environment < CLI flags.
 * The result is validated once, at start, with a message that names the bad setting and where it
 * came from, and returned deep-frozen. What the settings are is in ./settings.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { isRecord } from './records.js';
import {
  composeConfigSchema,
  settingsOf,
  type Config,
  type ConfigOf,
  type ConfigSection,
  type Setting,
} from './settings.js';

export type { Config, ConfigOf, ConfigSection, Setting } from './settings.js';

type Plain = Record<string, unknown>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions {
  /** CLI flags by flag name (`data-dir`), as strings or already-typed values. */
  flags?: Record<string, unknown>;
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Explicit config file (--config); otherwise `agora.yaml` in `cwd` if present. */
  configFile?: string;
  cwd?: string;
  /** Programmatic overrides, highest precedence (tests). */
  overrides?: Plain;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object
    ? T[K] extends readonly unknown[]
      ? T[K]
      : DeepPartial<T[K]>
    : T[K];
};

function setPath(target: Plain, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!isRecord(next)) node[part] = {};
    node = node[part] as Plain;
  }
  node[parts[parts.length - 1] ?? key] = value;
}

function merge(base: Plain, layer: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isRecord(prev) && isRecord(v) ? merge(prev, v) : v;
  }
  return out;
}

/** Strings from the environment or argv become the setting's type; lists are comma-separated. */
function fromString(setting: Setting, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  switch (setting.type) {
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
      if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
      return raw;
    default:
      return raw;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`Config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isRecord(parsed))
    throw new ConfigError(`Config file ${file} must contain a mapping of settings`);
  return parsed;
}

/** The settings each loaded configuration was read with, for `redactConfig`. */
const settingsOfConfig = new WeakMap<object, readonly Setting[]>();

/**
 * Builds the configuration of a build made of `modules` from every layer, validates it and
 * freezes it.
 * @throws ConfigError naming the first bad setting and its source.
 */
export function loadConfig<const M extends readonly ConfigSection[]>(
  options: LoadConfigOptions & { modules: M },
): ConfigOf<M> {
  const schema = composeConfigSchema(options.modules);
  const settings = settingsOf(schema);
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sources = new Map<string, string>();

  const explicitFile = options.configFile ?? env.AGORA_CONFIG;
  const file = explicitFile ? path.resolve(cwd, explicitFile) : path.join(cwd, 'agora.yaml');
  let fileLayer: Plain = {};
  if (explicitFile || existsSync(file)) {
    fileLayer = readConfigFile(file);
    const walk = (obj: Plain, prefix: string): void => {
      for (const [k, v] of Object.entries(obj)) {
        const key = prefix ? `${prefix}.${k}` : k;
        sources.set(key, path.basename(file));
        if (isRecord(v)) walk(v, key);
      }
    };
    walk(fileLayer, '');
    // A list written as one string (`modules: tax`, `modules: market, tax`) reads as it does
    // from the environment.
    for (const setting of settings) {
      const value = lookup(fileLayer, setting.key);
      if (typeof value === 'string' && setting.type === 'list') {
        setPath(fileLayer, setting.key, fromString(setting, value));
      }
    }
  }

  const envLayer: Plain = {};
  const flagLayer: Plain = {};
  for (const setting of settings) {
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      setPath(envLayer, setting.key, fromString(setting, fromEnv));
      sources.set(setting.key, setting.env);
    }
    const fromFlag = setting.flag ? options.flags?.[setting.flag] : undefined;
    if (fromFlag !== undefined) {
      setPath(flagLayer, setting.key, fromString(setting, fromFlag));
      sources.set(setting.key, `--${setting.flag ?? ''}`);
    }
  }

  let merged = merge(merge(merge({}, fileLayer), envLayer), flagLayer);
  if (options.overrides) merged = merge(merged, options.overrides);

  const withDefaults = Value.Default(schema, merged);
  const errors = Value.Errors(schema, withDefaults);
  const first = errors[0];
  if (first) {
    let key = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
    let detail = first.message;
    if (first.keyword === 'additionalProperties') {
      const extra = first.params.additionalProperties;
      key = [key, extra[0]].filter(Boolean).join('.');
      detail = 'unknown setting';
    } else if (first.schemaPath.endsWith('/additionalProperties')) {
      // The property itself failed the `additionalProperties: false` schema: it is not a setting.
      detail = 'unknown setting';
    }
    const where = sources.get(key) ?? sources.get(key.split('.').slice(0, -1).join('.'));
    const got = key ? JSON.stringify(lookup(withDefaults, key)) : '';
    throw new ConfigError(
      `Invalid setting "${key || '(root)'}"${where ? ` (from ${where})` : ''}: ${detail}${
        detail !== 'unknown setting' ? `, got ${got}` : ''
      }`,
    );
  }
  // Validated against the schema `ConfigOf<M>` is the static type of.
  const config = withDefaults as ConfigOf<M>;
  checkCombinations(config, sources);
  settingsOfConfig.set(config, settings);
  return deepFreeze(config);
}

/**
 * Settings that are valid alone but not together.
 * @throws ConfigError naming the setting to change.
 */
function checkCombinations(config: Config, sources: Map<string, string>): void {
  const server = /^(postgres(ql)?|mysql|mariadb):\/\//.test(config.db);
  // Files in this node's data directory would be served by this node only: on a database that
  // several nodes share, images must be in the database or in a directory all of them share.
  if (server && config.blobs.store === 'fs' && config.blobs.dir === '') {
    const where = sources.get('blobs.store') ?? sources.get('blobs');
    throw new ConfigError(
      `Invalid setting "blobs.store"${where ? ` (from ${where})` : ''}: fs with a PostgreSQL or ` +
        "MariaDB database keeps images in this node's data directory, where other nodes cannot " +
        'read them. Set blobs.dir to a directory every node shares, or blobs.store to db (or auto)',
    );
  }
}

/** The blob store `blobs.store` means for this database (`auto` resolved). */
export function blobStoreOf(config: Pick<Config, 'db' | 'blobs'>): 'fs' | 'db' {
  if (config.blobs.store !== 'auto') return config.blobs.store;
  return /^(postgres(ql)?|mysql|mariadb):\/\//.test(config.db) ? 'db' : 'fs';
}

function lookup(obj: unknown, key: string): unknown {
  let node = obj;
  for (const part of key.split('.')) {
    node = isRecord(node) ? node[part] : Array.isArray(node) ? node[Number(part)] : undefined;
  }
  return node;
}

/** The configured mount prefix of a module, with its default. */
export function modulePrefix(config: Config, name: string, fallback: string): string {
  return config.prefixes[name] ?? fallback;
}

/**
 * Set by the primary of `agora serve --workers N` in each worker's environment (not a setting:
 * it says what the process is, not how to run it).
 */
export const CLUSTER_WORKER_ENV = 'AGORA_CLUSTER_WORKER';

/** Whether the primary of `--workers N` started this process as one of its workers. */
export function startedAsClusterWorker(): boolean {
  return process.env[CLUSTER_WORKER_ENV] === '1';
}

/** This node's name in logs: `node_id`, or `<hostname>:<pid>`. */
export function nodeIdOf(config: Pick<Config, 'node_id'>): string {
  return config.node_id || `${hostname()}:${process.pid}`;
}

/**
 * The config as shown to an administrator: every setting marked secret in its schema is masked
 * (a URL's password only).
 */
export function redactConfig(config: Config): Plain {
  const copy = JSON.parse(JSON.stringify(config)) as Plain;
  const settings = settingsOfConfig.get(config) ?? settingsOf(composeConfigSchema([]));
  for (const setting of settings) {
    const value = lookup(copy, setting.key);
    if (typeof value !== 'string' || value === '' || !setting.secret) continue;
    setPath(copy, setting.key, setting.secret === 'url' ? redactUrl(value) : '***');
  }
  return copy;
}

export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
