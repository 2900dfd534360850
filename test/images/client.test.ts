import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImagesApiError, ImagesClient, type ImageMeta } from '../../src/client/index.js';
import { buildTestApp, listen, tempDir, type TestApp } from '../helper.js';
import { runCli } from '../process.js';
import { jpeg, png } from './fixtures.js';
import { imagesModule } from '../../src/modules/images/index.js';

describe('the images client library against a running server', () => {
  let t: TestApp;
  let base: string;
  let client: ImagesClient;
  beforeAll(async () => {
    t = await buildTestApp({
      config: { images: { remote_allow_private: true } },
      build: { modules: [imagesModule] },
    });
    base = await listen(t.app);
    client = new ImagesClient({ baseUrl: base });
  });
  afterAll(async () => {
    await t.close();
  });

  it('uploads, reads, converts, transforms, lists, batches and deletes', async () => {
    const bytes = await jpeg(120, 80);
    const one = await client.upload(bytes, { filename: 'one.jpg', album: 'demo' });
    expect(one).toMatchObject({
      format: 'jpeg',
      width: 120,
      height: 80,
      filename: 'one.jpg',
      album: 'demo',
    });
    expect((await client.get(one.id)).data.equals(bytes)).toBe(true);

    const [a, b] = await client.uploadMany([
      { data: await png(10, 10), filename: 'a.png' },
      { data: await png(20, 10), filename: 'b.png' },
    ]);
    expect([a?.width, b?.width]).toEqual([10, 20]);

    const imported = await client.importUrl(`${base}/images/${one.id}.png`);
    expect(imported).toMatchObject({ format: 'png', width: 120 });

    const small = await client.get(one.id, { w: 30, format: 'webp' });
    expect(small.contentType).toBe('image/webp');
    expect(await sharp(small.data).metadata()).toMatchObject({
      format: 'webp',
      width: 30,
      height: 20,
    });
    expect(client.url(one.id, { w: 30, format: 'webp' })).toBe(
      `${base}/images/${one.id}.webp?w=30`,
    );

    const out = await client.transform(await png(40, 40), { w: 8, format: 'png' });
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 8 });

    expect((await client.meta(one.id)).sha256).toBe(one.sha256);
    const page = await client.list({ album: 'demo' });
    expect(page.items.map((m: ImageMeta) => m.id)).toEqual([one.id]);

    const results = await client.batch([one.id, 'missing'], { w: 12 });
    expect(results[0]).toMatchObject({ ok: true, width: 12 });
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'IMAGE_NOT_FOUND' } });

    await client.delete(a!.id);
    const gone = await client.meta(a!.id).catch((err: unknown) => err);
    expect(gone).toBeInstanceOf(ImagesApiError);
    expect(gone).toMatchObject({ status: 404, code: 'IMAGE_NOT_FOUND' });
    expect((gone as ImagesApiError).requestId).toMatch(/.+/);
  });

  it('signs transformation URLs with the server’s key', async () => {
    const signed = await buildTestApp({
      config: { images: { signing_key: 'k3y' } },
      build: { modules: [imagesModule] },
    });
    try {
      const url = await listen(signed.app);
      const good = new ImagesClient({ baseUrl: url, signingKey: 'k3y' });
      const meta = await good.upload(await png(30, 30), { filename: 'x.png' });
      expect(
        await sharp((await good.get(meta.id, { w: 10, format: 'avif' })).data).metadata(),
      ).toMatchObject({
        width: 10,
      });
      const unsigned = new ImagesClient({ baseUrl: url });
      await expect(unsigned.get(meta.id, { w: 10 })).rejects.toMatchObject({ status: 403 });
      // The thumbnail shorthand is spelt out as the server reads and signs it.
      expect(good.url(meta.id, { thumbnail: 12 })).toMatch(
        new RegExp(`/images/${meta.id}\\?w=12&h=12&fit=cover&sig=[\\w-]+$`),
      );
      const thumb = await good.get(meta.id, { thumbnail: 12, format: 'png' });
      expect(await sharp(thumb.data).metadata()).toMatchObject({ width: 12, height: 12 });
      // Transformations of a posted image are signed too; batches need the admin token.
      const posted = await good.transform(await png(40, 40), { thumbnail: 8, format: 'png' });
      expect(await sharp(posted).metadata()).toMatchObject({ width: 8, height: 8 });
      await expect(unsigned.transform(await png(40, 40), { w: 8 })).rejects.toMatchObject({
        status: 403,
      });
    } finally {
      await signed.close();
    }
  });
});

