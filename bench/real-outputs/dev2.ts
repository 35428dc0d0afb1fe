/**
 * A second development set of real command outputs: programs and runtimes that neither the main set nor the first
 * development set (`dev.ts`) holds (ruby, php, lua, rsync, dig, nc, crontab, cmake, ninja, zip, zstd, lz4, patch, ip,
 * sysctl, useradd, ssh-keygen, systemd-analyze, maven, xargs), in wrapper styles none of them uses: its own progress
 * lines, a `host: timestamp` prefix as fleet shells (pdsh, clush) print it, an ERR trap that names the failed command,
 * and two further shapes: `set -x` tracing and a script that runs its steps and prints a summary table at the end.
 * Run on this machine the way Cloud Assistant runs a command (a script file run by bash, stdout and stderr together,
 * exit code kept, output cut at 24 KB).
 *
 *   npx tsx bench/real-outputs/dev2.ts [--seed 11] [--out bench/data/real-outputs-dev2.jsonl.gz] [--only <regexp>]
 *
 * Each cause is labelled "same fix = same cause"; look-alike pairs are different causes (crontab's bad minute vs bad
 * day-of-week, zstd's corrupt vs missing input, sysctl's unknown key vs permission denied, nc refused vs unknown host,
 * useradd's existing user vs invalid name, three maven failures behind the same `[ERROR]` help trailer, ...).
 * Nothing here runs with an effect on the machine: every command fails before it changes anything (privileged
 * settings are tried as `nobody`).
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Rng, hashString } from '@execution-archive/local-cloud/datasets/prng';
import { runScript } from './runner';
import { APPS, KEYS, MISSING_PACKAGES, SERVICES, WORDS, cutOutput, hostName, ident, shq, type RealOutput } from './catalogue';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '11' },
    out: { type: 'string', default: 'bench/data/real-outputs-dev2.jsonl.gz' },
    only: { type: 'string' },
  },
});
const seed = Number(values.seed);
const ROOT = '/tmp/causes-dev2/run';

interface Dev2Instance {
  files?: Record<string, string>;
  command: string;
  stage: string;
  timeout?: number;
}

interface Dev2Cause {
  id: string;
  program: string;
  /** The fix, in words (same fix = same cause). */
  fix: string;
  /** Checked against every instance's output: it failed the intended way. */
  expect: RegExp;
  make(rng: Rng): Dev2Instance;
}

const port = (rng: Rng) => rng.range(30000, 39999);
const app = (rng: Rng) => rng.pick(APPS);
const word = (rng: Rng) => rng.pick(WORDS);
const camel = (s: string) => s.replace(/(^|[_-])(\w)/g, (_m, _s: string, c: string) => c.toUpperCase());
const envName = (rng: Rng) => `${app(rng).toUpperCase()}_${rng.pick(KEYS).toUpperCase()}`;

