/** The tax module's commands; each loads what it needs when it runs, so the CLI starts quickly. */
import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';

function progressBar(done: number, total: number): void {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

function clientCommand(program: Command): void {
  program
    .command('tax-client')
    .description(
      'compute the tax of every taxpayer of FILE (id,married,children,salary per line) through the tax API',
    )
    .argument('<file>', 'input file; blank lines and # comments are skipped')
    .option('--url <url>', 'base URL of the tax API', 'http://127.0.0.1:8080/tax')
    .option('--user <name>', 'user name', 'admin')
    .addOption(
      new Option('--password <password>', 'password').env('AGORA_TAX_PASSWORD').default('admin'),
    )
    .option('--concurrency <n>', 'requests in flight at most', '8')
    .option('--out <file>', 'results, in input order', 'results.json')
    .option('--errors <file>', 'one line per bad input or failed request', 'errors.txt')
    .option('--batch', 'send the taxpayers through the batch endpoint (100 per request)')
    .action(
      async (
        file: string,
        o: {
          url: string;
          user: string;
          password: string;
          concurrency: string;
          out: string;
          errors: string;
          batch?: boolean;
        },
      ) => {
        const concurrency = Number(o.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
          process.stderr.write(
            'agora tax-client: --concurrency must be an integer from 1 to 256\n',
          );
          process.exitCode = 64;
          return;
        }
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          process.stderr.write(
            `agora tax-client: cannot read ${file}: ${(err as Error).message}\n`,
          );
          process.exitCode = 66;
          return;
        }
        // Loaded here: its answer schemas take a while to compile, and other commands need none.
        const { parseTaxpayers, runClient } = await import('./tax.client.js');
        const parsed = parseTaxpayers(text);
        const run = await runClient(parsed.lines, {
          url: o.url,
          user: o.user,
          password: o.password,
          concurrency,
          batch: o.batch === true,
          ...(process.stderr.isTTY ? { onProgress: progressBar } : {}),
        });
        const errors = [...parsed.errors, ...run.errors].sort((a, b) => a.line - b.line);
        await writeFile(o.out, `${JSON.stringify(run.results, null, 2)}\n`);
        await writeFile(o.errors, errors.map((e) => `Line ${e.line}, ${e.reason}\n`).join(''));
        process.stdout.write(
          `${run.results.length} computed, ${errors.length} failed (${parsed.errors.length} bad lines, ${run.errors.length} failed requests) → ${o.out}, ${o.errors}\n`,
        );
        if (errors.length > 0) process.exitCode = 1;
      },
    );
}

/** `agora tax-client` and `agora tax hash-password`. */
export function taxCommands(program: Command): void {
  clientCommand(program);
  const tax = program.command('tax').description('tax module commands');
  tax
    .command('hash-password')
    .description('print the scrypt hash of a password, for tax.users in agora.yaml')
    .argument('[password]', 'the password (read from standard input when omitted)')
    .action(async (password?: string) => {
      let secret = password;
      if (secret === undefined) {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        secret = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/\r?\n$/, '');
      }
      if (secret.length === 0) {
        process.stderr.write('agora tax hash-password: empty password\n');
        process.exitCode = 64;
        return;
      }
      const { hashPassword } = await import('./tax.auth.js');
      process.stdout.write(`${await hashPassword(secret)}\n`);
    });
}
