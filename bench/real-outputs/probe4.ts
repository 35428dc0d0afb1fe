/**
 * A probe of one fleet's runtime versions (accuracy, fifth session): the same failing Python scripts run by Python
 * 3.6 to 3.13 (pyenv's interpreters), one version per host, in the main set's four shapes. A fleet's hosts often run
 * different versions of a runtime, whose messages for one error differ (a hint `Did you mean: 'json'?` from 3.10 on,
 * `cannot import name 'x'` gaining `from 'os' (…)` in 3.7, a clause `while calling a Python object` in 3.7–3.10);
 * same script, same fix, so one cause. Not part of bench:causes (it needs the interpreters); scored per shape and
 * across shapes through the same aggregation.
 *
 *   npx tsx bench/real-outputs/probe4.ts [--seed 5] [--show <cause regexp>] [--from <saved.json>] [--save <file.json>]
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng, hashString } from '@execution-archive/local-cloud/datasets/prng';
import { runScript } from './runner';
import { APPS, KEYS, WORDS, cutOutput, hostName, type Instance, type RealOutput } from './catalogue';
import { SHAPES, script } from './shapes';
import { printProbeScore } from './score';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '5' }, show: { type: 'string' }, from: { type: 'string' }, save: { type: 'string' } } });
const seed = Number(values.seed);
const ROOT = '/tmp/accuracy/probe4-run';
const VERSIONS = ['3.6.15', '3.7.16', '3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0'];

interface Cause {
  id: string;
  expect: RegExp;
  /** A failing Python program (`app.py`'s text). */
  program(rng: Rng): string;
}
const app = (rng: Rng) => rng.pick(APPS);
const word = (rng: Rng) => rng.pick(WORDS);

const CAUSES: Cause[] = [
  { id: 'name-typo', expect: /NameError/, program: (rng) => `import json\nprint("loading ${app(rng)}")\nprint(${rng.pick(['jsn', 'jsno', 'sjon', 'jon'])}.dumps({"k": ${rng.range(1, 99)}}))\n` },
  { id: 'module-attr-typo', expect: /AttributeError: module/, program: (rng) => `import os\nprint("cwd for ${app(rng)}")\nprint(os.${rng.pick(['getcwdd', 'getcdw', 'getcwdu', 'get_cwd'])}())\n` },
  { id: 'import-name', expect: /ImportError: cannot import name/, program: (rng) => `from ${rng.pick(['os', 'json', 'shutil'])} import ${rng.pick(['loadz', 'dumpz', 'copy_treex', 'getcwdx'])}\n` },
  { id: 'module-missing', expect: /No module named/, program: (rng) => `import ${rng.pick(['yaml', 'requests', 'boto3', 'redis', 'psycopg2'])}_${word(rng)}\n` },
  { id: 'indent', expect: /IndentationError/, program: (rng) => `def ${word(rng)}_job():\nreturn ${rng.range(1, 9)}\n` },
  { id: 'recursion', expect: /RecursionError/, program: (rng) => `P = {"${word(rng)}": "x", "x": "${word(rng)}"}\ndef up(n, d=0):\n    return up(P.get(n, n), d + 1)\nup("x")\n` },
  { id: 'key-missing', expect: /KeyError/, program: (rng) => `cfg = {"name": "${app(rng)}"}\nprint(cfg["${rng.pick(KEYS)}"])\n` },
  { id: 'file-missing', expect: /FileNotFoundError/, program: (rng) => `open("/etc/${app(rng)}/${rng.pick(['agent.toml', 'db.ini', 'app.yaml'])}").read()\n` },
  { id: 'json-bad', expect: /JSONDecodeError/, program: (rng) => `import json\njson.loads(${JSON.stringify(rng.pick(['{bad', "{'k': 1}", '{k: 2}', '{"k": 1,}']))})\n` },
  { id: 'int-parse', expect: /invalid literal for int/, program: (rng) => `int("${rng.range(1, 999)}${rng.pick(['x', 'kb', ' MB', 'o'])}")\n` },
  { id: 'zero-division', expect: /ZeroDivisionError/, program: (rng) => `rows = ${rng.range(1, 900)}\nprint(rows / ${rng.pick(['0', '(1 - 1)', 'len([])'])})\n` },
  { id: 'unpack', expect: /too many values to unpack/, program: (rng) => `host, port = "${word(rng)}:${rng.range(80, 9000)}:${word(rng)}".split(":")\n` },
  { id: 'missing-arg', expect: /required positional argument/, program: (rng) => { const fn = `${word(rng)}_sync`; return `def ${fn}(src, dst):\n    pass\n\n${fn}("${app(rng)}")\n`; } },
  { id: 'none-subscript', expect: /not subscriptable/, program: (rng) => `import re\nm = re.match("${rng.pick(['^v\\\\d', '^id-', '^x'])}", "${word(rng)}")\nprint(m[0])\n` },
];