const CAUSES: Dev2Cause[] = [
  // ---- ruby ----
  {
    id: 'ruby-nil-method',
    program: 'ruby',
    fix: 'add the missing key to the settings hash the script reads',
    expect: /undefined method .* for nil/,
    make: (rng) => {
      const have = rng.pick(KEYS);
      const want = rng.pick(KEYS.filter((k) => k !== have));
      const f = `${word(rng)}_settings.rb`;
      const call = rng.pick(['strip', 'downcase', 'split(",")', 'to_sym', 'upcase']);
      return { files: { [f]: `settings = { "${have}" => "${rng.alnum(6)}" }\nputs "loaded #{settings.size} setting(s)"\nvalue = settings["${want}"].${call}\nputs value\n` }, command: `ruby ${f}`, stage: 'render-config' };
    },
  },
  {
    id: 'ruby-load-error',
    program: 'ruby',
    fix: 'install the gem (bundle install)',
    expect: /cannot load such file/,
    make: (rng) => {
      const gem = rng.pick(['fleet_sync', 'aliyun/oss', 'redis-namespace', 'sidekiq', 'mysql2', 'pg', 'nokogiri', 'faraday/retry']);
      return rng.int(2) === 0 ? { command: `ruby -e ${shq(`require '${gem}'`)}`, stage: 'bootstrap' } : { files: { 'worker.rb': `require 'json'\nrequire '${gem}'\nputs JSON.dump(ok: true)\n` }, command: 'ruby worker.rb', stage: 'bootstrap' };
    },
  },
  {
    id: 'ruby-env-keyerror',
    program: 'ruby',
    fix: 'export the environment variable the job needs',
    expect: /key not found.*KeyError/,
    make: (rng) => ({ files: { 'env_check.rb': `url = ENV.fetch("${envName(rng)}")\nputs url\n` }, command: 'ruby env_check.rb', stage: 'render-config' }),
  },
  {
    id: 'ruby-enoent',
    program: 'ruby',
    fix: 'create the YAML file the job loads',
    expect: /Errno::ENOENT/,
    make: (rng) => ({ command: `ruby -ryaml -e ${shq(`cfg = YAML.load_file("/etc/${app(rng)}/${rng.pick(['deploy', 'app', 'sidekiq', 'database'])}.yml"); p cfg`)}`, stage: 'render-config' }),
  },
  // ---- php ----
  {
    id: 'php-undefined-function',
    program: 'php',
    fix: 'install the PHP extension that provides the function',
    expect: /Call to undefined function/,
    make: (rng) => {
      const fn = rng.pick(['apcu_fetch', 'redis_connect', 'mb_str_pad', 'imagewebp', 'sodium_crypto_box_x', 'yaml_parse_file', 'bcadd']);
      return { files: { 'cron.php': `<?php\necho "warming ${app(rng)} cache\\n";\n$v = ${fn}('${rng.pick(KEYS)}');\nvar_dump($v);\n` }, command: 'php cron.php', stage: 'warm-cache' };
    },
  },
  {
    id: 'php-parse-error',
    program: 'php',
    fix: 'fix the syntax error (a missing semicolon) in the deployed PHP file',
    expect: /Parse error/,
    make: (rng) => {
      const f = `${app(rng)}_${rng.pick(['job', 'task', 'hook'])}.php`;
      const v = ident(rng);
      return { files: { [f]: `<?php\n${'\n'.repeat(rng.int(5))}$${v} = ${rng.range(1, 900)}\necho $${v};\n` }, command: `php ${f}`, stage: 'warm-cache' };
    },
  },
  {
    id: 'php-require-missing',
    program: 'php',
    fix: 'deploy the config.php the script requires',
    expect: /Failed opening required/,
    make: (rng) => ({ command: `php -r ${shq(`require '/etc/${app(rng)}/${rng.pick(['config', 'local', 'settings'])}.php'; echo "ok\\n";`)}`, stage: 'warm-cache' }),
  },
  // ---- lua ----
  {
    id: 'lua-nil-index',
    program: 'lua',
    fix: 'define the config table before the script reads it',
    expect: /attempt to index a nil value/,
    make: (rng) => {
      const name = rng.pick(['cfg', 'conf', 'settings', 'upstream', 'opts']);
      return { files: { 'probe.lua': `local n = ${rng.range(1, 9)}\nprint("probing " .. n .. " backends")\nprint(${name}.${rng.pick(KEYS)})\n` }, command: 'lua5.4 probe.lua', stage: 'probe' };
    },
  },
  {
    id: 'lua-module-missing',
    program: 'lua',
    fix: 'install the Lua module (luarocks install)',
    expect: /module '.*' not found/,
    make: (rng) => ({ command: `lua5.4 -e ${shq(`local m = require("${rng.pick(['cjson', 'socket', 'lfs', 'resty.http', 'luasql.mysql', 'lpeg', 'posix'])}")`)}`, stage: 'probe' }),
  },
  // ---- rsync ----
  {
    id: 'rsync-no-source',
    program: 'rsync',
    fix: 'create the source directory (or fix its path)',
    expect: /change_dir .* failed: No such file/,
    make: (rng) => ({ command: `rsync -a --delete /srv/${app(rng)}/${rng.pick(['releases', 'shared', 'assets'])}/${word(rng)}/ /tmp/causes-dev2/dst/`, stage: 'sync' }),
  },
  {
    id: 'rsync-daemon-refused',
    program: 'rsync',
    fix: 'start the rsync daemon on the backup host',
    expect: /failed to connect .* Connection refused/,
    make: (rng) => ({ command: `rsync -a rsync://127.0.0.${rng.range(1, 9)}:${port(rng)}/${rng.pick(['backup', 'assets', 'logs'])}/${app(rng)}/ /tmp/causes-dev2/dst/`, stage: 'sync' }),
  },
  // ---- dig, nc ----
  {
    id: 'dig-no-server',
    program: 'dig',
    fix: 'start the DNS resolver the host is configured with',
    expect: /no servers could be reached/,
    make: (rng) => ({ command: `dig @127.0.0.${rng.range(1, 9)} -p ${port(rng)} +tries=1 +time=1 ${app(rng)}.${rng.pick(['internal', 'svc.cluster.local', 'corp'])} ${rng.pick(['A', 'AAAA', 'SRV'])}`, stage: 'resolve' }),
  },
  {
    id: 'nc-refused',
    program: 'nc',
    fix: 'start the service on that port',
    expect: /connect to .* failed: Connection refused/,
    make: (rng) => ({ command: `nc -v -w 2 -z 127.0.0.${rng.range(1, 9)} ${port(rng)}`, stage: 'healthcheck' }),
  },
  {
    id: 'nc-unknown-host',
    program: 'nc',
    fix: 'fix the host name (it does not resolve)',
    expect: /getaddrinfo/,
    make: (rng) => ({ command: `nc -v -w 2 -z ${app(rng)}-${rng.pick(['db', 'cache', 'mq'])}.invalid ${rng.pick([5432, 6379, 5672, 3306, 9092])}`, stage: 'healthcheck' }),
  },
  // ---- crontab ----
  {
    id: 'cron-bad-minute',
    program: 'crontab',
    fix: 'fix the minute field of the crontab line',
    expect: /bad minute/,
    make: (rng) => ({ command: `printf '%s\\n' ${shq(`${rng.range(60, 99)} ${rng.range(0, 23)} * * * /usr/local/bin/${app(rng)}-${word(rng)}.sh`)} | crontab -u nobody -`, stage: 'schedule' }),
  },
  {
    id: 'cron-bad-dow',
    program: 'crontab',
    fix: 'fix the day-of-week field of the crontab line',
    expect: /bad day-of-week/,
    make: (rng) => ({ command: `printf '%s\\n' ${shq(`${rng.range(0, 59)} ${rng.range(0, 23)} * * ${rng.pick(['mon-fry', 'weekdays', '8', 'sat,sunday', '1-9'])} /usr/local/bin/${app(rng)}-${word(rng)}.sh`)} | crontab -u nobody -`, stage: 'schedule' }),
  },
  // ---- cmake, ninja ----
  {
    id: 'cmake-package-missing',
    program: 'cmake',
    fix: 'install the package CMake looks for (its -dev package)',
    expect: /Could not find a package configuration file/,
    make: (rng) => {
      const pkg = rng.pick(['FleetSync', 'Protobuf2', 'GRPCx', 'LibArchiveX', 'Yaml-cpp3', 'Ledger']);
      return { files: { 'CMakeLists.txt': `cmake_minimum_required(VERSION 3.13)\nproject(${app(rng)} LANGUAGES NONE)\nmessage(STATUS "configuring ${word(rng)} build")\nfind_package(${pkg} REQUIRED)\n` }, command: `cmake -S . -B build-${word(rng)}`, stage: 'configure' };
    },
  },
  {
    id: 'cmake-too-old',
    program: 'cmake',
    fix: 'install a newer CMake',
    expect: /or higher is required/,
    make: (rng) => ({ files: { 'CMakeLists.txt': `cmake_minimum_required(VERSION ${rng.range(3, 4) === 3 ? `3.${rng.range(26, 31)}` : `4.${rng.range(0, 3)}`})\nproject(${app(rng)} LANGUAGES NONE)\n` }, command: 'cmake -S . -B build', stage: 'configure' }),
  },
  {
    id: 'cmake-include-missing',
    program: 'cmake',
    fix: 'check out the cmake/ module the project includes (a missing submodule)',
    expect: /include could not find/,
    make: (rng) => ({ files: { 'CMakeLists.txt': `cmake_minimum_required(VERSION 3.13)\nproject(${app(rng)} LANGUAGES NONE)\ninclude(cmake/${camel(word(rng))}${rng.pick(['Deps', 'Options', 'Toolchain'])}.cmake)\n` }, command: 'cmake -S . -B build', stage: 'configure' }),
  },
  {
    id: 'ninja-no-build-dir',
    program: 'ninja',
    fix: 'run the configure step (cmake) before ninja',
    expect: /chdir to/,
    make: (rng) => ({ command: `ninja -C build-${word(rng)} ${rng.pick(['all', 'install', 'test'])}`, stage: 'build' }),
  },
  {
    id: 'ninja-missing-input',
    program: 'ninja',
    fix: 'add the generated source file the build needs',
    expect: /missing and no known rule/,
    make: (rng) => {
      const src = `src/${word(rng)}_${rng.pick(['io', 'db', 'net', 'api'])}.c`;
      return { files: { 'build.ninja': `rule cc\n  command = cc -c $in -o $out\nbuild obj/${rng.alnum(4)}.o: cc ${src}\n` }, command: 'ninja', stage: 'build' };
    },
  },
  // ---- zip, zstd, lz4, patch ----
  {
    id: 'zip-nothing-to-do',
    program: 'zip',
    fix: 'fix the path of the folder to archive',
    expect: /Nothing to do/,
    make: (rng) => ({ command: `zip -qr /tmp/causes-dev2/${app(rng)}-logs.zip /var/log/${app(rng)}/${word(rng)}`, stage: 'archive' }),
  },
  {
    id: 'zstd-bad-format',
    program: 'zstd',
    fix: 'download the artifact again (it is not zstd: an error page was saved)',
    expect: /unsupported format/,
    make: (rng) => {
      const f = `${app(rng)}-${rng.range(1, 9)}.${rng.range(0, 30)}.tar.zst`;
      return { files: { [f]: `<html><body>${rng.pick(['403 Forbidden', 'Not Found', 'Bad Gateway'])}</body></html>\n` }, command: `zstd -d -f ${f} -o /tmp/causes-dev2/out.tar`, stage: 'unpack' };
    },
  },
  {
    id: 'zstd-missing-input',
    program: 'zstd',
    fix: 'run the download step first (the artifact is missing)',
    expect: /can't stat/,
    make: (rng) => ({ command: `zstd -d -f /var/cache/${app(rng)}/${app(rng)}-${rng.range(1, 9)}.${rng.range(0, 30)}.tar.zst -o /tmp/causes-dev2/out.tar`, stage: 'unpack' }),
  },
  {
    id: 'lz4-bad-header',
    program: 'lz4',
    fix: 'download the snapshot again (it is not lz4)',
    expect: /Unrecognized header/,
    make: (rng) => {
      const f = `${word(rng)}-snapshot-${rng.range(100, 999)}.lz4`;
      return { files: { [f]: `${rng.alnum(40)}\n` }, command: `lz4 -d -f ${f} /tmp/causes-dev2/snapshot`, stage: 'restore' };
    },
  },
  {
    id: 'patch-hunk-failed',
    program: 'patch',
    fix: 'rebase the local patch onto the new upstream file',
    expect: /hunks? FAILED/,
    make: (rng) => {
      const f = `${rng.pick(['nginx', 'haproxy', 'redis', 'sshd'])}.conf`;
      const key = rng.pick(KEYS);
      return {
        files: { [f]: `# ${app(rng)}\n${key} ${rng.range(1, 99)}\nworkers ${rng.range(1, 8)}\n`, 'local.patch': `--- ${f}\n+++ ${f}\n@@ -1,3 +1,3 @@\n # old header\n-${key} 0\n+${key} ${rng.range(100, 200)}\n workers 1\n` },
        command: `patch -p0 --no-backup-if-mismatch < local.patch`,
        stage: 'configure',
      };
    },
  },
  {
    id: 'patch-garbage',
    program: 'patch',
    fix: 'fetch the patch file again (what was saved is not a diff)',
    expect: /Only garbage/,
    make: (rng) => ({ files: { 'fix.patch': `${rng.pick(['<!DOCTYPE html>', 'Moved Permanently', '{"error":"not found"}'])}\n${rng.alnum(20)}\n` }, command: 'patch -p1 < fix.patch', stage: 'configure' }),
  },
  // ---- ip, sysctl, useradd, ssh-keygen, systemd-analyze ----
  {
    id: 'ip-no-device',
    program: 'ip',
    fix: 'fix the interface name (the host has no such device)',
    expect: /Cannot find device/,
    make: (rng) => ({ command: `ip link set dev ${rng.pick(['eth', 'ens', 'bond', 'enp0s'])}${rng.range(1, 9)} mtu ${rng.pick([1400, 1450, 9000])}`, stage: 'network' }),
  },
  {
    id: 'sysctl-unknown-key',
    program: 'sysctl',
    fix: 'drop the key the kernel does not have from the sysctl settings',
    expect: /cannot stat/,
    make: (rng) => ({ command: `sysctl -w net.${rng.pick(['ipv4', 'core', 'netfilter'])}.${rng.pick(['tcp_fastopen_x', 'somaxconn_max', 'nf_conntrack_maxx', 'rmem_maxx'])}=${rng.range(1, 65535)}`, stage: 'tune' }),
  },
  {
    id: 'sysctl-permission',
    program: 'sysctl',
    fix: 'run the tuning step as root',
    expect: /permission denied on key/,
    make: (rng) => ({ command: `runuser -u nobody -- sysctl -w ${rng.pick(['vm.swappiness', 'net.core.somaxconn', 'fs.file-max', 'net.ipv4.tcp_fin_timeout'])}=${rng.range(10, 60000)}`, stage: 'tune' }),
  },
  {
    id: 'useradd-exists',
    program: 'useradd',
    fix: 'skip creating a user that exists (make the step idempotent)',
    expect: /already exists/,
    make: (rng) => ({ command: `useradd -r -s /usr/sbin/nologin ${rng.pick(['daemon', 'bin', 'sys', 'www-data', 'backup', 'nobody', 'mail', 'news'])}`, stage: 'accounts' }),
  },
  {
    id: 'useradd-bad-name',
    program: 'useradd',
    fix: 'use a valid user name (lower case, no spaces)',
    expect: /invalid user name/,
    make: (rng) => ({ command: `useradd -m ${shq(rng.pick([`${camel(app(rng))} Svc`, `${app(rng)} user`, `${word(rng)} ${app(rng)}`]))}`, stage: 'accounts' }),
  },
  {
    id: 'sshkey-invalid',
    program: 'ssh-keygen',
    fix: 'deploy the real private key (the file holds something else)',
    expect: /Load key/,
    make: (rng) => {
      const f = `${rng.pick(['deploy', 'ci', 'backup'])}_${rng.pick(['ed25519', 'rsa'])}`;
      return { files: { [f]: `${rng.alnum(48)}\n` }, command: `chmod 600 ${f} && ssh-keygen -y -f ${f} > ${f}.pub`, stage: 'keys' };
    },
  },
  {
    id: 'sshkey-missing',
    program: 'ssh-keygen',
    fix: 'deploy the public key file before fingerprinting it',
    expect: /No such file/,
    make: (rng) => ({ command: `ssh-keygen -l -f /home/${rng.pick(['deploy', 'ops', 'ci'])}/.ssh/${rng.pick(['id_ed25519', 'id_rsa', 'authorized_keys'])}${rng.pick(['.pub', ''])}`, stage: 'keys' }),
  },
  {
    id: 'unit-no-execstart',
    program: 'systemd-analyze',
    fix: 'fix the misspelt ExecStart= in the unit file',
    expect: /has no ExecStart/,
    make: (rng) => {
      const unit = `${app(rng)}-${word(rng)}.service`;
      return { files: { [unit]: `[Unit]\nDescription=${app(rng)} worker\n\n[Service]\n${rng.pick(['ExecStrat', 'Exec_Start', 'ExecStart_'])}=/usr/local/bin/${app(rng)} --port ${port(rng)}\nRestart=always\n` }, command: `systemd-analyze verify ./${unit}`, stage: 'install-unit' };
    },
  },
  // ---- maven ----
  {
    id: 'mvn-no-pom',
    program: 'mvn',
    fix: 'run maven in the project folder (cd to the checkout)',
    expect: /there is no POM in this directory/,
    make: (rng) => ({ command: `mkdir -p ${app(rng)}-${word(rng)} && cd $_ && mvn -o -B ${rng.pick(['validate', 'package', 'verify'])}`, stage: 'build', timeout: 60 }),
  },
  {
    id: 'mvn-bad-pom',
    program: 'mvn',
    fix: 'fix the broken XML of pom.xml',
    expect: /Non-parseable POM/,
    make: (rng) => ({ files: { 'pom.xml': `<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.example</groupId>\n  <artifactId>${app(rng)}</artifactId>\n  <version>${rng.range(1, 9)}.${rng.range(0, 9)}</version${rng.pick(['', '\n  <packaging>jar</packaging'])}\n</project>\n` }, command: 'mvn -o -B validate', stage: 'build', timeout: 60 }),
  },
  {
    id: 'mvn-offline-plugin',
    program: 'mvn',
    fix: 'allow maven to reach the repository (or seed ~/.m2) so plugins resolve',
    expect: /in offline mode/,
    make: (rng) => ({ files: { 'pom.xml': `<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.example</groupId>\n  <artifactId>${app(rng)}</artifactId>\n  <version>${rng.range(1, 9)}.${rng.range(0, 9)}</version>\n</project>\n` }, command: `mvn -o -B ${rng.pick(['compile', 'package', 'test'])}`, stage: 'build', timeout: 60 }),
  },
  // ---- xargs ----
  {
    id: 'xargs-missing-command',
    program: 'xargs',
    fix: 'install the hook script xargs runs',
    expect: /xargs: .*: No such file or directory/,
    make: (rng) => ({ command: `printf '%s\\n' ${[1, 2, 3].map(() => `${app(rng)}-${rng.range(1, 40)}`).join(' ')} | xargs -n1 ${rng.pick(['rotate', 'notify', 'drain', 'reindex'])}-${rng.pick(SERVICES)}`, stage: 'fan-out' }),
  },
];

