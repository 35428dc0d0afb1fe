// How one function is bundled: scripts/build.mjs bundles each function with it, and the bench's cold-require figure
// (bench/collect.ts) bundles each the same way with its SDKs left out. A bundle is dist/<name>/index.js (CommonJS,
// node20, self-contained, exporting `handler`) and, beside it, the files it requires on first use only:
// - the SDKs a cold start does not need (CHUNKS): fc-sdk.js (the FC 3.0 SDK, on the first fan-out) and
//   credentials-sdk.js (the default credential chain, never inside FC, where the context has keys);
// - the rooms of lib/ a cold start does not run (LAZY_ROOMS): causes.js (lib/causes, on the first failure grouped or
//   text masked). V8 reads every byte of a file it loads, run or not (~25 µs a KB): lib/causes is ~125 KB of the
//   ~420 KB of our code in the collect and summarize bundles.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

const require = createRequire(import.meta.url);

/** The lazily required SDKs: `import('<specifier>')` in `importer` becomes a require of `<file>` beside the bundle. */
export function chunksOf(root) {
  return [
    { file: 'fc-sdk.js', entry: join(root, 'lib', 'cloud', 'fc-sdk.ts'), importer: join(root, 'lib', 'cloud', 'invoke.ts'), specifier: './fc-sdk' },
    // The package itself is the chunk's entry: the bundle's `import('@alicloud/credentials')` gets the same exports.
    { file: 'credentials-sdk.js', entry: require.resolve('@alicloud/credentials'), importer: join(root, 'lib', 'cloud', 'credentials.ts'), specifier: '@alicloud/credentials' },
  ];
}

/**
 * The lazily required rooms: every import of one of a room's modules from outside the room becomes, in the bundle,
 * a stub whose exports are getters that require `<file>` (the room's modules, bundled on their own) on the first
 * read; the sources import the room as usual (the tests and tsx run them as they are). A room qualifies only when
 * nothing it bundles keeps state or classes that the rest of the bundle shares (its file holds its own copy of what
 * it imports): lib/causes imports only lib/secret-key.ts and lib/fields.ts (pure functions) and Node's crypto. What
 * reads a room's export while the bundle loads (a module constant made from one) loads the room then:
 * test/integration/bundles.test.ts checks that no bundle does.
 */
export function lazyRoomsOf(root) {
  return [{ file: 'causes.js', dir: join(root, 'lib', 'causes') }];
}

/** The options every file of every bundle is built with. */
export function commonOptions(root) {
  return {
    absWorkingDir: root,
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
}

/** The modules of a room (its .ts files, generated ones included), by name without the extension. */
function roomModules(room) {
  return readdirSync(room.dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3));
}

/**
 * Builds each room into `dir` once (`<dir>/<file>`): one module whose exports are the room's modules by name; the
 * export names of each are read back from the built file. Returns the rooms with `built` (the file) and `exports`.
 */
export async function buildRooms(root, dir, options = {}) {
  const rooms = [];
  for (const room of lazyRoomsOf(root)) {
    const modules = roomModules(room);
    const built = join(dir, room.file);
    await build({
      ...commonOptions(root),
      ...options,
      external: [...commonOptions(root).external, ...(options.external ?? [])],
      stdin: { contents: modules.map((m) => `export * as ${JSON.stringify(m)} from './${m}';`).join('\n'), resolveDir: room.dir, loader: 'ts', sourcefile: `${room.file}.ts` },
      outfile: built,
    });
    delete require.cache[built];
    const loaded = require(built);
    rooms.push({ ...room, built, exports: new Map(modules.map((m) => [join(room.dir, `${m}.ts`), Object.keys(loaded[m]).sort()])) });
  }
  return rooms;
}

/** The esbuild plugin that leaves the SDK chunks out (a require of their file) and puts the rooms' stubs in. */
function lazyPlugin(root, rooms) {
  const chunks = chunksOf(root);
  return {
    name: 'lazy-files',
    setup(b) {
      b.onResolve({ filter: /^(?:\.\/[a-z-]+|@alicloud\/credentials)$/ }, (args) => {
        const chunk = chunks.find((c) => c.importer === args.importer && c.specifier === args.path);
        return chunk ? { path: `./${chunk.file}`, external: true } : undefined;
      });
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace !== 'file') return undefined;
        const base = join(args.resolveDir, args.path);
        const room = rooms.find((r) => base.startsWith(r.dir + sep) && !args.importer.startsWith(r.dir + sep));
        const path = room && [base, `${base}.ts`].find((p) => room.exports.has(p));
        return path ? { path, namespace: 'lazy-room', pluginData: room } : undefined;
      });
      // The stub's require of the room's file stays a require, beside the bundle.
      b.onResolve({ filter: /.*/, namespace: 'lazy-room' }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: 'lazy-room' }, (args) => {
        const room = rooms.find((r) => args.path.startsWith(r.dir + sep));
        const module = relative(room.dir, args.path).slice(0, -3);
        const getters = room.exports.get(args.path).map((n) => `${JSON.stringify(n)}: { enumerable: true, get: () => load()[${JSON.stringify(n)}] }`);
        return {
          loader: 'js',
          contents: `let room;\nconst load = () => (room ??= require(${JSON.stringify(`./${room.file}`)}))[${JSON.stringify(module)}];\nObject.defineProperties(module.exports, {\n${getters.join(',\n')}\n});\n`,
        };
      });
    },
  };
}

/**
 * Bundles function `name` into `<outdir>/index.js` with the chunks and rooms it imports beside it (`rooms` from
 * {@link buildRooms}; a room's file is copied in). `options`: esbuild options over the common ones (`external`
 * added to theirs). Returns the files written and the bundle's metafile.
 */
export async function bundleFunction(root, name, outdir, rooms, options = {}) {
  const common = commonOptions(root);
  const merged = { ...common, ...options, external: [...common.external, ...(options.external ?? [])] };
  const outfile = join(outdir, 'index.js');
  const result = await build({ ...merged, entryPoints: [join(root, 'functions', name, 'index.ts')], outfile, metafile: true, plugins: [lazyPlugin(root, rooms)] });
  const files = [outfile];
  const inputs = Object.keys(result.metafile.inputs);
  const read = new Set(inputs.map((f) => join(root, f)));
  for (const chunk of chunksOf(root).filter((c) => read.has(c.importer))) {
    await build({ ...merged, entryPoints: [chunk.entry], outfile: join(outdir, chunk.file) });
    files.push(join(outdir, chunk.file));
  }
  for (const room of rooms.filter((r) => inputs.some((i) => i.startsWith('lazy-room:') && i.slice('lazy-room:'.length).startsWith(r.dir + sep)))) {
    mkdirSync(dirname(join(outdir, room.file)), { recursive: true });
    copyFileSync(room.built, join(outdir, room.file));
    if (existsSync(`${room.built}.map`)) copyFileSync(`${room.built}.map`, join(outdir, `${room.file}.map`));
    files.push(join(outdir, room.file));
  }
  return { files, metafile: result.metafile };
}
