/**
 * `agora serve --workers 2` on the embedded defaults (one SQLite file, the in-process bus relayed
 * by the primary): both workers serve, realtime events cross them, purchases never oversell,
 * `/metrics` counts both, a killed worker is replaced, and SIGTERM stops everything cleanly.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helper.js';
import { createProduct, replenish } from '../faults/load.js';
import { CARD } from '../market/helpers.js';
import { runCli, startServerProcess, type ServerProcess } from '../process.js';
import { openWs, type WsClient } from '../realtime-clients.js';

const json = { 'content-type': 'application/json' };

/** A GET on a connection of its own (each new connection may go to the other worker). */
function freshGet(url: string): Promise<{ status: number; id: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, id: String(res.headers['x-request-id']) });
      });
    });
    req.on('error', reject);
    // A connection handed to a worker as it is killed is never answered: give up on it.
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')));
  });
}

/** The worker (its pid) that logged each request id. */
function pidsOf(server: ServerProcess, ids: readonly string[]): Set<unknown> {
  return new Set(server.lines.filter((l) => ids.includes(String(l.req_id))).map((l) => l.pid));
}

describe('agora serve --workers 2 on SQLite', () => {
  let server: ServerProcess;
  let workers: number[];

  beforeAll(async () => {
    server = await startServerProcess(['--data-dir', tempDir(), '--workers', '2'], {
      AGORA_SHUTDOWN_DRAIN_MS: '0',
    });
    const ready = await server.waitForLog(/^agora cluster ready$/);
    workers = ready.workers as number[];
  }, 60_000);

  afterAll(async () => {
    server.child.kill('SIGTERM');
    // Every worker stops cleanly, then the primary: exit code 0.
    expect(await server.exited).toBe(0);
  });

  it('serves from both workers, and /metrics counts the requests of both', async () => {
    expect(new Set(workers).size).toBe(2);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await freshGet(`${server.url}/not-here/${i}`);
      expect(res.status).toBe(404);
      ids.push(res.id);
    }
    await Promise.all(ids.map((id) => server.waitForLog(/^request completed$/, { req_id: id })));
    expect(pidsOf(server, ids)).toEqual(new Set(workers));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const counted =
      /^http_server_request_duration_seconds_count\{method="GET",route="<unmatched>",status_code="404"\} (\d+)$/m.exec(
        text,
      );
    expect(Number(counted?.[1])).toBe(20);
  });

  it('brings a purchase made on one worker to WebSocket clients on both', async () => {
    const id = await createProduct(server.url, 3, 0);
    // Connections opened one after the other go to the workers in turn.
    const clients: WsClient[] = [];
    for (let i = 0; i < 4; i++) {
      const ws = openWs(`${server.url.replace('http', 'ws')}/ws?topics=product.${id}`);
      await ws.control.until(1);
      clients.push(ws);
    }
    try {
      await replenish(server.url, id, 5);
      const bought = await fetch(`${server.url}/market/buy/${id}`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ amount: 2, credit_card: CARD }),
      });
      expect(bought.status).toBe(200);
      for (const ws of clients) {
        const events = await ws.until(2);
        expect(events.map((e) => e.data)).toEqual([
          expect.objectContaining({ type: 'stock-changed', quantity: 5 }),
          expect.objectContaining({ type: 'stock-changed', quantity: 3 }),
        ]);
        // One numbering for the cluster: every client saw the same offsets.
        expect(events.map((e) => e.offset)).toEqual(clients[0]?.items.map((e) => e.offset));
      }
    } finally {
      for (const ws of clients) ws.socket.close();
    }
  });

  it('sells exactly the stock of 50 to 200 buyers spread over both workers', async () => {
    const id = await createProduct(server.url, 2, 50);
    const answers = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<{ status: number; id: string; body: string }>((resolve, reject) => {
            const req = http.request(
              `${server.url}/market/buy/${id}`,
              { method: 'POST', agent: false, headers: json },
              (res) => {
                let body = '';
                res.on('data', (d: Buffer) => (body += d.toString()));
                res.on('end', () => {
                  resolve({
                    status: res.statusCode ?? 0,
                    id: String(res.headers['x-request-id']),
                    body,
                  });
                });
              },
            );
            req.on('error', reject);
            req.end(JSON.stringify({ amount: 1, credit_card: CARD }));
          }),
      ),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const sold = answers.filter((a) => a.body.includes('"Success"'));
    expect(sold).toHaveLength(50);
    await Promise.all(
      answers.map((a) => server.waitForLog(/^request completed$/, { req_id: a.id })),
    );
    expect(
      pidsOf(
        server,
        sold.map((a) => a.id),
      ).size,
    ).toBe(2);
    const left = (await (await fetch(`${server.url}/market/query/${id}`)).json()) as {
      data: { quantity: number };
    };
    expect(left.data.quantity).toBe(0);
  });

  it('replaces a killed worker, and loses no request but those it had in flight', async () => {
    const [victim, survivor] = workers as [number, number];
    let running = true;
    let failed = 0;
    let answered = 0;
    let warmed: () => void = () => undefined;
    const busy = new Promise<void>((resolve) => (warmed = resolve));
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const res = await freshGet(`${server.url}/healthz`);
          if (res.status === 200) answered += 1;
          else failed += 1;
        } catch {
          failed += 1;
        }
        if (answered >= 20) warmed();
      }
    });
    await busy;
    process.kill(victim, 'SIGKILL');
    await server.waitForLog(/^worker died; starting another$/, { worker: victim });
    const before = answered;
    running = false;
    await Promise.all(loops);
    // Requests went on being answered by the other worker; at most one per client loop was on
    // the killed worker when it died.
    expect(answered).toBeGreaterThan(before - 1);
    expect(failed).toBeLessThanOrEqual(4);
    const replaced = await server.waitForLog(/^worker replaced$/);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await freshGet(`${server.url}/after-kill/${i}`)).id);
    await Promise.all(ids.map((rid) => server.waitForLog(/^request completed$/, { req_id: rid })));
    expect(pidsOf(server, ids)).toEqual(new Set([survivor, Number(replaced.worker)]));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^agora_cluster_worker_replacements_total 1$/m);
    expect(text).toMatch(/^agora_cluster_workers 2$/m);
    workers = [survivor, Number(replaced.worker)];
  }, 90_000);

  it('restarts the workers one by one on SIGUSR2, answering all the while', async () => {
    const load = { running: true };
    let failed = 0;
    let answered = 0;
    const loop = (async () => {
      while (load.running) {
        try {
          const res = await freshGet(`${server.url}/healthz`);
          if (res.status === 200) answered += 1;
          else failed += 1;
        } catch {
          failed += 1;
        }
      }
    })();
    server.child.kill('SIGUSR2');
    const restarted = await server.waitForLog(/^workers restarted$/);
    load.running = false;
    await loop;
    expect(failed).toBe(0);
    expect(answered).toBeGreaterThan(0);
    // Two new processes, none of the old ones.
    const now = restarted.workers as number[];
    expect(now).toHaveLength(2);
    expect(now.filter((pid) => workers.includes(pid))).toEqual([]);
    workers = now;
  }, 90_000);
});

describe('agora serve --workers 2 that cannot start', () => {
  it('stops with the exit code of a worker that cannot listen', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await runCli([
        'serve',
        '--port',
        String(port),
        '--data-dir',
        tempDir(),
        '--workers',
        '2',
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EADDRINUSE');
      expect(result.stdout).toContain('a worker failed to start; stopping the cluster');
    } finally {
      taken.close();
    }
  });
});