describe('agora images … against a running server', () => {
  let t: TestApp;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    t = await buildTestApp({ build: { modules: [imagesModule] } });
    base = await listen(t.app);
    dir = tempDir();
    writeFileSync(path.join(dir, 'cat.jpg'), await jpeg(64, 48));
    writeFileSync(path.join(dir, 'dog.png'), await png(16, 16));
  });
  afterAll(async () => {
    await t.close();
  });

  const cli = (...args: string[]) => runCli(['images', ...args, '--url', base]);

  it('uploads, gets, shows, lists, transforms, batches and deletes', async () => {
    const up = await cli('upload', path.join(dir, 'cat.jpg'), '--album', 'pets');
    expect(up.code, up.stderr).toBe(0);
    const cat = JSON.parse(up.stdout) as ImageMeta;
    expect(cat).toMatchObject({ filename: 'cat.jpg', album: 'pets', width: 64 });

    const many = await cli('upload', path.join(dir, 'cat.jpg'), path.join(dir, 'dog.png'));
    expect((JSON.parse(many.stdout) as ImageMeta[]).map((m) => m.format)).toEqual(['jpeg', 'png']);

    const out = path.join(dir, 'out.webp');
    const get = await cli('get', cat.id, '--format', 'webp', '--w', '32', '-o', out);
    expect(get.code, get.stderr).toBe(0);
    expect(await sharp(readFileSync(out)).metadata()).toMatchObject({
      format: 'webp',
      width: 32,
      height: 24,
    });

    expect(JSON.parse((await cli('meta', cat.id)).stdout)).toMatchObject({
      id: cat.id,
      sha256: cat.sha256,
    });
    const list = JSON.parse((await cli('list', '--album', 'pets')).stdout) as {
      items: ImageMeta[];
    };
    expect(list.items.map((m) => m.id)).toEqual([cat.id]);

    const tout = path.join(dir, 't.png');
    const tr = await cli(
      'transform',
      path.join(dir, 'dog.png'),
      '--thumbnail',
      '8',
      '--grayscale',
      '-o',
      tout,
    );
    expect(tr.code, tr.stderr).toBe(0);
    expect(await sharp(readFileSync(tout)).metadata()).toMatchObject({ width: 8, height: 8 });

    const batch = await cli('batch', cat.id, 'missing', '--w', '10');
    expect(batch.code).toBe(1); // one item failed
    expect(JSON.parse(batch.stdout)).toMatchObject([{ ok: true, width: 10 }, { ok: false }]);

    const bad = await cli('get', cat.id, '--w', 'wide', '-o', out);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--w: must be an integer/);

    expect((await cli('delete', cat.id)).code).toBe(0);
    const missing = await cli('meta', cat.id);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404 IMAGE_NOT_FOUND/);
  }, 120_000); // ten CLI processes, each compiling the sources through tsx: slow on a busy machine

  it('takes an id that begins with - after --, as an id rather than an option', async () => {
    // No new id begins so (newPublicId); one stored by an older version may.
    const meta = await runCli(['images', 'meta', '--url', base, '--', '-AAAAAAAAAAA']);
    expect(meta.code, meta.stderr).toBe(1);
    expect(meta.stderr).toMatch(/404 IMAGE_NOT_FOUND/);
  });

  it('says why it cannot reach a server, not only that a fetch failed', async () => {
    // A port nothing listens on: one that was just freed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const down = await runCli(['images', 'meta', 'x', '--url', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/ECONNREFUSED/);
  });
});
