/**
 * The hold-out set's true causes (`bench/data/real-outputs-holdout.jsonl.gz`): programs and messages the main set
 * does not have, run in the hold-out style of the shapes. A blind test: whoever develops the grouping measures on
 * the main set only and does not read this file, its fixture or its tools and messages anywhere else. Step names
 * are shared by several causes (as a script's steps are), so a trailer that names the step does not name the cause.
 *
 * Second hold-out (2026-12-07 16:00): the first one's programs had become known to the grouping's development (a
 * sanity fixture of the same programs), so it was no longer blind; this one uses other programs and messages.
 */
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';
import { APPS, SERVICES, WORDS, version, type CauseSpec } from './catalogue';

const pick = <T>(rng: Rng, items: readonly T[]): T => rng.pick(items);
const stamp = (rng: Rng): number => rng.range(20_260_101, 20_261_231);

export const HOLDOUT_CAUSES: readonly CauseSpec[] = [
  {
    id: 'bzip2-truncated',
    program: 'bzip2',
    fix: 'the log bundle upload was cut: upload it again',
    expect: /file ends unexpectedly/,
    exitCode: 2,
    make({ rng }) {
      const name = `bundles/${pick(rng, APPS)}-logs-${stamp(rng)}.tar.bz2`;
      return { setup: `mkdir -p bundles && head -c ${rng.range(4000, 40_000)} /dev/urandom | bzip2 -c | head -c ${rng.range(300, 3000)} > ${name}`, command: `bzip2 -t $ROOT/${name}`, step: 'nightly' };
    },
  },
  {
    id: 'unzip-not-zip',
    program: 'unzip',
    fix: 'the plugin download is not a zip (an error page): download it again',
    expect: /End-of-central-directory signature not found/,
    exitCode: 9,
    make({ rng }) {
      const name = `dl/${pick(rng, ['plugin', 'theme', 'agent'])}-${pick(rng, APPS)}-${version(rng)}.zip`;
      return { files: { [name]: Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from(rng.alnum(rng.range(20, 400)))]) }, command: `unzip -q -o $ROOT/${name} -d $ROOT/opt`, step: 'deploy' };
    },
  },
  {
    id: 'zstd-unsupported-format',
    program: 'zstd',
    fix: 'the snapshot job wrote plain text (compression off): turn compression back on',
    expect: /unsupported format/,
    exitCode: 1,
    make({ rng }) {
      const name = `snap/${pick(rng, APPS)}-${stamp(rng)}.zst`;
      return { files: { [name]: `${rng.alnum(rng.range(10, 300))}\n` }, command: `zstd -t $ROOT/${name}`, step: 'nightly' };
    },
  },
  {
    id: 'patch-garbage',
    program: 'patch',
    fix: 'the hotfix file is an HTML page, not a diff: fetch the raw diff',
    expect: /Only garbage was found in the patch input/,
    exitCode: 2,
    make({ rng }) {
      const name = `patches/${pick(rng, ['hotfix', 'security', 'perf'])}-${rng.range(100, 9999)}.diff`;
      return { files: { [name]: `<!DOCTYPE html>\n<html><body>${pick(rng, ['Sign in', 'Moved Permanently', 'Rate limit'])}</body></html>\n` }, command: `cd $ROOT && patch -p1 < $ROOT/${name}`, step: 'build' };
    },
  },
  {
    id: 'ln-exists',
    program: 'coreutils',
    fix: 'the release link is a file left by a manual copy: remove it before linking',
    expect: /failed to create symbolic link .*File exists/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const v = version(rng);
      return { setup: `mkdir -p srv/${app}/releases/${v} && echo copied > srv/${app}/current`, command: `ln -s $ROOT/srv/${app}/releases/${v} $ROOT/srv/${app}/current`, step: 'deploy' };
    },
  },
  {
    id: 'kill-no-process',
    program: 'bash',
    fix: 'the pid file is stale: clean it up before the restart',
    expect: /kill: \(\d+\) - No such process/,
    exitCode: 1,
    make({ rng }) {
      const pidfile = `run/${pick(rng, APPS)}.pid`;
      return { files: { [pidfile]: `${rng.range(3_000_000, 4_000_000)}\n` }, command: `kill -${pick(rng, ['TERM', 'HUP', 'USR1'])} "$(cat $ROOT/${pidfile})"`, step: 'start' };
    },
  },
  {
    id: 'readonly-variable',
    program: 'bash',
    fix: 'the shared profile makes APP_ENV read-only: set it before sourcing the profile',
    expect: /readonly variable/,
    exitCode: 1,
    make({ rng }) {
      const v = pick(rng, ['APP_ENV', 'DEPLOY_ENV', 'REGION', 'TIER']);
      return { command: `readonly ${v}=${pick(rng, WORDS)}\n${v}=${pick(rng, WORDS)}`, step: 'configure' };
    },
  },
  {
    id: 'tar-member-missing',
    program: 'tar',
    fix: 'the package layout changed: extract the renamed member',
    expect: /Not found in archive/,
    exitCode: 2,
    make({ rng }) {
      const app = pick(rng, APPS);
      const member = `${app}/${pick(rng, ['config', 'conf', 'etc'])}/${pick(rng, ['app.yaml', 'settings.ini', 'service.conf'])}`;
      return { setup: `mkdir -p pkg/${app}/bin && echo x > pkg/${app}/bin/run && tar -C pkg -cf ${app}.tar ${app}`, command: `tar -xf $ROOT/${app}.tar -C $ROOT/pkg ${member}`, step: 'configure' };
    },
  },
  {
    id: 'py-recursion',
    program: 'python3',
    fix: 'the category tree has a cycle: break the cycle in the data',
    expect: /RecursionError: maximum recursion depth exceeded/,
    exitCode: 1,
    make({ rng }) {
      const file = `opt/${pick(rng, APPS)}/tree.py`;
      const fn = pick(rng, ['walk', 'depth', 'expand', 'resolve_parent']);
      return { files: { [file]: `PARENT = {"${pick(rng, WORDS)}": "${pick(rng, WORDS)}x"}\nPARENT["${pick(rng, WORDS)}x"] = "${pick(rng, WORDS)}"\n\ndef ${fn}(node, seen=0):\n    return ${fn}(PARENT.get(node, node), seen + 1)\n\nprint(${fn}("${pick(rng, WORDS)}"))\n` }, command: `python3 $ROOT/${file}`, step: 'nightly' };
    },
  },
  {
    id: 'py-oserror-nospace',
    program: 'python3',
    fix: 'free space on the report volume',
    expect: /OSError: \[Errno 28\] No space left on device/,
    exitCode: 1,
    make({ rng }) {
      const file = `opt/${pick(rng, APPS)}/write_report.py`;
      return { files: { [file]: `import json\n\nrows = [{"id": i, "v": "${rng.alnum(8)}"} for i in range(${rng.range(2000, 20_000)})]\nwith open("/dev/full", "w") as out:\n    json.dump(rows, out)\n` }, command: `python3 $ROOT/${file}`, step: 'nightly' };
    },
  },
  {
    id: 'node-unhandled-rejection',
    program: 'node',
    fix: 'the storage quota is exhausted: raise the bucket quota',
    expect: /Error: quota exceeded for bucket/,
    exitCode: 1,
    make({ rng }) {
      const file = `srv/${pick(rng, APPS)}/upload.js`;
      const bucket = `${pick(rng, APPS)}-${pick(rng, ['assets', 'backups', 'exports'])}${rng.int(2) === 0 ? `-${rng.range(1, 9)}` : ''}`;
      return { files: { [file]: `async function upload(name) {\n  throw new Error(\`quota exceeded for bucket ${bucket} (\${name})\`);\n}\nupload('${pick(rng, WORDS)}-${rng.range(1, 999)}.tar');\n` }, command: `node $ROOT/${file}`, step: 'deploy' };
    },
  },
  {
    id: 'curl-tls-plain-port',
    program: 'curl',
    fix: 'the health URL says https but the port speaks plain HTTP: fix the scheme',
    expect: /curl: \(35\)/,
    exitCode: 35,
    make(env) {
      const s = env.rng.pick(env.http);
      return { command: `curl -fsS https://${s.addr}:${s.port}/${pick(env.rng, ['healthz', 'ready', 'status'])}`, step: 'start' };
    },
  },
  {
    id: 'sqlite-sql-syntax',
    program: 'sqlite3',
    fix: 'the migration file has a typo: fix the SQL',
    expect: /syntax error/,
    exitCode: 1,
    make({ rng }) {
      const file = `migrations/${String(rng.range(1, 60)).padStart(4, '0')}_${pick(rng, ['add_index', 'backfill', 'rename_column'])}.sql`;
      const typo = pick(rng, ['SELEC', 'UPDTE', 'INSRT INTO', 'ALTR TABLE']);
      return { files: { [file]: `${typo} ${pick(rng, ['users', 'orders', 'jobs'])} ${rng.range(1, 9)};\n` }, setup: 'mkdir -p var', command: `sqlite3 $ROOT/var/app.db < $ROOT/${file}`, step: 'configure' };
    },
  },
  {
    id: 'git-remote-ref-missing',
    program: 'git',
    fix: 'the feature branch was deleted on the remote: deploy from the release branch',
    expect: /couldn't find remote ref/,
    exitCode: 128,
    make({ rng }) {
      const branch = `feature/${pick(rng, WORDS)}-${rng.range(1, 400)}`;
      return { setup: 'git init -q --bare -b main remote.git && git clone -q remote.git work 2>/dev/null && cd work && echo a > a && git add a && git commit -qm a && git push -q origin main', command: `cd $ROOT/work && git fetch -q origin ${branch}`, step: 'deploy' };
    },
  },
  {
    id: 'chmod-not-permitted',
    program: 'coreutils',
    fix: 'the job runs as an unprivileged user: run the permission step as root',
    expect: /changing permissions of .*Operation not permitted/,
    exitCode: 1,
    make({ rng }) {
      const target = pick(rng, ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/passwd', '/etc/fstab']);
      return { command: `cd /tmp && runuser -u nobody -- chmod ${pick(rng, ['600', '640', 'go-r', 'u+x'])} ${target}`, step: 'configure' };
    },
  },
  {
    id: 'node-assert',
    program: 'node',
    fix: 'the shard map lost entries: rebuild the shard map',
    expect: /AssertionError \[ERR_ASSERTION\]/,
    exitCode: 1,
    make({ rng }) {
      const file = `srv/${pick(rng, APPS)}/shards.js`;
      const want = rng.range(4, 64);
      return { files: { [file]: `const assert = require('node:assert');\nconst shards = new Array(${rng.range(1, want - 1)}).fill('${pick(rng, SERVICES)}');\nassert.strictEqual(shards.length, ${want}, 'shard map incomplete');\n` }, command: `node $ROOT/${file}`, step: 'start' };
    },
  },
];
