/**
 * The fault suite, bus side: a real `agora serve` whose Redis is reached through a TCP proxy the
 * test controls. Whatever happens to Redis — connections reset, a blackhole, connections refused —
 * purchases keep being answered without waiting on it, `/readyz` says the bus is down (200,
 * `degraded`: the node still works), a live WebSocket client hears of the gap, and once Redis is
 * back events flow again without anyone restarting anything. And a node started while Redis is
 * unreachable exits 2 within the configured bound, naming the URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, redisNamespace } from '../helper.js';
import { runCli, startServerProcess, type ServerProcess } from '../process.js';
import { openWs, type WsClient } from '../realtime-clients.js';
import { REDIS_URL } from '../services.js';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy.js';
import { startBuyers } from './load.js';

const COMMAND_TIMEOUT_MS = 300;
const CONNECT_TIMEOUT_MS = 1000;
/** A purchase never waits on the bus: one still unanswered after this counts as hung. */
const PATIENCE_MS = 3000;
const PRODUCT = 1;

describe.runIf(redisAvailable())('a Redis that fails under load', () => {
  let ns: Awaited<ReturnType<typeof redisNamespace>>;
  let proxy: TcpProxy;
  let server: ServerProcess;
  let ws: WsClient;

  beforeAll(async () => {
    ns = await redisNamespace();
    const target = new URL(REDIS_URL);
    proxy = await startTcpProxy(target.hostname, Number(target.port));
    server = await startServerProcess(
      ['--redis-url', proxy.url(REDIS_URL), '--modules', 'market', '--db', 'sqlite::memory:'],
      {
        AGORA_REDIS_PREFIX: ns.prefix,
        AGORA_REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
        AGORA_REDIS_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      },
    );
    const res = await fetch(`${server.url}/market/replenish/${PRODUCT}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 1_000_000 }),
    });
    expect(res.status).toBe(200);
    ws = openWs(`${server.url.replace(/^http/, 'ws')}/ws?topics=product.${PRODUCT}`);
    await ws.opened;
    await ws.control.until(1); // subscribed
  });

  afterAll(async () => {
    ws.socket.close();
    server.child.kill('SIGTERM');
    await server.exited;
    await proxy.close();
    await ns.clear();
  });

  async function readiness(): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(1500) });
    return { status: res.status, body: await res.json() };
  }

  /** Resolves with the next gap the WebSocket client receives. */
  async function nextGap(): Promise<Record<string, unknown>> {
    for (let seen = ws.control.items.length; ; seen++) {
      const items = await ws.control.until(seen + 1);
      const message = items[seen];
      if (message?.op === 'gap') return message;
    }
  }

  /**
   * Runs `fault` under load: purchases go on being answered 200 throughout, the live client
   * gets a gap, and after `restore` events reach it again.
   */
  async function survives(fault: () => void, whileDown?: () => Promise<void>): Promise<void> {
    const load = startBuyers(server.url, PRODUCT, { buyers: 8, patienceMs: PATIENCE_MS });
    await load.answered(30, [200]);
    await ws.until(ws.items.length + 1);
    const gap = nextGap();
    fault();
    expect(await gap).toMatchObject({ op: 'gap', topic: `product.${PRODUCT}` });
    // Purchases carry on while the bus is down.
    await load.answered(100, [200]);
    await whileDown?.();
    proxy.restore();
    // Back by itself: events flow to the live client again.
    const before = ws.items.length;
    await ws.until(before + 5);
    const report = await load.stop();
    expect(server.child.exitCode).toBeNull();
    expect(report.hung).toBe(0);
    expect(report.dropped).toBe(0);
    expect(report.answers.filter((a) => a.status !== 200)).toEqual([]);
    expect((await readiness()).body).toEqual({
      status: 'ok',
      checks: { database: 'ok', bus: 'ok' },
    });
  }

  const degraded = async (): Promise<void> => {
    const ready = await readiness();
    expect(ready).toEqual({
      status: 200,
      body: {
        status: 'degraded',
        checks: { database: 'ok', bus: expect.stringMatching(/^(no answer|unavailable)$/) },
      },
    });
  };

  it('keeps selling when every Redis connection is reset, and live clients get a gap', async () => {
    await survives(() => {
      proxy.reset();
    });
  });

  it('keeps selling through a Redis blackhole, reports the bus down, and recovers', async () => {
    await survives(() => {
      proxy.blackhole();
    }, degraded);
  });

  it('keeps selling while Redis refuses connections, reports the bus down, and recovers', async () => {
    await survives(() => {
      proxy.refuse();
      proxy.reset();
    }, degraded);
  });
});

describe.runIf(redisAvailable())('a node started while Redis is unreachable', () => {
  it('exits 2 within the connect timeout, naming the URL, whether refused or blackholed', async () => {
    const target = new URL(REDIS_URL);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    try {
      for (const fault of ['refuse', 'blackhole'] as const) {
        proxy[fault]();
        const url = proxy.url('redis://127.0.0.1:6379');
        const result = await runCli(['serve', '--port', '0', '--db', 'sqlite::memory:'], {
          AGORA_REDIS_URL: url,
          AGORA_REDIS_CONNECT_TIMEOUT_MS: '500',
        });
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(`Redis at ${url} is unreachable`);
        proxy.restore();
      }
    } finally {
      await proxy.close();
    }
  });
});
