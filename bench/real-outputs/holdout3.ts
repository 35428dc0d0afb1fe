/**
 * The third hold-out set of real command outputs ("hold-out 3"): a blind test of the failure grouping, made after the
 * second hold-out was opened to the people who write the grouping's rules. Programs and runtimes that none of the
 * other sets (main, dev, dev2, probe3, probe4, the first and second hold-outs) runs, in wrapper styles none of them
 * uses, made without reading the grouping's rules or their tests. NOBODY who works on the grouping reads this file or
 * its fixture: its texts are the test.
 *
 * Run on this machine the way Cloud Assistant runs a command (a script file run by bash, stdout and stderr into one
 * stream, exit code kept, output cut at 24 KB), as the unprivileged user `nobody`, in a network namespace of its own
 * (only loopback: connections are refused, names do not resolve), in a folder under /tmp/holdout3 that is emptied
 * before every run. Nothing here changes the machine.
 *
 *   npx tsx bench/real-outputs/holdout3.ts [--seed 31] [--out bench/data/real-outputs-holdout3.jsonl.gz] [--only <regexp>]
 *   npx tsx bench/real-outputs/holdout3.ts --update <regexp>
 *
 * `--only` runs each matching cause once in every shape and prints the outputs (no fixture). `--update` runs again only
 * the planned instances of the matching causes (the plan of a full run: the same ids, shapes and parameters) and puts
 * them in place of the fixture's ones.
 *
 * Needs (Debian 12, installed with the services kept from starting): `apt-get install --no-install-recommends
 * nginx-light haproxy gfortran elixir clojure ant imagemagick 7zip etcd-client ldap-utils mosquitto-clients
 * apache2-utils protobuf-compiler sassc jsonnet ledger swi-prolog-nox mono-mcs mono-runtime bind9-utils miller
 * ansible-core parallel time` (and jq, python3). Must run as root (it drops to `nobody` for every run). Labels: same fix
 * = same cause; look-alike pairs (same program, same message family) are different causes when their fixes differ.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';
import { APPS, KEYS, WORDS, shq, version, type AnyShape } from './catalogue';
import { NOBODY, blindArgs, generateBlindSet, type BlindCause, type BlindInst } from './blind';

const args = blindArgs(31, join(__dirname, '..', 'data', 'real-outputs-holdout3.jsonl.gz'));
const BASE = '/tmp/holdout3';
const ROOT = `${BASE}/run`;
/** A run still going after this long is a generator fault: stopped and left out. */
const TIMEOUT_SECONDS = 120;

type Inst = BlindInst;
type Cause = BlindCause;

const app = (rng: Rng) => rng.pick(APPS);
const word = (rng: Rng) => rng.pick(WORDS);
const key = (rng: Rng) => rng.pick(KEYS);
const port = (rng: Rng) => rng.range(1025, 64999);
const dir = (rng: Rng) => rng.pick(['/etc', '/srv', '/opt', '/var/lib', '/usr/local/etc', '/data']);
/** A value that is not a whole number: `12x`, `64k`, `auto`, `2.5`. */
const junk = (rng: Rng) => rng.pick([`${rng.range(1, 999)}x`, `${rng.range(1, 99)}k`, 'auto', 'eight', `${rng.range(1, 9)}.${rng.range(0, 9)}`, 'none', `${rng.range(1, 9)}m`, 'max']);
/** A missing file: `/etc/billing/rates.dat`. */
const missing = (rng: Rng, names: readonly string[], exts: readonly string[]) => `${dir(rng)}/${app(rng)}${rng.pick(['', `-${word(rng)}`, `/${word(rng)}`])}/${rng.pick(names)}${rng.pick(['', `-${rng.range(1, 31)}`])}.${rng.pick(exts)}`;
const pad = (rng: Rng, line: string, max = 4) => line.repeat(rng.int(max + 1));
const camel = (rng: Rng) => rng.pick(['total', 'retries', 'maxConns', 'poolSize', 'shardCount', 'upstreamUrl', 'drainTimeout', 'batchSize', 'regionId', 'cacheTtl']);
const snake = (rng: Rng) => rng.pick(['total', 'retries', 'max_conns', 'pool_size', 'shard_count', 'upstream_url', 'drain_timeout', 'batch_size', 'region_id', 'cache_ttl']);

// ---- nginx: `nginx -t` of a site configuration ----
function nginxConf(rng: Rng, parts: { http?: string; server?: string; last?: string }): Inst {
  const a = app(rng);
  const server = [
    `        listen ${rng.pick([80, 8080, 8443, port(rng)])};`,
    `        server_name ${a}.${rng.pick(['example.com', 'internal', 'corp.example'])};`,
    ...(rng.int(2) === 0 ? [`        root /srv/${a}/public;`] : []),
    ...(parts.server ? [`        ${parts.server}`] : []),
    `        location / {`,
    `            ${rng.pick([`proxy_pass http://127.0.0.1:${port(rng)};`, 'try_files $uri $uri/ =404;', `return 200 "${word(rng)}";`])}`,
    `        }`,
    ...(parts.last ? [`        ${parts.last}`] : []),
  ];
  const conf = [
    'pid nginx.pid;',
    ...(rng.int(2) === 0 ? [`worker_processes ${rng.pick(['auto', '2', '4'])};`] : []),
    'events {',
    `    worker_connections ${rng.pick([512, 1024, 4096])};`,
    '}',
    'http {',
    ...(rng.int(2) === 0 ? ['    sendfile on;', `    keepalive_timeout ${rng.range(5, 75)};`] : []),
    ...(parts.http ? [`    ${parts.http}`] : []),
    '    server {',
    ...server,
    '    }',
    '}',
    '',
  ].join('\n');
  const errLog = rng.pick([' -e stderr', ' -e stderr', '', ' -q -e stderr']);
  return { files: { 'ngx/nginx.conf': conf }, command: `nginx -t -p ${ROOT}/ngx/ -c ${ROOT}/ngx/nginx.conf${errLog}`, step: 'check-proxy' };
}

// ---- haproxy: `haproxy -c -f` of a configuration ----
function haproxyConf(rng: Rng, opts: { timeout?: string; defaultBackend?: (b: string) => string; serverOpt?: string; serverAddr?: string }): Inst {
  const a = app(rng);
  const backend = `${a}${rng.pick(['', '_pool', '_servers', '-api'])}`;
  const n = rng.range(1, 3);
  const servers = Array.from({ length: n }, (_, i) => `    server ${a}${i + 1} ${i === 0 && opts.serverAddr ? opts.serverAddr : `127.0.0.${i + 1}`}:${rng.range(8000, 9999)} check${i === n - 1 && opts.serverOpt ? ` ${opts.serverOpt}` : ''}`);
  const conf = [
    'global',
    `    maxconn ${rng.pick([256, 2000, 4096])}`,
    ...(rng.int(2) === 0 ? ['    log stdout format raw local0'] : []),
    '',
    'defaults',
    '    mode http',
    `    timeout connect ${opts.timeout ?? `${rng.range(2, 10)}s`}`,
    `    timeout client ${rng.range(10, 60)}s`,
    `    timeout server ${rng.range(10, 60)}s`,
    '',
    `frontend ${a}_front`,
    `    bind 127.0.0.1:${port(rng)}`,
    `    default_backend ${opts.defaultBackend ? opts.defaultBackend(backend) : backend}`,
    '',
    `backend ${backend}`,
    `    balance ${rng.pick(['roundrobin', 'leastconn'])}`,
    ...servers,
    '',
  ].join('\n');
  const file = `${rng.pick(['haproxy', a, 'lb'])}.cfg`;
  return { files: { [file]: conf }, command: `haproxy -c -f ${file}`, step: 'check-lb' };
}

// ---- gfortran ----
const fortran = (body: string[]) => ['program report', '  implicit none', ...body, 'end program report', ''].join('\n');

// ---- ImageMagick ----
const imgName = (rng: Rng) => `${rng.pick(['banner', 'logo', 'avatar', 'hero', 'thumb', 'product'])}-${rng.range(1, 999)}`;

