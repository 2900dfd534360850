/**
 * The cluster suite: two Agora nodes behind real nginx (configured from deploy/nginx.conf) on one
 * PostgreSQL or MariaDB database and a Redis server of the test's own, as docs/operations.md,
 * "Running several nodes", builds them. What an operator relies on: no oversell across nodes, events across
 * nodes, proxy safety, images every node serves, no 502 while a node stops, every acknowledged
 * write kept when a node dies, no silent gap when Redis restarts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterToolsAvailable, dialects } from '../helper.js';
import { createProduct, inLedger, startBuyers } from '../faults/load.js';
import { CARD } from '../market/helpers.js';
import { openSse, openWs, type WsClient } from '../realtime-clients.js';
import { expectNoSilentGap, setPrice, sseSeen, wsFrames, type Seen } from '../realtime-checks.js';
import { startCluster, type Cluster } from './cluster.js';

const serverDialects = dialects().filter((d): d is 'postgres' | 'mysql' => d !== 'sqlite');
const json = { 'content-type': 'application/json' };

const wsUrl = (port: number, topic: string): string => `ws://127.0.0.1:${port}/ws?topics=${topic}`;

describe.runIf(clusterToolsAvailable())('the shipped deployment files', () => {
  it('include a systemd unit that systemd-analyze verifies', () => {
    const unit = fileURLToPath(new URL('../../deploy/agora.service', import.meta.url));
    const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

describe.runIf(clusterToolsAvailable()).each(serverDialects)(
  'two nodes behind nginx on %s',
  (dialect) => {
    let c: Cluster;
    beforeAll(async () => {
      c = await startCluster({ dialect, nodes: 2 });
    }, 120_000);
    afterAll(async () => {
      await c.stop();
    });

    it('sells exactly the stock to 300 buyers through the balancer', async () => {
      const id = await createProduct(c.url, 7, 100);
      const answers = await Promise.all(
        Array.from({ length: 300 }, async () => {
          const res = await fetch(`${c.url}/market/buy/${id}`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ amount: 1, credit_card: CARD }),
          });
          return { status: res.status, body: (await res.json()) as { data?: { status: string } } };
        }),
      );
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      expect(answers.filter((a) => a.body.data?.status === 'Success')).toHaveLength(100);
      const left = (await (await fetch(`${c.url}/market/query/${id}`)).json()) as {
        data: { quantity: number };
      };
      expect(left.data.quantity).toBe(0);
    });

    it('brings a change made through node B to WebSocket and SSE clients of node A', async () => {
      const id = await createProduct(c.url, 10, 1);
      const ws = openWs(wsUrl(c.ports[0]!, `product.${id}`));
      const sse = openSse(`http://127.0.0.1:${c.ports[0]}/events?topics=product.${id}`);
      try {
        await ws.control.until(1);
        await sse.response;
        expect(await setPrice(`http://127.0.0.1:${c.ports[1]}`, 42, id)).toBe(true);
        const [event] = await ws.until(1);
        expect(event).toMatchObject({ type: 'price-changed', data: { new_price: 42 } });
        const [frame] = await sse.until(1);
        expect(frame?.event).toBe('price-changed');
      } finally {
        ws.socket.close();
        sse.close();
      }
    });

    it('turns a remote client away from admin routes, and bans only the cheater behind the proxy', async () => {
      // A client of this machine's non-loopback address: remote to Agora, through nginx.
      expect(c.remoteUrl).not.toBeNull();
      const remote = c.remoteUrl!;
      const refused = await fetch(`${remote}/admin/config`);
      expect(refused.status).toBe(403);
      expect((await fetch(`${c.url}/admin/config`)).status).toBe(200);

      // Someone is in line, so that a claim out of turn is a cheat (not an empty line).
      expect((await fetch(`${c.url}/queue/tokens`, { method: 'POST' })).status).toBe(201);
      const cheat = await fetch(`${remote}/queue/tokens/Z99/claim`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ secret: 'guess' }),
      });
      expect(cheat.status).toBe(403);
      const banned = await fetch(`${remote}/queue/tokens`, { method: 'POST' });
      expect(((await banned.json()) as { error: { code: string } }).error.code).toBe(
        'QUEUE_BANNED',
      );
      // Every other client (here: a local one, through the same nginx) is served.
      const other = await fetch(`${c.url}/queue/tokens`, { method: 'POST' });
      expect(other.status).toBe(201);
      const bans = (await (await fetch(`${c.url}/queue/bans`)).json()) as { ip: string }[];
      expect(bans.map((b) => b.ip)).toEqual([new URL(remote).hostname]);
    });

    it('serves an image of images.max_bytes uploaded on node A, byte for byte, from node B', async () => {
      // Noise does not compress: a PNG about as large as the upload limit allows (25 MiB).
      const width = 2800;
      const height = 3000;
      const png = await sharp(randomBytes(width * height * 3), {
        raw: { width, height, channels: 3 },
      })
        .png({ compressionLevel: 0 })
        .toBuffer();
      expect(png.length).toBeGreaterThan(24 * 1024 * 1024);
      expect(png.length).toBeLessThanOrEqual(25 * 1024 * 1024);
      const up = await fetch(`http://127.0.0.1:${c.ports[0]}/images`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: new Uint8Array(png),
      });
      expect(up.status).toBe(201);
      const { id } = (await up.json()) as { id: string };
      const down = await fetch(`http://127.0.0.1:${c.ports[1]}/images/${id}`);
      expect(down.status).toBe(200);
      const bytes = Buffer.from(await down.arrayBuffer());
      const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
      expect(digest(bytes)).toBe(digest(png));
    });

    it('gives every live client every acknowledged change or a gap first while Redis restarts', async () => {
      const id = await createProduct(c.url, 1, 1);
      const ws = openWs(wsUrl(c.ports[0]!, `product.${id}`));
      const frames = wsFrames(ws);
      const sse = openSse(`http://127.0.0.1:${c.ports[1]}/events?topics=product.${id}`, {}, [
        'subscribed',
      ]);
      try {
        await ws.control.until(1);
        await sse.response;
        const acknowledged: number[] = [];
        let price = 2000;
        const change = async (): Promise<void> => {
          price += 1;
          if (await setPrice(c.url, price, id)) acknowledged.push(price);
        };
        for (let i = 0; i < 10; i++) await change();
        await ws.until(10);
        await c.redis.kill();
        for (let i = 0; i < 5; i++) await change();
        await c.redis.start();
        // Changes go on until both nodes are back on Redis and each client has heard three made
        // after the restart (each client judges only what came before the last price it heard).
        const restartedAt = price;
        const heardSince = (seen: Seen[]): number =>
          seen.filter((f) => 'price' in f && f.price > restartedAt).length;
        while (heardSince(frames) < 3 || heardSince(sseSeen(sse.items)) < 3) await change();
        expect(expectNoSilentGap(acknowledged, frames).length).toBeGreaterThanOrEqual(5);
        expect(expectNoSilentGap(acknowledged, sseSeen(sse.items)).length).toBeGreaterThanOrEqual(
          5,
        );
      } finally {
        ws.socket.close();
        sse.close();
      }
    });

    it('never answers 502 (nor anything but 200) while a node drains and stops under POST load through nginx', async () => {
      const id = await createProduct(c.url, 1, 1_000_000);
      const load = startBuyers(c.url, id, { buyers: 16, patienceMs: 10_000 });
      try {
        await load.answered(100, [200]);
        const node = c.nodes[0]!;
        node.child.kill('SIGTERM');
        expect(await node.exited).toBe(0);
        await load.answered(100, [200]);
      } finally {
        const report = await load.stop();
        await c.startNode(0);
        expect(report.hung + report.dropped).toBe(0);
        // Not one failure: the draining node refuses new connections (nginx sends those requests,
        // POSTs included, to the other node) and answers those it has.
        expect(report.answers.filter((a) => a.status !== 200)).toEqual([]);
        expect(await inLedger(c.database, report.acknowledged)).toBe(report.acknowledged.length);
      }
    });

    it('keeps every acknowledged purchase when a node is killed, and its live clients resume on the other', async () => {
      const id = await createProduct(c.url, 1, 1_000_000);
      const topic = `product.${id}`;
      const first: WsClient = openWs(wsUrl(c.ports[0]!, topic));
      await first.control.until(1);
      const load = startBuyers(c.url, id, { buyers: 16, patienceMs: 10_000 });
      let report;
      try {
        await load.answered(100, [200]);
        await first.until(20);
        c.nodes[0]!.child.kill('SIGKILL');
        expect(await first.closed).not.toBe(1000);
        await load.answered(100, [200]);
      } finally {
        report = await load.stop();
      }
      // Only requests in flight on the killed node may fail (nginx cannot retry a sent POST).
      const failed = report.answers.filter((a) => a.status !== 200);
      expect(failed.length + report.dropped).toBeLessThanOrEqual(16);
      expect(failed.every((a) => a.status === 502)).toBe(true);
      expect(await inLedger(c.database, report.acknowledged)).toBe(report.acknowledged.length);

      // The client resumes on the surviving node from where it was: every event, no hole.
      const lastSeen = first.items.at(-1)!;
      const last = { offset: Number(lastSeen.offset), epoch: String(lastSeen.epoch) };
      const again = openWs(wsUrl(c.ports[1]!, ''));
      try {
        await again.opened;
        again.send({
          op: 'subscribe',
          topics: [topic],
          from: { [topic]: last.offset },
          epoch: last.epoch,
        });
        const [subscribed] = await again.control.until(1);
        const latest = (subscribed?.topics as Record<string, number>)[topic]!;
        const resumed = await again.until(latest - last.offset);
        expect(again.control.items.filter((m) => m.op === 'gap')).toEqual([]);
        expect(resumed.map((e) => e.offset)).toEqual(
          Array.from({ length: latest - last.offset }, (_, i) => last.offset + 1 + i),
        );
      } finally {
        again.socket.close();
        await c.startNode(0);
      }
    });
  },
);
