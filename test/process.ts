/**
 * Runs the real `agora` CLI in a child process (from the TypeScript sources, through tsx), for
 * tests of start-up, exit codes, signals and several processes on one database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function agoraProcess(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, CI: '', AGORA_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a command to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = agoraProcess(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Every JSON log line seen so far. */
  lines: Record<string, unknown>[];
  /** Resolves with the first log line (past or future) whose `msg` matches and has `fields`. */
  waitForLog(msg: RegExp, fields?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `agora serve` on a free port and resolves once it listens. */
export async function startServerProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = agoraProcess(['serve', '--port', '0', ...args], env);
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    matches: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  const matcher =
    (msg: RegExp, fields: Record<string, unknown> = {}) =>
    (line: Record<string, unknown>): boolean =>
      typeof line.msg === 'string' &&
      msg.test(line.msg) &&
      Object.entries(fields).every(([k, v]) => line[k] === v);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.matches(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const waitForLog = (
    msg: RegExp,
    fields?: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    const matches = matcher(msg, fields);
    const seen = lines.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ matches, resolve }));
  };
  const listening = await Promise.race([
    waitForLog(/^agora listening$/),
    exited.then((code) => {
      throw new Error(`agora exited with ${code} before listening: ${stderr}`);
    }),
  ]);
  return { child, url: String(listening.url), lines, waitForLog, exited };
}
