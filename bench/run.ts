/**
 * `npm run bench`: starts the ceilings (bare Fastify, bare node:http) and Agora on the embedded
 * defaults, `log_level: info` included (each its own process; a fresh Agora for each module),
 * runs every scenario (wrk for GETs when installed, autocannon otherwise), prints req/s, p50,
 * p99 and the ratio to bare Fastify measured just before each scenario in the same run — and,
 * for light routes, to bare node:http too — then the market query on one worker and on
 * `--workers 2`, in turn, and writes bench/results/latest.json.
 *
 * BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 32),
 * BENCH_ONLY (substring filter on scenario names), BENCH_ROUNDS (rounds of node:http then Agora
 * for a light route, and of one worker then two, default 3).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
/**
 * A light route's ratio to node:http moves by a third from one pair of measurements to the next
 * on this shared machine (the ceiling itself does): node:http and Agora are measured in turn,
 * this many times, and the round with the median ratio is reported, with the others' range.
 */
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

async function startCeiling(
  kind: 'fastify' | 'http',
): Promise<{ url: string; child: ChildProcess }> {
  // The same Node flags as Agora's server: the ratio compares the servers, not their GC settings.
  const args = [...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(root, 'bench/ceiling.ts'), kind];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { url, child };
}

/**
 * wrk (C, one thread) when it is installed and BENCH_CLIENT is not `autocannon`: a JavaScript
 * load generator shares this machine's cores with the server and, at tens of thousands of
 * requests a second, measures itself as much as the server. autocannon for what wrk cannot send
 * here (bodies) and where wrk is missing.
 */
const wrkAvailable =
  process.env.BENCH_CLIENT !== 'autocannon' &&
  spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'agora-bench-wrk-'));

function parseWrkMs(text: string, label: string): number | undefined {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (!m?.[1]) return undefined;
  const scale = m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1;
  return Math.round(Number(m[1]) * scale * 100) / 100;
}