// ---- ansible ----
const ansibleEnv = { ANSIBLE_LOCAL_TEMP: `${ROOT}/.ansible/tmp`, ANSIBLE_HOME: `${ROOT}/.ansible`, ANSIBLE_RETRY_FILES_ENABLED: 'false', LANG: 'C.UTF-8' };
const ansibleRun = (rng: Rng, file: string) => `ansible-playbook ${rng.pick(['-i localhost, -c local ', '-c local ', '-i localhost, -c local -v '])}${file}`;
const playHead = (rng: Rng) => [`- name: ${app(rng)} ${rng.pick(['deploy', 'rollout', 'config'])}`, '  hosts: localhost', '  gather_facts: false'];

// ---- Clojure, Elixir, Prolog, C# ----
const libName = (rng: Rng) => rng.pick(['cheshire.core', 'clj-http.client', 'next.jdbc', 'clj-yaml.core', 'taoensso.timbre', 'ring.adapter.jetty']);

const CAUSES: Cause[] = [
  // ---- nginx ----
  {
    id: 'nginx-module-directive',
    program: 'nginx',
    fix: 'install (load) the nginx module that provides the directive',
    expect: /unknown directive/,
    make: (rng) => nginxConf(rng, { server: rng.pick(['brotli on;', `brotli_comp_level ${rng.range(1, 11)};`, 'more_set_headers "Server: edge";', 'more_clear_headers X-Powered-By;', `vhost_traffic_status_filter_by_host on;`, `lua_code_cache ${rng.pick(['on', 'off'])};`, `geoip2_proxy_recursive on;`]) }),
  },
  {
    id: 'nginx-upstream-host',
    program: 'nginx',
    fix: 'fix the upstream server name (it does not resolve)',
    expect: /host not found in upstream/,
    make: (rng) => {
      const a = app(rng);
      return nginxConf(rng, { http: `upstream ${a}_backend { server ${a}-${rng.pick(['api', 'app', 'svc', 'web'])}${rng.pick(['', `-${rng.range(1, 9)}`])}.${rng.pick(['internal', 'svc.cluster.local', 'corp.example'])}:${rng.range(3000, 9999)}; }` });
    },
  },
  {
    id: 'nginx-listen-value',
    program: 'nginx',
    fix: 'give the listen directive a port number',
    expect: /of the "listen" directive/,
    make: (rng) => nginxConf(rng, { server: `listen ${rng.pick([`${rng.range(80, 9999)}${rng.pick(['x', 's', 'ssl'])}`, `${junk(rng)}`, `http${rng.range(1, 9)}`])};` }),
  },
  {
    id: 'nginx-include-missing',
    program: 'nginx',
    fix: 'create the included configuration file',
    expect: /open\(\) ".*" failed \(2: No such file or directory\)/,
    make: (rng) => nginxConf(rng, { http: `include /etc/nginx/${rng.pick(['sites-enabled', 'conf.d', 'snippets', 'upstreams'])}/${app(rng)}${rng.pick(['', '-' + word(rng)])}.conf;` }),
  },
  {
    id: 'nginx-missing-semicolon',
    program: 'nginx',
    fix: 'end the last directive of the block with a semicolon',
    expect: /unexpected "\}"/,
    make: (rng) => nginxConf(rng, { last: rng.pick([`client_max_body_size ${rng.range(1, 64)}m`, `add_header X-Request-Id $request_id`, `access_log off`, `gzip on`, `proxy_read_timeout ${rng.range(5, 300)}s`]) }),
  },
  // ---- haproxy ----
  {
    id: 'haproxy-backend-missing',
    program: 'haproxy',
    fix: 'name an existing backend in default_backend',
    expect: /unable to find required default_backend/,
    make: (rng) => haproxyConf(rng, { defaultBackend: (b) => rng.pick([`${b}s`, `${b}_v2`, `${b.replace(/[_-].*/, '')}_backend`, `${b}-${word(rng)}`]) }),
  },
  {
    id: 'haproxy-server-keyword',
    program: 'haproxy',
    fix: 'correct the misspelt server option',
    expect: /unknown keyword '\w+'/,
    make: (rng) => haproxyConf(rng, { serverOpt: rng.pick(['chek', `wieght ${rng.range(1, 100)}`, `maxcon ${rng.range(10, 999)}`, `rsie ${rng.range(1, 5)}`, `fal ${rng.range(1, 5)}`, `inetr ${rng.range(1, 9)}s`]) }),
  },
  {
    id: 'haproxy-timeout-unit',
    program: 'haproxy',
    fix: 'write the timeout with a valid unit (ms, s, m, h)',
    expect: /unexpected character '.' in 'timeout connect'/,
    make: (rng) => haproxyConf(rng, { timeout: `${rng.range(1, 60)}${rng.pick(['x', 'k', 'n', 'y', 'z', 'w', 'xs'])}` }),
  },
  {
    id: 'haproxy-server-resolve',
    program: 'haproxy',
    fix: 'fix the backend server host name (it does not resolve)',
    expect: /could not resolve address/,
    make: (rng) => haproxyConf(rng, { serverAddr: `${app(rng)}-${rng.pick(['db', 'api', 'node', 'app'])}${rng.pick(['', `-${rng.range(1, 9)}`])}.${rng.pick(['internal', 'svc.cluster.local', 'corp.example', 'lan'])}` }),
  },
  // ---- gfortran: a compile error and runtime errors of built programs ----
  {
    id: 'fortran-implicit',
    program: 'gfortran',
    fix: 'declare the variable (implicit none is on)',
    expect: /has no IMPLICIT type/,
    make: (rng) => {
      const v = snake(rng);
      const src = fortran(['  integer :: n', ...pad(rng, '  ! computed below\n', 3).split('\n').filter(Boolean), `  n = ${v} ${rng.pick(['+', '*', '-'])} ${rng.range(1, 99)}`, '  print *, n']);
      const file = `${rng.pick(['report', 'totals', 'rates', 'sim'])}.f90`;
      return { files: { [file]: src }, command: `gfortran ${rng.pick(['', '-O2 ', '-g -Wall '])}-o report ${file}`, step: 'compile' };
    },
  },
  {
    id: 'fortran-open-missing',
    program: 'gfortran',
    fix: 'create the input data file the program opens',
    expect: /Fortran runtime error: Cannot open file/,
    make: (rng) => {
      const path = missing(rng, ['rates', 'input', 'grid', 'weights', 'samples'], ['dat', 'txt', 'csv']);
      const src = fortran(['  integer :: n, u', `  print *, "reading ${basename(path)}"`, `  open(newunit=u, file="${path}", status="old", action="read")`, '  read(u, *) n', '  print *, n']);
      return { files: { 'report.f90': src }, command: `gfortran -g -o report report.f90 && ./report`, step: 'simulate' };
    },
  },
  {
    id: 'fortran-bad-integer',
    program: 'gfortran',
    fix: 'pass a whole number as the first argument',
    expect: /Bad integer for item 1 in list input/,
    make: (rng) => {
      const src = fortran(['  integer :: n', '  character(len=32) :: arg', '  call get_command_argument(1, arg)', '  read(arg, *) n', '  print *, n * 2']);
      return { files: { 'steps.f90': src }, command: `gfortran -g -o steps steps.f90 && ./steps ${shq(junk(rng))}`, step: 'simulate' };
    },
  },
  {
    id: 'fortran-bounds',
    program: 'gfortran',
    fix: 'size the array for the number of cells (the index is past its end)',
    expect: /above upper bound of \d+/,
    make: (rng) => {
      const size = rng.range(2, 16);
      const src = fortran([`  integer :: cells(${size}), i, k`, '  character(len=16) :: arg', '  call get_command_argument(1, arg)', '  read(arg, *) k', '  do i = 1, k', '    cells(i) = i * 2', '  end do', '  print *, sum(cells)']);
      return { files: { 'grid.f90': src }, command: `gfortran -g -fcheck=bounds -o grid grid.f90 && ./grid ${size + rng.range(1, 20)}`, step: 'simulate' };
    },
  },
  // ---- Elixir ----
  {
    id: 'elixir-file-missing',
    program: 'elixir',
    fix: 'create the file the script reads',
    expect: /\(File\.Error\) could not read file/,
    make: (rng) => {
      const path = missing(rng, ['rates', 'routes', 'config', 'seeds', 'tenants'], ['exs', 'json', 'txt', 'csv']);
      return rng.int(2) === 0
        ? { command: `elixir -e ${shq(`File.read!("${path}") |> IO.puts`)}`, step: 'load' }
        : { files: { 'load.exs': `IO.puts("loading ${app(rng)}")\n${pad(rng, '# seed data\n', 2)}data = File.read!("${path}")\nIO.puts(byte_size(data))\n` }, command: 'elixir load.exs', step: 'load' };
    },
  },
  {
    id: 'elixir-not-integer',
    program: 'elixir',
    fix: 'set the environment variable to a whole number',
    expect: /not a textual representation of an integer/,
    make: (rng) => {
      const v = rng.pick(['WORKERS', 'POOL_SIZE', 'PORT', 'BATCH', 'SHARDS']);
      return { files: { 'boot.exs': `IO.puts("booting")\nn = String.to_integer(System.get_env("${v}", "1"))\nIO.puts("#{n} workers")\n` }, command: 'elixir boot.exs', step: 'boot', env: { [v]: junk(rng) } };
    },
  },
  {
    id: 'elixir-key-missing',
    program: 'elixir',
    fix: 'add the key to the configuration map',
    expect: /\(KeyError\) key :\w+ not found/,
    make: (rng) => {
      const have = rng.pick(['region', 'pool', 'host', 'port']);
      const want = rng.pick(['replicas', 'timeout', 'bucket', 'queue', 'tenant', 'shards']);
      const access = rng.pick([`Map.fetch!(cfg, :${want})`, `cfg.${want}`, `Keyword.fetch!(Map.to_list(cfg), :${want})`]);
      return { files: { 'cfg.exs': `cfg = %{${have}: "${word(rng)}", pool_size: ${rng.range(1, 64)}}\nIO.puts("config loaded")\nIO.inspect(${access})\n` }, command: 'elixir cfg.exs', step: 'boot' };
    },
  },
  {
    id: 'elixir-module-missing',
    program: 'elixir',
    fix: 'add the library to the project dependencies (the module is not available)',
    expect: /\(module \w+(\.\w+)* is not available\)/,
    make: (rng) => {
      const call = rng.pick(['Jason.decode!("{}")', 'HTTPoison.get!("http://127.0.0.1/")', 'YamlElixir.read_from_file("app.yml")', 'Tesla.get("http://127.0.0.1/")', 'Poison.encode!(%{a: 1})', 'Timex.now()']);
      return { files: { 'job.exs': `IO.puts("job ${app(rng)} ${version(rng)}")\n${call}\n` }, command: 'elixir job.exs', step: 'load' };
    },
  },
  // ---- Clojure ----
  {
    id: 'clj-file-missing',
    program: 'clojure',
    fix: 'create the data file the program reads',
    expect: /\(No such file or directory\)/,
    make: (rng) => ({ files: { 'main.clj': `(println "loading ${app(rng)}")\n(def routes (slurp "${missing(rng, ['routes', 'config', 'rules', 'tenants'], ['edn', 'json', 'txt'])}"))\n(println (count routes))\n` }, command: 'clojure main.clj', step: 'load' }),
  },
  {
    id: 'clj-number-format',
    program: 'clojure',
    fix: 'set the variable to a whole number',
    expect: /NumberFormatException/,
    make: (rng) => {
      const v = rng.pick(['PORT', 'THREADS', 'BATCH_SIZE', 'SHARDS']);
      return { files: { 'main.clj': `(def n (Long/parseLong (System/getenv "${v}")))\n(println "threads" n)\n` }, command: 'clojure main.clj', step: 'start', env: { [v]: junk(rng) } };
    },
  },
  {
    id: 'clj-unresolved-symbol',
    program: 'clojure',
    fix: 'define (or require) the function before calling it',
    expect: /Unable to resolve symbol/,
    make: (rng) => {
      const fn = rng.pick(['fetch-rows', 'load-config', 'parse-hosts', 'open-pool', 'render-report', 'sync-accounts']);
      return { files: { 'main.clj': `(ns ${app(rng)}.main)\n${pad(rng, '\n', 3)}(defn -main [] (println (${fn} "${word(rng)}")))\n(-main)\n` }, command: 'clojure main.clj', step: 'start' };
    },
  },
  {
    id: 'clj-lib-missing',
    program: 'clojure',
    fix: 'add the library to the classpath (deps)',
    expect: /Could not locate .* on classpath/,
    make: (rng) => ({ files: { 'main.clj': `(ns ${app(rng)}.main\n  (:require [${libName(rng)} :as x]))\n(println "ok")\n` }, command: 'clojure main.clj', step: 'start' }),
  },
  // ---- Ant ----
  {
    id: 'ant-copy-missing',
    program: 'ant',
    fix: 'create the file the build copies',
    expect: /Could not find file .* to copy/,
    make: (rng) => {
      const a = app(rng);
      const file = `conf/${a}${rng.pick(['', '-' + word(rng)])}.${rng.pick(['properties', 'xml', 'yml'])}`;
      return { files: { 'build.xml': `<project name="${a}" default="dist">\n  <target name="init"><mkdir dir="build"/></target>\n  <target name="dist" depends="init">\n    <echo message="packaging ${a} ${version(rng)}"/>\n    <copy file="${file}" todir="build"/>\n  </target>\n</project>\n` }, command: `ant${rng.pick(['', ' -q', ' dist'])}`, step: 'package' };
    },
  },
  {
    id: 'ant-target-missing',
    program: 'ant',
    fix: 'call a target the build file defines',
    expect: /Target ".*" does not exist in the project/,
    make: (rng) => {
      const a = app(rng);
      return { files: { 'build.xml': `<project name="${a}" default="dist">\n  <target name="dist"><echo message="dist"/></target>\n  <target name="test"><echo message="test"/></target>\n</project>\n` }, command: `ant ${rng.pick(['package', 'deploy', 'release', 'jar', 'dist-all', 'publish'])}`, step: 'package' };
    },
  },
  {
    id: 'ant-exec-missing',
    program: 'ant',
    fix: 'install the program the build runs',
    expect: /Execute failed: java\.io\.IOException: Cannot run program/,
    make: (rng) => {
      const a = app(rng);
      const tool = rng.pick(['yarn', 'sass', 'closure-compiler', 'protoc-gen-grpc', 'upx', 'pngquant']);
      return { files: { 'build.xml': `<project name="${a}" default="assets">\n  <target name="assets">\n    <echo message="building assets"/>\n    <exec executable="${tool}" failonerror="true"><arg value="${rng.pick(['build', '--version', 'src'])}"/></exec>\n  </target>\n</project>\n` }, command: 'ant', step: 'package' };
    },
  },
  // ---- SWI-Prolog ----
  {
    id: 'prolog-unknown-procedure',
    program: 'swipl',
    fix: 'consult the file that defines the predicate',
    expect: /Unknown procedure/,
    make: (rng) => ({ files: { 'rules.pl': `:- initialization(main, main).\n${pad(rng, '% rules\n', 3)}main :- ${rng.pick(['load_rules', 'check_quota', 'route_for', 'tenant_limit'])}("${word(rng)}", X), writeln(X).\n` }, command: 'swipl rules.pl', step: 'evaluate' }),
  },
  {
    id: 'prolog-file-missing',
    program: 'swipl',
    fix: 'create the facts file the program opens',
    expect: /source_sink .* does not exist/,
    make: (rng) => ({ files: { 'rules.pl': `:- initialization(main, main).\nmain :- open("${missing(rng, ['facts', 'quotas', 'routes'], ['pl', 'txt'])}", read, S), read(S, T), writeln(T).\n` }, command: 'swipl rules.pl', step: 'evaluate' }),
  },
  {
    id: 'prolog-goal-failed',
    program: 'swipl',
    fix: 'add the service to the port facts (main fails for an unknown service)',
    expect: /user:main: false/,
    make: (rng) => {
      const facts = ['web', 'api', 'worker'].map((s) => `port(${s}, ${port(rng)}).`).join('\n');
      return { files: { 'ports.pl': `:- initialization(main, main).\n${facts}\nmain :- port(${rng.pick(['billing', 'cache', 'search', 'ingest', 'mailer'])}, P), format("port ~w~n", [P]).\n` }, command: 'swipl ports.pl', step: 'evaluate' };
    },
  },
  // ---- C# (Mono): compile errors and runtime exceptions ----
  {
    id: 'cs-name-missing',
    program: 'mcs',
    fix: 'declare the variable the code uses',
    expect: /error CS0103/,
    make: (rng) => ({ files: { 'App.cs': `using System;\n${pad(rng, '\n', 3)}class App {\n  static void Main() {\n    Console.WriteLine(${camel(rng)} ${rng.pick(['+', '*'])} ${rng.range(1, 9)});\n  }\n}\n` }, command: 'mcs App.cs', step: 'build' }),
  },
  {
    id: 'cs-namespace-missing',
    program: 'mcs',
    fix: 'reference the assembly of the namespace (-r:)',
    expect: /error CS0246/,
    make: (rng) => ({ files: { 'App.cs': `using System;\nusing ${rng.pick(['Newtonsoft.Json', 'Dapper', 'Serilog', 'StackExchange.Redis', 'Npgsql', 'YamlDotNet.Serialization'])};\nclass App { static void Main() { Console.WriteLine("ok"); } }\n` }, command: 'mcs App.cs', step: 'build' }),
  },
  {
    id: 'cs-directory-missing',
    program: 'mono',
    fix: 'create the configuration directory and file the program reads',
    expect: /DirectoryNotFoundException: Could not find a part of the path/,
    make: (rng) => ({ files: { 'App.cs': `using System;\nusing System.IO;\nclass App {\n  static void Main() {\n    Console.WriteLine("reading settings");\n    Console.WriteLine(File.ReadAllText("${dir(rng)}/${app(rng)}-${rng.range(1, 99)}/${rng.pick(['appsettings.json', 'app.config', 'settings.xml'])}"));\n  }\n}\n` }, command: 'mcs App.cs && mono App.exe', step: 'run' }),
  },
  {
    id: 'cs-format',
    program: 'mono',
    fix: 'pass a whole number as the argument',
    expect: /System\.FormatException/,
    make: (rng) => ({ files: { 'App.cs': `using System;\nclass App {\n  static void Main(string[] a) {\n    int n = int.Parse(a[0]);\n    Console.WriteLine("batch " + n);\n  }\n}\n` }, command: `mcs App.cs && mono App.exe ${shq(junk(rng))}`, step: 'run' }),
  },
  // ---- ImageMagick ----
  {
    id: 'im-input-missing',
    program: 'convert',
    fix: 'put the source image in place',
    expect: /unable to open image/,
    make: (rng) => ({ command: `convert ${rng.pick(['/srv/media', '/var/www/uploads', '/data/assets'])}/${app(rng)}/${imgName(rng)}.${rng.pick(['png', 'jpg', 'gif'])} -resize ${rng.range(16, 512)}x ${imgName(rng)}.${rng.pick(['jpg', 'webp', 'png'])}`, step: 'thumbnails' }),
  },
  {
    id: 'im-policy',
    program: 'convert',
    fix: 'allow the document coder in ImageMagick\'s policy.xml',
    expect: /not allowed by the security policy/,
    make: (rng) => {
      const ext = rng.pick(['pdf', 'pdf', 'eps', 'ps']);
      const name = `${rng.pick(['invoice', 'report', 'statement', 'label'])}-${rng.range(1000, 99999)}.${ext}`;
      return { files: { [name]: ext === 'pdf' ? '%PDF-1.4\n%EOF\n' : '%!PS-Adobe-3.0\nshowpage\n' }, command: `convert ${rng.pick(['-density 150 ', ''])}${name} ${name.replace(/\.\w+$/, '')}.${rng.pick(['png', 'jpg'])}`, step: 'previews' };
    },
  },
  {
    id: 'im-bad-header',
    program: 'convert',
    fix: 'upload the image again (the file is not a PNG)',
    expect: /improper image header/,
    make: (rng) => {
      const name = `${imgName(rng)}.png`;
      return { files: { [name]: rng.pick(['Access Denied\n', 'not found\n', '{"error":"expired"}\n', '\n', 'PK\n']) }, command: `convert ${name} -resize ${rng.range(16, 512)}x${rng.range(16, 512)} thumb-${name}`, step: 'thumbnails' };
    },
  },
  // ---- 7-Zip ----
  {
    id: '7z-archive-missing',
    program: '7z',
    fix: 'fetch the archive before extracting it',
    expect: /errno=2 : No such file or directory/,
    make: (rng) => ({ command: `7zz x ${rng.pick(['/srv/backup', '/var/backups', '/data/releases'])}/${app(rng)}-${rng.range(2019, 2026)}${rng.pick(['', `-${rng.range(1, 12)}`])}.7z -o${rng.pick(['restore', 'build', 'out'])}${rng.pick(['', ' -y'])}`, step: 'restore' }),
  },
  {
    id: '7z-wrong-password',
    program: '7z',
    fix: 'use the archive\'s password',
    expect: /Wrong password/,
    make: (rng) => {
      const f = `${app(rng)}.${rng.pick(['sql', 'csv', 'json'])}`;
      return { command: `echo ${rng.alnum(12)} > ${f} && 7zz a -p${rng.alnum(10)} ${rng.pick(['-mhe=off ', ''])}dump.7z ${f} > /dev/null && rm ${f} && 7zz x -p${rng.alnum(8)} dump.7z -orestore`, step: 'restore' };
    },
  },
  {
    id: '7z-not-archive',
    program: '7z',
    fix: 'download the archive again (the file is not an archive)',
    expect: /Cannot open the file as \[7z\] archive|Is not archive/,
    make: (rng) => {
      const name = `${app(rng)}-${version(rng)}.7z`;
      return { files: { [name]: rng.pick(['<html>404 Not Found</html>\n', 'Not Found', '{"message":"expired"}\n', 'x'.repeat(rng.range(1, 300))]) }, command: `7zz x ${name} -orelease`, step: 'restore' };
    },
  },
  {
    id: '7z-output-dir',
    program: '7z',
    fix: 'extract into a directory the job may write',
    expect: /Cannot create output directory/,
    make: (rng) => {
      const f = `${app(rng)}.conf`;
      return { command: `echo ${word(rng)} > ${f} && 7zz a bundle.7z ${f} > /dev/null && 7zz x bundle.7z -o${rng.pick(['/var/lib', '/opt', '/usr/local/share', '/etc'])}/${app(rng)}${rng.pick(['', '/current', `/${version(rng)}`])}`, step: 'restore' };
    },
  },
  // ---- etcd client ----
  {
    id: 'etcd-unreachable',
    program: 'etcdctl',
    fix: 'start etcd (or point --endpoints at a running member)',
    expect: /context deadline exceeded/,
    make: (rng) => ({ command: `ETCDCTL_API=3 etcdctl --endpoints=${rng.pick(['', 'http://'])}127.0.0.1:${rng.pick([2379, 2379, 12379, port(rng)])} --dial-timeout=${rng.range(1, 2)}s ${rng.pick([`get /${app(rng)}/config`, `put /${app(rng)}/${key(rng)} ${word(rng)}`, 'endpoint health', `get --prefix /${app(rng)}/`])}`, step: 'publish-config' }),
  },
  {
    id: 'etcd-cacert-missing',
    program: 'etcdctl',
    fix: 'install the CA certificate the client is given',
    expect: /Error: open .*: no such file or directory/,
    make: (rng) => ({ command: `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${rng.pick(['/etc/etcd/pki', '/etc/kubernetes/pki/etcd', '/etc/ssl/etcd'])}/${rng.pick(['ca.pem', 'ca.crt', 'etcd-ca.crt'])} ${rng.pick([`get /${app(rng)}/config`, 'member list', `put /${app(rng)}/${key(rng)} ${word(rng)}`])}`, step: 'publish-config' }),
  },
  // ---- LDAP clients ----
  {
    id: 'ldap-unreachable',
    program: 'ldap-utils',
    fix: 'start the directory server (or use its address)',
    expect: /Can't contact LDAP server/,
    make: (rng) => ({ command: `ldapsearch -x -H ldap://${rng.pick(['127.0.0.1', 'localhost', `ldap.${rng.pick(['corp.example', 'internal'])}`])}:${rng.pick([389, 389, 636, port(rng)])} -b ${shq(`ou=${rng.pick(['people', 'groups', 'hosts'])},dc=${rng.pick(['example', 'corp', 'acme'])},dc=com`)} ${shq(`(uid=${rng.pick(['jdoe', 'asmith', 'svc-' + app(rng)])})`)}`, step: 'lookup-users' }),
  },
  {
    id: 'ldap-bad-uri',
    program: 'ldap-utils',
    fix: 'write the LDAP URI with a numeric port',
    expect: /Could not parse LDAP URI/,
    make: (rng) => ({ command: `ldapsearch -x -H ldap://127.0.0.1:${rng.pick([`${rng.range(1, 999)}x`, 'ldap', 'auto', `${rng.range(1, 9)}k`])} -b dc=example,dc=com ${shq('(objectClass=person)')}`, step: 'lookup-users' }),
  },
  {
    id: 'ldap-ldif-missing',
    program: 'ldap-utils',
    fix: 'generate the LDIF file before loading it',
    expect: /\.ldif: No such file or directory/,
    make: (rng) => ({ command: `${rng.pick(['ldapadd', 'ldapmodify'])} -x -H ldap://127.0.0.1:${rng.pick([389, 3890])} -D cn=admin,dc=example,dc=com -w ${rng.alnum(8)} -f ${rng.pick(['/srv/ldap', '/tmp/import', 'ldif'])}/${app(rng)}-${rng.pick(['users', 'groups', 'acl'])}.ldif`, step: 'load-users' }),
  },
  // ---- MQTT client ----
  {
    id: 'mqtt-refused',
    program: 'mosquitto_pub',
    fix: 'start the MQTT broker (nothing listens on the port)',
    expect: /Error: Connection refused/,
    make: (rng) => ({ command: `mosquitto_pub -h 127.0.0.1 -p ${rng.pick([1883, 8883, port(rng)])} -t ${app(rng)}/${rng.pick(['events', 'metrics', 'alerts'])} -m ${shq(`{"host":"${word(rng)}","v":${rng.range(1, 999)}}`)}${rng.pick(['', ' -q 1', ' -r'])}`, step: 'notify' }),
  },
  {
    id: 'mqtt-lookup',
    program: 'mosquitto_pub',
    fix: 'fix the broker host name (it does not resolve)',
    expect: /Lookup error/,
    make: (rng) => ({ command: `mosquitto_pub -h ${rng.pick(['mqtt', 'broker', 'mq'])}.${rng.pick(['corp.example', 'internal', 'iot.example.net'])} -t ${app(rng)}/events -m ${shq(word(rng))}`, step: 'notify' }),
  },
  {
    id: 'mqtt-payload-missing',
    program: 'mosquitto_pub',
    fix: 'create the payload file before publishing it',
    expect: /Error loading input file/,
    make: (rng) => ({ command: `mosquitto_pub -h 127.0.0.1 -t ${app(rng)}/config -f ${missing(rng, ['payload', 'state', 'snapshot'], ['json', 'bin'])}`, step: 'notify' }),
  },
  // ---- ApacheBench ----
  {
    id: 'ab-refused',
    program: 'ab',
    fix: 'start the service before benchmarking it',
    expect: /Connection refused \(111\)/,
    make: (rng) => ({ command: `ab -n ${rng.range(10, 5000)} -c ${rng.range(1, 10)}${rng.pick(['', ' -k', ' -q'])} http://127.0.0.1:${port(rng)}/${rng.pick(['', 'health', 'api/v1/ping', 'index.html'])}`, step: 'load-test' }),
  },
  {
    id: 'ab-url-path',
    program: 'ab',
    fix: 'end the URL with a path (at least /)',
    expect: /ab: invalid URL/,
    make: (rng) => ({ command: `ab -n ${rng.range(10, 5000)} -c ${rng.range(1, 10)} http://${rng.pick(['127.0.0.1', 'localhost'])}:${port(rng)}`, step: 'load-test' }),
  },
  {
    id: 'ab-concurrency',
    program: 'ab',
    fix: 'make the request count at least the concurrency',
    expect: /Cannot use concurrency level greater than total number of requests/,
    make: (rng) => {
      const n = rng.range(1, 100);
      return { command: `ab -n ${n} -c ${n + rng.range(1, 400)} http://127.0.0.1:${port(rng)}/`, step: 'load-test' };
    },
  },
  // ---- protoc ----
  {
    id: 'protoc-import-missing',
    program: 'protoc',
    fix: 'add the imported proto file (or its include path)',
    expect: /was not found or had errors/,
    make: (rng) => {
      const t = rng.pick(['Money', 'Timestamp2', 'Address', 'Tenant', 'Region']);
      const file = `${rng.pick(['billing', 'orders', 'ledger', 'inventory'])}.proto`;
      return { files: { [`proto/${file}`]: `syntax = "proto3";\npackage ${app(rng)};\n${pad(rng, '\n', 2)}import "${rng.pick(['common', 'shared', 'types'])}/${t.toLowerCase()}.proto";\n\nmessage Record {\n  string id = 1;\n  ${t} value = 2;\n}\n` }, command: `protoc -Iproto --${rng.pick(['python', 'cpp', 'java'])}_out=. proto/${file}`, step: 'codegen' };
    },
  },
  {
    id: 'protoc-type-undefined',
    program: 'protoc',
    fix: 'define (or import) the message type a field uses',
    expect: /^(?![\s\S]*was not found)[\s\S]*" is not defined/,
    make: (rng) => {
      const file = `${rng.pick(['billing', 'orders', 'ledger', 'inventory'])}.proto`;
      return { files: { [`proto/${file}`]: `syntax = "proto3";\npackage ${app(rng)};\n${pad(rng, '\n', 2)}message Item {\n  string sku = 1;\n}\n\nmessage Record {\n  string id = 1;\n  ${rng.pick(['Amount', 'Items', 'LineItem', 'Price', 'Customer'])} ${rng.pick(['total', 'lines', 'owner'])} = ${rng.range(2, 9)};\n}\n` }, command: `protoc -Iproto --${rng.pick(['python', 'cpp', 'java'])}_out=. proto/${file}`, step: 'codegen' };
    },
  },
  {
    id: 'protoc-field-number',
    program: 'protoc',
    fix: 'give each field its own number',
    expect: /Field number \d+ has already been used/,
    make: (rng) => {
      const file = `${rng.pick(['billing', 'orders', 'ledger', 'inventory'])}.proto`;
      const n = rng.range(1, 5);
      return { files: { [`proto/${file}`]: `syntax = "proto3";\npackage ${app(rng)};\n\nmessage Record {\n  string id = ${n};\n  ${rng.pick(['int64', 'string', 'bool'])} ${rng.pick(['total', 'owner', 'region', 'active'])} = ${n};\n}\n` }, command: `protoc -Iproto --${rng.pick(['python', 'cpp', 'java'])}_out=. proto/${file}`, step: 'codegen' };
    },
  },
  // ---- Jsonnet ----
  {
    id: 'jsonnet-field-missing',
    program: 'jsonnet',
    fix: 'add the field to the configuration object',
    expect: /field does not exist/,
    make: (rng) => {
      const have = key(rng);
      const want = rng.pick(['replicas', 'image_tag', 'cpu_limit', 'namespace', 'team']);
      return { files: { 'app.jsonnet': `local cfg = { ${have}: "${word(rng)}", port: ${port(rng)} };\n${pad(rng, '// generated\n', 2)}{\n  name: "${app(rng)}",\n  ${want}: cfg.${want},\n}\n` }, command: `jsonnet app.jsonnet${rng.pick(['', ' -o out.json'])}`, step: 'render' };
    },
  },
  {
    id: 'jsonnet-import-missing',
    program: 'jsonnet',
    fix: 'vendor the imported library (or add its -J path)',
    expect: /couldn't open import/,
    make: (rng) => ({ files: { 'app.jsonnet': `local lib = import "${rng.pick(['lib', 'vendor', 'jsonnetfile'])}/${rng.pick(['k8s', 'grafana', app(rng)])}.libsonnet";\n{\n  deployment: lib.${rng.pick(['deployment', 'new', 'dashboard'])}("${app(rng)}"),\n}\n` }, command: 'jsonnet app.jsonnet', step: 'render' }),
  },
  {
    id: 'jsonnet-not-integer',
    program: 'jsonnet',
    fix: 'pass a whole number in the external variable',
    expect: /is not a base 10 integer/,
    make: (rng) => {
      const v = rng.pick(['PORT', 'REPLICAS', 'SHARDS']);
      return { files: { 'app.jsonnet': `{\n  name: "${app(rng)}",\n  ${v.toLowerCase()}: std.parseInt(std.extVar("${v}")),\n}\n` }, command: `jsonnet --ext-str ${v}=${junk(rng)} app.jsonnet`, step: 'render' };
    },
  },
  {
    id: 'jsonnet-extvar-missing',
    program: 'jsonnet',
    fix: 'pass the external variable (--ext-str)',
    expect: /undefined external variable/,
    make: (rng) => {
      const v = rng.pick(['ENV', 'REGION', 'IMAGE_TAG', 'CLUSTER', 'TENANT']);
      return { files: { 'app.jsonnet': `{\n  name: "${app(rng)}",\n  ${v.toLowerCase()}: std.extVar("${v}"),\n}\n` }, command: 'jsonnet app.jsonnet', step: 'render' };
    },
  },
  // ---- Ledger ----
  {
    id: 'ledger-unbalanced',
    program: 'ledger',
    fix: 'correct the amounts so the transaction balances',
    expect: /Transaction does not balance/,
    make: (rng) => {
      const amt = rng.range(10, 9000);
      const off = rng.range(1, 99);
      const pre = rng.int(2) === 0 ? `${rng.range(2023, 2026)}/0${rng.range(1, 9)}/0${rng.range(1, 9)} Opening\n    Assets:Bank            ${rng.range(1000, 9999)}.00 USD\n    Equity:Opening\n\n` : '';
      return { files: { 'books.ledger': `${pre}${rng.range(2023, 2026)}/1${rng.range(0, 2)}/1${rng.range(0, 9)} ${rng.pick(['Hosting invoice', 'Payroll', 'Office rent', 'Refund'])}\n    Expenses:${rng.pick(['Hosting', 'Salaries', 'Rent'])}        ${amt}.00 USD\n    Assets:Bank            -${amt - off}.00 USD\n` }, command: `ledger -f books.ledger ${rng.pick(['balance', 'register', 'bal Expenses'])}`, step: 'close-books' };
    },
  },
  {
    id: 'ledger-unknown-account',
    program: 'ledger',
    fix: 'declare the account (or fix its spelling)',
    expect: /Unknown account/,
    make: (rng) => ({ files: { 'books.ledger': `account Assets:Bank\naccount Expenses:Hosting\naccount Expenses:Rent\n\n${rng.range(2023, 2026)}/0${rng.range(1, 9)}/1${rng.range(0, 9)} ${rng.pick(['Hosting invoice', 'Office rent'])}\n    Expenses:${rng.pick(['Hostnig', 'Rnet', 'Travel', 'Software'])}        ${rng.range(10, 900)}.00 USD\n    Assets:Bank\n` }, command: `ledger --pedantic -f books.ledger ${rng.pick(['balance', 'register'])}`, step: 'close-books' }),
  },
  {
    id: 'ledger-journal-missing',
    program: 'ledger',
    fix: 'fetch the journal file before reporting',
    expect: /Cannot read journal file/,
    make: (rng) => ({ command: `ledger -f ${rng.pick(['/srv/books', '/data/finance', '/var/lib/ledger'])}/${rng.range(2019, 2026)}${rng.pick(['', `-q${rng.range(1, 4)}`])}.ledger ${rng.pick(['balance', 'register', 'bal ^Assets'])}`, step: 'close-books' }),
  },
  // ---- BIND zone check ----
  {
    id: 'zone-ns-no-address',
    program: 'named-checkzone',
    fix: 'add an address record for the name server',
    expect: /has no address records/,
    make: (rng) => {
      const zone = `${app(rng)}.${rng.pick(['example.com', 'example.net', 'corp.example'])}`;
      return { files: { 'db.zone': `$TTL ${rng.pick([300, 3600, 86400])}\n@ IN SOA ns1 hostmaster ( ${rng.range(2020010101, 2026120199)} 3600 600 86400 300 )\n@ IN NS ns1\n${pad(rng, `www IN A 10.0.${rng.range(0, 9)}.${rng.range(2, 250)}\n`, 1)}mail IN A 10.0.0.${rng.range(2, 250)}\n` }, command: `named-checkzone ${zone} db.zone`, step: 'dns' };
    },
  },
  {
    id: 'zone-bad-address',
    program: 'named-checkzone',
    fix: 'write a valid IPv4 address in the A record',
    expect: /bad dotted quad/,
    make: (rng) => {
      const zone = `${app(rng)}.${rng.pick(['example.com', 'example.net', 'corp.example'])}`;
      return { files: { 'db.zone': `$TTL 3600\n@ IN SOA ns1 hostmaster ( ${rng.range(2020010101, 2026120199)} 3600 600 86400 300 )\n@ IN NS ns1\nns1 IN A 10.0.0.${rng.range(2, 250)}\n${rng.pick(['www', 'api', 'app', 'cdn'])} IN A ${rng.pick([`10.0.${rng.range(0, 9)}.${rng.range(256, 999)}`, `10.0.${rng.range(0, 9)}`, `192.168.${rng.range(0, 9)}.${rng.range(1, 9)}.${rng.range(1, 9)}`])}\n` }, command: `named-checkzone ${zone} db.zone`, step: 'dns' };
    },
  },
  {
    id: 'zone-cname-other',
    program: 'named-checkzone',
    fix: 'remove the other records of the name that has a CNAME',
    expect: /CNAME and other data/,
    make: (rng) => {
      const zone = `${app(rng)}.${rng.pick(['example.com', 'example.net', 'corp.example'])}`;
      const name = rng.pick(['www', 'api', 'app', 'cdn', 'status']);
      return { files: { 'db.zone': `$TTL 3600\n@ IN SOA ns1 hostmaster ( ${rng.range(2020010101, 2026120199)} 3600 600 86400 300 )\n@ IN NS ns1\nns1 IN A 10.0.0.${rng.range(2, 250)}\n${name} IN CNAME ${rng.pick(['lb', 'edge', 'origin'])}\n${name} IN ${rng.pick([`A 10.0.1.${rng.range(2, 250)}`, `TXT "v=${word(rng)}"`, 'MX 10 mail'])}\n` }, command: `named-checkzone ${zone} db.zone`, step: 'dns' };
    },
  },
  // ---- Ansible (the program itself, run on localhost) ----
  {
    id: 'ansible-role-missing',
    program: 'ansible-playbook',
    fix: 'install the role (ansible-galaxy) or fix the roles path',
    expect: /the role '.*' was not found/,
    make: (rng) => ({ files: { 'site.yml': [...playHead(rng), '  roles:', `    - ${rng.pick(['common', 'base'])}_${rng.pick(['setup', 'hardening'])}`, `    - ${app(rng)}_${rng.pick(['deploy', 'app', 'service'])}`, ''].join('\n'), 'roles/common_setup/tasks/main.yml': '- debug: msg=ok\n', 'roles/base_setup/tasks/main.yml': '- debug: msg=ok\n', 'roles/common_hardening/tasks/main.yml': '- debug: msg=ok\n', 'roles/base_hardening/tasks/main.yml': '- debug: msg=ok\n' }, command: ansibleRun(rng, 'site.yml'), step: 'configure', env: ansibleEnv }),
  },
  {
    id: 'ansible-undefined-var',
    program: 'ansible-playbook',
    fix: 'define the variable (group_vars or -e)',
    expect: /is undefined/,
    make: (rng) => ({ files: { 'site.yml': [...playHead(rng), '  tasks:', '    - name: prepare', '      debug:', '        msg: preparing', `    - name: render ${rng.pick(['config', 'settings', 'unit file'])}`, '      debug:', `        msg: "{{ ${app(rng)}_${rng.pick(['port', 'db_host', 'replicas', 'version'])} }}"`, ''].join('\n') }, command: ansibleRun(rng, 'site.yml'), step: 'configure', env: ansibleEnv }),
  },
  {
    id: 'ansible-yaml-indent',
    program: 'ansible-playbook',
    fix: 'indent the playbook line like its siblings',
    expect: /Syntax Error while loading YAML/,
    make: (rng) => ({ files: { 'site.yml': [...playHead(rng), '  tasks:', `    - name: ${rng.pick(['render config', 'restart service', 'copy files'])}`, '      debug:', `        msg: "${word(rng)}"`, `       ${rng.pick(['when: true', 'tags: [deploy]', 'become: false', 'register: out'])}`, ''].join('\n') }, command: ansibleRun(rng, 'site.yml'), step: 'configure', env: ansibleEnv }),
  },
  {
    id: 'ansible-module-missing',
    program: 'ansible-playbook',
    fix: 'install the collection that provides the module',
    expect: /couldn't resolve module\/action/,
    make: (rng) => ({ files: { 'site.yml': [...playHead(rng), '  tasks:', `    - name: ${rng.pick(['create database', 'open firewall', 'install packages', 'send notice'])}`, `      ${rng.pick(['community.mysql.mysql_db', 'ansible.posix.firewalld', 'community.general.npm', 'community.general.slack', 'community.postgresql.postgresql_db', 'kubernetes.core.k8s'])}:`, `        name: ${app(rng)}`, ''].join('\n') }, command: ansibleRun(rng, 'site.yml'), step: 'configure', env: ansibleEnv }),
  },
  {
    id: 'ansible-locale',
    program: 'ansible-playbook',
    fix: 'generate (install) the UTF-8 locale the job sets, or run under C.UTF-8',
    expect: /could not initialize the preferred locale/,
    make: (rng) => ({ files: { 'site.yml': [...playHead(rng), '  tasks:', `    - name: ${rng.pick(['render config', 'restart service', 'copy files'])}`, '      debug:', `        msg: "${word(rng)}"`, ''].join('\n') }, command: ansibleRun(rng, 'site.yml'), step: 'configure', env: { ...ansibleEnv, LANG: rng.pick(['en_US.UTF-8', 'de_DE.UTF-8', 'en_GB.UTF-8', 'fr_FR.UTF-8', 'ja_JP.UTF-8']) } }),
  },
  // ---- Miller ----
  {
    id: 'mlr-ragged',
    program: 'mlr',
    fix: 'repair the CSV row with a missing field',
    expect: /header\/data length mismatch/,
    make: (rng) => {
      const rows = Array.from({ length: rng.range(1, 6) }, (_, i) => `${word(rng)}-${i},${port(rng)},${rng.pick(['hz', 'sh', 'sg'])}`);
      rows.splice(rng.int(rows.length + 1), 0, `${word(rng)}-x,${port(rng)}`);
      return { files: { 'hosts.csv': `host,port,region\n${rows.join('\n')}\n` }, command: `mlr --icsv --o${rng.pick(['json', 'pprint', 'csv'])} ${rng.pick(['cat', 'sort -f host', 'head -n 2'])} hosts.csv`, step: 'report' };
    },
  },
  {
    id: 'mlr-file-missing',
    program: 'mlr',
    fix: 'fetch the CSV file before reporting',
    expect: /mlr: open .*: no such file or directory/,
    make: (rng) => ({ command: `mlr --icsv --ojson ${rng.pick(['cat', 'stats1 -a mean -f latency', 'sort -nr count'])} ${missing(rng, ['hosts', 'latency', 'usage', 'orders'], ['csv'])}`, step: 'report' }),
  },
  // ---- Sass ----
  {
    id: 'sass-undefined-var',
    program: 'sassc',
    fix: 'define the Sass variable (or import the file that does)',
    expect: /Undefined variable/,
    make: (rng) => ({ files: { 'main.scss': `${pad(rng, '// theme\n', 2)}.${rng.pick(['btn', 'header', 'card', 'nav'])} {\n  ${rng.pick(['color', 'background', 'border-color'])}: $${rng.pick(['brand-primary', 'accent', 'base-color', 'link-hover'])};\n}\n` }, command: 'sassc main.scss main.css', step: 'assets' }),
  },
  {
    id: 'sass-import-missing',
    program: 'sassc',
    fix: 'add the imported partial',
    expect: /File to import not found or unreadable/,
    make: (rng) => ({ files: { 'main.scss': `@import "${rng.pick(['partials', 'vendor', 'theme'])}/${rng.pick(['variables', 'mixins', app(rng)])}";\n.${rng.pick(['btn', 'card'])} { color: red; }\n` }, command: 'sassc main.scss main.css', step: 'assets' }),
  },
];

