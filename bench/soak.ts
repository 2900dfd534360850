/**
 * `npm run bench:soak`: the server's memory under a sustained mixed image load. Agora (the built
 * `dist/`, as `npm start` runs it) on a fresh data directory gets, from 8 connections, a mix of
 * uncached renders of posted images, conversions and resizes of recently uploaded ones (new
 * renders, stored and cached as they come), originals, cached thumbnails, metadata and uploads of
 * new bytes. Its RSS is
 * read from /proc every 10 s; the report compares the RSS at the end with the RSS at 2 minutes
 * (the target: within 25 %), then reads it again after a quiet minute.
 *
 * SOAK_MINUTES (default 10), SOAK_CONNECTIONS (default 8); AGORA_* settings pass through to the
 * server. Linux only (/proc). The data directory is removed afterwards.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Agent, request } from 'undici';
import { startAgora } from './server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const connections = Number(process.env.SOAK_CONNECTIONS ?? 8);
const SAMPLE_MS = 10_000;
const QUIET_MS = 60_000;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
}

/** A photo-like JPEG: noise over a gradient, so it compresses (and decodes) like a photo. */
async function photo(width: number, height: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = ((Math.floor(i / 3) % width) * 200) / width + (s % 56);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 88 })
    .toBuffer();
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'agora-soak-'));
  const agora = await startAgora(dataDir);
  const pid = agora.child.pid ?? 0;
  const agent = new Agent({ connections });
  const base = agora.url;
  const counts: Record<string, number> = {};
  let errors = 0;
  try {
    const sources = await Promise.all([0, 1, 2, 3].map((i) => photo(1600, 1200, 7 + i)));
    const upload = async (bytes: Buffer): Promise<string> => {
      const res = await request(`${base}/images`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: bytes,
        dispatcher: agent,
      });
      const body = (await res.body.json()) as { id: string };
      if (res.statusCode !== 201) throw new Error(`upload: HTTP ${res.statusCode}`);
      return body.id;
    };
    const ids = await Promise.all(sources.map(upload));
    const formats = ['jpg', 'webp', 'png', 'avif'];
    let n = 0;
    // Each request picks one kind; the weights make a day of an image service in miniature.
    const kinds: [number, string, () => Promise<{ path: string; init?: object }>][] = [
      [
        25,
        'render a posted image',
        async () => ({
          path: `/images/transform?w=${200 + (n % 900)}&format=${formats[n % 3]}`,
          init: {
            method: 'POST',
            headers: { 'content-type': 'image/jpeg' },
            body: sources[n % sources.length],
          },
        }),
      ],
      [
        20,
        'convert or resize a stored image',
        async () => {
          // Mostly recent uploads, each asked for in new sizes: renders keep missing the cache.
          const id = ids[ids.length - 1 - (n % Math.min(ids.length, 50))];
          return {
            path: `/images/${id}.${formats[n % formats.length]}?w=${100 + ((n * 7) % 40) * 20}`,
          };
        },
      ],
      [20, 'original', async () => ({ path: `/images/${ids[n % ids.length]}` })],
      [
        20,
        'cached thumbnail',
        async () => ({ path: `/images/${ids[n % ids.length]}.webp?thumbnail=128` }),
      ],
      [
        10,
        'metadata and list',
        async () => ({ path: n % 2 ? '/images?limit=20' : `/images/${ids[0]}/meta` }),
      ],
      [
        5,
        'upload new bytes',
        async () => {
          const bytes = Buffer.from(sources[n % sources.length] ?? Buffer.alloc(0));
          // New bytes, same picture: a comment after the start-of-image marker.
          const note = Buffer.from(`soak-${n}`);
          const segment = Buffer.alloc(4 + note.length);
          segment.writeUInt16BE(0xfffe, 0);
          segment.writeUInt16BE(note.length + 2, 2);
          note.copy(segment, 4);
          return {
            path: '/images',
            init: {
              method: 'POST',
              headers: { 'content-type': 'image/jpeg' },
              body: Buffer.concat([bytes.subarray(0, 2), segment, bytes.subarray(2)]),
            },
          };
        },
      ],
    ];
    const total = kinds.reduce((a, [w]) => a + w, 0);
    const pick = (): (typeof kinds)[number] | undefined => {
      let r = Math.random() * total;
      return kinds.find(([weight]) => (r -= weight) < 0);
    };

    const samples: { s: number; rss: number }[] = [];
    const started = performance.now();
    const deadline = started + minutes * 60_000;
    const sampler = setInterval(() => {
      samples.push({ s: Math.round((performance.now() - started) / 1000), rss: rssMb(pid) });
      const last = samples.at(-1);
      process.stderr.write(`  ${last?.s ?? 0}s  RSS ${last?.rss ?? 0} MB\n`);
    }, SAMPLE_MS);
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < deadline) {
          const kind = pick();
          if (kind === undefined) continue;
          const [, name, make] = kind;
          n++;
          const { path: p, init } = await make();
          const res = await request(`${base}${p}`, { ...init, dispatcher: agent });
          if (p === '/images' && res.statusCode === 201) {
            ids.push(((await res.body.json()) as { id: string }).id);
          } else {
            await res.body.dump();
          }
          counts[name] = (counts[name] ?? 0) + 1;
          if (res.statusCode >= 400) errors++;
        }
      }),
    );
    clearInterval(sampler);
    const loadEnd = rssMb(pid);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const quiet = rssMb(pid);

    const at = (second: number): number =>
      samples.reduce((best, x) => (Math.abs(x.s - second) < Math.abs(best.s - second) ? x : best))
        .rss;
    const twoMin = at(120);
    const report = {
      at: new Date().toISOString(),
      minutes,
      connections,
      requests: counts,
      errors,
      rss_mb_at_2_min: twoMin,
      rss_mb_at_end: loadEnd,
      end_over_2_min: Math.round((loadEnd / twoMin) * 1000) / 1000,
      rss_mb_max: Math.max(...samples.map((x) => x.rss)),
      rss_mb_after_quiet_minute: quiet,
      samples,
    };
    process.stdout.write(`${JSON.stringify({ ...report, samples: undefined }, null, 2)}\n`);
    const out = path.join(root, 'bench/results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await agent.close();
    await agora.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
