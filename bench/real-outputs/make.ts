/**
 * Makes the real-output benchmark's fixtures by actually running failing programs on this machine, the way Cloud
 * Assistant runs a command: a script file run by bash, stdout and stderr into one stream, the exit code kept, the
 * output cut at 24 KB with the rest counted in `Dropped`, the command stopped at its timeout (status `Timeout`).
 *
 *   npx tsx bench/real-outputs/make.ts [--seed 1] [--set main|holdout|both] [--out bench/data] [--only <cause id regex>]
 *   npx tsx bench/real-outputs/make.ts --update <cause id regex>
 *
 * Everything runs in one fixed folder under /tmp (emptied before each run; never the repository) with a minimal
 * environment; the only network is loopback: HTTP servers this process starts on 127.0.0.x and ports nothing listens
 * on. `--only <regex>` runs three instances of each cause whose id matches and prints them instead of writing fixtures.
 * `--update <regex>` runs again only the instances of the causes whose id matches (the same plan: counts, shapes,
 * parameters and places as a full run of the same catalogue and seed) and puts them in place of the fixture's ones.
 *
 * Writes `<out>/real-outputs.jsonl.gz` (main) and `<out>/real-outputs-holdout.jsonl.gz`, one JSON object a line:
 * `{ id, cause, program, shape, status, errorCode, exitCode, output, dropped, host }`, in a seeded shuffled order (an
 * invocation lists its instances in no particular order of cause), and `<out>/real-outputs.meta.json` (seed, tool
 * versions, counts). The same seed gives the same programs, parameters, hosts and scripts; what the programs print
 * may still differ in process ids, timings and addresses.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Rng, hashString } from '@execution-archive/local-cloud/datasets/prng';
import { cutOutput, hostName, type CauseSpec, type Instance, type RealOutput, type RunEnv } from './catalogue';
import { loadFixture } from './score';
import { HOLDOUT_CAUSES } from './holdout-causes';
import { MAIN_CAUSES } from './main-causes';
import { SHAPES, script, type Shape, type Style } from './shapes';

/** Instances per cause: at least 8, at most 40 (the brief allows 50). */
const MIN_INSTANCES = 8;
const MAX_INSTANCES = 40;
/** A run that takes longer than this is a generator bug (nothing should hang without `killAfterSeconds`). */
const HARD_LIMIT_MS = 60_000;

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    set: { type: 'string', default: 'both' },
    out: { type: 'string', default: join(__dirname, '..', 'data') },
    only: { type: 'string' },
    update: { type: 'string' },
    root: { type: 'string', default: '/tmp/causes-data/run' },
  },
});

const seed = Number(values.seed);
const ROOT = resolve(values.root);
const JAVA_CLASSES = `${ROOT}-java`;
/** Compiled native tools the rust causes run (`$TOOLS_BIN/<name>`). */
const TOOLS_BIN = `${ROOT}-bin`;
const PYTHONS = ['3.8', '3.10', '3.11', '3.11', '3.12', '3.13'];

/** The newest installed pyenv interpreter of a minor version, else the system one. */
function pythonFor(minor: string): string {
  const base = '/root/.pyenv/versions';
  try {
    const found = execFileSync('bash', ['-c', `ls -d ${base}/${minor}.*/bin/python3 2>/dev/null | sort -V | tail -1`], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // no pyenv
  }
  return '/usr/bin/python3';
}

/** Loopback HTTP: `/status/<code>/…` answers that code, `/hang/…` never answers, anything else 404. */
function startServer(addr: string, port: number): Promise<Server | undefined> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const status = /^\/status\/(\d{3})\//.exec(path);
    if (path.startsWith('/hang/')) return;
    const code = status ? Number(status[1]) : 404;
    res.writeHead(code, { 'content-type': 'text/html' });
    res.end(`<html><body>${code}</body></html>\n`);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return new Promise((done) => {
    server.once('error', () => done(undefined));
    server.listen(port, addr, () => done(server));
  });
}

/** Whether nothing listens on a loopback port (a connection is refused). */
function refused(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      done(false);
    });
    s.once('error', () => done(true));
  });
}

