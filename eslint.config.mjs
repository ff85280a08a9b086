// Lint for the TypeScript sources, scripts and tests; npm test (scripts/test.sh) runs it before jest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.stack/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `const { dropped: _dropped, ...rest } = x` and `_arg` mark what is left out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
    },
  },
  {
    // Tests and scripts read foreign documents (YAML, Prometheus and Docker JSON) whose shape they then assert;
    // the receiver's own code stays typed.
    files: ['test/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['jest.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' }, // a CommonJS file, as jest loads it
  },
  {
    // An n8n Code node: n8n provides $ and $input.
    files: ['scripts/n8n/pick-model.js'],
    languageOptions: { globals: { $: 'readonly', $input: 'readonly' } },
  },
);
