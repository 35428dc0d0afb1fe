// Lint: the rules the developers' guide names (no floating promises, no explicit any, no non-null assertions,
// consistent type imports), with type information so promise rules see through calls. `npm run lint`; part of `npm test`.
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The rooms of lib/, from the ground up: a room may import the rooms of lower floors only (never a room above it, nor
 * one beside it on its floor), so each floor can be read knowing only what is below it. A room is a folder (lib/cloud)
 * or a file of lib/ (lib/config.ts). docs/architecture.md draws them.
 */
const FLOORS = [
  ['lib/secret-key.ts'],
  ['lib/errors.ts', 'lib/ids.ts', 'lib/fields.ts', 'lib/log.ts', 'lib/deadline.ts', 'lib/limit.ts'],
  ['lib/status.ts', 'lib/causes'],
  ['lib/cloud'],
  ['lib/archive'],
  ['lib/config.ts'],
  ['lib/fanout.ts', 'lib/failure.ts', 'lib/payload.ts'],
  ['lib/triggers.ts'],
  ['lib/runtime.ts'],
  ['lib/warehouse'],
  ['lib/summary'],
  ['lib/collect'],
  ['lib/events', 'lib/sweep', 'lib/digest'],
  ['lib/cli'],
];
const roomZones = FLOORS.flatMap((floor, i) =>
  floor.map((room) => ({
    target: room,
    from: FLOORS.slice(i).flat().filter((other) => other !== room),
    message: `${room} stands below what it imports here: a room imports only rooms of lower floors (eslint.config.mjs FLOORS)`,
  })),
).filter((zone) => zone.from.length > 0);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local-cloud/**', 'coverage/**'] },
  {
    // No import cycles anywhere in the product (type-only imports do not count: they vanish at run time), and the
    // rooms of lib/ in their order (FLOORS above); functions/ may use lib/ but never the command line.
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'packages/*/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs'], 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: [...roomZones, { target: 'functions', from: 'lib/cli', message: 'a function never loads the command line' }] }],
    },
  },
  {
    // lib/ never depends on the local cloud; only `execution-archive serve` loads it, lazily.
    files: ['lib/**/*.ts'],
    ignores: ['lib/cli/serve.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@execution-archive/local-cloud', '@execution-archive/local-cloud/*', '**/packages/*'], message: 'lib/ never imports the local cloud (only lib/cli/serve.ts loads it, lazily)' }] }],
    },
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      'no-duplicate-imports': 'off',
    },
  },
  {
    // The local cloud is the other side of the wire: it never imports the code it stands in for.
    files: ['packages/local-cloud/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/lib/*', '**/lib'], message: 'the local cloud (packages/local-cloud) never imports lib/' }] }],
    },
  },
);
