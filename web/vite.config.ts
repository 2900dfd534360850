import { readdirSync, existsSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { withShell } from './shell.js';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The landing page `web/index.html` and every module page `web/pages/<module>/index.html`. */
function pages(): Record<string, string> {
  const input: Record<string, string> = {
    index: path.join(root, 'index.html'),
    docs: path.join(root, 'docs/index.html'),
  };
  const dir = path.join(root, 'pages');
  if (!existsSync(dir)) return input;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const html = path.join(dir, entry.name, 'index.html');
    if (entry.isDirectory() && existsSync(html)) input[entry.name] = html;
  }
  return input;
}

/** Files worth compressing: text, over 1 KB. */
function compressible(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(js|css|html|svg|json|txt)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => statSync(file).size > 1024);
}

/**
 * Writes `.br` and `.gz` next to every built text file, once, at build time: the server sends
 * them as they are (`@fastify/static`'s `preCompressed`), so no request pays for compression.
 */
const precompress = {
  name: 'agora-precompress',
  apply: 'build' as const,
  closeBundle(): void {
    for (const file of compressible(path.join(root, '../dist/web'))) {
      const data = readFileSync(file);
      writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      writeFileSync(
        `${file}.br`,
        brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      );
    }
  },
};

/**
 * Puts each page's stylesheets into the page itself: the first paint then waits for no other
 * request (docs/development.md, "The web console"). The CSS files are still written, for anything
 * that links them.
 */
const inlineCss: Plugin = {
  name: 'agora-inline-css',
  apply: 'build',
  transformIndexHtml: {
    order: 'post',
    handler(html, context) {
      return html.replace(
        /<link rel="stylesheet"[^>]*href="\/([^"]+\.css)"[^>]*>/g,
        (tag: string, file: string) => {
          const asset = context.bundle?.[file];
          if (asset?.type !== 'asset') return tag;
          const css =
            typeof asset.source === 'string' ? asset.source : Buffer.from(asset.source).toString();
          return `<style>${css}</style>`;
        },
      );
    },
  },
};

export default defineConfig({
  root,
  base: '/',
  plugins: [
    { name: 'agora-shell', transformIndexHtml: (html: string) => withShell(html) },
    inlineCss,
    precompress,
  ],
  build: {
    outDir: path.join(root, '../dist/web'),
    emptyOutDir: true,
    rollupOptions: { input: pages() },
  },
});
