import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Every `web/<page>/index.html` is a page, plus the landing page `web/index.html`. */
function pages(): Record<string, string> {
  const input: Record<string, string> = { index: path.join(root, 'index.html') };
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const html = path.join(root, entry.name, 'index.html');
    if (entry.isDirectory() && existsSync(html)) input[entry.name] = html;
  }
  return input;
}

export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: path.join(root, '../dist/web'),
    emptyOutDir: true,
    rollupOptions: { input: pages() },
  },
});
