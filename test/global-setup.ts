/**
 * Checks the services the suites need once per run. Locally a missing service is reported loudly
 * and its suites are skipped; with CI=true it fails the run: in CI every suite must run.
 */
import type { TestProject } from 'vitest/node';
import {
  chromiumMissing,
  clusterToolsMissing,
  probe,
  probeRedis,
  requestedDialects,
  type Dialect,
} from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dialects: Dialect[];
    browser: boolean;
    cluster: boolean;
    redis: boolean;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const strict = process.env.CI === 'true' || process.env.CI === '1';
  const problems: string[] = [];
  const dialects: Dialect[] = [];
  for (const dialect of requestedDialects()) {
    const reason = await probe(dialect);
    if (reason === null) dialects.push(dialect);
    else problems.push(`${dialect}: ${reason}`);
  }
  const redisReason = await probeRedis();
  if (redisReason) problems.push(`redis: ${redisReason}`);
  const browserReason = chromiumMissing();
  if (browserReason) problems.push(`browser: ${browserReason}`);
  const clusterReason = clusterToolsMissing();
  if (clusterReason) problems.push(`cluster: ${clusterReason}`);

  if (problems.length > 0) {
    const banner = [
      '',
      '!'.repeat(78),
      `!! ${strict ? 'REQUIRED SERVICES MISSING (CI=true): failing the run' : 'SUITES SKIPPED: these services are not available'}`,
      ...problems.map((p) => `!!   - ${p}`),
      '!! See docs/development.md, "Running the tests", for how to start them.',
      '!'.repeat(78),
      '',
    ].join('\n');
    process.stderr.write(banner);
    if (strict) throw new Error(`required test services missing: ${problems.join('; ')}`);
  }
  project.provide('dialects', dialects);
  project.provide('browser', browserReason === null);
  project.provide('cluster', clusterReason === null);
  project.provide('redis', redisReason === null);
}
