/**
 * Queue scenarios: token issue rate at 32 connections (the line holds 2,600 codes, so it is
 * filled, emptied — not measured — and filled again), the claim cycle of one client, and an
 * event fanned out to N board viewers over SSE.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import type { Scenario } from '../../../bench/scenarios/types.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const VIEWERS = Number(process.env.BENCH_QUEUE_VIEWERS ?? 2000);

interface Issued {
  token: string;
  secret: string;
}

function percentile(sorted: number[], p: number): number {
  const v =
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return Math.round((v ?? NaN) * 10) / 10;
}

async function issueRate(base: string): Promise<Record<string, number | string>> {
  const agent = new Agent({ connections: CONNECTIONS });
  let issued = 0;
  let seconds = 0;
  let errors = 0;
  const p50s: number[] = [];
  const p99s: number[] = [];
  const deadline = performance.now() + DURATION * 1000;
  while (performance.now() < deadline) {
    // Fill the line (2,600 codes) with CONNECTIONS clients; keep the secrets to empty it after.
    const held: Issued[] = [];
    // Timed from the first answer to the last: autocannon's start-up is not the server's time.
    let first = 0;
    let last = 0;
    const result = await autocannon({
      url: `${base}/queue/tokens`,
      connections: CONNECTIONS,
      amount: 2600,
      requests: [
        {
          method: 'POST',
          onResponse: (status: number, body: string) => {
            last = performance.now();
            if (first === 0) first = last;
            if (status === 201) held.push(JSON.parse(body) as Issued);
          },
        },
      ],
    });
    issued += result['2xx'];
    errors += result.non2xx + result.errors + result.timeouts;
    seconds += (last - first) / 1000;
    p50s.push(result.latency.p50);
    p99s.push(result.latency.p99);
    // Empty it again (not measured): every holder leaves.
    for (let i = 0; i < held.length; i += CONNECTIONS) {
      await Promise.all(
        held.slice(i, i + CONNECTIONS).map(async (t) => {
          const res = await request(`${base}/queue/tokens/${t.token}`, {
            method: 'DELETE',
            headers: { 'x-token-secret': t.secret },
            dispatcher: agent,
          });
          await res.body.dump();
        }),
      );
    }
  }
  await agent.close();
  return {
    issued,
    per_s: Math.round(issued / seconds),
    p50_worst_round: Math.max(...p50s),
    p99_worst_round: Math.max(...p99s),
    errors,
  };
}

async function claimCycle(base: string): Promise<Record<string, number | string>> {
  const agent = new Agent({ connections: 1 });
  const cycles: number[] = [];
  const deadline = performance.now() + DURATION * 1000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    const issued = await request(`${base}/queue/tokens`, { method: 'POST', dispatcher: agent });
    const { token, secret } = (await issued.body.json()) as Issued;
    const claimed = await request(`${base}/queue/tokens/${token}/claim`, {
      method: 'POST',
      headers: { 'x-token-secret': secret },
      dispatcher: agent,
    });
    await claimed.body.dump();
    if (claimed.statusCode !== 200) throw new Error(`claim answered ${claimed.statusCode}`);
    // Stop viewing so that serving tokens do not pile up (a DELETE of a serving token).
    const left = await request(`${base}/queue/tokens/${token}`, {
      method: 'DELETE',
      headers: { 'x-token-secret': secret },
      dispatcher: agent,
    });
    await left.body.dump();
    cycles.push(performance.now() - t0);
  }
  await agent.close();
  cycles.sort((a, b) => a - b);
  return {
    cycles: cycles.length,
    per_s: Math.round(cycles.length / DURATION),
    p50: percentile(cycles, 50),
    p99: percentile(cycles, 99),
  };
}

/** N SSE board viewers; one token issued; the time until each viewer has its event. */
async function sseFanOut(base: string): Promise<Record<string, number | string>> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: http.ClientRequest[] = [];
  const arrivals: number[] = [];
  let sentAt = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const connect = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get(`${base}/queue/events`, { agent }, (res) => {
        let buffer = '';
        let seen = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (!seen && buffer.includes('event: snapshot')) {
            seen = true;
            buffer = '';
            resolve();
          } else if (seen && buffer.includes('event: token-issued')) {
            arrivals.push(performance.now() - sentAt);
            buffer = '';
            if (arrivals.length === VIEWERS) resolveAll();
          }
        });
      });
      req.on('error', reject);
      requests.push(req);
    });
  for (let i = 0; i < VIEWERS; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, VIEWERS - i) }, connect));
  }
  sentAt = performance.now();
  const res = await fetch(`${base}/queue/tokens`, { method: 'POST' });
  const issued = (await res.json()) as Issued;
  await all;
  for (const r of requests) r.destroy();
  agent.destroy();
  await fetch(`${base}/queue/tokens/${issued.token}`, {
    method: 'DELETE',
    headers: { 'x-token-secret': issued.secret },
  });
  arrivals.sort((a, b) => a - b);
  return {
    viewers: VIEWERS,
    p50_ms: percentile(arrivals, 50),
    p99_ms: percentile(arrivals, 99),
    max_ms: percentile(arrivals, 100),
  };
}

export const scenarios: Scenario[] = [
  { kind: 'custom', name: `queue: token issue, ${CONNECTIONS} connections`, run: issueRate },
  { kind: 'custom', name: 'queue: claim cycle (take, claim, leave), 1 client', run: claimCycle },
  { kind: 'custom', name: `queue: event to ${VIEWERS} SSE board viewers`, run: sseFanOut },
];
