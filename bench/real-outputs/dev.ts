/**
 * A development set of real command outputs beside the main set: other programs, other messages and other wrapper
 * styles (its own progress lines, a syslog-style prefix, another trap trailer), run on this machine the way `make.ts`
 * runs the main set (a script file run by bash, stdout and stderr together, exit code kept, output cut at 24 KB).
 * The grouping is studied on it for how it generalises beyond the main set; the blind hold-out stays unread.
 *
 *   npx tsx bench/real-outputs/dev.ts [--seed 7] [--out bench/data/real-outputs-dev.jsonl.gz]
 *
 * Each cause is labelled "same fix = same cause"; look-alike pairs are different causes (a missing header vs an
 * undeclared name of gcc, a missing rule vs a missing separator of make, ssh vs psql refused, ...).
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Rng, hashString } from '@execution-archive/local-cloud/datasets/prng';
import { runScript } from './runner';
import { APPS, KEYS, MISSING_PACKAGES, SERVICES, WORDS, cutOutput, hostName, ident, shq, type RealOutput, type Shape } from './catalogue';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '7' },
    out: { type: 'string', default: 'bench/data/real-outputs-dev.jsonl.gz' },
    only: { type: 'string' },
  },
});
const seed = Number(values.seed);
const ROOT = '/tmp/causes-dev/run';

/** One instance: files to put in the run folder, the failing bash part, the stage it belongs to. */
interface DevInstance {
  files?: Record<string, string>;
  command: string;
  stage: string;
  timeout?: number;
}

interface DevCause {
  id: string;
  program: string;
  /** Checked against every instance's output: it failed the intended way. */
  expect: RegExp;
  make(rng: Rng, index: number): DevInstance;
}

const port = (rng: Rng) => rng.range(20000, 29999);
const app = (rng: Rng) => rng.pick(APPS);
const word = (rng: Rng) => rng.pick(WORDS);

