// One linter (typescript-eslint, type-aware where it pays) and one formatter (Prettier,
// .prettierrc.json); both run in `npm test` through `npm run lint` (house style §14).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'collector/board/vendor/**', 'test-artifacts/**', 'data/**', 'state/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A `let` read by a closure before its one assignment (a timer cleared by an early finish) must stay `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks a value left out on purpose (a destructured field, an unused parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Type-aware rules that catch real bugs in an event-driven program.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['collector/board/**/*.js'],
    // The board is ES2017 for old office browsers (test/unit/collector/board): no optional
    // catch binding there, hence `caughtErrors: 'none'` above.
    languageOptions: { globals: { ...globals.browser } },
  },
);
