/**
 * Numbers scenarios: `GET /total` at the default size and at N = 10,000,001 with 16 clients
 * back to back (time beyond the simulated delay), a `/healthz` probe and the event-loop delay
 * meanwhile, the peak RSS, and the parse-and-sum throughput of the `http` source and of the
 * parser alone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { rangeArrayChunks } from './numbers.source.js';
import { ArraySummer } from './numbers.parse.js';
import { startAgora } from '../../../bench/server.js';
import type { Scenario } from '../../../bench/scenarios/types.js';

const DURATION_S = Number(process.env.BENCH_NUMBERS_DURATION ?? 15);
const CLIENTS = 16;
const DELAY_MS = 1000;
const BIG = 10_000_001;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}

const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function get(
  agent: Agent,
  url: string,
): Promise<{ ms: number; body: string; status: number }> {
  const started = performance.now();
  const res = await request(url, { dispatcher: agent });
  const body = await res.body.text();
  return { ms: performance.now() - started, body, status: res.statusCode };
}

/** Peak resident set of a process, in MB (Linux). */
function peakRssMb(pid: number | undefined): number | string {
  if (pid === undefined) return 'n/a';
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? 'n/a' : round(Number(kb) / 1024, 0);
  } catch {
    return 'n/a';
  }
}

/**
 * 16 clients ask `/total` back to back for `DURATION_S` while a probe asks `/healthz` every
 * 10 ms and the server's own event-loop delay is read every second.
 */
async function totalUnderLoad(
  base: string,
  expected: string,
  pid?: number,
): Promise<Record<string, number | string>> {
  const agent = new Agent({ connections: CLIENTS + 4 });
  const deadline = performance.now() + DURATION_S * 1000;
  const beyond: number[] = [];
  const probe: number[] = [];
  const loopP99: number[] = [];
  let loopMax = 0;
  let wrong = 0;
  await get(agent, `${base}/total`); // warm-up
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < deadline) {
      const r = await get(agent, `${base}/total`);
      if (r.status !== 200 || r.body !== `{"total":${expected}}`) wrong++;
      beyond.push(r.ms - DELAY_MS);
    }
  });
  const prober = (async () => {
    while (performance.now() < deadline) {
      probe.push((await get(agent, `${base}/healthz`)).ms);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const watcher = (async () => {
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      const stats = JSON.parse((await get(agent, `${base}/numbers/stats`)).body) as {
        event_loop: { p99_ms: number; max_ms: number };
      };
      loopP99.push(stats.event_loop.p99_ms);
      loopMax = Math.max(loopMax, stats.event_loop.max_ms);
    }
  })();
  await Promise.all([...clients, prober, watcher]);
  await agent.close();
  beyond.sort((a, b) => a - b);
  probe.sort((a, b) => a - b);
  loopP99.sort((a, b) => a - b);
  return {
    requests: beyond.length,
    wrong,
    beyond_delay_p50_ms: round(percentile(beyond, 50)),
    beyond_delay_p99_ms: round(percentile(beyond, 99)),
    healthz_p50_ms: round(percentile(probe, 50), 2),
    healthz_p99_ms: round(percentile(probe, 99), 2),
    loop_p99_ms_worst_second: round(loopP99.at(-1) ?? NaN, 2),
    loop_max_ms: round(loopMax, 2),
    peak_rss_mb: peakRssMb(pid),
  };
}

/** Byte length of the JSON text of [0, …, count − 1]. */
function rangeArrayBytes(count: number): number {
  let bytes = 2 + Math.max(0, count - 1); // brackets and commas
  for (let digits = 1, low = 0; low < count; digits++, low = 10 ** (digits - 1)) {
    const high = Math.min(count, 10 ** digits);
    bytes += (high - low) * digits;
  }
  return bytes;
}

async function withAgora<T>(
  env: Record<string, string>,
  run: (url: string, pid?: number) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agora-bench-numbers-'));
  const agora = await startAgora(dir, env);
  try {
    return await run(agora.url, agora.child.pid);
  } finally {
    await agora.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const scenarios: Scenario[] = [
  {
    kind: 'custom',
    name: `numbers: GET /total N=1,000,001, ${CLIENTS} clients + /healthz probe`,
    run: (base) => totalUnderLoad(base, '500000500000'),
  },
  {
    kind: 'custom',
    name: `numbers: GET /total N=10,000,001, ${CLIENTS} clients + /healthz probe`,
    run: () =>
      withAgora({ AGORA_NUMBERS_COUNT: String(BIG) }, (url, pid) =>
        totalUnderLoad(url, '50000005000000', pid),
      ),
  },
  {
    kind: 'custom',
    name: 'numbers: http source, upstream of 10,000,001 numbers (parse and sum)',
    run: (base) =>
      withAgora(
        {
          AGORA_NUMBERS_SOURCE: 'http',
          AGORA_NUMBERS_UPSTREAM_URL: `${base}/numbers?count=${BIG}`,
        },
        async (url, pid) => {
          const agent = new Agent();
          const mb = rangeArrayBytes(BIG) / 1e6;
          const times: number[] = [];
          await get(agent, `${url}/total`); // warm-up
          for (let i = 0; i < 5; i++) {
            const r = await get(agent, `${url}/total`);
            if (r.body !== '{"total":50000005000000}') throw new Error(`wrong total ${r.body}`);
            times.push(r.ms);
          }
          await agent.close();
          times.sort((a, b) => a - b);
          const median = percentile(times, 50);
          return {
            body_mb: round(mb),
            median_ms: round(median),
            mb_per_s: round(mb / (median / 1000), 0),
            peak_rss_mb: peakRssMb(pid),
          };
        },
      ),
  },
  {
    kind: 'custom',
    name: 'numbers: parser alone, 10,000,001 numbers in 64 KiB chunks (in-process)',
    run: () => {
      const chunks = [...rangeArrayChunks(BIG)];
      const mb = chunks.reduce((n, c) => n + c.length, 0) / 1e6;
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const started = performance.now();
        const summer = new ArraySummer();
        for (const c of chunks) summer.write(c);
        if (summer.end().toJSON() !== '50000005000000') throw new Error('wrong total');
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const median = percentile(times, 50);
      return Promise.resolve({
        body_mb: round(mb),
        median_ms: round(median),
        mb_per_s: round(mb / (median / 1000), 0),
      });
    },
  },
];