const CAUSES: DevCause[] = [
  {
    id: 'perl-die-config',
    program: 'perl',
    expect: /cannot read config/,
    make: (rng) => {
      const f = `/etc/${app(rng)}/${word(rng)}.conf`;
      return { command: `perl -e 'open(my $fh, "<", "${f}") or die "cannot read config ${f}: $!\\n"'`, stage: 'configure' };
    },
  },
  {
    id: 'perl-missing-module',
    program: 'perl',
    expect: /Can't locate/,
    make: (rng) => {
      const mod = `${rng.pick(['Net', 'App', 'Data', 'Text'])}::${rng.pick(['Fleet', 'Sync', 'Shard', 'Ledger', 'Queue'])}${rng.pick(['', 'X', 'Client'])}`;
      return { command: `perl -M${mod} -e 1`, stage: 'bootstrap' };
    },
  },
  {
    id: 'gcc-missing-header',
    program: 'gcc',
    expect: /fatal error: .*No such file/,
    make: (rng) => {
      const h = `${rng.pick(['openssl/ssl', 'zlib', 'curl/curl', 'yaml', 'libpq-fe', 'sqlite3ext_x'])}_${rng.alnum(3)}.h`;
      const src = `${word(rng)}_${rng.pick(['main', 'util', 'net'])}.c`;
      return { files: { [src]: `#include <stdio.h>\n#include <${h}>\nint main(void) { return 0; }\n` }, command: `gcc -c ${src} -o /tmp/x.o`, stage: 'build' };
    },
  },
  {
    id: 'gcc-undeclared',
    program: 'gcc',
    expect: /undeclared/,
    make: (rng) => {
      const v = ident(rng);
      const src = `${word(rng)}.c`;
      return { files: { [src]: `#include <stdio.h>\n\nint main(void) {\n    int n = 3;\n    printf("%d\\n", n + ${v});\n    return 0;\n}\n` }, command: `gcc -Wall -c ${src} -o /tmp/x.o`, stage: 'build' };
    },
  },
  {
    id: 'make-no-rule',
    program: 'make',
    expect: /No rule to make target/,
    make: (rng) => {
      const dep = `src/${word(rng)}_${rng.pick(['io', 'db', 'api'])}.c`;
      return { files: { Makefile: `all: app\n\napp: main.o ${dep.replace('.c', '.o')}\n\tcc -o $@ $^\n\n%.o: %.c\n\tcc -c $< -o $@\n`, 'main.c': 'int main(void){return 0;}\n' }, command: 'make --no-print-directory', stage: 'build' };
    },
  },
  {
    id: 'make-missing-separator',
    program: 'make',
    expect: /missing separator/,
    make: (rng) => ({ files: { Makefile: `# ${app(rng)}\nall:\n${'\n'.repeat(rng.int(4))}        echo building ${word(rng)}\n` }, command: 'make --no-print-directory', stage: 'build' }),
  },
  {
    id: 'openssl-no-cert',
    program: 'openssl',
    expect: /Could not open file|No such file|unable to load/i,
    make: (rng) => ({ command: `openssl x509 -noout -enddate -in /etc/ssl/${app(rng)}/${rng.pick(['tls', 'server', 'client'])}.crt`, stage: 'check-certs' }),
  },
  {
    id: 'openssl-bad-pem',
    program: 'openssl',
    expect: /Could not read|unable to load|no start line|Could not find/i,
    make: (rng) => {
      const f = `${app(rng)}.pem`;
      return { files: { [f]: `not a certificate ${rng.alnum(20)}\n` }, command: `openssl x509 -noout -subject -in ${f}`, stage: 'check-certs' };
    },
  },
  {
    id: 'ssh-refused',
    program: 'ssh',
    expect: /Connection refused/,
    make: (rng) => ({ command: `ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=3 -p ${port(rng)} deploy@127.0.0.${rng.range(1, 9)} true`, stage: 'sync' }),
  },
  {
    id: 'psql-refused',
    program: 'psql',
    expect: /Connection refused|could not connect/,
    make: (rng) => ({ command: `psql -h 127.0.0.${rng.range(1, 9)} -p ${port(rng)} -U ${rng.pick(['app', 'ledger', 'ro'])} -c 'select 1' ${app(rng)}`, stage: 'migrate' }),
  },
  {
    id: 'find-no-dir',
    program: 'find',
    expect: /No such file or directory/,
    make: (rng) => ({ command: `find /var/${rng.pick(['log', 'cache', 'spool'])}/${app(rng)}-${word(rng)} -name '*.gz' -mtime +7 -delete`, stage: 'cleanup' }),
  },
  {
    id: 'xz-bad-format',
    program: 'xz',
    expect: /File format not recognized/,
    make: (rng) => {
      const f = `${app(rng)}-${rng.range(100, 999)}.tar.xz`;
      return { files: { [f]: `<html>${rng.alnum(40)}</html>\n` }, command: `xz -t ${f}`, stage: 'fetch' };
    },
  },
  {
    id: 'sed-unterminated',
    program: 'sed',
    expect: /unterminated/,
    make: (rng) => {
      const f = `${app(rng)}.conf`;
      return { files: { [f]: `${rng.pick(KEYS)} = ${rng.alnum(6)}\n` }, command: `sed -i 's/${rng.pick(KEYS)}/${rng.pick(KEYS)}' ${f}`, stage: 'configure' };
    },
  },
  {
    id: 'awk-syntax',
    program: 'awk',
    expect: /missing \}|syntax error/,
    make: (rng) => {
      const f = `${word(rng)}.csv`;
      return { files: { [f]: `host,req,err\n${hostName(rng)},${rng.range(10, 999)},0\n` }, command: `awk -F, 'NR>1 { ${rng.pick(['total', 'sum', 'n'])} += $${rng.range(2, 3)} } END { printf "%d\\n", ${rng.pick(['total', 'sum', 'n'])} ' ${f}`, stage: 'report' };
    },
  },
  {
    id: 'sort-missing-input',
    program: 'sort',
    expect: /cannot read|No such file/,
    make: (rng) => ({ command: `sort -u -o /tmp/hosts.sorted /srv/${app(rng)}/${rng.pick(['hosts', 'peers', 'targets'])}.txt`, stage: 'inventory' }),
  },
  {
    id: 'base64-invalid',
    program: 'base64',
    expect: /invalid input/,
    make: (rng) => ({ command: `echo ${shq(`${rng.alnum(10)}!!${rng.alnum(5)}`)} | base64 -d > /tmp/key.bin`, stage: 'secrets' }),
  },
  {
    id: 'unzip-missing',
    program: 'unzip',
    expect: /cannot find or open/,
    make: (rng) => ({ command: `unzip -q /tmp/${app(rng)}-${rng.range(1, 40)}.${rng.range(0, 9)}.zip -d /tmp/out`, stage: 'unpack' }),
  },
  {
    id: 'bzip2-not-bzip',
    program: 'bzip2',
    expect: /bad magic number|not a bzip2 file/,
    make: (rng) => {
      const f = `${word(rng)}-${rng.range(1, 99)}.bz2`;
      return { files: { [f]: `${rng.alnum(30)}\n` }, command: `bzip2 -t ${f}`, stage: 'unpack' };
    },
  },
  {
    id: 'date-invalid',
    program: 'date',
    expect: /invalid date/,
    make: (rng) => ({ command: `date -d ${shq(`${rng.range(2020, 2026)}-${rng.range(13, 19)}-${rng.range(32, 40)} ${rng.pick(['noon', 'late'])}`)} +%s`, stage: 'schedule' }),
  },
  {
    id: 'iconv-illegal',
    program: 'iconv',
    expect: /illegal input sequence|cannot convert/,
    make: (rng) => ({ command: `printf '${rng.pick(['caf', 'na', 'r'])}\\xe9${rng.alnum(3)}\\n' | iconv -f UTF-8 -t ASCII`, stage: 'export' }),
  },
  {
    id: 'kubectl-refused',
    program: 'kubectl',
    expect: /refused|connect/,
    make: (rng) => ({ command: `kubectl --token=ci --server=https://127.0.0.1:${port(rng)} --insecure-skip-tls-verify --request-timeout=3s -n ${word(rng)} get pods`, stage: 'rollout' }),
  },
  {
    id: 'docker-no-daemon',
    program: 'docker',
    expect: /Cannot connect to the Docker daemon|docker.sock|permission denied|Is the docker daemon running/i,
    make: (rng) => ({ command: `DOCKER_HOST=unix:///tmp/causes-dev/docker-${rng.alnum(4)}.sock docker pull registry.example.com/${app(rng)}:${rng.range(1, 9)}.${rng.range(0, 20)}`, stage: 'pull' }),
  },
  {
    id: 'tcl-unknown-var',
    program: 'tclsh',
    expect: /can't read/,
    make: (rng) => {
      const f = `${word(rng)}.tcl`;
      return { files: { [f]: `set retries 3\nputs "starting with $retries retries"\nputs "target: $${rng.pick(KEYS)}"\n` }, command: `tclsh ${f}`, stage: 'probe' };
    },
  },
  {
    id: 'gpg-no-file',
    program: 'gpg',
    expect: /No such file|can't open/,
    make: (rng) => ({ command: `gpg --batch --homedir /tmp/gnupg --verify /srv/releases/${app(rng)}-${rng.range(1, 9)}.${rng.range(0, 9)}.tar.gz.asc`, stage: 'verify' }),
  },
  {
    id: 'wget-refused',
    program: 'wget',
    expect: /Connection refused|failed/,
    make: (rng) => ({ command: `wget -q -O /tmp/pkg.tgz --tries=1 --timeout=3 http://127.0.0.1:${port(rng)}/artifacts/${app(rng)}/${rng.pick(MISSING_PACKAGES)}.tgz || { echo "download of ${rng.pick(SERVICES)} failed" >&2; exit 4; }`, stage: 'fetch' }),
  },
  {
    id: 'yq-parse',
    program: 'yq',
    expect: /Error|error/,
    make: (rng) => {
      const f = `${app(rng)}.yaml`;
      return { files: { [f]: `${rng.pick(KEYS)}: [${rng.alnum(4)}\n  ${rng.pick(KEYS)}: : x\n` }, command: `yq '.${rng.pick(KEYS)}' ${f}`, stage: 'configure' };
    },
  },
  {
    id: 'terraform-no-config',
    program: 'terraform',
    expect: /No configuration files|Error/,
    make: (rng) => ({ command: `mkdir -p /tmp/tf-${word(rng)} && cd /tmp/tf-${word(rng)} 2>/dev/null || cd /tmp; terraform plan -input=false -no-color`, stage: 'plan' }),
  },
];

