/**
 * Images scenarios: upload of a ~1 MB JPEG (distinct bytes each time, so every upload writes a
 * blob), GET of the original, a cached thumbnail, an uncached 4000×3000 → 800 px resize compared
 * with bare sharp doing the same in a loop in this process, and an uncached conversion to WebP.
 */
import os from 'node:os';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { request } from 'undici';
import { largeJpeg, mediumJpeg, undiciLoad, uploadOne, variant } from '../../../bench/lib.js';
import type { Scenario } from '../../../bench/scenarios/types.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function cannon(opts: autocannon.Options): Promise<Load> {
  const result = await autocannon({ duration: DURATION, ...opts });
  return {
    rps: Math.round(result.requests.average * 10) / 10,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** GETs of `paths`, each connection going round them from a random start (no two alike). */
function rotatingGets(base: string, paths: string[], connections: number): Promise<Load> {
  return cannon({
    url: base,
    connections,
    requests: [
      {
        method: 'GET',
        setupRequest: (req, context) => {
          const c = context as { i?: number };
          c.i = ((c.i ?? Math.floor(Math.random() * paths.length)) + 1) % paths.length;
          return { ...req, path: paths[c.i] };
        },
      },
    ],
  });
}

/** Bare sharp: the same resize, `concurrency` at a time, for the duration; images per second. */
async function bareSharp(input: Buffer, concurrency: number): Promise<number> {
  const deadline = performance.now() + DURATION * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await sharp(input).rotate().resize({ width: 800 }).jpeg({ quality: 80 }).toBuffer();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Images come last: their uploads write gigabytes, which would weigh on the disk of the scenarios after them. */
export const last = true;

export const scenarios: Scenario[] = [
  {
    kind: 'http',
    name: 'images: GET /images/:id.webp?thumbnail=128 (cached)',
    target: 'agora',
    path: '/',
    async setup(base) {
      const id = await uploadOne(base, variant(await mediumJpeg(), 1));
      const path = `/images/${id}.webp?thumbnail=128`;
      await fetch(`${base}${path}`); // renders and caches it
      return { path };
    },
  },
  {
    // autocannon parses bodies in JavaScript and tops out near 100 MB/s: undici measures this.
    kind: 'custom',
    name: 'images: GET /images/:id (original, ~1 MB JPEG), 8 connections',
    async run(base) {
      const id = await uploadOne(base, variant(await mediumJpeg(), 2));
      const load = await undiciLoad(8, async (agent) => {
        const res = await request(`${base}/images/${id}`, { dispatcher: agent });
        const bytes = (await res.body.arrayBuffer()).byteLength;
        if (res.statusCode !== 200) throw new Error(`GET: HTTP ${res.statusCode}`);
        return bytes;
      });
      return { rps: load.rps, mb_per_s: load.mbPerS, p50: load.p50, p99: load.p99 };
    },
  },
  {
    // undici sends the body as it is; autocannon copied each 1 MB body twice (a new variant, then
    // headers and body into one buffer) on the two cores the server uses too.
    kind: 'custom',
    name: 'images: upload ~1 MB JPEG (new bytes each time), 8 connections',
    async run(base) {
      const jpeg = await mediumJpeg();
      // One body per worker, its comment rewritten in place before each upload (the worker waits
      // for the answer before the next): new bytes every time, so every upload writes a blob.
      const bodies = Array.from({ length: 8 }, () => variant(jpeg, 0));
      let n = 1_000_000;
      const load = await undiciLoad(8, async (agent, worker) => {
        const body = bodies[worker] ?? variant(jpeg, 0);
        // After the start-of-image marker (2 bytes) and the comment's marker and length (4).
        body.write(`agora-bench-${(n++).toString().padStart(10, '0')}`, 6, 'latin1');
        const res = await request(`${base}/images`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg' },
          body,
          dispatcher: agent,
        });
        await res.body.dump();
        if (res.statusCode !== 201) throw new Error(`upload: HTTP ${res.statusCode}`);
        return body.length;
      });
      return {
        mb: Math.round(jpeg.length / 1e4) / 100,
        rps: load.rps,
        p50: load.p50,
        p99: load.p99,
      };
    },
  },
  {
    kind: 'custom',
    name: 'images: uncached 4000×3000 → 800 px JPEG resize vs bare sharp',
    async run(base) {
      const input = await largeJpeg();
      const cores = os.availableParallelism();
      // The same concurrency as the load below, so libvips is as busy in both.
      const bare = await bareSharp(input, cores * 2);
      // Distinct sources × qualities: every request is a cache miss.
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await uploadOne(base, variant(input, 100 + i)));
      const paths = ids.flatMap((id) =>
        Array.from({ length: 20 }, (_, q) => `/images/${id}.jpg?w=800&quality=${80 + q}`),
      );
      const load = await rotatingGets(base, paths, cores * 2);
      return {
        bare_sharp_per_s: Math.round(bare * 10) / 10,
        agora_per_s: load.rps,
        ratio: Math.round((load.rps / bare) * 1000) / 1000,
        p50: load.p50,
        p99: load.p99,
        errors: load.errors,
        note: paths.length < load.rps * DURATION ? 'some requests hit the cache' : 'all misses',
      };
    },
  },
  {
    kind: 'custom',
    name: 'images: uncached conversion of a ~1 MB JPEG to WebP',
    async run(base) {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++)
        ids.push(await uploadOne(base, variant(await mediumJpeg(), 200 + i)));
      const paths = ids.flatMap((id) =>
        Array.from({ length: 50 }, (_, q) => `/images/${id}.webp?quality=${50 + q}`),
      );
      const load = await rotatingGets(base, paths, os.availableParallelism() * 2);
      return {
        ...load,
        note: paths.length < load.rps * DURATION ? 'some requests hit the cache' : 'all misses',
      };
    },
  },
];
