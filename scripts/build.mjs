// Bundles each functions/<name>/index.ts into dist/<name>/index.js, with the files it requires on first use beside
// it (scripts/bundle.mjs says which and why). `--sizes` prints each file's size.
import { readdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildRooms, bundleFunction } from './bundle.mjs';

const root = new URL('..', import.meta.url).pathname;
const functionsDir = join(root, 'functions');
const names = readdirSync(functionsDir).filter(
  (n) => statSync(join(functionsDir, n)).isDirectory() && existsSync(join(functionsDir, n, 'index.ts')),
);

rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
// The rooms are built once, at the depth of a function's folder (their source maps stay right when copied in).
const roomsDir = join(root, 'dist', '.rooms');
const rooms = await buildRooms(root, roomsDir);
const sizes = [];
await Promise.all(
  names.map(async (name) => {
    const { files } = await bundleFunction(root, name, join(root, 'dist', name), rooms);
    sizes.push(...files.map((f) => `${f.slice(root.length)} ${(statSync(f).size / 1024).toFixed(0)} KB`));
  }),
);
rmSync(roomsDir, { recursive: true, force: true });
console.log(`built ${names.length} function(s) into dist/ in ${Date.now() - started} ms: ${names.join(', ')}`);
if (process.argv.includes('--sizes')) console.log(sizes.sort().join('\n'));