// ---- Shapes, in this set's own wrapper style. ----

const STEPS = ['fetch', 'unpack', 'configure', 'build', 'verify', 'sync', 'report'];

/** The progress lines a deploy tool prints before the failing part. */
function progressLines(rng: Rng, stage: string): string[] {
  const out: string[] = [];
  const n = rng.range(3, 9);
  for (let i = 0; i < n; i++) {
    switch (rng.int(5)) {
      case 0:
        out.push(`>> [${i + 1}/${n}] ${rng.pick(STEPS)} ${rng.pick(APPS)}`);
        break;
      case 1:
        out.push(`Fetched ${rng.range(10, 9000)} kB in ${rng.range(1, 30)}s (${rng.range(100, 9000)} kB/s)`);
        break;
      case 2:
        out.push(`Resolving ${rng.pick(APPS)}.internal (${rng.pick(APPS)}.internal)... 10.${rng.int(9)}.${rng.int(200)}.${rng.range(2, 250)}`);
        break;
      case 3:
        out.push(`  - ${rng.pick(MISSING_PACKAGES)} ${rng.range(0, 9)}.${rng.range(0, 40)} ok`);
        break;
      default:
        out.push(`Stage ${stage}: ${rng.range(1, 99)} of ${rng.range(100, 400)} items done`);
    }
  }
  return out;
}

