/**
 * A cluster as docs/operations.md, "Running several nodes", builds it: real nginx (Debian's package),
 * configured from `deploy/nginx.conf`, in front of several `agora serve` processes on one
 * PostgreSQL or MariaDB database and one Redis server the test starts on its own port (so that it
 * may kill it). Nodes listen on fixed ports, so a node stopped by a test can be started again
 * behind the same nginx. AGORA_DEBUG_NGINX=1 prints nginx's error log when it stops.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, freePort, tempDir, type TestDatabase } from '../helper.js';
import { startServerProcess, type ServerProcess } from '../process.js';
import { startRedisServer, type RedisServer } from '../redis-server.js';

const NGINX_CONF = fileURLToPath(new URL('../../deploy/nginx.conf', import.meta.url));

/** An address of this machine that is not loopback: a client from it is a remote client. */
export function remoteAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/**
 * `deploy/nginx.conf` for this cluster: its upstream lists these nodes, it listens on loopback
 * and on `remote` (when there is one) at `port`. Everything else is the file as shipped.
 */
export function nginxSiteFor(nodePorts: number[], port: number, remote: string | null): string {
  const shipped = readFileSync(NGINX_CONF, 'utf8');
  const servers = nodePorts
    .map((p) => `    server 127.0.0.1:${p} max_fails=2 fail_timeout=5s;`)
    .join('\n');
  const listens = [`listen 127.0.0.1:${port};`, ...(remote ? [`listen ${remote}:${port};`] : [])];
  const site = shipped
    .replace(/(\s*server 127\.0\.0\.1:\d+[^;]*;)+/, `\n${servers}`)
    .replace('listen 80;', listens.join('\n    '));
  if (site === shipped) throw new Error('deploy/nginx.conf: upstream or listen line not found');
  return site;
}

export interface Nginx {
  url: string;
  /** The same nginx, reached from a non-loopback address of this machine (null: none). */
  remoteUrl: string | null;
  stop(): Promise<void>;
}

/** Runs nginx in the foreground with `site` in a directory of its own. */
export async function startNginx(nodePorts: number[]): Promise<Nginx> {
  const dir = tempDir('agora-nginx-');
  const port = await freePort();
  const remote = remoteAddress();
  writeFileSync(path.join(dir, 'agora.conf'), nginxSiteFor(nodePorts, port, remote));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, sub));
  const main = [
    'daemon off;',
    'worker_processes 1;',
    // As root (CI), workers would drop to nobody, who cannot use this directory.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 2048; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`,
    `  scgi_temp_path ${dir}/scgi;`,
    `  include ${dir}/agora.conf;`,
    '}',
  ].join('\n');
  writeFileSync(path.join(dir, 'nginx.conf'), main);
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
  const check = spawnSync('nginx', ['-t', ...args], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  const child: ChildProcess = spawn('nginx', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  // nginx says nothing when it is ready: try its port until it answers (or it exits).
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    remoteUrl: remote ? `http://${remote}:${port}` : null,
    async stop() {
      if (process.env.AGORA_DEBUG_NGINX)
        process.stderr.write(readFileSync(path.join(dir, 'error.log'), 'utf8'));
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Cluster {
  /** Through nginx. */
  url: string;
  remoteUrl: string | null;
  nodes: (ServerProcess | null)[];
  ports: number[];
  redis: RedisServer;
  database: TestDatabase;
  /** Starts node `i` (again) on its port. */
  startNode(i: number): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export async function startCluster(options: {
  dialect: 'postgres' | 'mysql';
  nodes: number;
  env?: Record<string, string>;
}): Promise<Cluster> {
  const database = await createTestDatabase(options.dialect);
  const redis = await startRedisServer();
  const ports = await Promise.all(Array.from({ length: options.nodes }, () => freePort()));
  const nodes: (ServerProcess | null)[] = ports.map(() => null);
  const startNode = async (i: number): Promise<ServerProcess> => {
    const node = await startServerProcess(
      ['--port', String(ports[i]), '--db', database.url, '--redis-url', redis.url],
      {
        AGORA_TRUST_PROXY: '127.0.0.1',
        AGORA_NODE_ID: `node-${i}`,
        // Longer than nginx keeps an idle connection to a node (deploy/nginx.conf: 4 s), as the
        // docs/operations.md asks: by the end of the drain nginx holds none to this node.
        AGORA_SHUTDOWN_DRAIN_MS: '4500',
        ...options.env,
      },
    );
    nodes[i] = node;
    return node;
  };
  // One after another: the first migrates, the others find the schema ready.
  for (let i = 0; i < options.nodes; i++) await startNode(i);
  const nginx = await startNginx(ports);
  return {
    url: nginx.url,
    remoteUrl: nginx.remoteUrl,
    nodes,
    ports,
    redis,
    database,
    startNode,
    async stop() {
      await nginx.stop();
      for (const node of nodes) {
        if (node?.child.exitCode === null) {
          node.child.kill('SIGKILL');
          await node.exited;
        }
      }
      await redis.stop();
      await database.drop();
    },
  };
}
