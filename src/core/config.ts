/**
 * The only place that reads `process.env`.
 *
 * Precedence: defaults < agora.yaml (or --config FILE) < AGORA_* environment < CLI flags.
 * The result is validated once, at start, with a message that names the bad setting and where it
 * came from, and returned deep-frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { MarketConfig } from '../modules/market/market.config.js';
import { ImagesConfig } from '../modules/images/images.config.js';
import { NumbersConfig } from '../modules/numbers/numbers.config.js';
import { QueueConfig } from '../modules/queue/queue.config.js';
import { TaxConfig } from '../modules/tax/tax.config.js';
import { MODULE_NAMES } from '../modules/names.js';

const Prefix = Type.String({ pattern: '^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$' });

const PrefixesSchema = Type.Object(
  Object.fromEntries(MODULE_NAMES.map((name) => [name, Type.Optional(Prefix)])),
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    /** This node's name in every log and audit line; empty: `<hostname>:<pid>`. */
    node_id: Type.String({ default: '', maxLength: 128 }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    data_dir: Type.String({ minLength: 1, default: './data' }),
    /** Empty: SQLite at `<data_dir>/agora.db`. Otherwise `sqlite:PATH`, `postgres://…`, `mysql://…`. */
    db: Type.String({
      default: '',
      pattern: '^($|sqlite:|file:|:memory:$|postgres(ql)?://|mysql://|mariadb://)',
    }),
    db_pool_max: Type.Integer({ minimum: 1, maximum: 500, default: 10 }),
    /** Longest wait to open a database connection or get a free one (then 503). */
    db_connect_timeout_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 2000 }),
    /** Longest a statement may run (then 503); also ends a frozen connection's wait. */
    db_query_timeout_ms: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 10_000 }),
    /** Empty: the in-process bus. `redis://…`: the bus shared by every node through Redis. */
    redis_url: Type.String({ default: '', pattern: '^($|rediss?://)' }),
    redis_prefix: Type.String({ default: 'agora:', pattern: '^[A-Za-z0-9:._-]{0,64}$' }),
    /** Longest wait for Redis at start (then exit 2) and for a (re)connection. */
    redis_connect_timeout_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
    /** Longest a Redis command may take (then the bus counts as down until it answers again). */
    redis_command_timeout_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
    /** Module names to run; `all` (the default) runs every module. */
    modules: Type.Array(
      Type.Union([Type.Literal('all'), ...MODULE_NAMES.map((n) => Type.Literal(n))]),
      {
        default: ['all'],
      },
    ),
    prefixes: PrefixesSchema,
    log_level: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info' },
    ),
    log_file: Type.String({ default: '' }),
    log_pretty: Type.Boolean({ default: false }),
    admin_token: Type.String({ default: '' }),
    body_limit: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 1024 * 1024 }),
    trust_proxy: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    shutdown_timeout_ms: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000 }),
    /** On SIGTERM, how long the node drains (no new connections, open ones served) before it stops. */
    shutdown_drain_ms: Type.Integer({ minimum: 0, maximum: 600_000, default: 5000 }),
    http: Type.Object(
      {
        /** A request's headers must arrive within this (a trickle of headers is cut off). */
        headers_timeout_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 10_000 }),
        /** A whole request (body included) must arrive within this. */
        request_timeout_ms: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 120_000 }),
        /** An idle keep-alive connection is closed after this. */
        keep_alive_timeout_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 10_000 }),
        /** Most connections at once (past it new ones are closed); 0: 90 % of the open-files limit. */
        max_connections: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    mail: Type.Object(
      {
        /** SMTP server; empty: no mail. */
        host: Type.String({ default: '' }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 25 }),
        /** TLS from the first byte (port 465). */
        secure: Type.Boolean({ default: false }),
        /** Refuse to send unless the server upgrades with STARTTLS. */
        starttls: Type.Boolean({ default: false }),
        user: Type.String({ default: '' }),
        password: Type.String({ default: '' }),
        from: Type.String({ default: 'agora@localhost' }),
        /** The administrator; empty: no mail. */
        to: Type.String({ default: '' }),
        subject_prefix: Type.String({ default: '[agora]' }),
        /** At most one alert mail per this many milliseconds. */
        throttle_ms: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 60_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    blobs: Type.Object(
      {
        /**
         * `fs`: files under `dir`; `db`: rows in the SQL database (for several nodes); `auto`:
         * `fs` on SQLite, `db` on PostgreSQL or MariaDB (whose nodes must all see every image).
         */
        store: Type.Union([Type.Literal('auto'), Type.Literal('fs'), Type.Literal('db')], {
          default: 'auto',
        }),
        /** Empty: `<data_dir>/blobs`. */
        dir: Type.String({ default: '' }),
        /** Threads that hash and write uploaded blobs of the fs store. */
        writer_threads: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    market: MarketConfig,
    images: ImagesConfig,
    numbers: NumbersConfig,
    queue: QueueConfig,
    tax: TaxConfig,
    realtime: Type.Object(
      {
        history: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 1000 }),
        heartbeat_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 15_000 }),
        max_buffered_bytes: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
        max_topics: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Readonly<Static<typeof ConfigSchema>>;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** One configurable setting: where it lives in the config object, its env variable and CLI flag. */
export interface Setting {
  key: string;
  env: string;
  flag?: string;
  description: string;
}

/** Every setting that has an environment variable (and maybe a flag). The README table mirrors it. */
export const SETTINGS: readonly Setting[] = [
  { key: 'host', env: 'AGORA_HOST', flag: 'host', description: 'address to listen on' },
  {
    key: 'node_id',
    env: 'AGORA_NODE_ID',
    description: "this node's name in every log and audit line; empty: <hostname>:<pid>",
  },
  {
    key: 'port',
    env: 'AGORA_PORT',
    flag: 'port',
    description: 'port to listen on (0: any free port)',
  },
  {
    key: 'data_dir',
    env: 'AGORA_DATA_DIR',
    flag: 'data-dir',
    description: 'directory for the SQLite file and blobs',
  },
  {
    key: 'db',
    env: 'AGORA_DB',
    flag: 'db',
    description: 'database: empty for SQLite in the data dir, sqlite:PATH, postgres://…, mysql://…',
  },
  {
    key: 'db_pool_max',
    env: 'AGORA_DB_POOL_MAX',
    flag: 'db-pool-max',
    description: 'connection pool size (PostgreSQL/MySQL)',
  },
  {
    key: 'db_connect_timeout_ms',
    env: 'AGORA_DB_CONNECT_TIMEOUT_MS',
    description: 'longest wait to open a database connection or get a free one (then 503)',
  },
  {
    key: 'db_query_timeout_ms',
    env: 'AGORA_DB_QUERY_TIMEOUT_MS',
    description: 'longest a statement may run, frozen connections included (then 503)',
  },
  {
    key: 'redis_url',
    env: 'AGORA_REDIS_URL',
    flag: 'redis-url',
    description: 'Redis for the bus shared by several nodes (redis://…); empty: in-process bus',
  },
  {
    key: 'redis_prefix',
    env: 'AGORA_REDIS_PREFIX',
    description: "prefix of Agora's Redis keys and channel",
  },
  {
    key: 'redis_connect_timeout_ms',
    env: 'AGORA_REDIS_CONNECT_TIMEOUT_MS',
    description: 'longest wait for Redis at start (then exit 2) and for each reconnection',
  },
  {
    key: 'redis_command_timeout_ms',
    env: 'AGORA_REDIS_COMMAND_TIMEOUT_MS',
    description: 'longest a Redis command may take before the bus counts as down',
  },
  {
    key: 'modules',
    env: 'AGORA_MODULES',
    flag: 'modules',
    description: 'comma-separated modules to run, or all',
  },
  {
    key: 'log_level',
    env: 'AGORA_LOG_LEVEL',
    flag: 'log-level',
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  {
    key: 'log_file',
    env: 'AGORA_LOG_FILE',
    flag: 'log-file',
    description: 'also write JSON logs to this file',
  },
  {
    key: 'log_pretty',
    env: 'AGORA_LOG_PRETTY',
    flag: 'pretty',
    description: 'human-readable logs (development)',
  },
  {
    key: 'admin_token',
    env: 'AGORA_ADMIN_TOKEN',
    description: 'bearer token for admin routes; unset: loopback clients only',
  },
  {
    key: 'body_limit',
    env: 'AGORA_BODY_LIMIT',
    description: 'default maximum request body in bytes',
  },
  {
    key: 'trust_proxy',
    env: 'AGORA_TRUST_PROXY',
    description: 'comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed',
  },
  {
    key: 'shutdown_timeout_ms',
    env: 'AGORA_SHUTDOWN_TIMEOUT_MS',
    description: 'how long in-flight requests may take to finish on SIGTERM',
  },
  {
    key: 'shutdown_drain_ms',
    env: 'AGORA_SHUTDOWN_DRAIN_MS',
    description:
      'on SIGTERM, how long the node drains before it stops: no new connections, open ones served (readyz 503)',
  },
  {
    key: 'http.headers_timeout_ms',
    env: 'AGORA_HTTP_HEADERS_TIMEOUT_MS',
    description: "a request's headers must arrive within this (then the connection is closed)",
  },
  {
    key: 'http.request_timeout_ms',
    env: 'AGORA_HTTP_REQUEST_TIMEOUT_MS',
    description: 'a whole request, body included, must arrive within this (408)',
  },
  {
    key: 'http.keep_alive_timeout_ms',
    env: 'AGORA_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    description: 'an idle keep-alive connection is closed after this',
  },
  {
    key: 'http.max_connections',
    env: 'AGORA_HTTP_MAX_CONNECTIONS',
    description:
      'most connections at once (more are closed at once); 0: 90 % of the open-files limit',
  },
  {
    key: 'realtime.history',
    env: 'AGORA_REALTIME_HISTORY',
    description: 'events kept per topic for resuming clients',
  },
  {
    key: 'realtime.heartbeat_ms',
    env: 'AGORA_REALTIME_HEARTBEAT_MS',
    description: 'keep-alive interval of WebSocket and SSE connections',
  },
  {
    key: 'realtime.max_buffered_bytes',
    env: 'AGORA_REALTIME_MAX_BUFFERED_BYTES',
    description: 'a client whose unsent data passes this is dropped',
  },
  {
    key: 'realtime.max_topics',
    env: 'AGORA_REALTIME_MAX_TOPICS',
    description: 'topics one connection may subscribe to',
  },
  {
    key: 'market.product_prefix',
    env: 'AGORA_MARKET_PRODUCT_PREFIX',
    description: 'mount of the product CRUD routes',
  },
  {
    key: 'market.seed',
    env: 'AGORA_MARKET_SEED',
    description: 'seed the ten starter products on the first start',
  },
  {
    key: 'market.idempotency_ttl_hours',
    env: 'AGORA_MARKET_IDEMPOTENCY_TTL_HOURS',
    description: 'how long an Idempotency-Key of a purchase is remembered',
  },
  {
    key: 'market.idempotency_takeover_ms',
    env: 'AGORA_MARKET_IDEMPOTENCY_TAKEOVER_MS',
    description:
      'a purchase left pending by a node that died: retries get 409 until its key is this old, then take it over',
  },
  {
    key: 'market.read_cache_ms',
    env: 'AGORA_MARKET_READ_CACHE_MS',
    description:
      "how long product reads may come from memory: own changes at once, other nodes' when their event arrives, at worst after this; 0: off",
  },
  {
    key: 'blobs.store',
    env: 'AGORA_BLOBS_STORE',
    description:
      'where blobs (images) live: fs (files), db (the SQL database) or auto (fs on SQLite, db on PostgreSQL/MariaDB)',
  },
  {
    key: 'blobs.dir',
    env: 'AGORA_BLOBS_DIR',
    description: 'directory of the fs blob store; empty: <data_dir>/blobs',
  },
  {
    key: 'blobs.writer_threads',
    env: 'AGORA_BLOBS_WRITER_THREADS',
    description: 'threads that hash and write uploaded images in the fs blob store',
  },
  {
    key: 'images.max_bytes',
    env: 'AGORA_IMAGES_MAX_BYTES',
    description: 'largest upload or remote import in bytes (413 past it)',
  },
  {
    key: 'images.max_pixels',
    env: 'AGORA_IMAGES_MAX_PIXELS',
    description: 'largest image in pixels, checked before decoding (422 past it)',
  },
  {
    key: 'images.max_frames',
    env: 'AGORA_IMAGES_MAX_FRAMES',
    description: 'most frames of an animated image (422 past it)',
  },
  {
    key: 'images.max_files',
    env: 'AGORA_IMAGES_MAX_FILES',
    description: 'most files in one multipart upload',
  },
  {
    key: 'images.max_dimension',
    env: 'AGORA_IMAGES_MAX_DIMENSION',
    description: 'largest width or height a transformation may ask for',
  },
  {
    key: 'images.concurrency',
    env: 'AGORA_IMAGES_CONCURRENCY',
    description: 'images processed at once; 0: the number of CPU cores',
  },
  {
    key: 'images.queue',
    env: 'AGORA_IMAGES_QUEUE',
    description: 'processing requests that may wait; past it 503 with Retry-After',
  },
  {
    key: 'images.process_timeout_s',
    env: 'AGORA_IMAGES_PROCESS_TIMEOUT_S',
    description: 'one image processing is abandoned after this (503)',
  },
  {
    key: 'images.remote_timeout_ms',
    env: 'AGORA_IMAGES_REMOTE_TIMEOUT_MS',
    description: 'a remote import must finish within this',
  },
  {
    key: 'images.remote_allow_private',
    env: 'AGORA_IMAGES_REMOTE_ALLOW_PRIVATE',
    description:
      'allow remote imports from loopback/private/link-local addresses (off: SSRF guard)',
  },
  {
    key: 'images.memory_cache_mb',
    env: 'AGORA_IMAGES_MEMORY_CACHE_MB',
    description: 'memory for hot derived images served without disk or database; 0: off',
  },
  {
    key: 'images.signing_key',
    env: 'AGORA_IMAGES_SIGNING_KEY',
    description: 'when set, transformation URLs need an HMAC signature `sig`',
  },
  {
    key: 'queue.claim_window_s',
    env: 'AGORA_QUEUE_CLAIM_WINDOW_S',
    description: 'how long the head of the line has to claim before it expires',
  },
  {
    key: 'queue.view_window_s',
    env: 'AGORA_QUEUE_VIEW_WINDOW_S',
    description: "how long a claimed picture is viewed (the head's clock is frozen meanwhile)",
  },
  { key: 'queue.ban_s', env: 'AGORA_QUEUE_BAN_S', description: 'how long a cheater stays banned' },
  {
    key: 'queue.sweep_ms',
    env: 'AGORA_QUEUE_SWEEP_MS',
    description: 'how often each node applies due expiries (also applied on every request)',
  },
  {
    key: 'queue.album',
    env: 'AGORA_QUEUE_ALBUM',
    description: 'the image album pictures come from',
  },
  {
    key: 'queue.demo_pictures',
    env: 'AGORA_QUEUE_DEMO_PICTURES',
    description: 'draw demo cats into the album at first start when it is empty',
  },
  {
    key: 'numbers.source',
    env: 'AGORA_NUMBERS_SOURCE',
    description: 'where GET /total takes its list: simulated or http',
  },
  {
    key: 'numbers.count',
    env: 'AGORA_NUMBERS_COUNT',
    description: 'the simulated list is 0 … count − 1',
  },
  {
    key: 'numbers.delay_ms',
    env: 'AGORA_NUMBERS_DELAY_MS',
    description: 'the simulated backend answers after this delay',
  },
  {
    key: 'numbers.upstream_url',
    env: 'AGORA_NUMBERS_UPSTREAM_URL',
    description: 'the http source: a URL answering a JSON array of numbers',
  },
  {
    key: 'numbers.upstream_timeout_ms',
    env: 'AGORA_NUMBERS_UPSTREAM_TIMEOUT_MS',
    description: 'the whole upstream call must finish within this (502 otherwise)',
  },
  {
    key: 'numbers.upstream_max_bytes',
    env: 'AGORA_NUMBERS_UPSTREAM_MAX_BYTES',
    description: 'a longer upstream body is refused (502)',
  },
  {
    key: 'numbers.cache_ttl_ms',
    env: 'AGORA_NUMBERS_CACHE_TTL_MS',
    description: 'reuse a computed total this long; 0: off',
  },
  {
    key: 'numbers.post_max_bytes',
    env: 'AGORA_NUMBERS_POST_MAX_BYTES',
    description: 'largest POST /total body (413 past it)',
  },
  {
    key: 'numbers.max_count',
    env: 'AGORA_NUMBERS_MAX_COUNT',
    description: 'largest count GET /numbers serves',
  },
  {
    key: 'numbers.total_path',
    env: 'AGORA_NUMBERS_TOTAL_PATH',
    description: 'where the sum endpoint lives',
  },
  {
    key: 'mail.host',
    env: 'AGORA_MAIL_HOST',
    description: 'SMTP server for admin alerts; empty: no mail',
  },
  { key: 'mail.port', env: 'AGORA_MAIL_PORT', description: 'SMTP port' },
  {
    key: 'mail.secure',
    env: 'AGORA_MAIL_SECURE',
    description: 'TLS from the first byte (port 465)',
  },
  { key: 'mail.starttls', env: 'AGORA_MAIL_STARTTLS', description: 'require STARTTLS' },
  {
    key: 'mail.user',
    env: 'AGORA_MAIL_USER',
    description: 'SMTP user (with a password: authenticate)',
  },
  { key: 'mail.password', env: 'AGORA_MAIL_PASSWORD', description: 'SMTP password' },
  { key: 'mail.from', env: 'AGORA_MAIL_FROM', description: 'sender of alert mails' },
  { key: 'mail.to', env: 'AGORA_MAIL_TO', description: 'the administrator who receives alerts' },
  {
    key: 'mail.subject_prefix',
    env: 'AGORA_MAIL_SUBJECT_PREFIX',
    description: 'prefix of alert subjects',
  },
  {
    key: 'mail.throttle_ms',
    env: 'AGORA_MAIL_THROTTLE_MS',
    description: 'at most one alert mail per this many milliseconds',
  },
  {
    key: 'tax.french_keys',
    env: 'AGORA_TAX_FRENCH_KEYS',
    description: "answer with the original client's French keys (réponse, impôt, …)",
  },
  {
    key: 'tax.audit_file',
    env: 'AGORA_TAX_AUDIT_FILE',
    description: 'audit log file (one JSON line per tax request), besides stdout',
  },
  { key: 'tax.realm', env: 'AGORA_TAX_REALM', description: 'Basic auth realm' },
  {
    key: 'tax.auth_cache_ms',
    env: 'AGORA_TAX_AUTH_CACHE_MS',
    description: 'how long a successful credential check is remembered',
  },
  {
    key: 'tax.login_failures',
    env: 'AGORA_TAX_LOGIN_FAILURES',
    description: 'wrong credentials a client may send per window before it is refused (429)',
  },
  {
    key: 'tax.login_failure_window_s',
    env: 'AGORA_TAX_LOGIN_FAILURE_WINDOW_S',
    description: 'the window of tax.login_failures, in seconds',
  },
  {
    key: 'tax.auth_queue',
    env: 'AGORA_TAX_AUTH_QUEUE',
    description: 'credential checks that may wait for the hashing thread (then 503)',
  },
  {
    key: 'tax.batch_max',
    env: 'AGORA_TAX_BATCH_MAX',
    description: 'most taxpayers in one batch request',
  },
  ...MODULE_NAMES.map((name) => ({
    key: `prefixes.${name}`,
    env: `AGORA_${name.toUpperCase()}_PREFIX`,
    description: `mount prefix of the ${name} module`,
  })),
];

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
  overrides?: DeepPartial<Static<typeof ConfigSchema>>;
}

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Plain, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!isPlain(next)) node[part] = {};
    node = node[part] as Plain;
  }
  node[parts[parts.length - 1] ?? key] = value;
}

