// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const COMPOSITION = '(app|config|cli|cli\\.server|server|main)\\.js$';

/**
 * Forbids, in `files`, the imports whose path matches one of `patterns` (regex → message).
 * @param {string} files
 * @param {Record<string, string>} patterns
 */
function forbidImports(files, patterns) {
  return {
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: Object.entries(patterns).map(([regex, message]) => ({ regex, message })) },
      ],
    },
  };
}

/** A core file, `up` (`../`, `../../`) below src/. @param {string} files @param {string} up */
function coreBoundaries(files, up) {
  return forbidImports(files, {
    '(^|/)modules(/|$)':
      'The core never imports a module: modules are listed in src/modules/index.ts.',
    [`^${up.replaceAll('.', '\\.')}${COMPOSITION}`]:
      'The core never imports the composition root, which lists the modules.',
  });
}

/** A module file, `up` below src/modules/. @param {string} files @param {string} up */
function moduleBoundaries(files, up) {
  const toModules = up.replaceAll('.', '\\.');
  return forbidImports(files, {
    [`^${toModules}(?!\\.\\.)[^/]+/(?!index\\.js$)`]:
      "A module imports another module's index.ts only, never its other files.",
    [`^${toModules}\\.\\./${COMPOSITION}`]:
      'A module never imports the composition root, which lists the modules.',
  });
}

export default tseslint.config(
  {
    // test/fixtures/lint break the rules on purpose: test/lint.test.ts lints them as files of src/.
    ignores: [
      'dist/',
      'node_modules/',
      'data/',
      'coverage/',
      'bench/results/',
      'test/fixtures/lint/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // A switch over a union handles every member, so a new member is a type error, not a
      // silent fall-through.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      // Request data is typed by the route's schema, never cast: a cast hides a missing schema.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'TSAsExpression MemberExpression[object.name=/^(request|req)$/][property.name=/^(body|query|params|headers)$/]',
          message: "Request data is typed by the route's schema (TypeBox), never cast.",
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Fastify plugins and hooks are async by contract, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `this: void` marks an interface's method as safe to pass around (see core/module.ts).
      '@typescript-eslint/no-invalid-void-type': ['error', { allowAsThisParameter: true }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only src/core/config.ts reads process.env.',
        },
      ],
    },
  },
  {
    // Configuration, tests, benchmarks and the CLI launcher may read the environment directly.
    files: [
      'src/core/config.ts',
      'src/**/*.bench.ts',
      'test/**',
      'bench/**',
      'bin/**',
      '*.config.*',
      'web/vite.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  // Boundaries (src/modules/README.md): the core never imports a module, nor the files that
  // compose the modules (app, config, cli…); a module imports another module's index.ts only.
  // The depth of `../` differs with a file's folder, hence one block per depth.
  coreBoundaries('src/core/*.ts', '../'),
  coreBoundaries('src/core/*/**/*.ts', '../../'),
  moduleBoundaries('src/modules/*/*.ts', '../'),
  moduleBoundaries('src/modules/*/*/**/*.ts', '../../'),
  {
    // In tests, `!` after a lookup the test just asserted is clearer than a guard.
    files: ['test/**', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Vitest's asymmetric matchers (expect.any, …) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