async function main(): Promise<void> {
  const show = values.show === undefined ? undefined : new RegExp(values.show);
  const out: RealOutput[] = values.from === undefined ? [] : (JSON.parse(readFileSync(values.from, 'utf8')) as RealOutput[]);
  let n = 0;
  for (const cause of values.from === undefined ? CAUSES : []) {
    const rng = new Rng(hashString(cause.id, seed));
    const count = rng.range(10, 15);
    for (let i = 0; i < count; i++) {
      const shape = SHAPES[(i + rng.int(SHAPES.length)) % SHAPES.length] ?? 'bare';
      const version = rng.pick(VERSIONS);
      const python = `/root/.pyenv/versions/${version}/bin/python3`;
      if (!existsSync(python)) throw new Error(`${python} is not installed (pyenv)`);
      const inst: Instance = { files: { 'app.py': cause.program(rng) }, command: `python3 ${ROOT}/app.py`, step: rng.pick(['migrate', 'sync', 'report']) };
      const host = hostName(rng);
      rmSync(ROOT, { recursive: true, force: true });
      mkdirSync(join(ROOT, 'bin'), { recursive: true });
      mkdirSync(join(ROOT, 'home'), { recursive: true });
      mkdirSync(join(ROOT, 'tmp'), { recursive: true });
      chmodSync(ROOT, 0o755);
      symlinkSync(python, join(ROOT, 'bin/python3'));
      for (const [rel, content] of Object.entries(inst.files ?? {})) {
        mkdirSync(dirname(join(ROOT, rel)), { recursive: true });
        writeFileSync(join(ROOT, rel), typeof content === 'string' || Buffer.isBuffer(content) ? content : content.content);
      }
      const env = { PATH: `${ROOT}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: `${ROOT}/home`, LANG: 'C.UTF-8', TZ: 'UTC', ROOT, HOST: host };
      const file = join(ROOT, `run-${rng.alnum(8)}.sh`);
      writeFileSync(file, script(shape, inst, { rng, host, style: 'main' }));
      const { code, bytes } = await runScript(ROOT, file, env, 20);
      const { output, dropped } = cutOutput(bytes);
      if (code === 0 || !cause.expect.test(output)) {
        console.error(`${cause.id} #${i} (${shape}, ${version}) did not fail as intended (exit ${code}):\n${output}`);
        continue;
      }
      if (show?.test(cause.id)) console.log(`----- ${cause.id} #${i} ${shape} ${version}\n${output}`);
      out.push({ id: `v${String(n++).padStart(4, '0')}`, cause: cause.id, program: `python${version}`, shape, status: 'Failed', errorCode: 'ExitCodeNonzero', exitCode: code, output, dropped, host });
    }
  }
  if (values.save !== undefined) writeFileSync(values.save, JSON.stringify(out));
  console.log(`${out.length} results, ${new Set(out.map((r) => r.cause)).size} causes, ${new Set(out.map((r) => r.program)).size} interpreters`);
  for (const shape of SHAPES) await printProbeScore(shape, out.filter((r) => r.shape === shape), `t-probe4-${shape}`);
  await printProbeScore('all', out, 't-probe4-all');
}
void main();
