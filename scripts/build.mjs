// Bundles each functions/<name>/index.ts into dist/<name>/index.js: CommonJS, node20, self-contained, exporting `handler`.
// The FC 3.0 SDK (used only to fan out) is emitted beside a bundle that needs it as dist/<name>/fc-sdk.js and
// required on the first fan-out, so a cold start does not load it. `--sizes` prints each bundle's size.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const functionsDir = join(root, 'functions');
const names = readdirSync(functionsDir).filter(
  (n) => statSync(join(functionsDir, n)).isDirectory() && existsSync(join(functionsDir, n, 'index.ts')),
);
const FC_SDK = join(root, 'lib', 'cloud', 'fc-sdk.ts');

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

/** `import('./fc-sdk')` from lib/cloud/invoke.ts stays a require of the file beside the bundle. */
const fcSdkAsFile = {
  name: 'fc-sdk-as-file',
  setup(b) {
    b.onResolve({ filter: /^\.\/fc-sdk$/ }, (args) =>
      args.importer === join(root, 'lib', 'cloud', 'invoke.ts') ? { path: './fc-sdk.js', external: true } : undefined,
    );
  },
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
const sizes = [];
await Promise.all(
  names.map(async (name) => {
    const outfile = join(root, 'dist', name, 'index.js');
    const result = await build({ ...common, entryPoints: [join(functionsDir, name, 'index.ts')], outfile, metafile: true, plugins: [fcSdkAsFile] });
    const files = [outfile];
    if (Object.keys(result.metafile.inputs).some((f) => f.endsWith('lib/cloud/invoke.ts'))) {
      await build({ ...common, entryPoints: [FC_SDK], outfile: join(root, 'dist', name, 'fc-sdk.js') });
      files.push(join(root, 'dist', name, 'fc-sdk.js'));
    }
    sizes.push(...files.map((f) => `${f.slice(root.length)} ${(statSync(f).size / 1024).toFixed(0)} KB`));
  }),
);
console.log(`built ${names.length} function(s) into dist/ in ${Date.now() - started} ms: ${names.join(', ')}`);
if (process.argv.includes('--sizes')) console.log(sizes.sort().join('\n'));