// ---- Shapes, in this set's own style ----

const HOLDOUT3_SHAPES = ['bare', 'tag', 'jsonl', 'gitlab', 'compose', 'fabric', 'timev', 'salt'] as const;
type Shape3 = (typeof HOLDOUT3_SHAPES)[number];
/** The label a shape has in the fixture and the bench's table: not its name (a blind test). */
const LABEL: Record<Shape3, AnyShape> = { bare: 'bare', tag: 'k1', jsonl: 'k2', gitlab: 'k3', compose: 'k4', fabric: 'k5', timev: 'k6', salt: 'k7' };

/** 2026-12-03 00:00:00 UTC plus up to a week. */
const EPOCH = 1_796_256_000;
const echo = (l: string) => `echo ${shq(l)}`;

/** The script of one instance in one shape. */
function script(shape: Shape3, inst: Inst, rng: Rng, host: string): string {
  const head = '#!/bin/bash\n';
  const start = EPOCH + rng.int(7 * 86_400);
  const cmd = inst.command;
  const a = app(rng);
  switch (shape) {
    case 'bare':
      return `${head}${cmd}\n`;
    case 'tag': {
      // GNU parallel with --tag: the step runs once per host, each line led by the host and a tab; parallel's own
      // lines when a job fails.
      return (
        `${head}cat > .step.sh <<'__STEP__'\n${cmd}\n__STEP__\n` +
        (rng.int(2) === 0 ? `${echo(`running ${inst.step} on 1 host(s)`)}\n` : '') +
        `parallel --tag ${rng.pick(['--line-buffer ', ''])}--halt now,fail=1 'bash .step.sh' ::: ${shq(host)}\n`
      );
    }
    case 'jsonl': {
      // A structured logger: every line one JSON object (time, level, host, stream, message), stdout at info and
      // stderr at error, and a closing error record with the exit code.
      const logger = `${rng.pick(['runner', 'agent', 'executor'])}.${inst.step.replace(/-/g, '_')}`;
      const jq = (level: string, stream: string) =>
        `jq -cR --unbuffered --arg h ${shq(host)} --arg lg ${shq(logger)} --argjson t0 "$__t" '{time: (($t0 + input_line_number) | todate), level: "${level}", logger: $lg, host: $h, stream: "${stream}", message: .}'`;
      return (
        `${head}__t=${start}\n` +
        `${echo(`starting ${inst.step} (${version(rng)})`)} | ${jq('info', 'stdout')}\n` +
        `exec 4> >(${jq('error', 'stderr')} >&2)\n__p=$!\n{\n${cmd}\n} 2>&4 | ${jq('info', 'stdout')}\nrc=\${PIPESTATUS[0]}\nexec 4>&-\nwait $__p\n` +
        `if [ "$rc" -ne 0 ]; then jq -cn --arg h ${shq(host)} --arg lg ${shq(logger)} --argjson rc "$rc" --argjson t "$((__t + ${rng.range(1, 90)}))" '{time: ($t | todate), level: "error", logger: $lg, host: $h, message: "step failed", step: ${JSON.stringify(inst.step)}, exit_code: $rc}'; exit "$rc"; fi\n`
      );
    }
    case 'gitlab': {
      // A GitLab runner job log: colours and `section_start`/`section_end` markers with carriage returns, the command
      // echoed after `$ `, `ERROR: Job failed: exit code N` at the end.
      const sha = rng.alnum(8).toLowerCase();
      const sec = (name: string, t: number) => `printf 'section_start:%d:${name}\\r\\033[0K' ${t}`;
      const end = (name: string, t: number) => `printf 'section_end:%d:${name}\\r\\033[0K\\n' ${t}`;
      return (
        `${head}` +
        `printf '\\033[0KRunning with gitlab-runner 16.%d.%d (%s)\\033[0;m\\n' ${rng.range(0, 11)} ${rng.range(0, 3)} ${rng.alnum(8).toLowerCase()}\n` +
        `printf '\\033[0K  on %s %s, system ID: s_%s\\033[0;m\\n' ${shq(host)} ${rng.alnum(8)} ${rng.alnum(12).toLowerCase()}\n` +
        `${sec('prepare_executor', start)}; printf '\\033[0K\\033[36;1mPreparing the "shell" executor\\033[0;m\\033[0;m\\n\\033[0KUsing Shell (bash) executor...\\033[0;m\\n'; ${end('prepare_executor', start + 1)}\n` +
        `${sec('get_sources', start + 1)}; printf '\\033[0K\\033[36;1mGetting source from Git repository\\033[0;m\\033[0;m\\n\\033[32;1mFetching changes with git depth set to 20...\\033[0;m\\nChecking out ${sha} as detached HEAD (ref is ${rng.pick(['main', 'master', 'release'])})...\\n\\033[32;1mSkipping Git submodules setup\\033[0;m\\n'; ${end('get_sources', start + 2)}\n` +
        `${sec('step_script', start + 2)}; printf '\\033[0K\\033[36;1mExecuting "step_script" stage of the job script\\033[0;m\\033[0;m\\n'\n` +
        `printf '\\033[32;1m$ %s\\033[0;m\\n' ${shq(cmd)}\n(\n${cmd}\n) 2>&1\nrc=$?\n` +
        `${end('step_script', start + rng.range(3, 40))}\n` +
        `printf '\\033[31;1mERROR: Job failed: exit code %d\\n\\033[0;m\\n' $rc\nexit $rc\n`
      );
    }
    case 'compose': {
      // `docker compose up --exit-code-from`: each service's lines led by its padded container name and ` | `, a
      // sidecar's lines interleaved, the exit line, the abort and the stop lines.
      const svc = `${a}-${inst.step}-1`;
      const side = `${a}-${rng.pick(['redis', 'cache', 'db'])}-1`;
      const w = Math.max(svc.length, side.length) + 2;
      const lab = (n: string) => n.padEnd(w);
      const sideLines = [`1:C ${rng.range(10, 28)} Dec 2026 0${rng.range(0, 9)}:${rng.range(10, 59)}:${rng.range(10, 59)}.${rng.range(100, 999)} # Server initialized`, `1:M ${rng.range(10, 28)} Dec 2026 0${rng.range(0, 9)}:${rng.range(10, 59)}:${rng.range(10, 59)}.${rng.range(100, 999)} * Ready to accept connections tcp`];
      return (
        `${head}${echo(`Attaching to ${side}, ${svc}`)}\n` +
        `${sideLines.map((l) => `printf '%s| %s\\n' ${shq(lab(side))} ${shq(l)}`).join('\n')}\n` +
        `{\n${cmd}\n} 2>&1 | while IFS= read -r __l; do printf '%s| %s\\n' ${shq(lab(svc))} "$__l"; done\nrc=\${PIPESTATUS[0]}\n` +
        `echo "${svc} exited with code $rc"\n${echo('Aborting on container exit...')}\n` +
        `${echo(` Container ${side}  Stopping`)}\n${echo(` Container ${side}  Stopped`)}\nexit $rc\n`
      );
    }
    case 'fabric': {
      // A Fabric 1.x run: every output line led by `[host] out: `, then Fabric's own abort (exit code 1).
      const dirName = `/srv/${a}`;
      const executed = `/bin/bash -l -c "cd ${dirName} && ${cmd.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$')}"`;
      return (
        `${head}${echo(`[${host}] Executing task '${inst.step.replace(/-/g, '_')}'`)}\n${echo(`[${host}] run: ${cmd}`)}\n` +
        `{\n${cmd}\n} 2>&1 | while IFS= read -r __l; do printf '[%s] out: %s\\n' ${shq(host)} "$__l"; done\nrc=\${PIPESTATUS[0]}\n` +
        `if [ $rc -ne 0 ]; then\n  echo\n  echo "Fatal error: run() received nonzero return code $rc while executing!"\n  echo\n  ${echo(`Requested: ${cmd}`)}\n  ${echo(`Executed: ${executed}`)}\n  echo\n  echo 'Aborting.'\n  ${echo(`Disconnecting from ${host}... done.`)}\n  exit 1\nfi\n`
      );
    }
    case 'timev': {
      // The step under GNU time -v: its output, then `Command exited with non-zero status N` and the resource table.
      return `${head}${echo(`== ${inst.step} on ${host}`)}\n/usr/bin/time -v bash -c ${shq(cmd)}\n`;
    }
    case 'salt': {
      // A Salt state run (`salt-call state.apply`): each state's block; the failed `cmd.run` with its retcode, stderr
      // and stdout indented under Changes; the summary. Exit code 1 (a state failed).
      const id = `${a}-${inst.step}`;
      const prev = rng.pick([`/etc/${a}/env`, `/srv/${a}`, `/var/log/${a}`]);
      return (
        `${head}__o=$(mktemp -p .) __e=$(mktemp -p .)\n( ${cmd} ) >"$__o" 2>"$__e"\nrc=$?\n[ $rc -eq 0 ] && exit 0\n` +
        `O="$__o" E="$__e" CMD=${shq(cmd)} RC=$rc ID=${shq(id)} PREV=${shq(prev)} T=${start} MS=${rng.range(5, 4000)} /usr/bin/python3 -c ${shq(
          [
            'import os',
            'o=open(os.environ["O"]).read().rstrip("\\n"); e=open(os.environ["E"]).read().rstrip("\\n")',
            't=int(os.environ["T"]); ms=int(os.environ["MS"])',
            'def ts(s): return "%02d:%02d:%02d.%06d" % ((s // 3600) % 24, (s // 60) % 60, s % 60, (s * 7919) % 1000000)',
            'def block(lines): return "".join("\\n                  " + l for l in lines.split("\\n")) if lines else ""',
            'print("local:")',
            'print("----------")',
            'print("          ID: " + os.environ["PREV"])',
            'print("    Function: file.directory")',
            'print("      Result: True")',
            'print("     Comment: The directory " + os.environ["PREV"] + " is in the correct state")',
            'print("     Started: " + ts(t))',
            'print("    Duration: %d.%d ms" % (ms % 17 + 1, ms % 10))',
            'print("     Changes:   ")',
            'print("----------")',
            'print("          ID: " + os.environ["ID"])',
            'print("    Function: cmd.run")',
            'print("        Name: " + os.environ["CMD"])',
            'print("      Result: False")',
            'print("     Comment: Command \\"" + os.environ["CMD"] + "\\" run")',
            'print("     Started: " + ts(t + 1))',
            'print("    Duration: %d.%03d ms" % (ms, ms * 7 % 1000))',
            'print("     Changes:   ")',
            'print("              ----------")',
            'print("              pid:\\n                  %d" % (1000 + ms * 13 % 60000))',
            'print("              retcode:\\n                  " + os.environ["RC"])',
            'print("              stderr:" + block(e))',
            'print("              stdout:" + block(o))',
            'print("")',
            'print("Summary for local")',
            'print("------------")',
            'print("Succeeded: 1")',
            'print("Failed:    1")',
            'print("------------")',
            'print("Total states run:     2")',
            'print("Total run time:   %d.%03d s" % (ms // 1000, ms % 1000))',
          ].join('\n'),
        )}\nexit 1\n`
      );
    }
  }
}