// ---- Shapes, in this set's own wrapper style. ----

const SHAPES2 = ['bare', 'progress', 'prefixed', 'trap', 'xtrace', 'summary'] as const;
type Dev2Shape = (typeof SHAPES2)[number];

/** The lines a release tool prints before the failing part. */
function progressLines(rng: Rng): string[] {
  const out: string[] = [];
  const n = rng.range(3, 8);
  for (let i = 0; i < n; i++) {
    switch (rng.int(6)) {
      case 0:
        out.push(`:: ${rng.pick(APPS)} ${rng.range(1, 9)}.${rng.range(0, 40)} preflight`);
        break;
      case 1:
        out.push(`  downloading ${rng.pick(MISSING_PACKAGES)}.tar.zst ${'.'.repeat(rng.range(3, 20))} ${rng.range(1, 100)}%`);
        break;
      case 2:
        out.push(`  checksum ok (sha256 ${rng.alnum(8).toLowerCase()})`);
        break;
      case 3:
        out.push(`  waiting for ${rng.pick(SERVICES)} to drain (${rng.range(1, 40)}s)`);
        break;
      case 4:
        out.push(`Step ${i + 1}/${n} : ${rng.pick(['RUN', 'COPY', 'ENV'])} ${rng.pick(WORDS)}`);
        break;
      default:
        out.push(`OK  ${rng.range(2, 900)} files synced to ${rng.pick(APPS)}`);
    }
  }
  return out;
}

