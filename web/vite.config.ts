import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vite';
import { withShell } from './shell.js';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The landing page `web/index.html` and every module page `web/pages/<module>/index.html`. */
function pages(): Record<string, string> {
  const input: Record<string, string> = { index: path.join(root, 'index.html') };
  const dir = path.join(root, 'pages');
  if (!existsSync(dir)) return input;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const html = path.join(dir, entry.name, 'index.html');
    if (entry.isDirectory() && existsSync(html)) input[entry.name] = html;
  }
  return input;
}

export default defineConfig({
  root,
  base: '/',
  plugins: [{ name: 'agora-shell', transformIndexHtml: (html: string) => withShell(html) }],
  build: {
    outDir: path.join(root, '../dist/web'),
    emptyOutDir: true,
    rollupOptions: { input: pages() },
  },
});
