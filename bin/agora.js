#!/usr/bin/env -S node --min-semi-space-size=16 --max-semi-space-size=16
/* global process, URL */
// The `agora` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('agora: not built yet — run `npm run build` first\n');
  process.exit(1);
}
await import(entry.href);