/** Compiles the Java program the java causes run (four packages, each its own variable names and line numbers). */
function compileJava(): void {
  rmSync(JAVA_CLASSES, { recursive: true, force: true });
  const variants = [
    ['com.acme.billing', 'Main', 'value', 0],
    ['com.acme.orders', 'App', 'raw', 2],
    ['io.shop.sync', 'Runner', 'endpoint', 5],
    ['org.example.etl', 'Job', 'setting', 9],
  ] as const;
  const src = join(JAVA_CLASSES, 'src');
  const files: string[] = [];
  for (const [pkg, cls, v, pad] of variants) {
    const file = join(src, ...pkg.split('.'), `${cls}.java`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `package ${pkg};\n${'\n'.repeat(pad)}import java.io.*;\nimport java.util.*;\n\npublic class ${cls} {\n` +
        `  static final Map<String, String> SETTINGS = new HashMap<>();\n\n` +
        `  static String endpoint(String key) {\n    String ${v} = SETTINGS.get(key);\n    return ${v}.trim();\n  }\n\n` +
        `  static int weight(String spec) {\n    String[] parts = spec.split(":");\n    return Integer.parseInt(parts[2]);\n  }\n\n` +
        `  static int workers(String text) {\n    return Integer.parseInt(text);\n  }\n\n` +
        `  static Properties load(String path) {\n    Properties p = new Properties();\n    try (InputStream in = new FileInputStream(path)) {\n      p.load(in);\n    } catch (IOException e) {\n      throw new IllegalStateException("Failed to load configuration from " + path, e);\n    }\n    return p;\n  }\n\n` +
        `  static void fill(int n) {\n    List<long[]> keep = new ArrayList<>();\n    while (true) keep.add(new long[n << 18]);\n  }\n\n` +
        `  public static void main(String[] args) {\n    switch (args[0]) {\n      case "npe": System.out.println(endpoint(args[1])); break;\n      case "index": System.out.println(weight(args[1])); break;\n` +
        `      case "number": System.out.println(workers(args[1])); break;\n      case "config": System.out.println(load(args[1]).size()); break;\n      case "oom": fill(Integer.parseInt(args[1])); break;\n      default: throw new IllegalArgumentException(args[0]);\n    }\n  }\n}\n`,
    );
    files.push(file);
  }
  execFileSync('javac', ['-g', '-d', JAVA_CLASSES, ...files]);
}

/**
 * Builds the Rust tools the rust causes run: `log-shipper` and `edge-proxy`, each reading a port and an upstream from
 * its arguments with `unwrap()` (a panic when the port is not a number or the upstream is missing).
 */
function compileRust(): void {
  rmSync(TOOLS_BIN, { recursive: true, force: true });
  for (const [name, pad] of [['log-shipper', 0], ['edge-proxy', 3]] as const) {
    const dir = join(TOOLS_BIN, 'src', name, 'src');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'main.rs'),
      `use std::env;\n${'\n'.repeat(pad)}\nfn main() {\n    let args: Vec<String> = env::args().collect();\n    let port: u16 = args[1].parse().unwrap();\n    let upstream = args.get(2).map(|s| s.as_str());\n    println!("${name} listening on {} -> {}", port, upstream.unwrap());\n}\n`,
    );
    execFileSync('rustc', ['-O', '-o', join(TOOLS_BIN, name), 'src/main.rs'], { cwd: join(TOOLS_BIN, 'src', name) });
  }
}

/** The environment a run gets: little more than Cloud Assistant's (PATH, HOME, a locale), plus the run's folders. */
function runEnv(host: string, lang: string): NodeJS.ProcessEnv {
  return {
    PATH: `${ROOT}/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: `${ROOT}/root`,
    ...(lang ? { LANG: lang } : {}),
    TZ: 'UTC',
    ROOT,
    HOST: host,
    JAVA_CLASSES,
    TOOLS_BIN,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CEILING_DIRECTORIES: dirname(ROOT),
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'deploy',
    GIT_AUTHOR_EMAIL: 'deploy@example.com',
    GIT_COMMITTER_NAME: 'deploy',
    GIT_COMMITTER_EMAIL: 'deploy@example.com',
  };
}

/** Empties the run folder and puts the instance's files, interpreter and setup in place. */
function prepare(inst: Instance, python: string, env: NodeJS.ProcessEnv): void {
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(join(ROOT, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(ROOT, 'root'), { recursive: true });
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  chmodSync(ROOT, 0o755);
  symlinkSync(python, join(ROOT, 'usr/local/bin/python3'));
  for (const [rel, spec] of Object.entries(inst.files ?? {})) {
    const file = join(ROOT, rel);
    mkdirSync(dirname(file), { recursive: true });
    const { content, mode } = typeof spec === 'string' || Buffer.isBuffer(spec) ? { content: spec, mode: 0o644 } : spec;
    writeFileSync(file, content);
    chmodSync(file, mode);
  }
  if (inst.setup) execFileSync('bash', ['-c', inst.setup], { cwd: ROOT, env, stdio: 'ignore' });
}

/** Runs one script file with bash, stdout and stderr into one file; stops it (and its children) at `killAfterSeconds`. */
function run(scriptFile: string, env: NodeJS.ProcessEnv, killAfterSeconds: number | undefined): Promise<{ code: number; killed: boolean; bytes: Buffer }> {
  const outFile = `${ROOT}.out`;
  const fd = openSync(outFile, 'w');
  const child = spawn('bash', [scriptFile], { cwd: ROOT, env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let killed = false;
  const stop = (why: 'timeout' | 'hard') => {
    killed = why === 'timeout';
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = killAfterSeconds === undefined ? undefined : setTimeout(() => stop('timeout'), killAfterSeconds * 1000);
  const hard = setTimeout(() => stop('hard'), HARD_LIMIT_MS);
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hard);
      // The process group may still hold children (a killed script's `sleep`): stop them too.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // none left
      }
      const bytes = readFileSync(outFile);
      done({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), killed, bytes });
    });
  });
}

interface Planned {
  spec: CauseSpec;
  index: number;
  shape: Shape;
  rng: Rng;
}

/** Every instance of a set: per cause 8–40, shapes in turn from a random start, then shuffled into run order. */
function plan(causes: readonly CauseSpec[], style: Style, only: string | undefined): Planned[] {
  const rng = new Rng(hashString(style, seed));
  const list: Planned[] = [];
  for (const spec of causes) {
    const n = only ? 3 : rng.range(MIN_INSTANCES, MAX_INSTANCES);
    const start = rng.int(SHAPES.length);
    for (let i = 0; i < n; i++) {
      list.push({ spec, index: i, shape: SHAPES[(start + i) % SHAPES.length] ?? 'bare', rng: new Rng(hashString(`${spec.id}#${i}`, seed)) });
    }
  }
  if (only) return list;
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j] as Planned, list[i] as Planned];
  }
  return list;
}