/** Clojure's error reports (`/tmp/clojure-<n>.edn`) that a run as nobody left behind. */
function removeClojureReports(): void {
  for (const name of readdirSync('/tmp')) {
    if (!/^clojure-\d+\.edn$/.test(name)) continue;
    const file = join('/tmp', name);
    if (statSync(file).uid === NOBODY) rmSync(file, { force: true });
  }
}

/** JSON string escapes undone (a structured logger's lines hold the output that way). */
const unescaped = (output: string) => output.replace(/\\(["\\/])/g, '$1').replace(/\\t/g, '\t');

const main = () =>
  generateBlindSet({
    name: 'holdout3',
    ...args,
    base: BASE,
    causes: CAUSES,
    shapes: HOLDOUT3_SHAPES,
    label: LABEL,
    idPrefix: 'm',
    timeoutSeconds: TIMEOUT_SECONDS,
    path: '/usr/sbin:/usr/bin:/sbin:/bin',
    plan: (rng0, _cause, selected, only) => {
      const count = rng0.range(7, 14);
      const first = rng0.int(HOLDOUT3_SHAPES.length);
      return selected ? { count: only ? HOLDOUT3_SHAPES.length : count, first } : undefined;
    },
    script: (shape, inst, rng, host) => ({ text: script(shape, inst, rng, host) }),
    env: (_shape, inst) => inst.env,
    shows: (cause, output) => cause.expect.test(output) || cause.expect.test(unescaped(output)),
    afterRun: (cause) => {
      if (cause.program === 'clojure') removeClojureReports();
    },
  });

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
