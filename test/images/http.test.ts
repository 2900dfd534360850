import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDisposition } from 'content-disposition';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signature } from '../../src/modules/images/images.ops.js';
import { Limiter } from '../../src/modules/images/images.process.js';
import { buildTestApp, dialects, tempDir, type TestApp } from '../helper.js';
import { animatedGif, bombPng, jpeg, multipart, png } from './fixtures.js';
import { imagesModule } from '../../src/modules/images/index.js';
import { errorOf, ImagesFailed } from '../../src/modules/images/images.errors.js';

interface Meta {
  id: string;
  sha256: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  url: string;
  filename: string | null;
  album: string | null;
  previews: Record<320 | 640, string>;
}
interface ErrorJson {
  error: { code: string; message: string };
  request_id: string;
}

const upload = (t: TestApp, bytes: Buffer, type = 'image/jpeg', url = '/images') =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload: bytes });

function blobFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(e.name);
    }
  };
  walk(dir);
  return out;
}

describe('images over HTTP', () => {
  let t: TestApp;
  let photo: Buffer;
  let meta: Meta;
  beforeAll(async () => {
    t = await buildTestApp({
      config: { images: { max_bytes: 400_000 } },
      build: { modules: [imagesModule] },
    });
    photo = await jpeg(400, 300);
    const res = await upload(t, photo);
    expect(res.statusCode).toBe(201);
    meta = res.json<Meta>();
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores an upload and gives it back byte for byte, with caching headers', async () => {
    expect(meta).toMatchObject({ format: 'jpeg', width: 400, height: 300, bytes: photo.length });
    expect(meta.url).toBe(`/images/${meta.id}`);
    const res = await t.app.inject({ url: meta.url });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(photo)).toBe(true);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers.etag).toBe(`"${meta.sha256}"`);
    expect(res.headers['cache-control']).toContain('immutable');

    const again = await t.app.inject({
      url: meta.url,
      headers: { 'if-none-match': res.headers.etag! },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);

    const head = await t.app.inject({ method: 'HEAD', url: meta.url });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(photo.length));
    expect(head.rawPayload.length).toBe(0);
  });

  it('serves byte ranges and refuses impossible ones', async () => {
    const part = await t.app.inject({ url: meta.url, headers: { range: 'bytes=10-19' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${photo.length}`);
    expect(part.rawPayload.equals(photo.subarray(10, 20))).toBe(true);
    const tail = await t.app.inject({ url: meta.url, headers: { range: 'bytes=-5' } });
    expect(tail.rawPayload.equals(photo.subarray(-5))).toBe(true);
    const bad = await t.app.inject({ url: meta.url, headers: { range: `bytes=${photo.length}-` } });
    expect(bad.statusCode).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${photo.length}`);
  });

  it('stores the same bytes once', async () => {
    const second = (await upload(t, photo)).json<Meta>();
    expect(second.id).not.toBe(meta.id);
    expect(second.sha256).toBe(meta.sha256);
    expect(blobFiles(path.join(t.dataDir, 'blobs')).filter((f) => f === meta.sha256)).toHaveLength(
      1,
    );
  });

  it('hands upload bodies over to the blob writer threads, raw and multipart', async () => {
    const put = vi.spyOn(t.app.blobs, 'put');
    try {
      // Past Node's 4 KiB buffer pool, a body has memory of its own (a smaller one is copied).
      const raw = await jpeg(800, 600);
      expect(raw.length).toBeGreaterThan(8192);
      expect((await upload(t, raw)).statusCode).toBe(201);
      const form = multipart([
        { field: 'image', filename: 'c.jpg', type: 'image/jpeg', data: await jpeg(600, 400) },
      ]);
      expect((await t.app.inject({ method: 'POST', url: '/images', ...form })).statusCode).toBe(
        201,
      );
      expect((await t.app.inject({ method: 'POST', url: '/storage/', ...form })).statusCode).toBe(
        200,
      );
      expect(put).toHaveBeenCalledTimes(3);
      for (const [bytes, options] of put.mock.calls) {
        expect(options).toEqual({ transfer: true });
        // Transferred, not copied: the request's buffer is empty now.
        expect(bytes.length).toBe(0);
      }
      // The test's own buffer was never the request's.
      expect(raw.length).toBeGreaterThan(0);
    } finally {
      put.mockRestore();
    }
  });

  it.each([
    ['png', 'png'],
    ['webp', 'webp'],
    ['avif', 'heif'],
    ['gif', 'gif'],
    ['tiff', 'tiff'],
    ['tif', 'tiff'],
    ['jpg', 'jpeg'],
    ['jpeg', 'jpeg'],
  ])('converts by extension .%s', async (ext, decoded) => {
    const res = await t.app.inject({ url: `${meta.url}.${ext}` });
    expect(res.statusCode).toBe(200);
    const info = await sharp(res.rawPayload).metadata();
    expect(info.format).toBe(decoded);
    expect([info.width, info.height]).toEqual([400, 300]);
  });

  it('transforms by query, in the documented order, and caches the result', async () => {
    const small = await t.app.inject({ url: `${meta.url}?w=100` });
    expect(small.headers['x-cache']).toBe('miss');
    expect(await sharp(small.rawPayload).metadata()).toMatchObject({ width: 100, height: 75 });
    const cached = await t.app.inject({ url: `${meta.url}?w=100` });
    expect(cached.headers['x-cache']).toBe('hit');
    expect(cached.rawPayload.equals(small.rawPayload)).toBe(true);
    expect(cached.headers.etag).toBe(small.headers.etag);

    const thumb = await t.app.inject({ url: `${meta.url}.webp?thumbnail=50` });
    expect(await sharp(thumb.rawPayload).metadata()).toMatchObject({
      format: 'webp',
      width: 50,
      height: 50,
    });
    // Resize first, then rotate: 100×75 turned a quarter is 75×100.
    const turned = await t.app.inject({ url: `${meta.url}?w=100&rotate=90&grayscale=1&flip=true` });
    expect(await sharp(turned.rawPayload).metadata()).toMatchObject({ width: 75, height: 100 });
    const box = await t.app.inject({
      url: `${meta.url}?w=60&h=60&fit=fill&blur=1.5&sharpen=1&quality=50`,
    });
    expect(await sharp(box.rawPayload).metadata()).toMatchObject({ width: 60, height: 60 });
    // A circle needs transparency: a masked JPEG becomes a PNG with alpha, corners clear.
    const masked = await t.app.inject({ url: `${meta.url}?thumbnail=40&mask=circle` });
    expect(masked.headers['content-type']).toBe('image/png');
    const { data, info } = await sharp(masked.rawPayload)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect(data[3]).toBe(0); // top-left pixel transparent
    expect(data[(20 * 40 + 20) * 4 + 3]).toBe(255); // centre opaque
  });

  it('applies EXIF orientation and strips metadata from derived images', async () => {
    const rotated = (await upload(t, await jpeg(40, 20, 6))).json<Meta>();
    // Orientation 6: a viewer shows it 20 wide, 40 high.
    expect(rotated).toMatchObject({ width: 20, height: 40 });
    const out = await t.app.inject({ url: `${rotated.url}.png?w=10` });
    const info = await sharp(out.rawPayload).metadata();
    expect(info).toMatchObject({ width: 10, height: 20 });
    expect(info.orientation).toBeUndefined();
    expect(info.exif).toBeUndefined();
  });

  it('re-encodes a conversion to the same format: orientation applied, metadata stripped', async () => {
    const tagged = await sharp(await jpeg(40, 20))
      .withExif({ IFD0: { Artist: 'Jane Doe', Copyright: 'Jane Doe' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    expect((await sharp(tagged).metadata()).exif).toBeDefined();
    const m = (await upload(t, tagged)).json<Meta>();
    // As uploaded, on request, byte for byte.
    expect((await t.app.inject({ url: m.url })).rawPayload.equals(tagged)).toBe(true);
    for (const url of [`${m.url}.jpg`, `${m.url}.jpeg`, `${m.url}?format=jpeg`]) {
      const same = await t.app.inject({ url });
      expect(same.statusCode).toBe(200);
      expect(same.rawPayload.equals(tagged)).toBe(false);
      const info = await sharp(same.rawPayload).metadata();
      expect(info).toMatchObject({ format: 'jpeg', width: 20, height: 40 });
      expect(info.exif).toBeUndefined();
      expect(info.orientation).toBeUndefined();
    }
  });

  it('keeps any Unicode file name, served as filename*, and no path or control character', async () => {
    const cases = [
      { header: `UTF-8''${encodeURIComponent('кот.png')}`, stored: 'кот.png' },
      // Raw UTF-8 bytes in the header, as curl sends them (Node reads one character per byte).
      { header: Buffer.from('猫.png').toString('latin1'), stored: '猫.png' },
      { header: 'café.png', stored: 'café.png' },
      { header: '../../etc/passwd', stored: 'passwd' },
      { header: 'C:\\Users\\x\\photo.png', stored: 'photo.png' },
      { header: Buffer.from('invoice\u202egnp.exe').toString('latin1'), stored: 'invoicegnp.exe' },
    ];
    const bytes = await png(9, 9);
    for (const { header, stored } of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/images',
        headers: { 'content-type': 'image/png', 'x-filename': header },
        payload: bytes,
      });
      expect(res.statusCode, header).toBe(201);
      const m = res.json<Meta>();
      expect(m.filename).toBe(stored);
      for (const url of [m.url, `${m.url}.png`, `/storage/${m.id}`, `/converter/${m.id}/png`]) {
        const got = await t.app.inject({ url });
        expect(got.statusCode, `${url} for ${stored}`).toBe(200);
        const { parameters } = parseDisposition(String(got.headers['content-disposition']));
        expect(parameters.filename).toBe(stored);
      }
    }
    const form = multipart([
      { field: 'image', filename: '猫.png', type: 'image/png', data: bytes },
    ]);
    const multi = await t.app.inject({ method: 'POST', url: '/images', ...form });
    expect(multi.json<Meta>().filename).toBe('猫.png');
  });

  it('answers a multipart body without a usable boundary with a 400, on every upload route', async () => {
    for (const url of ['/images', '/images/transform', '/storage/']) {
      for (const type of [
        'multipart/form-data',
        'multipart/form-data; boundary=',
        `multipart/form-data; boundary=${'b'.repeat(71)}`,
      ]) {
        const res = await t.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': type },
          payload: '--b\r\n\r\n',
        });
        expect([url, type, res.statusCode], res.body).toEqual([url, type, 400]);
        expect(res.json<ErrorJson>()).toMatchObject({
          error: { code: 'IMAGE_BAD_MULTIPART' },
          request_id: res.headers['x-request-id'],
        });
      }
    }
  });

  it('refuses bad parameters naming them', async () => {
    for (const [query, name] of [
      ['width=10', 'width'],
      ['w=0', 'w'],
      ['w=100000', 'w'],
      ['h=abc', 'h'],
      ['fit=cover', 'fit'],
      ['rotate=1000', 'rotate'],
      ['flip=maybe', 'flip'],
      ['blur=500', 'blur'],
      ['quality=0', 'quality'],
      ['format=bmp', 'format'],
      ['mask=star', 'mask'],
      ['w=10&w=20', 'w'],
    ] as const) {
      const res = await t.app.inject({ url: `${meta.url}?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json<ErrorJson>().error.message, query).toMatch(new RegExp(`^${name}: `));
    }
    expect((await t.app.inject({ url: `${meta.url}.bmp` })).statusCode).toBe(400);
    expect((await t.app.inject({ url: '/images/nope' })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/images/nope.png' })).statusCode).toBe(404);
  });

  it('enforces the limits with clear JSON errors and keeps serving', async () => {
    const big = await upload(t, Buffer.alloc(500_000, 1));
    expect(big.statusCode).toBe(413);
    const bomb = await upload(t, bombPng(), 'image/png');
    expect(bomb.statusCode).toBe(422);
    expect(bomb.json<ErrorJson>().error.message).toMatch(/20000×20000/);
    const text = await upload(t, Buffer.from('hello, I am not an image'), 'image/png');
    expect(text.statusCode).toBe(415);
    const svg = await upload(
      t,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      'image/svg+xml',
    );
    expect(svg.statusCode).toBe(415);
    const none = await t.app.inject({ method: 'POST', url: '/images', payload: {} });
    expect(none.statusCode).toBe(400);
    for (const res of [big, bomb, text, svg, none]) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json<ErrorJson>().request_id).toBe(res.headers['x-request-id']);
    }
    expect((await t.app.inject({ url: meta.url })).statusCode).toBe(200);
  });

  it('uploads several files in one multipart request, with an album', async () => {
    const form = multipart([
      { field: 'album', value: 'kitties' },
      { field: 'image', filename: 'a.jpg', type: 'image/jpeg', data: await jpeg(30, 20) },
      { field: 'image', filename: 'b.png', type: 'image/png', data: await png(10, 10) },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/images', ...form });
    expect(res.statusCode).toBe(201);
    const metas = res.json<Meta[]>();
    expect(metas.map((m) => [m.filename, m.format, m.album])).toEqual([
      ['a.jpg', 'jpeg', 'kitties'],
      ['b.png', 'png', 'kitties'],
    ]);
    expect((await t.app.inject({ url: `${metas[1]!.url}/meta` })).json()).toMatchObject({
      width: 10,
      height: 10,
    });
  });

  it('lists with cursor pagination and albums', async () => {
    const first = (await t.app.inject({ url: '/images?limit=2' })).json<{
      items: Meta[];
      next_cursor: string;
    }>();
    expect(first.items).toHaveLength(2);
    const seen = new Set(first.items.map((m) => m.id));
    let cursor: string | null = first.next_cursor;
    while (cursor) {
      const page: { items: Meta[]; next_cursor: string | null } = (
        await t.app.inject({ url: `/images?limit=2&cursor=${cursor}` })
      ).json();
      for (const m of page.items) {
        expect(seen.has(m.id)).toBe(false);
        seen.add(m.id);
      }
      cursor = page.next_cursor;
    }
    const all = (await t.app.inject({ url: '/images?limit=100' })).json<{ items: Meta[] }>();
    expect(seen.size).toBe(all.items.length);
    const kitties = (await t.app.inject({ url: '/images?album=kitties' })).json<{
      items: Meta[];
    }>();
    expect(kitties.items.every((m) => m.album === 'kitties')).toBe(true);
    expect(kitties.items).toHaveLength(2);
    expect((await t.app.inject({ url: '/images?cursor=zzz' })).statusCode).toBe(400);
  });

  it('transforms a posted image without storing it, and processes a batch per item', async () => {
    const before = (await t.app.inject({ url: '/images?limit=100' })).json<{ items: Meta[] }>()
      .items.length;
    const res = await t.app.inject({
      method: 'POST',
      url: '/images/transform?w=20&format=webp',
      headers: { 'content-type': 'image/png' },
      payload: await png(40, 40),
    });
    expect(res.statusCode).toBe(200);
    expect(await sharp(res.rawPayload).metadata()).toMatchObject({ format: 'webp', width: 20 });
    expect(
      (await t.app.inject({ url: '/images?limit=100' })).json<{ items: Meta[] }>().items.length,
    ).toBe(before);

    const batch = await t.app.inject({
      method: 'POST',
      url: '/images/batch',
      payload: { ids: [meta.id, 'missing'], ops: { w: 50 }, format: 'png' },
    });
    expect(batch.statusCode).toBe(200);
    const { results } = batch.json<{
      results: (
        { ok: true; url: string; width: number } | { ok: false; error: { code: string } }
      )[];
    }>();
    expect(results[0]).toMatchObject({ ok: true, width: 50, format: 'png' });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'IMAGE_NOT_FOUND' } });
    const url = (results[0] as { url: string }).url;
    const got = await t.app.inject({ url });
    expect(got.headers['x-cache']).toBe('hit');
  });

  it('keeps the original service’s routes working', async () => {
    const form = multipart([
      { field: 'image', filename: 'cat.jpg', type: 'image/jpeg', data: photo },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/storage/', ...form });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      message: string;
      id: string;
      full_name: string;
      content_type: string;
    }>();
    expect(body).toMatchObject({
      message: 'file created, uploading started',
      full_name: 'cat.jpg',
      content_type: 'image/jpeg',
    });
    const down = await t.app.inject({ url: `/storage/${body.id}` });
    expect(down.statusCode).toBe(200);
    expect(parseDisposition(String(down.headers['content-disposition']))).toEqual({
      type: 'attachment',
      parameters: { filename: 'cat.jpg' },
    });
    expect(down.rawPayload.equals(photo)).toBe(true);
    const conv = await t.app.inject({ url: `/converter/${body.id}/png` });
    expect(conv.statusCode).toBe(200);
    expect((await sharp(conv.rawPayload).metadata()).format).toBe('png');
    expect((await t.app.inject({ url: `/converter/${body.id}/bmp` })).statusCode).toBe(400);
  });

  it('deletes (admin) and removes bytes nobody else uses', async () => {
    const own = (await upload(t, await jpeg(33, 33))).json<Meta>();
    await t.app.inject({ url: `${own.url}.webp` });
    const res = await t.app.inject({ method: 'DELETE', url: own.url });
    expect(res.statusCode).toBe(200);
    expect((await t.app.inject({ url: own.url })).statusCode).toBe(404);
    expect(blobFiles(path.join(t.dataDir, 'blobs'))).not.toContain(own.sha256);
    // The shared photo keeps its bytes while another image uses them.
    const twin = (await upload(t, photo)).json<Meta>();
    await t.app.inject({ method: 'DELETE', url: twin.url });
    expect((await t.app.inject({ url: meta.url })).statusCode).toBe(200);
  });
});

describe('remote imports', () => {
  let t: TestApp;
  let open: TestApp;
  let server: Server;
  let base: string;
  let image: Buffer;
  beforeAll(async () => {
    image = await png(12, 12);
    server = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/cat.png' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' }).end(image);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    t = await buildTestApp({ build: { modules: [imagesModule] } });
    open = await buildTestApp({
      config: { images: { remote_allow_private: true, remote_timeout_ms: 300 } },
      build: { modules: [imagesModule] },
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await t.close();
    await open.close();
  });

  const importUrl = (app: TestApp, url: string) =>
    app.app.inject({ method: 'POST', url: '/images', payload: { url } });

  it('refuses loopback, private, link-local and metadata addresses, by name too', async () => {
    for (const url of [
      `${base}/cat.png`,
      'http://10.1.2.3/cat.png',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/cat.png',
      'http://[::ffff:127.0.0.1]/cat.png',
      // IPv6 spellings that embed an internal IPv4 address.
      'http://[::127.0.0.1]/cat.png',
      'http://[::ffff:0:127.0.0.1]/cat.png',
      'http://[2002:7f00:1::]/cat.png',
      'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/',
      'http://[64:ff9b:1::7f00:1]/cat.png',
      'http://[2001::1]/cat.png',
      'http://[fd00::1]/cat.png',
      'http://100.64.0.1/cat.png',
      `http://localhost:${new URL(base).port}/cat.png`,
    ]) {
      const res = await importUrl(t, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json<ErrorJson>().error.code, url).toBe('IMAGE_REMOTE_REFUSED');
    }
    for (const url of ['ftp://example.com/a.png', 'file:///etc/passwd', 'not a url']) {
      expect((await importUrl(t, url)).json<ErrorJson>().error.code, url).toBe('IMAGE_BAD_URL');
    }
  });

  it('imports when allowed, and refuses redirects and slow servers clearly', async () => {
    const ok = await importUrl(open, `${base}/cat.png`);
    expect(ok.statusCode).toBe(201);
    expect(ok.json<Meta>()).toMatchObject({ format: 'png', width: 12, filename: 'cat.png' });
    const redirect = await importUrl(open, `${base}/redirect`);
    expect(redirect.statusCode).toBe(502);
    expect(redirect.json<ErrorJson>().error.message).toMatch(/redirects are not followed/);
    const slow = await importUrl(open, `${base}/slow`);
    expect(slow.statusCode).toBe(504);
    expect(slow.json<ErrorJson>().error.message).toMatch(/within 300 ms/);
  });
});