/** Runs a set's planned instances (only those of the causes `wanted` accepts) and returns their results. */
async function makeSet(causes: readonly CauseSpec[], style: Style, http: RunEnv['http'], closedPorts: number[], wanted: (c: CauseSpec) => boolean = () => true): Promise<RealOutput[]> {
  const invokeIds = Object.fromEntries(SHAPES.map((s) => [s, `t-${style === 'main' ? 'hz' : 'sh'}${new Rng(hashString(`${style}/${s}`, seed)).alnum(14)}`]));
  const out: RealOutput[] = [];
  const planned = plan(causes, style, values.only);
  const unexpected: string[] = [];
  const started = Date.now();
  for (const [n, p] of planned.entries()) {
    const { rng, spec, shape } = p;
    if (!wanted(spec)) continue;
    const host = hostName(rng);
    const inst = spec.make({ rng, root: ROOT, host, http, closedPorts, index: p.index });
    const lang = rng.pick(['', '', 'C.UTF-8', 'C']);
    const env = runEnv(host, lang);
    prepare(inst, pythonFor(rng.pick(PYTHONS)), env);
    // Cloud Assistant writes the command to a script file named after the invocation, the same on every instance.
    const scriptFile = join(ROOT, 'work', 'script', `${invokeIds[shape] ?? 't-x'}.sh`);
    mkdirSync(dirname(scriptFile), { recursive: true });
    writeFileSync(scriptFile, script(shape, inst, { rng, host, style }));
    const result = await run(scriptFile, env, inst.killAfterSeconds);
    const { output, dropped } = cutOutput(result.bytes);
    const record: RealOutput = {
      id: `${style === 'main' ? 'm' : 'h'}${String(n).padStart(4, '0')}`,
      cause: spec.id,
      program: spec.program,
      shape,
      status: result.killed ? 'Timeout' : 'Failed',
      errorCode: result.killed ? 'ExecutionTimeout' : 'ExitCodeNonzero',
      exitCode: result.killed ? -1 : result.code,
      output,
      dropped,
      host,
    };
    const text = result.bytes.toString('utf8');
    if (record.exitCode !== spec.exitCode || !spec.expect.test(text)) {
      // Not the failure this cause stands for (a tool present here, a slow machine): left out, and said.
      unexpected.push(`${spec.id} #${p.index} (${shape}) ended with exit code ${record.exitCode} (want ${spec.exitCode}) and printed:\n${text}\n--- script:\n${readFileSync(scriptFile, 'utf8')}`);
      continue;
    }
    out.push(record);
    if (values.only) console.log(`--- ${spec.id} #${p.index} ${shape} exit ${record.exitCode} ${record.status}\n${output}`);
    else if (n % 100 === 99) console.error(`${style}: ${n + 1}/${planned.length} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  if (unexpected.length > 0) {
    console.error(`${unexpected.length} run(s) did not fail as their cause says; left out:\n${unexpected.join('\n')}`);
    process.exitCode = 1;
  }
  return out;
}

function toolVersions(): Record<string, string> {
  const v = (cmd: string): string => {
    try {
      return execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '';
    } catch {
      return '';
    }
  };
  return {
    bash: v('bash --version'),
    python: PYTHONS.filter((p, i) => PYTHONS.indexOf(p) === i).map((p) => `${p}: ${pythonFor(p)}`).join(', '),
    node: process.version,
    java: v('java -version 2>&1'),
    git: v('git --version'),
    curl: v('curl --version'),
    tar: v('tar --version'),
    sqlite3: v('sqlite3 --version'),
    jq: v('jq --version'),
    os: v('. /etc/os-release && echo "$PRETTY_NAME"'),
  };
}

async function main(): Promise<void> {
  const which = values.set;
  if (!['main', 'holdout', 'both'].includes(which)) throw new Error(`--set main|holdout|both, not ${which}`);
  const ids = new Set<string>();
  for (const c of [...MAIN_CAUSES, ...HOLDOUT_CAUSES]) {
    if (ids.has(c.id)) throw new Error(`cause ${c.id} is defined twice`);
    ids.add(c.id);
  }
  mkdirSync(dirname(ROOT), { recursive: true });
  compileJava();
  compileRust();
  // Loopback servers on seeded ports (the next free one when taken), and ports nothing listens on.
  const rng = new Rng(hashString('ports', seed));
  const http: { addr: string; port: number }[] = [];
  const servers: Server[] = [];
  for (const addr of ['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.1.7']) {
    for (let tries = 0; tries < 50; tries++) {
      const port = rng.range(20_000, 59_999);
      const server = await startServer(addr, port);
      if (server) {
        servers.push(server);
        http.push({ addr, port });
        break;
      }
    }
  }
  const closedPorts: number[] = [];
  while (closedPorts.length < 5) {
    const port = rng.range(10_000, 19_999);
    if (await refused(port)) closedPorts.push(port);
  }
  try {
    const only = values.only;
    const chosen = (c: CauseSpec) => only === undefined || new RegExp(`^(?:${only})$`).test(c.id);
    const mainCauses = MAIN_CAUSES.filter(chosen);
    const holdoutCauses = HOLDOUT_CAUSES.filter(chosen);
    const sets: [Style, readonly CauseSpec[], string][] = [];
    if (which !== 'holdout' && mainCauses.length > 0) sets.push(['main', mainCauses, 'real-outputs.jsonl.gz']);
    if (which !== 'main' && holdoutCauses.length > 0) sets.push(['holdout', holdoutCauses, 'real-outputs-holdout.jsonl.gz']);
    if (sets.length === 0) throw new Error(`no cause ${only ?? ''}`);
    const meta: Record<string, unknown> = { seed, generatedAt: new Date().toISOString(), tools: toolVersions(), sets: {} };
    for (const [style, causes, file] of sets) {
      const out = resolve(values.out);
      let records: RealOutput[];
      if (values.update === undefined) records = await makeSet(causes, style, http, closedPorts);
      else {
        const again = new RegExp(`^(?:${values.update})$`);
        const old = existsSync(join(out, file)) ? loadFixture(join(out, file)) : [];
        const known = [...new Set(old.map((r) => r.cause))].sort().join(',');
        if (known !== causes.map((c) => c.id).sort().join(',')) throw new Error(`${file} was made from another list of causes: make it again without --update`);
        const fresh = await makeSet(causes, style, http, closedPorts, (c) => again.test(c.id));
        if (fresh.length === 0) continue;
        records = [...old.filter((r) => !again.test(r.cause)), ...fresh].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }
      if (only) continue;
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, file), gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n', { level: 9 }));
      const count = (key: keyof RealOutput) => Object.fromEntries([...new Set(records.map((r) => String(r[key])))].sort().map((k) => [k, records.filter((r) => String(r[key]) === k).length]));
      const summary = { file, results: records.length, causes: new Set(records.map((r) => r.cause)).size };
      // The hold-out's programs are not named outside its own files: it stays a blind test.
      (meta.sets as Record<string, unknown>)[style] = style === 'holdout' ? summary : { ...summary, programs: count('program'), shapes: count('shape'), truncated: records.filter((r) => r.dropped > 0).length };
      console.error(`${style}: ${records.length} results of ${causes.length} causes → ${join(out, file)}`);
    }
    if (!only) {
      const metaFile = join(resolve(values.out), 'real-outputs.meta.json');
      const old = existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as { sets?: Record<string, unknown> }) : {};
      meta.sets = { ...(old.sets ?? {}), ...(meta.sets as Record<string, unknown>) };
      writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
    }
  } finally {
    for (const s of servers) s.close();
    rmSync(ROOT, { recursive: true, force: true });
    rmSync(`${ROOT}.out`, { force: true });
    rmSync(JAVA_CLASSES, { recursive: true, force: true });
    rmSync(TOOLS_BIN, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
