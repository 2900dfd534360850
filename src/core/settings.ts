/**
 * The settings' schema, the single source of every setting: its `description`, `default` and the
 * annotations below give the `AGORA_*` variables, the CLI flags, the redaction of secrets and the
 * settings table in docs/settings.md (`npm run docs:settings`). The core knows only its own
 * settings; each module brings the schema of its `<name>:` section, composed by
 * `composeConfigSchema`. Loads only TypeBox's builder, so the CLI can make its flags from it.
 */
import { Type, type Static, type TObject, type TSchema } from 'typebox';
import { isRecord } from './records.js';

/**
 * What a setting's schema may carry besides `description` and `default`:
 * - `flag`: its CLI flag on `serve` and `migrate` (`data-dir` for `--data-dir`), `short` a letter;
 * - `env`: its variable when not the rule's `AGORA_<KEY>` (dots become underscores);
 * - `secret`: masked when the configuration is shown (`url`: only the password in the URL).
 */
export interface SettingAnnotations {
  flag?: string;
  short?: string;
  env?: string;
  secret?: 'value' | 'url';
}

const Prefix = Type.String({ pattern: '^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$' });

/** The core's own settings; `modules`, `prefixes` and each module's section are added per build. */
const CORE_PROPERTIES = {
  host: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'address to listen on',
    flag: 'host',
  }),
  node_id: Type.String({
    default: '',
    maxLength: 128,
    description: "this node's name in every log and audit line; empty: <hostname>:<pid>",
  }),
  port: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8080,
    description: 'port to listen on (0: any free port)',
    flag: 'port',
    short: 'p',
  }),
  data_dir: Type.String({
    minLength: 1,
    default: './data',
    description: 'directory for the SQLite file and blobs',
    flag: 'data-dir',
  }),
  db: Type.String({
    default: '',
    pattern: '^($|sqlite:|file:|:memory:$|postgres(ql)?://|mysql://|mariadb://)',
    description: 'database: empty for SQLite in the data dir, sqlite:PATH, postgres://…, mysql://…',
    flag: 'db',
    secret: 'url',
  }),
  db_pool_max: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 10,
    description: 'connection pool size (PostgreSQL/MySQL)',
    flag: 'db-pool-max',
  }),
  db_connect_timeout_ms: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 2000,
    description: 'longest wait to open a database connection or get a free one (then 503)',
  }),
  db_query_timeout_ms: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 10_000,
    description: 'longest a statement may run, frozen connections included (then 503)',
  }),
  redis_url: Type.String({
    default: '',
    pattern: '^($|rediss?://)',
    description: 'Redis for the bus shared by several nodes (redis://…); empty: in-process bus',
    flag: 'redis-url',
    secret: 'url',
  }),
  redis_prefix: Type.String({
    default: 'agora:',
    pattern: '^[A-Za-z0-9:._-]{0,64}$',
    description: "prefix of Agora's Redis keys and channel",
  }),
  redis_connect_timeout_ms: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 5000,
    description: 'longest wait for Redis at start (then exit 2) and for each reconnection',
  }),
  redis_command_timeout_ms: Type.Integer({
    minimum: 50,
    maximum: 60_000,
    default: 1000,
    description: 'longest a Redis command may take before the bus counts as down',
  }),
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
    {
      default: 'info',
      description: 'fatal, error, warn, info, debug, trace or silent',
      flag: 'log-level',
    },
  ),
  log_file: Type.String({
    default: '',
    description: 'also write JSON logs to this file',
    flag: 'log-file',
  }),
  log_pretty: Type.Boolean({
    default: false,
    description: 'human-readable logs (development; needs the pino-pretty dev dependency)',
    flag: 'pretty',
  }),
  admin_token: Type.String({
    default: '',
    description: 'bearer token for admin routes; unset: loopback clients only',
    secret: 'value',
  }),
  body_limit: Type.Integer({
    minimum: 1024,
    maximum: 1024 * 1024 * 1024,
    default: 1024 * 1024,
    description: 'default maximum request body in bytes',
  }),
  trust_proxy: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed',
  }),
  shutdown_timeout_ms: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 10_000,
    description: 'how long in-flight requests may take to finish on SIGTERM',
  }),
  shutdown_drain_ms: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 5000,
    description:
      'on SIGTERM, how long the node drains before it stops: no new connections, open ones served (readyz 503)',
  }),
  workers: Type.String({
    pattern: '^(auto|[1-9][0-9]?)$',
    default: '1',
    description:
      'server processes sharing the port: a number, or auto (one per core); 1: a single process',
    flag: 'workers',
  }),
  http: Type.Object(
    {
      headers_timeout_ms: Type.Integer({
        minimum: 1000,
        maximum: 600_000,
        default: 10_000,
        description: "a request's headers must arrive within this (then the connection is closed)",
      }),
      request_timeout_ms: Type.Integer({
        minimum: 1000,
        maximum: 3_600_000,
        default: 120_000,
        description: 'a whole request, body included, must arrive within this (408)',
      }),
      keep_alive_timeout_ms: Type.Integer({
        minimum: 1000,
        maximum: 600_000,
        default: 10_000,
        description: 'an idle keep-alive connection is closed after this',
      }),
      max_connections: Type.Integer({
        minimum: 0,
        maximum: 10_000_000,
        default: 0,
        description:
          'most connections at once (more are closed at once); 0: 90 % of the open-files limit',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
  mail: Type.Object(
    {
      host: Type.String({
        default: '',
        description: 'SMTP server for admin alerts; empty: no mail',
      }),
      port: Type.Integer({ minimum: 1, maximum: 65535, default: 25, description: 'SMTP port' }),
      secure: Type.Boolean({ default: false, description: 'TLS from the first byte (port 465)' }),
      starttls: Type.Boolean({
        default: false,
        description: 'require STARTTLS (refuse to send unless the server upgrades)',
      }),
      user: Type.String({
        default: '',
        description: 'SMTP user (with a password: authenticate)',
      }),
      password: Type.String({ default: '', description: 'SMTP password', secret: 'value' }),
      from: Type.String({ default: 'agora@localhost', description: 'sender of alert mails' }),
      to: Type.String({
        default: '',
        description: 'the administrator who receives alerts; empty: no mail',
      }),
      subject_prefix: Type.String({ default: '[agora]', description: 'prefix of alert subjects' }),
      throttle_ms: Type.Integer({
        minimum: 1000,
        maximum: 86_400_000,
        default: 60_000,
        description: 'at most one alert mail per this many milliseconds',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
  blobs: Type.Object(
    {
      store: Type.Union([Type.Literal('auto'), Type.Literal('fs'), Type.Literal('db')], {
        default: 'auto',
        description:
          'where blobs (images) live: fs (files), db (the SQL database) or auto (fs on SQLite, db on PostgreSQL/MariaDB, whose nodes must all see every image)',
      }),
      dir: Type.String({
        default: '',
        description: 'directory of the fs blob store; empty: <data_dir>/blobs',
      }),
      writer_threads: Type.Integer({
        minimum: 1,
        maximum: 64,
        default: 2,
        description: 'threads that hash and write uploaded images in the fs blob store',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
  realtime: Type.Object(
    {
      history: Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        default: 1000,
        description: 'events kept per topic for resuming clients',
      }),
      heartbeat_ms: Type.Integer({
        minimum: 1000,
        maximum: 600_000,
        default: 15_000,
        description: 'keep-alive interval of WebSocket and SSE connections',
      }),
      max_buffered_bytes: Type.Integer({
        minimum: 1024,
        default: 1024 * 1024,
        description: 'a client whose unsent data passes this is dropped',
      }),
      max_topics: Type.Integer({
        minimum: 1,
        maximum: 10_000,
        default: 100,
        description: 'topics one connection may subscribe to',
      }),
    },
    { additionalProperties: false, default: {} },
  ),
};

/** What the configuration needs to know of a module: its name and its section's schema. */
export interface ConfigSection<N extends string = string, S extends TObject = TObject> {
  name: N;
  /** The schema of the module's `<name>:` section; omitted: the module has no settings. */
  config?: S;
}

type CoreSettings = Static<TObject<typeof CORE_PROPERTIES>>;

/** The core's settings, as every core component sees them. */
export type Config = Readonly<
  CoreSettings & { modules: readonly string[]; prefixes: Readonly<Partial<Record<string, string>>> }
>;

/** The configuration of a build made of `M`: the core's settings and each module's section. */
export type ConfigOf<M extends readonly ConfigSection[]> = Config & {
  readonly [K in M[number] as K['name']]: Readonly<Static<NonNullable<K['config']>>>;
};

/** The schema of a build made of `modules`: the core's settings, `modules`, `prefixes`, sections. */
export function composeConfigSchema(modules: readonly ConfigSection[]): TObject {
  const names = modules.map((m) => m.name);
  const sections: Record<string, TSchema> = {};
  for (const m of modules) {
    if (m.config) sections[m.name] = m.config;
  }
  return Type.Object(
    {
      ...CORE_PROPERTIES,
      modules: Type.Array(Type.Union([Type.Literal('all'), ...names.map((n) => Type.Literal(n))]), {
        default: ['all'],
        description: 'comma-separated modules to run, or all',
        flag: 'modules',
      }),
      prefixes: Type.Object(
        Object.fromEntries(
          names.map((name) => [
            name,
            Type.Optional({
              ...Prefix,
              description: `mount prefix of the ${name} module`,
              env: `AGORA_${name.toUpperCase()}_PREFIX`,
            }),
          ]),
        ),
        { additionalProperties: false, default: {} },
      ),
      ...sections,
    },
    { additionalProperties: false },
  );
}

/** One setting: where it lives in the config object, its variable, its flag and what it does. */
export interface Setting {
  key: string;
  env: string;
  flag?: string;
  short?: string;
  secret?: 'value' | 'url';
  description: string;
  /** How the value is written: `integer`, `string`, `boolean`, `list`, or `a | b | c`. */
  type: string;
  default: unknown;
  /** The literals a value may be, when it is one of a few. */
  choices?: string[];
}

type Plain = Record<string, unknown>;

function literalsOf(schema: Plain): string[] | undefined {
  const members = schema.anyOf;
  if (!Array.isArray(members)) return undefined;
  const values: string[] = [];
  for (const member of members) {
    if (!isRecord(member) || typeof member.const !== 'string') return undefined;
    values.push(member.const);
  }
  return values;
}

/**
 * Every setting of `schema` that a string can set (scalars and lists of scalars), in schema
 * order. Maps of values (`tax.users`) are set in agora.yaml only.
 */
export function settingsOf(schema: TObject): Setting[] {
  const out: Setting[] = [];
  const walk = (node: Plain, prefix: string): void => {
    const properties = node.properties;
    if (!isRecord(properties)) return;
    for (const [name, child] of Object.entries(properties)) {
      if (!isRecord(child)) continue;
      const key = prefix ? `${prefix}.${name}` : name;
      if (child.type === 'object') {
        walk(child, key);
        continue;
      }
      const items = child.items;
      if (child.type === 'array' && isRecord(items) && items.type === 'object') continue;
      const annotations = child as SettingAnnotations & Plain;
      const choices =
        literalsOf(child) ?? (isRecord(items) ? literalsOf(items) : undefined) ?? undefined;
      const type =
        child.type === 'array'
          ? 'list'
          : choices
            ? choices.join(' | ')
            : typeof child.type === 'string'
              ? child.type
              : 'string';
      out.push({
        key,
        env: annotations.env ?? `AGORA_${key.replaceAll('.', '_').toUpperCase()}`,
        ...(annotations.flag ? { flag: annotations.flag } : {}),
        ...(annotations.short ? { short: annotations.short } : {}),
        ...(annotations.secret ? { secret: annotations.secret } : {}),
        description: typeof child.description === 'string' ? child.description : '',
        type,
        default: child.default,
        ...(choices ? { choices } : {}),
      });
    }
  };
  walk(schema as unknown as Plain, '');
  return out;
}
