/**
 * A probe of new real outputs (accuracy2, third session): programs and wordings none of main, dev and dev2 holds, chosen
 * to test how the grouping copes with values that change the token count (names with spaces, lists), a varying number
 * of error lines, wording that depends on a count ("1 computed checksum" / "2 computed checksums"), and multi-line
 * runtime errors. Run in the main set's four shapes (`shapes.ts`); privileged commands run as `nobody` and fail first.
 * Scored per shape and across shapes through the same aggregation as bench:causes.
 *
 *   npx tsx bench/real-outputs/probe3.ts [--seed 5] [--show <cause regexp>] [--from <saved.json>] [--save <file.json>]
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng, hashString } from '@execution-archive/local-cloud/datasets/prng';
import { runScript } from './runner';
import { APPS, KEYS, SERVICES, WORDS, cutOutput, hostName, shq, type Instance, type RealOutput } from './catalogue';
import { SHAPES, script } from './shapes';
import { printProbeScore } from './score';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '5' }, show: { type: 'string' }, from: { type: 'string' }, save: { type: 'string' } } });
const seed = Number(values.seed);
const ROOT = '/tmp/accuracy2/probe-run';
const AS_NOBODY = 'setpriv --reuid=nobody --regid=nogroup --clear-groups';

interface Cause {
  id: string;
  program: string;
  expect: RegExp;
  make(rng: Rng): Instance;
}
const app = (rng: Rng) => rng.pick(APPS);
const some = <T>(rng: Rng, list: readonly T[], n: number): T[] => {
  const pool = [...list];
  const out: T[] = [];
  while (out.length < n && pool.length) out.push(pool.splice(rng.int(pool.length), 1)[0] as T);
  return out;
};
const spacedName = (rng: Rng) => some(rng, ['quarterly', 'report', 'final', 'v2', 'backup', 'copy', 'export', 'east', 'draft'], rng.range(1, 4)).join(' ');

const CAUSES: Cause[] = [
  {
    id: 'sha256-mismatch',
    program: 'sha256sum',
    expect: /computed checksums? did NOT match/,
    make: (rng) => {
      const names = some(rng, ['agent.tar.gz', 'bundle.zip', 'app.jar', 'lib.so', 'node.tgz', 'cfg.tar'], rng.range(1, 4));
      const files: Record<string, string> = {};
      const sums: string[] = [];
      for (const n of names) {
        files[n] = `${rng.alnum(20)}\n`;
        sums.push(`${'0'.repeat(63)}${rng.int(10)}  ${n}`);
      }
      files['SHA256SUMS'] = `${sums.join('\n')}\n`;
      return { files, command: 'sha256sum -c SHA256SUMS', step: 'verify-artifacts' };
    },
  },
  {
    id: 'sha256-missing-file',
    program: 'sha256sum',
    expect: /could not be read/,
    make: (rng) => {
      const names = some(rng, ['agent.tar.gz', 'bundle.zip', 'app.jar', 'lib.so', 'node.tgz', 'cfg.tar'], rng.range(1, 4));
      return { files: { SHA256SUMS: `${names.map((n) => `${'a'.repeat(64)}  ${n}`).join('\n')}\n` }, command: 'sha256sum -c SHA256SUMS', step: 'verify-artifacts' };
    },
  },
  {
    id: 'json-tool-invalid',
    program: 'python3',
    expect: /Expecting property name enclosed in double quotes/,
    make: (rng) => {
      const keys = some(rng, KEYS, rng.range(1, 5));
      const body = `{\n${keys.map((k) => `  "${k}": "${rng.alnum(5)}"`).join(',\n')},\n}\n`;
      return { files: { 'cfg.json': body }, command: 'python3 -m json.tool cfg.json', step: 'validate-config' };
    },
  },
  {
    id: 'node-custom-release-not-found',
    program: 'node',
    expect: /ReleaseNotFound/,
    make: (rng) => {
      const name = spacedName(rng);
      const ch = rng.pick(WORDS);
      return {
        files: { 'publish.js': `class ReleaseNotFound extends Error { constructor(m) { super(m); this.name = 'ReleaseNotFound'; } }\nconsole.log('looking up ${ch}');\nfunction find(name) {\n  throw new ReleaseNotFound(\`release "\${name}" not found in channel ${ch}\`);\n}\nfind(${JSON.stringify(name)});\n` },
        command: 'node publish.js',
        step: 'publish',
      };
    },
  },
  {
    id: 'node-custom-quota',
    program: 'node',
    expect: /QuotaExceeded/,
    make: (rng) => {
      const used = `${rng.range(1, 900)}${rng.pick(['', '.5'])} ${rng.pick(['KiB', 'MiB', 'GiB'])}`;
      return {
        files: { 'upload.js': `class QuotaExceeded extends Error { constructor(m) { super(m); this.name = 'QuotaExceeded'; } }\nasync function main() {\n  throw new QuotaExceeded('bucket ${app(rng)}-${rng.pick(WORDS)} is over quota: ${used} used of ${rng.range(1, 9)} GiB');\n}\nmain();\n` },
        command: 'node upload.js',
        step: 'upload',
      };
    },
  },
  {
    id: 'chmod-not-permitted',
    program: 'chmod',
    expect: /changing permissions of .*Operation not permitted/,
    make: (rng) => {
      const paths = some(rng, ['/etc/hosts', '/etc/passwd', '/usr/bin/env', '/etc/fstab', '/usr/share/doc', '/etc/hostname'], rng.range(1, 3));
      return { command: `${AS_NOBODY} chmod ${rng.pick(['644', 'g+w', 'o-r', '0600'])} ${paths.join(' ')}`, step: 'fix-permissions' };
    },
  },
  {
    id: 'chmod-missing',
    program: 'chmod',
    expect: /cannot access .*No such file or directory/,
    make: (rng) => ({ command: `chmod 755 ${shq(`/opt/${app(rng)}/bin/${spacedName(rng)}`)}`, step: 'fix-permissions' }),
  },
  {
    id: 'mount-not-root',
    program: 'mount',
    expect: /must be superuser/,
    make: (rng) => ({ command: `${AS_NOBODY} mount -t tmpfs tmpfs /mnt/${app(rng)}-${rng.range(1, 99)}`, step: 'mount-scratch' }),
  },
  {
    id: 'git-pathspec',
    program: 'git',
    expect: /did not match any file/,
    make: (rng) => ({
      setup: 'git init -q repo && cd repo && git -c user.email=a@b -c user.name=a commit -q --allow-empty -m init',
      command: `cd repo && git checkout -- ${some(rng, ['config/app.yaml', 'src/main.go', 'Makefile', 'deploy/run.sh', 'README.md', 'docs/ops.md'], rng.range(1, 4)).join(' ')}`,
      step: 'restore-files',
    }),
  },
  {
    id: 'git-bad-object',
    program: 'git',
    expect: /Not a valid object name/,
    make: (rng) => ({ setup: 'git init -q repo', command: `cd repo && git cat-file -p ${rng.alnum(12).toLowerCase()}`, step: 'inspect-release' }),
  },
  {
    id: 'kill-no-process',
    program: 'bash',
    expect: /No such process/,
    make: (rng) => ({ command: `kill ${Array.from({ length: rng.range(1, 3) }, () => rng.range(3_000_000, 3_999_999)).join(' ')}`, step: 'stop-workers' }),
  },
  {
    id: 'id-no-user',
    program: 'id',
    expect: /no such user/,
    make: (rng) => ({ command: `id ${rng.pick(['deploy', 'svc', 'app', 'runner'])}-${app(rng)}`, step: 'check-user' }),
  },
  {
    id: 'diff-missing',
    program: 'diff',
    expect: /diff: .*No such file or directory/,
    make: (rng) => ({ files: { 'current.conf': 'a=1\n' }, command: `diff -u current.conf /etc/${app(rng)}/${rng.pick(['rendered', 'expected'])}.conf`, step: 'compare-config' }),
  },
  {
    id: 'numfmt-suffix',
    program: 'numfmt',
    expect: /invalid suffix in input/,
    make: (rng) => ({ command: `numfmt --from=iec ${rng.range(1, 999)}${rng.pick(['Q', 'XB', 'Gb', 'MiBs', 'kk'])}`, step: 'size-check' }),
  },
  {
    id: 'python-raise-multiword',
    program: 'python3',
    expect: /TimeoutError: /,
    make: (rng) => {
      const svc = rng.pick(SERVICES);
      const dur = rng.pick(['45s', '1m30s', '2m', '1h5m', '900ms']);
      return { files: { 'wait_ready.py': `import sys\nprint("waiting for ${svc}")\ndef wait(name, after):\n    raise TimeoutError(f"{name} not ready after {after} (${rng.range(1, 30)} attempts)")\nwait(${JSON.stringify(svc + (rng.int(2) ? ' on ' + app(rng) : ''))}, ${JSON.stringify(dur)})\n` }, command: 'python3 wait_ready.py', step: 'wait-ready' };
    },
  },
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
      const inst = cause.make(rng);
      const host = hostName(rng);
      rmSync(ROOT, { recursive: true, force: true });
      mkdirSync(join(ROOT, 'home'), { recursive: true });
      mkdirSync(join(ROOT, 'tmp'), { recursive: true });
      chmodSync(ROOT, 0o755);
      for (const [rel, content] of Object.entries(inst.files ?? {})) {
        mkdirSync(dirname(join(ROOT, rel)), { recursive: true });
        writeFileSync(join(ROOT, rel), typeof content === 'string' || Buffer.isBuffer(content) ? content : content.content);
      }
      const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: `${ROOT}/home`, LANG: 'C.UTF-8', TZ: 'UTC', ROOT, HOST: host };
      if (inst.setup) {
        writeFileSync(join(ROOT, 'setup.sh'), inst.setup);
        await runScript(ROOT, join(ROOT, 'setup.sh'), env, 20);
      }
      const file = join(ROOT, `run-${rng.alnum(8)}.sh`);
      writeFileSync(file, script(shape, inst, { rng, host, style: 'main' }));
      const { code, bytes } = await runScript(ROOT, file, env, 20);
      const { output, dropped } = cutOutput(bytes);
      if (code === 0 || !cause.expect.test(output)) {
        console.error(`${cause.id} #${i} (${shape}) did not fail as intended (exit ${code}):\n${output}`);
        continue;
      }
      if (show?.test(cause.id)) console.log(`----- ${cause.id} #${i} ${shape}\n${output}`);
      out.push({ id: `p${String(n++).padStart(4, '0')}`, cause: cause.id, program: cause.program, shape, status: 'Failed', errorCode: 'ExitCodeNonzero', exitCode: code, output, dropped, host });
    }
  }
  if (values.save !== undefined) writeFileSync(values.save, JSON.stringify(out));
  console.log(`${out.length} results, ${new Set(out.map((r) => r.cause)).size} causes`);
  for (const shape of SHAPES) await printProbeScore(shape, out.filter((r) => r.shape === shape), `t-probe-${shape}`);
  await printProbeScore('all', out, 't-probe-all');
}
void main();
