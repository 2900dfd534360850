import path from 'node:path';
import { writeFileSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlerts, createMailer, type Mailer } from '../src/core/mail.js';
import { loadConfig } from '../src/config.js';
import { echoModule } from './fixtures/echo-module.js';
import { buildTestApp, tempDir } from './helper.js';
import { runCli } from './process.js';
import { bodyOf, startSmtp, type TestSmtp } from './smtp.js';

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp.close();
});

const mailEnv = (): Record<string, string> => ({
  AGORA_MAIL_HOST: '127.0.0.1',
  AGORA_MAIL_PORT: String(smtp.port),
  AGORA_MAIL_TO: 'admin@example.test',
  AGORA_MAIL_FROM: 'agora@example.test',
});

describe('start-up failures', () => {
  it('database unreachable: logs, mails the cause to the administrator, exits 2', async () => {
    const before = smtp.mails.length;
    const res = await runCli(
      ['serve', '--port', '0', '--db', 'postgres://nobody@127.0.0.1:1/none'],
      mailEnv(),
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot start: Migration core failed/);
    const mail = (await smtp.until(before + 1))[before]!;
    expect(mail.to).toEqual(['admin@example.test']);
    expect(bodyOf(mail)).toMatch(/server failed to start \(exit code 2\)/);
    expect(bodyOf(mail)).toMatch(/Migration core failed/);
  });

  it('Redis unreachable: exits 2 within its connect timeout, naming the URL, and mails it', async () => {
    const before = smtp.mails.length;
    const res = await runCli(
      ['serve', '--port', '0', '--data-dir', tempDir(), '--redis-url', 'redis://127.0.0.1:1'],
      { ...mailEnv(), AGORA_REDIS_CONNECT_TIMEOUT_MS: '500' },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot start: Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/);
    const mail = (await smtp.until(before + 1))[before]!;
    expect(bodyOf(mail)).toMatch(/server failed to start \(exit code 2\)/);
    expect(bodyOf(mail)).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/);
  });

  it('log file unwritable: exits 1, and the cause is mailed', async () => {
    const dir = tempDir();
    const plain = path.join(dir, 'plain');
    writeFileSync(plain, '');
    const before = smtp.mails.length;
    const res = await runCli(
      ['serve', '--port', '0', '--data-dir', dir, '--log-file', path.join(plain, 'x.log')],
      mailEnv(),
    );
    expect(res.code).toBe(1);
    expect(bodyOf((await smtp.until(before + 1))[before]!)).toMatch(/Cannot open log file/);
  });

  it('tax admin data missing: exits 2, and the cause is mailed', async () => {
    const dir = tempDir();
    expect((await runCli(['migrate', '--data-dir', dir])).code).toBe(0);
    const db = new SQLite(path.join(dir, 'agora.db'));
    db.exec('delete from tbtranches');
    db.close();
    const before = smtp.mails.length;
    const res = await runCli(['serve', '--port', '0', '--data-dir', dir], mailEnv());
    expect(res.code).toBe(2);
    expect(bodyOf((await smtp.until(before + 1))[before]!)).toMatch(/tax admin data missing/);
  });
});

describe('alerts during operation', () => {
  it('mails one alert in a window and the count of the suppressed ones when it ends', async () => {
    const sent: string[] = [];
    const mailer: Mailer = {
      send(subject) {
        sent.push(subject);
        return Promise.resolve(true);
      },
    };
    let clock = 0;
    let fire: (() => void) | null = null;
    const alerts = createAlerts({
      mailer,
      windowMs: 60_000,
      now: () => clock,
      setTimer: (fn) => {
        fire = fn;
        return {};
      },
      clearTimer: () => undefined,
    });
    for (let i = 0; i < 10; i++) {
      alerts.report(`500 on GET /x (${i})`, 'details');
      clock += 5_000; // ten failures within the minute
    }
    expect(fire).not.toBeNull();
    fire!(); // the window ends
    await alerts.flush();
    expect(sent).toEqual(['500 on GET /x (0)', '9 more alerts suppressed']);
    // The next window starts fresh.
    clock = 70_000;
    alerts.report('500 on GET /y', 'details');
    await alerts.flush();
    expect(sent.slice(2)).toEqual(['500 on GET /y']);
  });

  it('mails the administrator when a request fails with a 500', async () => {
    const t = await buildTestApp({
      config: { mail: { host: '127.0.0.1', port: smtp.port, to: 'admin@example.test' } },
      build: { modules: [echoModule] },
    });
    try {
      const before = smtp.mails.length;
      const res = await t.app.inject({ url: '/echo/boom' });
      expect(res.statusCode).toBe(500);
      const mail = (await smtp.until(before + 1))[before]!;
      expect(bodyOf(mail)).toContain('500 on GET /echo/boom');
      expect(bodyOf(mail)).toContain(res.headers['x-request-id'] as string);
      expect(bodyOf(mail)).not.toContain('secret internal detail');
    } finally {
      await t.close();
    }
  });

  it('logs an SMTP failure and carries on', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const config = loadConfig({
      env: {},
      overrides: { mail: { host: '127.0.0.1', port: 1, to: 'admin@example.test' } },
    });
    const mailer = createMailer(config.mail, logger);
    expect(mailer).not.toBeNull();
    expect(await mailer!.send('test', 'body')).toBe(false);
    expect(lines.join('')).toMatch(/could not send an alert/);
  });
});
