// Bundles each functions/<name>/index.ts into dist/<name>/index.js: CommonJS, node20, self-contained, exporting `handler`.
// SDKs a cold start does not need are emitted beside a bundle that imports them, as files of their own required on
// first use: dist/<name>/fc-sdk.js (the FC 3.0 SDK, on the first fan-out) and dist/<name>/credentials-sdk.js (the
// default credential chain, never inside FC, where the context has keys). `--sizes` prints each file's size.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const functionsDir = join(root, 'functions');
const names = readdirSync(functionsDir).filter(
  (n) => statSync(join(functionsDir, n)).isDirectory() && existsSync(join(functionsDir, n, 'index.ts')),
);
/** The lazily required files: `import('<specifier>')` in `importer` becomes a require of `<file>` beside the bundle. */
const CHUNKS = [
  { file: 'fc-sdk.js', entry: join(root, 'lib', 'cloud', 'fc-sdk.ts'), importer: join(root, 'lib', 'cloud', 'invoke.ts'), specifier: './fc-sdk' },
  // The package itself is the chunk's entry: the bundle's `import('@alicloud/credentials')` gets the same exports.
  { file: 'credentials-sdk.js', entry: createRequire(import.meta.url).resolve('@alicloud/credentials'), importer: join(root, 'lib', 'cloud', 'credentials.ts'), specifier: '@alicloud/credentials' },
];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // Error class names (InputError, ApiError, ...) are part of what callers and logs see.
  keepNames: true,
  // urllib (inside ali-oss) requires proxy-agent lazily, only when a proxy is configured.
  external: ['proxy-agent'],
  alias: { 'iconv-lite': join(root, 'scripts', 'shims', 'iconv-lite.cjs') },
  logLevel: 'warning',
  define: { 'process.env.COLLECTOR_VERSION_BUILD': JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
};

const chunksAsFiles = {
  name: 'chunks-as-files',
  setup(b) {
    b.onResolve({ filter: /^(?:\.\/[a-z-]+|@alicloud\/credentials)$/ }, (args) => {
      const chunk = CHUNKS.find((c) => c.importer === args.importer && c.specifier === args.path);
      return chunk ? { path: `./${chunk.file}`, external: true } : undefined;
    });
  },
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
const sizes = [];
await Promise.all(
  names.map(async (name) => {
    const outfile = join(root, 'dist', name, 'index.js');
    const result = await build({ ...common, entryPoints: [join(functionsDir, name, 'index.ts')], outfile, metafile: true, plugins: [chunksAsFiles] });
    const files = [outfile];
    const inputs = Object.keys(result.metafile.inputs).map((f) => join(root, f));
    for (const chunk of CHUNKS.filter((c) => inputs.includes(c.importer))) {
      await build({ ...common, entryPoints: [chunk.entry], outfile: join(root, 'dist', name, chunk.file) });
      files.push(join(root, 'dist', name, chunk.file));
    }
    sizes.push(...files.map((f) => `${f.slice(root.length)} ${(statSync(f).size / 1024).toFixed(0)} KB`));
  }),
);
console.log(`built ${names.length} function(s) into dist/ in ${Date.now() - started} ms: ${names.join(', ')}`);
if (process.argv.includes('--sizes')) console.log(sizes.sort().join('\n'));