function merge(base: Plain, layer: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(layer)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isPlain(prev) && isPlain(v) ? merge(prev, v) : v;
  }
  return out;
}

/** The schema node at a dotted key, to know how a string from env or argv should be read. */
function schemaAt(key: string): unknown {
  let node: unknown = ConfigSchema;
  for (const part of key.split('.')) {
    node = isPlain(node) && isPlain(node.properties) ? node.properties[part] : undefined;
  }
  return node;
}

/** Strings from the environment or argv become the setting's type; arrays are comma-separated. */
function fromString(key: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const schema = schemaAt(key);
  switch (isPlain(schema) ? schema.type : undefined) {
    case 'array':
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
  if (!isPlain(parsed))
    throw new ConfigError(`Config file ${file} must contain a mapping of settings`);
  return parsed;
}

/**
 * Builds the configuration from every layer, validates it and freezes it.
 * @throws ConfigError naming the first bad setting and its source.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
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
        if (isPlain(v)) walk(v, key);
      }
    };
    walk(fileLayer, '');
    // A list written as one string (`modules: tax`, `modules: market, tax`) reads as it does
    // from the environment.
    for (const setting of SETTINGS) {
      const value = lookup(fileLayer, setting.key);
      if (
        typeof value === 'string' &&
        isPlain(schemaAt(setting.key)) &&
        (schemaAt(setting.key) as Plain).type === 'array'
      ) {
        setPath(fileLayer, setting.key, fromString(setting.key, value));
      }
    }
  }

  const envLayer: Plain = {};
  const flagLayer: Plain = {};
  for (const setting of SETTINGS) {
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      setPath(envLayer, setting.key, fromString(setting.key, fromEnv));
      sources.set(setting.key, setting.env);
    }
    const fromFlag = setting.flag ? options.flags?.[setting.flag] : undefined;
    if (fromFlag !== undefined) {
      setPath(flagLayer, setting.key, fromString(setting.key, fromFlag));
      sources.set(setting.key, `--${setting.flag ?? ''}`);
    }
  }

  let merged = merge(merge(merge({}, fileLayer), envLayer), flagLayer);
  if (options.overrides) merged = merge(merged, options.overrides);

  const withDefaults = Value.Default(ConfigSchema, merged);
  const errors = Value.Errors(ConfigSchema, withDefaults);
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
  const config = withDefaults as Static<typeof ConfigSchema>;
  checkCombinations(config, sources);
  return deepFreeze(config);
}

/**
 * Settings that are valid alone but not together.
 * @throws ConfigError naming the setting to change.
 */
function checkCombinations(
  config: Static<typeof ConfigSchema>,
  sources: Map<string, string>,
): void {
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
    node = isPlain(node) ? node[part] : Array.isArray(node) ? node[Number(part)] : undefined;
  }
  return node;
}

