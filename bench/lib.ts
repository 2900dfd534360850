/**
 * Helpers the modules' bench scenarios share: photo-like JPEGs, an upload, and a closed-loop
 * load of one request at a time per worker (for bodies autocannon cannot make, and for latency).
 */
import sharp from 'sharp';
import { Agent } from 'undici';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);

/** A photo-like JPEG (noise over a gradient, so it compresses like a photo). */
export async function photo(width: number, height: number, quality = 80): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const pixel = Math.floor(i / 3);
    raw[i] = ((pixel % width) * 200) / width + (seed % 56);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** The same JPEG with a comment segment after SOI: other bytes, same picture. */
export function variant(jpeg: Buffer, n: number): Buffer {
  const text = Buffer.from(`agora-bench-${n.toString().padStart(10, '0')}`);
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  text.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

export async function uploadOne(base: string, bytes: Buffer): Promise<string> {
  const res = await fetch(`${base}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: new Uint8Array(bytes),
  });
  if (res.status !== 201) throw new Error(`upload failed: HTTP ${res.status}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * `workers` loops sending one request at a time on their own connection for the duration:
 * requests per second, MB/s (of what `send` reports) and latency percentiles.
 */
export async function undiciLoad(
  workers: number,
  send: (agent: Agent, worker: number) => Promise<number>,
): Promise<{ rps: number; mbPerS: number; p50: number; p99: number }> {
  const agent = new Agent({ connections: workers });
  const deadline = performance.now() + DURATION * 1000;
  const latencies: number[] = [];
  let bytes = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          // Not `bytes += await …`: that reads `bytes` before the other workers add theirs.
          const sent = await send(agent, worker);
          bytes += sent;
          latencies.push(performance.now() - t0);
        }
      }),
    );
  } finally {
    await agent.close();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number): number =>
    Math.round((latencies[Math.floor((p / 100) * (latencies.length - 1))] ?? NaN) * 10) / 10;
  return {
    rps: Math.round((latencies.length / seconds) * 10) / 10,
    mbPerS: Math.round(bytes / seconds / 1e6),
    p50: at(50),
    p99: at(99),
  };
}

let medium: Buffer | null = null;
export const mediumJpeg = async (): Promise<Buffer> => (medium ??= await photo(1600, 1200, 92));
let large: Buffer | null = null;
export const largeJpeg = async (): Promise<Buffer> => (large ??= await photo(4000, 3000, 85));
