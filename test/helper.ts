/**
 * Test helpers: a fresh app per test file, each on its own fresh database, closed and dropped
 * afterwards. HTTP tests use `app.inject`; `listen()` is for protocols that need a socket.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { buildApp, type BuildOptions } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { DeepPartial } from '../src/core/config.js';
import { MYSQL_ADMIN_URL, POSTGRES_ADMIN_URL, REDIS_URL, type Dialect } from './services.js';

export type { Dialect } from './services.js';

/** The dialects this run covers (see test/global-setup.ts). */
export function dialects(): Dialect[] {
  return inject('dialects');
}

export function browserAvailable(): boolean {
  return inject('browser');
}

/** nginx and systemd-analyze are there (see test/global-setup.ts). */
export function clusterToolsAvailable(): boolean {
  return inject('cluster');
}

export function redisAvailable(): boolean {
  return inject('redis');
}

/** A Redis key prefix of its own for one suite, and a way to delete its keys afterwards. */
export async function redisNamespace(): Promise<{
  prefix: string;
  url: string;
  clear(): Promise<void>;
}> {
  const { Redis } = await import('ioredis');
  const prefix = `agora-test:${randomBytes(6).toString('hex')}:`;
  return {
    prefix,
    url: REDIS_URL,
    async clear() {
      const client = new Redis(REDIS_URL);
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  };
}

export interface TestDatabase {
  dialect: Dialect;
  /** The `db` setting that points at it. */
  url: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'agora-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Creates an empty database of its own for one suite. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const name = `agora_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = tempDir();
    return {
      dialect,
      url: `sqlite:${path.join(dir, 'agora.db')}`,
      drop: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      dialect,
      url: url.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const admin = await createConnection({ uri: MYSQL_ADMIN_URL });
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = new URL(MYSQL_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    async drop() {
      const c = await createConnection({ uri: MYSQL_ADMIN_URL });
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

export type ConfigOverrides = DeepPartial<Config>;

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  database: TestDatabase;
  dataDir: string;
  /** Closes the app, drops the database, removes the data dir. */
  close(): Promise<void>;
}

/** A silent logger unless AGORA_TEST_LOG is set (e.g. `debug`). */
export function testLogger(): pino.Logger {
  return pino({ level: process.env.AGORA_TEST_LOG ?? 'silent' });
}

/** Builds an app on a fresh database of `dialect` (default SQLite). */
export async function buildTestApp(
  options: { dialect?: Dialect; config?: ConfigOverrides; build?: BuildOptions } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(options.dialect ?? 'sqlite');
  const dataDir = tempDir();
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: { data_dir: dataDir, db: database.url, port: 0, ...options.config },
  });
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { logger: testLogger(), ...options.build });
  } catch (err) {
    await database.drop();
    throw err;
  }
  return {
    app,
    config,
    database,
    dataDir,
    async close() {
      await app.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Listens on a free loopback port; returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** A port free on 127.0.0.1 right now (for a process the test starts on a port it must know). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