describe('signed transformation URLs', () => {
  const key = 'test-signing-key';
  const signingApp = () =>
    buildTestApp({ config: { images: { signing_key: key } }, build: { modules: [imagesModule] } });

  it('needs a valid sig for derived images, not for the original', async () => {
    const t = await signingApp();
    try {
      const meta = (await upload(t, await png(20, 20), 'image/png')).json<Meta>();
      expect((await t.app.inject({ url: meta.url })).statusCode).toBe(200);
      const unsigned = await t.app.inject({ url: `${meta.url}.webp?w=10` });
      expect(unsigned.statusCode).toBe(403);
      const sig = signature(key, `${meta.id}.webp`, { w: 10, format: 'webp' });
      expect((await t.app.inject({ url: `${meta.url}.webp?w=10&sig=${sig}` })).statusCode).toBe(
        200,
      );
      expect((await t.app.inject({ url: `${meta.url}.webp?w=11&sig=${sig}` })).statusCode).toBe(
        403,
      );
    } finally {
      await t.close();
    }
  });

  it('signs the listed previews only: a page shows them without the key', async () => {
    const t = await signingApp();
    try {
      const uploaded = (await upload(t, await png(40, 30), 'image/png')).json<Meta>();
      const listed = (await t.app.inject({ url: '/images' })).json<{ items: Meta[] }>().items;
      expect(listed.map((m) => m.previews)).toEqual([uploaded.previews]);
      for (const size of [320, 640] as const) {
        const url = uploaded.previews[size];
        expect(url).toBe(
          `/images/${uploaded.id}.webp?w=${size}&h=${size}&fit=cover&sig=${signature(key, `${uploaded.id}.webp`, { w: size, h: size, fit: 'cover', format: 'webp' })}`,
        );
        const res = await t.app.inject({ url });
        expect(res.statusCode).toBe(200);
        expect(await sharp(res.rawPayload).metadata()).toMatchObject({
          format: 'webp',
          width: size,
          height: size,
        });
      }
      // The signature holds for that preview only.
      const other = uploaded.previews[320].replace('w=320&h=320', 'w=321&h=321');
      expect((await t.app.inject({ url: other })).statusCode).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('lists previews without a signature when it does not sign', async () => {
    const t = await buildTestApp({ build: { modules: [imagesModule] } });
    try {
      const meta = (await upload(t, await png(40, 30), 'image/png')).json<Meta>();
      expect(meta.previews[640]).toBe(`/images/${meta.id}.webp?w=640&h=640&fit=cover`);
      expect((await t.app.inject({ url: meta.previews[640] })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('is enforced on every route that renders, and no open route signs other operations', async () => {
    const key = 'test-signing-key';
    const t = await buildTestApp({
      config: { images: { signing_key: key }, admin_token: 'adm1n' },
      build: { modules: [imagesModule] },
    });
    try {
      const bytes = await png(20, 20);
      const meta = (await upload(t, bytes, 'image/png')).json<Meta>();
      // The original service's conversion route.
      const webp = signature(key, `${meta.id}.webp`, { format: 'webp' });
      expect((await t.app.inject({ url: `/converter/${meta.id}/webp` })).statusCode).toBe(403);
      const converted = await t.app.inject({ url: `/converter/${meta.id}/webp?sig=${webp}` });
      expect(converted.statusCode).toBe(200);
      expect(converted.headers['content-type']).toBe('image/webp');
      // Rendering a posted image.
      const post = (query: string) =>
        t.app.inject({
          method: 'POST',
          url: `/images/transform?${query}`,
          headers: { 'content-type': 'image/png' },
          payload: bytes,
        });
      expect((await post('w=8')).statusCode).toBe(403);
      expect((await post(`w=8&sig=${signature(key, 'transform', { w: 8 })}`)).statusCode).toBe(200);
      // A batch answers signed URLs: administrators only.
      const batch = (headers: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url: '/images/batch',
          headers,
          payload: { ids: [meta.id], ops: { w: 8000 } },
        });
      const open = await batch({});
      expect(open.statusCode).toBe(401);
      expect(open.body).not.toContain('sig=');
      const admin = await batch({ authorization: 'Bearer adm1n' });
      expect(admin.statusCode).toBe(200);
      expect(admin.body).toContain('sig=');
    } finally {
      await t.close();
    }
  });
});

describe('animation frames limit', () => {
  it('refuses an animated image with more frames than allowed (422), accepts one within', async () => {
    const t = await buildTestApp({
      config: { images: { max_frames: 2 } },
      build: { modules: [imagesModule] },
    });
    try {
      const three = await upload(t, animatedGif(3), 'image/gif');
      expect(three.statusCode).toBe(422);
      expect(three.json<ErrorJson>().error).toMatchObject({ code: 'IMAGE_TOO_MANY_FRAMES' });
      const two = await upload(t, animatedGif(2), 'image/gif');
      expect(two.statusCode).toBe(201);
      expect(two.json<Meta>()).toMatchObject({ format: 'gif', width: 1, height: 1 });
    } finally {
      await t.close();
    }
  });
});

describe('processing limiter', () => {
  it('runs at most `concurrency` at once, queues `queue`, and refuses the rest with 503', async () => {
    const limiter = new Limiter(1, 1);
    let release = (): void => undefined;
    const first = limiter.run(() => new Promise<string>((r) => (release = () => r('a'))));
    const second = limiter.run(() => Promise.resolve('b'));
    // The limiter says why (busy); the routes answer it 503 with Retry-After.
    const refused: unknown = await limiter.run(() => Promise.resolve('c')).catch((e: unknown) => e);
    if (!(refused instanceof ImagesFailed)) throw new Error(`not refused: ${String(refused)}`);
    expect(errorOf(refused.failure)).toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
    });
    expect(limiter.stats).toEqual({ active: 1, waiting: 1 });
    release();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(limiter.stats).toEqual({ active: 0, waiting: 0 });
  });
});

describe.each(dialects().flatMap((d) => (['fs', 'db'] as const).map((s) => [d, s] as const)))(
  'images on %s with the %s blob store',
  (dialect, store) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({
        dialect,
        // A shared directory must be named for fs blobs on a server database.
        config: { blobs: { store, ...(store === 'fs' ? { dir: tempDir() } : {}) } },
        build: { modules: [imagesModule] },
      });
    });
    afterAll(async () => {
      await t.close();
    });

    it('uploads, de-duplicates, converts (cached), lists and deletes', async () => {
      const bytes = await jpeg(64, 32);
      const a = (await upload(t, bytes)).json<Meta>();
      const b = (await upload(t, bytes)).json<Meta>();
      expect(b.sha256).toBe(a.sha256);
      expect((await t.app.inject({ url: a.url })).rawPayload.equals(bytes)).toBe(true);
      const webp = await t.app.inject({ url: `${a.url}.webp?w=32` });
      expect(webp.headers['x-cache']).toBe('miss');
      expect(await sharp(webp.rawPayload).metadata()).toMatchObject({ format: 'webp', width: 32 });
      expect((await t.app.inject({ url: `${b.url}.webp?w=32` })).headers['x-cache']).toBe('hit');
      const list = (await t.app.inject({ url: '/images' })).json<{ items: Meta[] }>();
      expect(list.items.map((m) => m.id)).toEqual([b.id, a.id]);
      expect((await t.app.inject({ method: 'DELETE', url: a.url })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'DELETE', url: b.url })).statusCode).toBe(200);
      expect(await t.app.blobs.has(a.sha256)).toBe(false);
    });
  },
);
