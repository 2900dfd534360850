/**
 * A TCP proxy that a test controls, to put a dependency (PostgreSQL, MariaDB, Redis) behind a
 * network that fails on demand:
 *
 * - `reset()`: every open connection is cut with a TCP RST (a crashed peer, a firewall reset);
 * - `blackhole()`: open connections stay open but nothing crosses any more, and new connections
 *   are accepted and then hang (a frozen host, a dropped route); `restore()` ends it, and what
 *   was sent meanwhile arrives late, as TCP's retransmissions would deliver it;
 * - `refuse()`: new connections are closed at once (the server is down); `restore()` ends it.
 *
 * Listens on 127.0.0.1 on a free port; `url(target)` rewrites a URL to go through it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

interface Pair {
  client: Socket;
  server: Socket;
  /** Bytes held back by a blackhole, per direction, delivered on restore. */
  toServer: Buffer[];
  toClient: Buffer[];
}

export interface TcpProxy {
  readonly port: number;
  /** `target` with its host and port replaced by the proxy's. */
  url(target: string): string;
  readonly mode: ProxyMode;
  /** Connections accepted so far (a test can wait for a client to reconnect). */
  readonly accepted: number;
  /** Open connection pairs. */
  readonly open: number;
  reset(): void;
  blackhole(): void;
  refuse(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  /** Sockets held silent while blackholed: connected, never answered. */
  const held = new Set<Socket>();

  const cut = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.server.resetAndDestroy();
  };

  const pipeBoth = (pair: Pair): void => {
    // A blackhole holds data back (no backpressure, no close) until restore.
    pair.client.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') pair.toServer.push(chunk);
      else pair.server.write(chunk);
    });
    pair.server.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') pair.toClient.push(chunk);
      else pair.client.write(chunk);
    });
    const end = (): void => {
      if (!pairs.has(pair)) return;
      pairs.delete(pair);
      pair.client.destroy();
      pair.server.destroy();
    };
    pair.client.on('close', end);
    pair.server.on('close', end);
    pair.client.on('error', end);
    pair.server.on('error', end);
  };

  const forward = (client: Socket): void => {
    client.pause();
    const upstream = connect(targetPort, targetHost);
    const pair: Pair = { client, server: upstream, toServer: [], toClient: [] };
    pairs.add(pair);
    upstream.on('connect', () => {
      client.resume();
    });
    pipeBoth(pair);
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') {
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    forward(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no port');
  const port = address.port;

  return {
    port,
    url(target) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    reset() {
      for (const pair of [...pairs]) cut(pair);
    },
    blackhole() {
      mode = 'blackhole';
    },
    refuse() {
      mode = 'refuse';
      for (const socket of held) socket.resetAndDestroy();
    },
    restore() {
      mode = 'pass';
      for (const pair of pairs) {
        for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
        for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
      }
      // Connections that waited in the blackhole go through now (their SYN got an answer).
      for (const socket of held) if (!socket.destroyed) forward(socket);
      held.clear();
    },
    async close() {
      for (const pair of [...pairs]) cut(pair);
      for (const socket of held) socket.resetAndDestroy();
      server.close();
      await once(server, 'close');
    },
  };
}