/** The bash script of one instance in a shape. */
function script(shape: Shape, inst: DevInstance, rng: Rng, host: string): string {
  const head = '#!/bin/bash\n';
  switch (shape) {
    case 'bare':
      return `${head}${inst.command}\n`;
    case 'progress':
      return `${head}${progressLines(rng, inst.stage)
        .map((l) => `echo ${shq(l)}`)
        .join('\n')}\n${inst.command}\n`;
    case 'prefixed': {
      // journald/syslog style: `Dec  7 10:00:01 <host> deploy.sh[<pid>]: <line>`.
      const day = rng.range(1, 28);
      const start = rng.range(0, 80000);
      return `${head}n=${start}\n{\n${progressLines(rng, inst.stage)
        .slice(0, 3)
        .map((l) => `echo ${shq(l)}`)
        .join('\n')}\n${inst.command}\n} 2>&1 | while IFS= read -r line; do n=$((n + RANDOM % 3)); printf 'Nov %2d %02d:%02d:%02d %s deploy.sh[%d]: %s\\n' ${day} $((n / 3600 % 24)) $((n / 60 % 60)) $((n % 60)) ${shq(host)} ${rng.range(300, 40000)} "$line"; done\nexit \${PIPESTATUS[0]}\n`;
    }
    case 'trap':
      return `${head}STAGE=${shq(inst.stage)}\non_exit() {\n  rc=$?\n  if [ $rc -ne 0 ]; then\n    echo "!! deploy of ${rng.pick(APPS)} aborted in stage $STAGE (rc=$rc)"\n    echo "posting failure to #ops-alerts"\n    echo "lock /var/lock/deploy-${word(rng)}.lock released"\n  fi\n  exit $rc\n}\ntrap on_exit EXIT\necho "stage $STAGE on ${host}"\n${inst.command}\n`;
  }
}

async function main(): Promise<void> {
  const shapes: Shape[] = ['bare', 'progress', 'prefixed', 'trap'];
  const only = values.only === undefined ? undefined : new RegExp(values.only);
  const out: RealOutput[] = [];
  let n = 0;
  for (const cause of CAUSES) {
    if (only && !only.test(cause.id)) continue;
    const rng = new Rng(hashString(cause.id, seed));
    const count = rng.range(8, 14);
    for (let i = 0; i < count; i++) {
      const shape = shapes[(i + rng.int(4)) % 4] ?? 'bare';
      const inst = cause.make(rng, i);
      const host = hostName(rng);
      rmSync(ROOT, { recursive: true, force: true });
      mkdirSync(join(ROOT, 'home'), { recursive: true });
      for (const [rel, content] of Object.entries(inst.files ?? {})) {
        mkdirSync(dirname(join(ROOT, rel)), { recursive: true });
        writeFileSync(join(ROOT, rel), content);
      }
      const file = join(ROOT, 'job.sh');
      writeFileSync(file, script(shape, inst, rng, host));
      chmodSync(file, 0o755);
      const { code, bytes } = await runScript(ROOT, file, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: `${ROOT}/home`, LANG: 'C.UTF-8', TZ: 'UTC' }, inst.timeout ?? 20);
      const { output, dropped } = cutOutput(bytes);
      if (code === 0 || !cause.expect.test(output)) throw new Error(`${cause.id} #${i} (${shape}) did not fail as intended (exit ${code}):\n${output}`);
      out.push({ id: `d${String(n++).padStart(4, '0')}`, cause: cause.id, program: cause.program, shape, status: 'Failed', errorCode: 'ExitCodeNonzero', exitCode: code, output, dropped, host });
    }
    console.error(`${cause.id}: ${count}`);
  }
  const file = resolve(values.out);
  writeFileSync(file, gzipSync(`${out.map((r) => JSON.stringify(r)).join('\n')}\n`));
  console.error(`${out.length} results of ${new Set(out.map((r) => r.cause)).size} causes → ${file}`);
}

void main();
