#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --min-semi-space-size=16 --max-semi-space-size=16
/* global process, URL */
// The `agora` command: runs the compiled CLI (built by `npm install` / `npm run build`).
// MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (libuv's pool running sharp, the
// blob writers) an arena of its own, and freed memory stays scattered across them; two arenas
// kept the server a third smaller under a sustained image load (README, Memory).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('agora: not built yet — run `npm run build` first\n');
  process.exit(1);
}
await import(entry.href);