/** The bash script of one instance in a shape. */
function script(shape: Dev2Shape, inst: Dev2Instance, rng: Rng, host: string): string {
  const head = '#!/bin/bash\n';
  const echo = (l: string) => `echo ${shq(l)}`;
  switch (shape) {
    case 'bare':
      return `${head}${inst.command}\n`;
    case 'progress':
      return `${head}set -e\n${progressLines(rng).map(echo).join('\n')}\n${echo(`--> ${inst.stage}`)}\n${inst.command}\n${echo('--> all steps done')}\n`;
    case 'prefixed': {
      // A fleet shell's prefix (pdsh, clush: `host: `) in front of a timestamp with milliseconds.
      const start = 1_796_000_000 + rng.int(7 * 86_400);
      return (
        `${head}RANDOM=${rng.range(1, 32_000)}\n__t=${start}\n` +
        `__stamp() { while IFS= read -r __line; do __t=$((__t + RANDOM % 2)); printf '%s: %(%Y-%m-%d %H:%M:%S)T.%03d %s\\n' ${shq(host)} "$__t" $((RANDOM % 1000)) "$__line"; done; }\n` +
        `{\n${progressLines(rng).slice(0, rng.range(0, 3)).map(echo).join('\n')}\n${inst.command}\n} 2>&1 | __stamp\nexit "\${PIPESTATUS[0]}"\n`
      );
    }
    case 'trap':
      // An ERR trap that names the failed command and where it stood, then rolls back.
      return (
        `${head}set -E\nJOB=${rng.range(1000, 99999)}\n` +
        `on_err() {\n  rc=$?\n  echo "ERROR: command \\"$BASH_COMMAND\\" exited with status $rc (line \${BASH_LINENO[0]})" >&2\n  echo "rollback: restoring /srv/${rng.pick(APPS)}/previous"\n  echo "job $JOB marked failed"\n  exit $rc\n}\ntrap on_err ERR\n` +
        `echo "job $JOB: ${inst.stage} on ${host}"\n${inst.command}\necho "job $JOB done"\n`
      );
    case 'xtrace':
      return `${head}set -ex\nexport APP=${rng.pick(APPS)} RELEASE=r${rng.range(100, 9999)}\nmkdir -p /tmp/causes-dev2/work/$APP\necho "deploying $APP $RELEASE"\n${inst.command}\n`;
    case 'summary': {
      // Steps run in order, each timed; the failed one stops the run; a table at the end.
      const before = rng.pick(['preflight', 'fetch', 'lint']);
      const after = ['restart', 'smoke-test', 'notify'].slice(0, rng.range(1, 3));
      return (
        `${head}declare -a ROWS\nrc=0\n` +
        `step() { local name=$1; shift; local t0=$SECONDS; echo "### $name"; if [ $rc -ne 0 ]; then ROWS+=("$name|skipped|-"); return; fi; ( "$@" ); local r=$?; if [ $r -eq 0 ]; then ROWS+=("$name|ok|$((SECONDS - t0))s"); else rc=$r; ROWS+=("$name|FAILED ($r)|$((SECONDS - t0))s"); fi; }\n` +
        `s_${before.replace('-', '_')}() { echo "${before}: ${rng.range(1, 30)} checks passed"; }\n` +
        `s_main() {\n${inst.command}\n}\n` +
        `${after.map((a) => `s_${a.replace('-', '_')}() { echo "${a} ok"; }`).join('\n')}\n` +
        `step ${before} s_${before.replace('-', '_')}\nstep ${inst.stage} s_main\n${after.map((a) => `step ${a} s_${a.replace('-', '_')}`).join('\n')}\n` +
        `echo\nprintf '%-14s %-12s %s\\n' STEP STATUS TIME\nfor r in "\${ROWS[@]}"; do IFS='|' read -r a b c <<< "$r"; printf '%-14s %-12s %s\\n' "$a" "$b" "$c"; done\n` +
        `[ $rc -eq 0 ] && echo "all steps passed" || echo "run failed: 1 step failed"\nexit $rc\n`
      );
    }
  }
}