function wrkRun(url: string, s: HttpScenario, seconds: number): Row {
  const args = ['-t1', `-c${s.connections ?? connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(s.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (s.paths) {
    const script = path.join(scratch, 'paths.lua');
    const list = s.paths.map((p) => JSON.stringify(p)).join(', ');
    writeFileSync(
      script,
      `local paths = { ${list} }\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n`,
    );
    args.push('-s', script);
  }
  args.push(url);
  const out = spawnSync('wrk', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const text = out.stdout;
  const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const expected = s.expect ?? 200;
  const wrong = expected >= 200 && expected < 300 ? non2xx : total - non2xx;
  return {
    name: s.name,
    rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0)),
    p50: parseWrkMs(text, '50%'),
    p99: parseWrkMs(text, '99%'),
    errors: socketErrors + wrong,
  };
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
  /** For a light route: bare node:http's req/s measured just before, and the ratio to it. */
  bare?: number;
  bareRatio?: number;
  extra?: Record<string, number | string>;
}

async function load(base: string, s: HttpScenario): Promise<Row> {
  const chosen = s.setup ? await s.setup(base) : undefined;
  if (wrkAvailable && (s.method ?? 'GET') === 'GET' && s.body === undefined) {
    const url = `${base}${chosen?.path ?? s.path}`;
    wrkRun(url, s, 1); // warm-up: JIT, pools, caches
    return wrkRun(url, s, duration);
  }
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

/** A fresh Agora on a fresh data directory, with `env` (AGORA_* settings). */
async function freshAgora(
  env: Record<string, string> = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agora-bench-'));
  const agora = await startAgora(dataDir, env);
  return {
    url: agora.url,
    async stop() {
      await agora.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const ratio = (rps: number | undefined, of: number | undefined): number | undefined =>
  rps !== undefined && of ? Math.round((rps / of) * 1000) / 1000 : undefined;

/**
 * The market query on a fresh single-process Agora and on a fresh `--workers 2` one, in turn,
 * `rounds` times: what the second core adds, in the same run. One pair of loads
 * moved from 1.0× to 2.2× between runs on this shared machine; the pair whose ratio is the median
 * is shown, with the lowest and highest ratios of all pairs.
 */
async function workersRow(): Promise<Row[]> {
  const name = (workers: string): string => `workers: GET /market/query/1, --workers ${workers}`;
  const query: HttpScenario = {
    kind: 'http',
    name: name('1'),
    target: 'agora',
    path: '/market/query/1',
  };
  // One server at a time: an idle one still wakes up (timers, its event-loop monitor) and would
  // weigh on the other's measurement.
  const measure = async (workers: string): Promise<Row> => {
    const agora = await freshAgora({ AGORA_WORKERS: workers });
    try {
      return await load(agora.url, { ...query, name: name(workers) });
    } finally {
      await agora.stop();
    }
  };
  const pairs: { one: Row; two: Row; ratio: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const one = await measure('1');
    const two = await measure('2');
    pairs.push({ one, two, ratio: ratio(two.rps, one.rps) ?? 0 });
  }
  const byRatio = pairs.sort((a, b) => a.ratio - b.ratio);
  const median = byRatio[Math.floor(byRatio.length / 2)];
  if (!median) throw new Error('bench: no workers round measured');
  median.two.extra = {
    x_one_worker: median.ratio,
    ...(byRatio.length > 1
      ? {
          rounds: byRatio.length,
          range: `${byRatio[0]?.ratio ?? ''}–${byRatio.at(-1)?.ratio ?? ''}`,
        }
      : {}),
  };
  return [median.one, median.two];
}

/**
 * A light route: node:http then Agora, `rounds` times; the round whose ratio is the median, with
 * the lowest and highest ratios of all rounds.
 */
async function alternating(
  bareUrl: string,
  agoraUrl: string,
  s: HttpScenario,
  conns: number,
): Promise<Row> {
  const measured: Row[] = [];
  for (let i = 0; i < rounds; i++) {
    const bareRow = await load(bareUrl, { ...ceilingScenario, connections: conns });
    const row = await load(agoraUrl, s);
    row.bare = bareRow.rps;
    row.bareRatio = ratio(row.rps, bareRow.rps);
    measured.push(row);
  }
  const byRatio = measured.sort((a, b) => (a.bareRatio ?? 0) - (b.bareRatio ?? 0));
  const median = byRatio[Math.floor(byRatio.length / 2)] ?? byRatio[0];
  if (!median) throw new Error('bench: no round measured');
  if (byRatio.length > 1) {
    median.extra = {
      rounds: byRatio.length,
      node_http_ratio_range: `${byRatio[0]?.bareRatio ?? ''}–${byRatio.at(-1)?.bareRatio ?? ''}`,
    };
  }
  return median;
}

async function main(): Promise<void> {
  const ceiling = await startCeiling('fastify');
  const bare = await startCeiling('http');
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
        const conns = s.connections ?? connections;
        const before = await load(ceiling.url, { ...ceilingScenario, connections: conns });
        const row = s.light
          ? await alternating(bare.url, agora.url, s, conns)
          : await load(agora.url, s);
        row.ceiling = before.rps;
        row.ratio = ratio(row.rps, before.rps);
        rows.push(row);
      }
    }
    await agora?.stop();
    agora = null;
    if (!only || 'workers: GET /market/query/1, --workers'.includes(only)) {
      process.stderr.write('… workers: GET /market/query/1, --workers 1 and 2 in turn\n');
      rows.push(...(await workersRow()));
    }
  } finally {
    ceiling.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    await agora?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const r of rows) if (r.name.startsWith('ceiling')) r.ratio = 1;

  const pad = (v: string | number | undefined, n: number): string => String(v ?? '').padStart(n);
  process.stdout.write(
    `\nAgora bench — ${duration}s per scenario, ${connections} connections, ${os.cpus().length} cores, Node ${process.version}, load by ${wrkAvailable ? 'wrk (GET) and autocannon' : 'autocannon'}\n` +
      `ceiling: bare Fastify, measured just before each row; node:http: bare node:http, in turn with each light route (${rounds} rounds, the median shown)\n\n`,
  );
  process.stdout.write(
    `${'scenario'.padEnd(52)}${pad('req/s', 9)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('errors', 8)}${pad('ceiling', 9)}${pad('× ceiling', 11)}${pad('node:http', 11)}${pad('× node:http', 13)}\n`,
  );
  for (const r of rows) {
    if (r.extra && r.rps === undefined) {
      process.stdout.write(
        `${r.name.padEnd(52)}  ${Object.entries(r.extra)
          .map(([k, v]) => `${k}=${v}`)
          .join('  ')}\n`,
      );
    } else {
      process.stdout.write(
        `${r.name.padEnd(52)}${pad(r.rps, 9)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.errors, 8)}${pad(r.ceiling, 9)}${pad(r.ratio?.toFixed(3), 11)}${pad(r.bare, 11)}${pad(r.bareRatio?.toFixed(3), 13)}${
          r.extra
            ? `  ${Object.entries(r.extra)
                .map(([k, v]) => `${k}=${v}`)
                .join('  ')}`
            : ''
        }\n`,
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
