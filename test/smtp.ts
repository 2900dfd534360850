/** A real SMTP server for tests: it accepts every mail and lets a test await them. */
import { SMTPServer } from 'smtp-server';

export interface Mail {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtp {
  port: number;
  mails: Mail[];
  /** Resolves once `n` mails have arrived. */
  until(n: number): Promise<Mail[]>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const mails: Mail[] = [];
  let waiters: { n: number; resolve: (m: Mail[]) => void }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        const ready = waiters.filter((w) => mails.length >= w.n);
        waiters = waiters.filter((w) => mails.length < w.n);
        for (const w of ready) w.resolve(mails);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    mails,
    until(n) {
      if (mails.length >= n) return Promise.resolve(mails);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded text of a mail (subjects are MIME-encoded when they are not plain ASCII). */
export function bodyOf(mail: Mail): string {
  return mail.raw.replace(/=\r?\n/g, '');
}
