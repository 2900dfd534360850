/**
 * The boundaries of src/modules/README.md are lint rules: fixtures that break them, linted with
 * the repository's own eslint.config.js as if they sat in src/, must be reported.
 */
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// The repository's own configuration; only type information is off for the fixtures, which the
// TypeScript project does not hold at the paths they are linted as.
const eslint = new ESLint({
  cwd: new URL('..', import.meta.url).pathname,
  overrideConfig: { files: ['src/**/fixture.ts'], ...tseslint.configs.disableTypeChecked },
});

async function restrictedImports(fixture: string, asFile: string): Promise<string[]> {
  const code = readFileSync(new URL(`./fixtures/lint/${fixture}`, import.meta.url), 'utf8');
  const [result] = await eslint.lintText(code, { filePath: asFile });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => `${m.line}: ${m.message}`);
}

describe('lint boundaries', () => {
  it('reports a core file that imports a module or the composition root', async () => {
    expect(await restrictedImports('core-imports-module.ts', 'src/core/fixture.ts')).toEqual([
      expect.stringMatching(/^2: .*The core never imports a module/),
      expect.stringMatching(/^3: .*The core never imports the composition root/),
    ]);
    // Deeper in the core, the same import is reported too.
    const deeper = await restrictedImports('core-imports-module.ts', 'src/core/db/fixture.ts');
    expect(deeper).toContainEqual(expect.stringMatching(/^2: .*never imports a module/));
  });

  it("reports a module that imports another module's internals, not its index.ts", async () => {
    expect(
      await restrictedImports('module-imports-internals.ts', 'src/modules/queue/fixture.ts'),
    ).toEqual([expect.stringMatching(/^3: .*another module's index.ts only/)]);
  });
});
