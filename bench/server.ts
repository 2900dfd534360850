/** Starting Agora (the built `dist/`) as its own process for the bench, with extra settings. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within 60 s`);
}

/**
 * A fixed 16 MB young generation. Left to size itself, V8 sometimes keeps it small for the life
 * of the process, and then scavenges cost half as much again as the whole cheap request.
 */
export const SERVER_NODE_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

export interface AgoraProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Agora on the embedded defaults in `dataDir`, plus `env` (AGORA_* settings). */
export async function startAgora(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<AgoraProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      // As `npm start` and bin/agora.js run it (docs/development.md, Benchmarks).
      ...SERVER_NODE_FLAGS,
      path.join(root, 'dist/main.js'),
      'serve',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
    ],
    {
      // The default log level (info), as every user runs it: one line per request, written to
      // a file as a service manager would collect them, not to the terminal.
      stdio: ['ignore', openSync(path.join(dataDir, 'stdout.log'), 'a'), 'inherit'],
      // As `npm start` and bin/agora.js set it (docs/development.md, Memory).
      env: { MALLOC_ARENA_MAX: '2', ...process.env, AGORA_CONFIG: '', ...env },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`, child);
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
