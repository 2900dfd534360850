/**
 * `agora images upload|get|meta|list|transform|batch|delete`: the images API from a shell,
 * through the typed client.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { contentTypeOf, ImagesApiError, ImagesClient } from '../../client/images.js';
import { OP_PARAMS, OpsError, parseOps, type Ops } from './images.ops.js';

interface Common {
  url: string;
  adminToken?: string;
  signingKey?: string;
}

/** Options that name transformations (`--w 200 --format webp --grayscale`). */
function addOpsOptions(cmd: Command): Command {
  return cmd
    .option('--w <n>', 'width')
    .option('--h <n>', 'height')
    .option('--fit <fit>', 'cover, contain, fill, inside or outside (with --w and --h)')
    .option('--thumbnail <n>', 'n×n, cropped to cover')
    .option('--rotate <degrees>', 'rotation in degrees')
    .option('--flip', 'mirror top to bottom')
    .option('--flop', 'mirror left to right')
    .option('--grayscale', 'in shades of grey')
    .option('--blur <sigma>', 'Gaussian blur (0.3–100)')
    .option('--sharpen', 'sharpen')
    .option('--mask <mask>', 'circle or rounded')
    .option('--quality <q>', 'encoder quality 1–100')
    .option('--format <format>', 'jpeg, png, webp, avif, gif or tiff');
}

function opsOf(options: Record<string, unknown>): Ops {
  const query: Record<string, string> = {};
  for (const name of OP_PARAMS) {
    const value = options[name];
    if (value === true) query[name] = 'true';
    else if (typeof value === 'string') query[name] = value;
  }
  return parseOps(query, { maxDimension: 100_000 });
}

function client(common: Common): ImagesClient {
  return new ImagesClient({
    baseUrl: common.url,
    ...(common.adminToken ? { adminToken: common.adminToken } : {}),
    ...(common.signingKey ? { signingKey: common.signingKey } : {}),
  });
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** Writes bytes to `out`, or to stdout when it is not a terminal. */
async function output(data: Buffer, out: string | undefined): Promise<void> {
  if (out) {
    await writeFile(out, data);
    process.stderr.write(`${data.length} bytes → ${out}\n`);
    return;
  }
  if (process.stdout.isTTY)
    throw new Error('refusing to write an image to a terminal: give -o FILE');
  process.stdout.write(data);
}

/** An error with its causes: fetch says only "fetch failed", its cause says why. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

/** Runs an action; API and usage errors become a message and exit code 1 (64 for bad options). */
function run<A extends unknown[]>(
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (err instanceof OpsError) {
        process.stderr.write(`agora images: --${err.message}\n`);
        process.exitCode = 64;
      } else if (err instanceof ImagesApiError) {
        process.stderr.write(
          `agora images: ${err.status} ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}\n`,
        );
        process.exitCode = 1;
      } else {
        process.stderr.write(`agora images: ${describe(err)}\n`);
        process.exitCode = 1;
      }
    }
  };
}

export function imagesCommands(program: Command): void {
  const images = program
    .command('images')
    .description('use the images API of a running server')
    .addOption(
      new Option('--url <url>', 'the server').env('AGORA_URL').default('http://127.0.0.1:8080'),
    )
    .addOption(new Option('--admin-token <token>', 'for delete').env('AGORA_ADMIN_TOKEN'))
    .addOption(
      new Option('--signing-key <key>', 'to sign transformation URLs').env(
        'AGORA_IMAGES_SIGNING_KEY',
      ),
    );
  const common = (): Common => images.opts<Common>();

  images
    .command('upload')
    .description('upload images; prints their metadata (one file: an object, several: an array)')
    .argument('<files...>', 'image files')
    .option('--album <album>', 'file them in an album')
    .action(
      run(async (files: string[], o: { album?: string }) => {
        const c = client(common());
        const album = o.album ? { album: o.album } : {};
        if (files.length === 1) {
          const file = files[0] ?? '';
          print(await c.upload(await readFile(file), { filename: path.basename(file), ...album }));
          return;
        }
        const loaded = await Promise.all(
          files.map(async (f) => ({ data: await readFile(f), filename: path.basename(f) })),
        );
        print(await c.uploadMany(loaded, album));
      }),
    );

  addOpsOptions(
    images
      .command('get')
      .description('download an image, converted and transformed by the options')
      .argument('<id>', 'image id')
      .option('-o, --out <file>', 'output file (default: stdout unless a terminal)'),
  ).action(
    run(async (id: string, o: Record<string, unknown> & { out?: string }) => {
      const { data } = await client(common()).get(id, opsOf(o));
      await output(data, o.out);
    }),
  );

  images
    .command('meta')
    .description("print an image's metadata")
    .argument('<id>', 'image id')
    .action(
      run(async (id: string) => {
        print(await client(common()).meta(id));
      }),
    );

  images
    .command('list')
    .description('list images, newest first')
    .option('--album <album>', 'only this album')
    .option('--limit <n>', 'page size (1–100)', '20')
    .option('--cursor <cursor>', 'the next_cursor of the previous page')
    .action(
      run(async (o: { album?: string; limit: string; cursor?: string }) => {
        print(
          await client(common()).list({
            limit: Number(o.limit),
            ...(o.album ? { album: o.album } : {}),
            ...(o.cursor ? { cursor: o.cursor } : {}),
          }),
        );
      }),
    );

  addOpsOptions(
    images
      .command('transform')
      .description('transform a local image on the server without storing it')
      .argument('<file>', 'image file')
      .option('-o, --out <file>', 'output file (default: stdout unless a terminal)'),
  ).action(
    run(async (file: string, o: Record<string, unknown> & { out?: string }) => {
      const data = await client(common()).transform(await readFile(file), opsOf(o), {
        contentType: contentTypeOf(file),
      });
      await output(data, o.out);
    }),
  );

  addOpsOptions(
    images
      .command('batch')
      .description('apply the options to many stored images; prints a result per id')
      .argument('<ids...>', 'image ids'),
  ).action(
    run(async (ids: string[], o: Record<string, unknown>) => {
      const results = await client(common()).batch(ids, opsOf(o));
      print(results);
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    }),
  );

  images
    .command('delete')
    .description('delete an image (admin)')
    .argument('<id>', 'image id')
    .action(
      run(async (id: string) => {
        print(await client(common()).delete(id));
      }),
    );
}