async function main(): Promise<void> {
  const only = values.only === undefined ? undefined : new RegExp(values.only);
  const out: RealOutput[] = [];
  const failed: string[] = [];
  let n = 0;
  for (const cause of CAUSES) {
    if (only && !only.test(cause.id)) continue;
    const rng = new Rng(hashString(cause.id, seed));
    const count = only ? 6 : rng.range(10, 16);
    for (let i = 0; i < count; i++) {
      const shape = SHAPES2[(i + rng.int(SHAPES2.length)) % SHAPES2.length] ?? 'bare';
      const inst = cause.make(rng);
      const host = hostName(rng);
      rmSync(ROOT, { recursive: true, force: true });
      rmSync('/tmp/causes-dev2/work', { recursive: true, force: true });
      mkdirSync(join(ROOT, 'home'), { recursive: true });
      for (const [rel, content] of Object.entries(inst.files ?? {})) {
        mkdirSync(dirname(join(ROOT, rel)), { recursive: true });
        writeFileSync(join(ROOT, rel), content);
      }
      const file = join(ROOT, `run-${rng.alnum(8)}.sh`);
      writeFileSync(file, script(shape, inst, rng, host));
      chmodSync(file, 0o755);
      const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: `${ROOT}/home`, LANG: rng.pick(['C.UTF-8', 'C', 'en_US.UTF-8']), TZ: 'UTC' };
      const { code, bytes } = await runScript(ROOT, file, env, inst.timeout ?? 20);
      const { output, dropped } = cutOutput(bytes);
      if (only) console.log(`----- ${cause.id} #${i} ${shape} exit ${code}\n${output}`);
      if (code === 0 || !cause.expect.test(output)) {
        failed.push(`${cause.id} #${i} (${shape}) did not fail as intended (exit ${code}):\n${output}`);
        continue;
      }
      out.push({ id: `e${String(n++).padStart(4, '0')}`, cause: cause.id, program: cause.program, shape, status: 'Failed', errorCode: 'ExitCodeNonzero', exitCode: code, output, dropped, host });
    }
    console.error(`${cause.id}: ${count}`);
  }
  for (const f of failed) console.error(f);
  if (only) return;
  const file = resolve(values.out);
  writeFileSync(file, gzipSync(`${out.map((r) => JSON.stringify(r)).join('\n')}\n`));
  console.error(`${out.length} results of ${new Set(out.map((r) => r.cause)).size} causes → ${file}`);
  if (failed.length) process.exitCode = 1;
}

void main();