/** Modules that `config.modules` switches on, in the canonical order. */
export function enabledModules(config: Config): ModuleName[] {
  const wanted: readonly string[] = config.modules;
  return wanted.includes('all')
    ? [...MODULE_NAMES]
    : MODULE_NAMES.filter((name) => wanted.includes(name));
}

/** The configured mount prefix of a module, with its default. */
export function modulePrefix(config: Config, name: string, fallback: string): string {
  const prefixes: Partial<Record<string, string>> = config.prefixes;
  return prefixes[name] ?? fallback;
}

/** This node's name in logs: `node_id`, or `<hostname>:<pid>`. */
export function nodeIdOf(config: Pick<Config, 'node_id'>): string {
  return config.node_id || `${hostname()}:${process.pid}`;
}

/** The config as shown to an administrator: secrets and passwords in URLs are masked. */
export function redactConfig(config: Config): Plain {
  const copy = JSON.parse(JSON.stringify(config)) as Plain;
  if (copy.admin_token) copy.admin_token = '***';
  if (typeof copy.db === 'string') copy.db = redactUrl(copy.db);
  if (typeof copy.redis_url === 'string') copy.redis_url = redactUrl(copy.redis_url);
  const mail = copy.mail as Record<string, unknown> | undefined;
  if (mail?.password) mail.password = '***';
  const images = copy.images as Record<string, unknown> | undefined;
  if (images?.signing_key) images.signing_key = '***';
  return copy;
}

export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
