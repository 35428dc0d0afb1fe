/**
 * The hold-out set's true causes (`bench/data/real-outputs-holdout.jsonl.gz`): programs and messages the main set
 * does not have, run in the hold-out style of the shapes. A blind test: whoever develops the grouping measures on
 * the main set only and does not read this file or its fixture. Step names are shared by several causes (as a
 * script's steps are), so a trailer that names the step does not name the cause.
 */
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';
import { APPS, PACKAGES, SERVICES, WORDS, version, type CauseSpec } from './catalogue';

const pick = <T>(rng: Rng, items: readonly T[]): T => rng.pick(items);
const cName = (rng: Rng): string => pick(rng, ['probe', 'agentd', 'collector', 'shim', 'relay']);

export const HOLDOUT_CAUSES: readonly CauseSpec[] = [
  {
    id: 'perl-missing-module',
    program: 'perl',
    fix: 'install the Perl module (cpanm)',
    expect: /Can't locate .* in @INC/,
    exitCode: 2,
    make({ rng }) {
      const mod = pick(rng, ['JSON::XS', 'DBD::mysql', 'Net::Amazon::S3', 'YAML::Tiny', 'Log::Log4perl', 'Config::Tiny', 'Redis']);
      const file = `opt/${pick(rng, APPS)}/bin/${pick(rng, ['rotate', 'report', 'check'])}.pl`;
      return { files: { [file]: `#!/usr/bin/perl\nuse strict;\nuse warnings;\n${'\n'.repeat(rng.int(3))}use ${mod};\nprint "ok\\n";\n` }, command: `perl $ROOT/${file}`, step: 'nightly' };
    },
  },
  {
    id: 'perl-die',
    program: 'perl',
    fix: 'the spool directory is missing: create it',
    expect: /cannot open spool/,
    exitCode: 2,
    make({ rng }) {
      const dir = `/var/spool/${pick(rng, APPS)}${rng.int(3) === 0 ? rng.range(1, 4) : ''}`;
      const file = `opt/${pick(rng, APPS)}/bin/drain.pl`;
      return { files: { [file]: `use strict;\n${'\n'.repeat(rng.int(4))}opendir(my $dh, "${dir}") or die "cannot open spool ${dir}: $!";\n` }, command: `perl $ROOT/${file}`, step: 'nightly' };
    },
  },
  {
    id: 'make-no-rule',
    program: 'make',
    fix: 'the Makefile has no such target: use the renamed target',
    expect: /No rule to make target/,
    exitCode: 2,
    make({ rng }) {
      const target = pick(rng, ['deploy', 'package', 'release', 'install-prod', 'docker-push', 'assets']);
      return { files: { 'src/Makefile': `build:\n\t@echo building\n\ntest:\n\t@echo testing\n` }, command: `make -C $ROOT/src ${target}${rng.int(3) === 0 ? `-${pick(rng, WORDS)}` : ''}`, step: 'build' };
    },
  },
  {
    id: 'gcc-undeclared',
    program: 'gcc',
    fix: 'the source needs the header of the new API: add the include',
    expect: /error: .*undeclared/,
    exitCode: 1,
    make({ rng }) {
      const name = pick(rng, ['MAX_CONNS', 'buffer_len', 'retry_count', 'SOCK_TIMEOUT', 'page_size']);
      const file = `src/${cName(rng)}.c`;
      return { files: { [file]: `#include <stdio.h>\n${'\n'.repeat(rng.int(4))}int main(void) {\n  int n = ${name} * 2;\n  printf("%d\\n", n);\n  return 0;\n}\n` }, command: `cd $ROOT/src && gcc -o /dev/null ${file.slice(4)}`, step: 'build' };
    },
  },
  {
    id: 'c-segfault',
    program: 'c',
    fix: 'the collector dereferences a missing config entry: fix the collector',
    expect: /Segmentation fault/,
    exitCode: 139,
    make({ rng }) {
      const bin = cName(rng);
      return {
        files: { [`src/${bin}.c`]: `#include <stdio.h>\n#include <stdlib.h>\nint main(void) {\n  char *entry = getenv("${pick(rng, ['COLLECTOR_URL', 'AGENT_TOKEN_FILE', 'SPOOL_DIR'])}");\n  printf("starting ${bin} (%d workers)\\n", ${rng.range(1, 16)});\n  fflush(stdout);\n  return entry[0];\n}\n` },
        setup: `gcc -O0 -o src/${bin} src/${bin}.c`,
        command: `$ROOT/src/${bin} --config /etc/${bin}/${pick(rng, ['main', 'collector'])}.conf`,
        step: 'start',
      };
    },
  },
  {
    id: 'c-assert-abort',
    program: 'c',
    fix: 'the queue depth is negative after an overflow: fix the queue accounting',
    expect: /Assertion .* failed/,
    exitCode: 134,
    make({ rng }) {
      const bin = cName(rng);
      const v = pick(rng, ['depth', 'queued', 'pending']);
      return {
        files: { [`src/${bin}.c`]: `#include <assert.h>\n#include <stdio.h>\n${'\n'.repeat(rng.int(4))}int main(void) {\n  int ${v} = ${-rng.range(1, 500)};\n  assert(${v} >= 0);\n  return 0;\n}\n` },
        setup: `gcc -O0 -o src/${bin} src/${bin}.c`,
        command: `$ROOT/src/${bin}`,
        step: 'start',
      };
    },
  },
  {
    id: 'psql-refused',
    program: 'psql',
    fix: 'start PostgreSQL before the migration',
    expect: /connection to server at .* failed: Connection refused/,
    exitCode: 2,
    make(env) {
      return { command: `psql -h 127.0.0.1 -p ${env.rng.pick(env.closedPorts)} -U ${pick(env.rng, APPS)} -d ${pick(env.rng, APPS)}_${pick(env.rng, ['prod', 'stage'])} -c 'SELECT 1'`, step: 'deploy' };
    },
  },
  {
    id: 'ssh-refused',
    program: 'ssh',
    fix: 'sshd is down on the bastion: start it',
    expect: /Connection refused/,
    exitCode: 255,
    make(env) {
      return { command: `ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=2 -p ${env.rng.pick(env.closedPorts)} ${pick(env.rng, ['deploy', 'ops', 'git'])}@127.0.0.1 true`, step: 'deploy' };
    },
  },
  {
    id: 'openssl-key-missing',
    program: 'openssl',
    fix: 'deploy the TLS private key',
    expect: /Could not open file or uri for loading private key/,
    exitCode: 1,
    make({ rng }) {
      const key = `/etc/ssl/private/${pick(rng, APPS)}${rng.int(3) === 0 ? `-${pick(rng, WORDS)}` : ''}.key`;
      return { command: `openssl req -new -key ${key} -subj /CN=${pick(rng, APPS)}.example.com -out /dev/null`, step: 'configure' };
    },
  },
  {
    id: 'wget-500',
    program: 'wget',
    fix: 'the mirror fails: switch to the fallback mirror',
    expect: /ERROR 500/,
    exitCode: 8,
    make(env) {
      const s = env.rng.pick(env.http);
      return { command: `wget -nv -O /dev/null --tries=1 http://${s.addr}:${s.port}/status/500/pool/${pick(env.rng, PACKAGES)}_${version(env.rng)}_amd64.deb`, step: 'deploy' };
    },
  },
  {
    id: 'sed-unterminated',
    program: 'sed',
    fix: 'the replacement holds a slash: escape it in the template',
    expect: /unknown option to `s'/,
    exitCode: 1,
    make({ rng }) {
      const file = `etc/${pick(rng, APPS)}.conf`;
      return { files: { [file]: `listen 80;\nupstream ${pick(rng, SERVICES)};\n` }, command: `sed -i "s/upstream .*/upstream http://${pick(rng, SERVICES)}:${rng.range(1000, 9999)}/" $ROOT/${file}`, step: 'configure' };
    },
  },
  {
    id: 'xz-format',
    program: 'xz',
    fix: 'the log archive is not xz (it is gzip): use the right decompressor',
    expect: /File format not recognized/,
    exitCode: 1,
    make({ rng }) {
      const name = `logs/${pick(rng, APPS)}-${rng.range(20_260_101, 20_261_231)}.log.xz`;
      return { setup: `mkdir -p logs && echo "${rng.alnum(40)}" | gzip > ${name}`, command: `xz -t $ROOT/${name}`, step: 'nightly' };
    },
  },
  {
    id: 'py-unicode-decode',
    program: 'python3',
    fix: 'the export is Latin-1: read it with its encoding',
    expect: /UnicodeDecodeError/,
    exitCode: 1,
    make({ rng }) {
      const data = `var/${pick(rng, APPS)}-export.csv`;
      const file = `opt/${pick(rng, APPS)}/import_csv.py`;
      return {
        files: { [data]: Buffer.concat([Buffer.from('name,city\n'.repeat(rng.range(1, 30))), Buffer.from([0xe9, 0x74, 0xe9]), Buffer.from('\n')]), [file]: `import os\n\nwith open(os.environ["ROOT"] + "/${data}", encoding="utf-8") as f:\n    rows = f.read().splitlines()\nprint(len(rows))\n` },
        command: `python3 $ROOT/${file}`,
        step: 'nightly',
      };
    },
  },
  {
    id: 'py-type-concat',
    program: 'python3',
    fix: 'the port setting is read as a string: convert it',
    expect: /TypeError: /,
    exitCode: 1,
    make({ rng }) {
      const file = `opt/${pick(rng, APPS)}/ports.py`;
      return { files: { [file]: `import os\n\nbase = os.environ.get("BASE_PORT", "${rng.range(8000, 9000)}")\nprint("next port", base + ${rng.range(1, 9)})\n` }, command: `python3 $ROOT/${file}`, step: 'start' };
    },
  },
  {
    id: 'node-range-error',
    program: 'node',
    fix: 'the page size is negative: validate the input',
    expect: /RangeError: Invalid array length/,
    exitCode: 1,
    make({ rng }) {
      const file = `srv/${pick(rng, APPS)}/pager.js`;
      return { files: { [file]: `const size = ${-rng.range(1, 100)};\nconst rows = new Array(size).fill(0);\nconsole.log(rows.length);\n` }, command: `node $ROOT/${file}`, step: 'start' };
    },
  },
];
