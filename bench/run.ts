/**
 * `npm run bench`: starts the bare-Fastify ceiling and Agora on the embedded defaults (each its
 * own process; a fresh Agora for each module), runs every scenario with autocannon, prints
 * req/s, p50, p99 and the ratio to the ceiling measured just before each scenario in the same
 * run, and writes bench/results/latest.json.
 *
 * BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 32),
 * BENCH_ONLY (substring filter on scenario names).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadScenarios } from './scenarios/index.js';
import { SERVER_NODE_FLAGS, startAgora } from './server.js';
import type { HttpScenario } from './scenarios/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const only = process.env.BENCH_ONLY;

async function startCeiling(): Promise<{ url: string; child: ChildProcess }> {
  // The same Node flags as Agora's server: the ratio compares the servers, not their GC settings.
  const args = [...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(root, 'bench/ceiling.ts')];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { url, child };
}

interface Row {
  name: string;
  rps?: number;
  p50?: number;
  p99?: number;
  errors?: number;
  ratio?: number;
  /** The ceiling's req/s measured just before this scenario, at its connection count. */
  ceiling?: number;
  extra?: Record<string, number | string>;
}

async function load(base: string, s: HttpScenario): Promise<Row> {
  const chosen = s.setup ? await s.setup(base) : undefined;
  const opts = {
    url: `${base}${chosen?.path ?? s.path}`,
    method: s.method ?? 'GET',
    headers: s.headers ?? {},
    body: s.body,
    connections: s.connections ?? connections,
    ...(s.paths ? { requests: s.paths.map((p) => ({ path: p })) } : {}),
  };
  await autocannon({ ...opts, duration: 1 }); // warm-up: JIT, pools, caches
  const result = await autocannon({ ...opts, duration });
  const expected = s.expect ?? 200;
  const wrong = expected >= 200 && expected < 300 ? result.non2xx : result['2xx'];
  return {
    name: s.name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + wrong,
  };
}

const scenarios = await loadScenarios();

/** The bare Fastify route, also measured again before each Agora scenario. */
const ceilingScenario: HttpScenario = (() => {
  const found = scenarios.find(
    (s): s is HttpScenario => s.kind === 'http' && s.target === 'ceiling',
  );
  if (!found) throw new Error('bench: no ceiling scenario');
  return found;
})();

/** A fresh Agora on a fresh data directory. */
async function freshAgora(): Promise<{ url: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agora-bench-'));
  const agora = await startAgora(dataDir);
  return {
    url: agora.url,
    async stop() {
      await agora.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const ceiling = await startCeiling();
  const rows: Row[] = [];
  // Each module is measured on a server of its own: one module's load (a hundred thousand
  // orders, thousands of queue tokens, gigabytes of uploads) must not weigh on the next one's.
  let agora: { url: string; stop(): Promise<void> } | null = null;
  let module = '';
  try {
    for (const s of scenarios) {
      if (only && !s.name.includes(only) && !s.name.startsWith('ceiling')) continue;
      process.stderr.write(`… ${s.name}\n`);
      if (s === ceilingScenario) {
        rows.push(await load(ceiling.url, s));
        continue;
      }
      const group = s.name.split(':', 1)[0] ?? '';
      if (agora === null || group !== module) {
        await agora?.stop();
        agora = await freshAgora();
        module = group;
      }
      if (s.kind === 'custom') {
        rows.push({ name: s.name, extra: await s.run(agora.url) });
      } else {
        // This machine's speed drifts over minutes: each figure is divided by a ceiling measured
        // just before it, under the same load.
        const before = await load(ceiling.url, {
          ...ceilingScenario,
          connections: s.connections ?? connections,
        });
        const row = await load(agora.url, s);
        row.ceiling = before.rps;
        if (row.rps !== undefined && before.rps)
          row.ratio = Math.round((row.rps / before.rps) * 1000) / 1000;
        rows.push(row);
      }
    }
  } finally {
    ceiling.child.kill('SIGTERM');
    await agora?.stop();
  }
  for (const r of rows) if (r.name.startsWith('ceiling')) r.ratio = 1;

  const pad = (v: string | number | undefined, n: number): string => String(v ?? '').padStart(n);
  process.stdout.write(
    `\nAgora bench — ${duration}s per scenario, ${connections} connections, ${os.cpus().length} cores, Node ${process.version}\n\n`,
  );
  process.stdout.write(
    `${'scenario'.padEnd(52)}${pad('req/s', 9)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('ceiling', 9)}${pad('× ceiling', 11)}\n`,
  );
  for (const r of rows) {
    if (r.extra) {
      process.stdout.write(
        `${r.name.padEnd(52)}  ${Object.entries(r.extra)
          .map(([k, v]) => `${k}=${v}`)
          .join('  ')}\n`,
      );
    } else {
      process.stdout.write(
        `${r.name.padEnd(52)}${pad(r.rps, 9)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.errors, 8)}${pad(r.ceiling, 9)}${pad(r.ratio?.toFixed(3), 11)}\n`,
      );
    }
  }
  const out = path.join(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  const report = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    duration_s: duration,
    connections,
    results: rows,
  };
  writeFileSync(path.join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwritten to bench/results/latest.json\n`);
}

await main();
