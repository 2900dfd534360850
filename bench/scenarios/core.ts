/** The core's own scenarios: the ceiling, the cheapest Agora routes, and realtime fan-out. */
import WebSocket from 'ws';
import { sendJson, type Scenario } from './types.js';

const SUBSCRIBERS = Number(process.env.BENCH_FANOUT_SUBSCRIBERS ?? 2000);

export interface FanOutOptions {
  subscribers: number;
  topic: string;
  /** Makes the server publish one event on `topic` (through its public API). */
  trigger: (baseUrl: string) => Promise<void>;
}

/** N WebSocket subscribers on one topic; one event triggered; how long until every one has it. */
export async function wsFanOut(
  baseUrl: string,
  options: FanOutOptions,
): Promise<Record<string, number | string>> {
  const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws?topics=${options.topic}`;
  const sockets: WebSocket[] = [];
  const arrivals: number[] = [];
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  // Open in batches so the server's accept queue is not the thing being measured.
  for (let i = 0; i < options.subscribers; i += 200) {
    const batch = Array.from({ length: Math.min(200, options.subscribers - i) }, () => {
      const ws = new WebSocket(wsUrl);
      sockets.push(ws);
      return new Promise<void>((resolve, reject) => {
        ws.on('message', (raw: Buffer) => {
          const text = raw.toString();
          if (text.includes('"op":"subscribed"')) resolve();
          else if (text.includes('"op":"event"')) {
            arrivals.push(performance.now());
            if (arrivals.length === options.subscribers) resolveAll();
          }
        });
        ws.on('error', reject);
      });
    });
    await Promise.all(batch);
  }
  const sentAt = performance.now();
  await options.trigger(baseUrl);
  await all;
  const delays = arrivals.map((t) => t - sentAt).sort((a, b) => a - b);
  const pct = (p: number): number =>
    delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? NaN;
  for (const ws of sockets) ws.terminate();
  return {
    subscribers: options.subscribers,
    p50_ms: Math.round(pct(50) * 10) / 10,
    p99_ms: Math.round(pct(99) * 10) / 10,
    max_ms: Math.round((delays[delays.length - 1] ?? NaN) * 10) / 10,
  };
}

async function publishThroughAdmin(baseUrl: string): Promise<void> {
  await sendJson(baseUrl, 'POST', '/admin/events', {
    topic: 'bench.fanout',
    type: 'announcement',
    data: { text: 'hello' },
  });
}

export const coreScenarios: Scenario[] = [
  { kind: 'http', name: 'ceiling: bare Fastify GET /', target: 'ceiling', path: '/' },
  { kind: 'http', name: 'core: GET /healthz', target: 'agora', path: '/healthz', light: true },
  { kind: 'http', name: 'core: GET /api/info', target: 'agora', path: '/api/info' },
  {
    kind: 'http',
    name: 'core: unknown route (JSON 404)',
    target: 'agora',
    path: '/nope',
    expect: 404,
  },
  {
    kind: 'custom',
    name: `core: WebSocket fan-out to ${SUBSCRIBERS} subscribers`,
    run: (base) =>
      wsFanOut(base, {
        subscribers: SUBSCRIBERS,
        topic: 'bench.fanout',
        trigger: publishThroughAdmin,
      }),
  },
];
