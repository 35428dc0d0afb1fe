// Bundles each functions/<name>/index.ts into dist/<name>/index.js: CommonJS, node20, self-contained, exporting `handler`.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const functionsDir = join(root, 'functions');
const names = readdirSync(functionsDir).filter(
  (n) => statSync(join(functionsDir, n)).isDirectory() && existsSync(join(functionsDir, n, 'index.ts')),
);
rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
await Promise.all(
  names.map((name) =>
    build({
      entryPoints: [join(functionsDir, name, 'index.ts')],
      outfile: join(root, 'dist', name, 'index.js'),
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
      logLevel: 'warning',
      define: { 'process.env.COLLECTOR_VERSION_BUILD': JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
    }),
  ),
);
console.log(`built ${names.length} function(s) into dist/ in ${Date.now() - started} ms: ${names.join(', ')}`);
