/**
 * The second hold-out set of real command outputs ("hold-out 2"): a blind test of the failure grouping, made after the
 * first hold-out was opened to the people who write the grouping's rules. Programs and runtimes that none of the
 * other sets (main, dev, dev2, probe3, the first hold-out) runs, in script shapes none of them uses. NOBODY who works
 * on the grouping reads this file or its fixture: its texts are the test.
 *
 * Run on this machine the way Cloud Assistant runs a command (a script file run by bash, stdout and stderr into one
 * stream, exit code kept, output cut at 24 KB), as the unprivileged user `nobody`, in a network namespace of its own
 * (only loopback: connections are refused, names do not resolve), in a folder under /tmp/holdout2 that is emptied
 * before every run. Nothing here changes the machine.
 *
 *   npx tsx bench/real-outputs/holdout2.ts [--seed 23] [--out bench/data/real-outputs-holdout2.jsonl.gz] [--only <regexp>]
 *   npx tsx bench/real-outputs/holdout2.ts --update <regexp>
 *
 * `--only` runs each matching cause once in every shape and prints the outputs (no fixture). `--update` runs again only
 * the planned instances of the matching causes (the plan of a full run: the same ids, shapes and parameters) and puts
 * them in place of the fixture's ones.
 *
 * Needs (Debian 12): `apt-get install golang-go r-base-core guile-3.0 sbcl ocaml-nox libxml2-utils shellcheck yamllint
 * subversion mercurial redis-tools mariadb-client socat m4 gnuplot-nox erlang-base` (and gettext's msgfmt, make, jq).
 * Must run as root (it drops to `nobody` for every run). Labels: same fix = same cause; look-alike pairs (same program,
 * same wording skeleton) are different causes when their fixes differ.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';
import { APPS, KEYS, WORDS, shq, version, type AnyShape } from './catalogue';
import { blindArgs, generateBlindSet, type BlindCause, type BlindInst } from './blind';

const args = blindArgs(23, join(__dirname, '..', 'data', 'real-outputs-holdout2.jsonl.gz'));
const BASE = '/tmp/holdout2';
const ROOT = `${BASE}/run`;
/** Tools built once before the runs (Go programs), readable by everyone. */
const TOOLS = `${BASE}/bin`;
/**
 * A run still going after this long is a generator fault: stopped and left out. (No cause waits on purpose, but with
 * no resolver reachable the MariaDB client tries a name for ~33 s before it gives up, and the retry shape runs it up
 * to four times.)
 */
const TIMEOUT_SECONDS = 240;
/** What one instance puts on disk and runs (the make shape puts its command in a recipe). */
type Inst = BlindInst;
type Cause = BlindCause;

const app = (rng: Rng) => rng.pick(APPS);
const word = (rng: Rng) => rng.pick(WORDS);
const key = (rng: Rng) => rng.pick(KEYS);
const port = (rng: Rng) => rng.range(1025, 64999);
const dir = (rng: Rng) => rng.pick(['/etc', '/srv', '/opt', '/var/lib', '/usr/local/etc']);
/** A value that is not a whole number: `12x`, `64k`, `auto`, `2.5s`. */
const junk = (rng: Rng) => rng.pick([`${rng.range(1, 999)}x`, `${rng.range(1, 99)}k`, 'auto', 'eight', `${rng.range(1, 9)}.${rng.range(0, 9)}s`, 'none', `${rng.range(1, 9)}m`]);
const goTool = (rng: Rng) => rng.pick(['fleet-agent', 'shardctl', 'poolmgr']);
const dbHost = (rng: Rng) => `${app(rng)}-${rng.pick(['db', 'mysql', 'primary', 'replica'])}${rng.pick(['', `-${rng.range(1, 9)}`])}.${rng.pick(['internal', 'corp.example', 'svc.cluster.local', 'invalid'])}`;
/** 0–2 good entries of a translation file, each its own message. */
const poEntries = (rng: Rng) => Array.from({ length: rng.int(3) }, (_, i) => `msgid "${['Cancel', 'Next page', 'Saved draft'][i] ?? 'x'}"\nmsgstr "${rng.alnum(6)}"\n\n`).join('');
const rPkg = (rng: Rng) => rng.pick(['data.table', 'jsonlite', 'ggplot2', 'DBI', 'RPostgres', 'httr', 'yaml', 'lubridate', 'dplyr', 'readr', 'forecast', 'aws.s3']);

const CAUSES: Cause[] = [
  // ---- Go: runtime panics of built tools (goroutine traces) and a build error ----
  {
    id: 'go-nil-map',
    program: 'go',
    fix: 'initialise the registry map before the tool writes to it (a code fix and a new build)',
    expect: /assignment to entry in nil map/,
    make: (rng) => ({ command: `${goTool(rng)} register ${app(rng)}-${rng.pick(['worker', 'api', 'cron'])}${rng.range(1, 40)}`, step: 'register' }),
  },
  {
    id: 'go-index-range',
    program: 'go',
    fix: 'pass the full shard list (the shard index is past its end)',
    expect: /index out of range \[\d+\] with length \d+/,
    make: (rng) => {
      const n = rng.range(1, 4);
      const list = Array.from({ length: n }, () => `${word(rng)}-${rng.range(1, 9)}`).join(',');
      return { command: `${goTool(rng)} shard ${list} ${rng.range(n, n + 6)}`, step: 'pick-shard' };
    },
  },
  {
    id: 'go-nil-pointer',
    program: 'go',
    fix: 'declare the pool in the pool configuration (the tool looks up a pool that is not there)',
    expect: /nil pointer dereference/,
    make: (rng) => ({ command: `${goTool(rng)} pool ${rng.pick(['default', 'batch', 'io', 'cpu', 'gpu', 'ingest', 'hot'])}-${rng.range(1, 12)}`, step: 'size-pool' }),
  },
  {
    id: 'go-build-undefined',
    program: 'go',
    fix: 'define the setting the code uses (the build fails on an undefined name)',
    expect: /undefined: \w+/,
    make: (rng) => {
      const v = rng.pick(['retries', 'maxConns', 'upstreamURL', 'shardCount', 'drainTimeout', 'poolSize', 'logLevel']);
      const pad = '\n'.repeat(rng.int(6));
      const mod = `github.com/${rng.pick(['acme', 'fleetops', 'example'])}/${app(rng)}-${rng.pick(['agent', 'sync', 'relay'])}`;
      return {
        files: { 'go.mod': `module ${mod}\n\ngo 1.19\n`, 'main.go': `package main\n${pad}\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("starting", ${v})\n}\n` },
        command: `go build -o bin/${rng.pick(['agent', 'relay', 'syncd'])} .`,
        step: 'build',
        env: { GOFLAGS: '-mod=mod', GOCACHE: `${ROOT}/.cache/go-build`, GOPATH: `${ROOT}/go` },
      };
    },
  },
  // ---- R (Rscript) ----
  {
    id: 'r-input-missing',
    program: 'Rscript',
    fix: 'create (or copy) the input file the report reads',
    expect: /cannot open (the connection|file)/,
    make: (rng) => {
      const path = `${dir(rng)}/${app(rng)}/${rng.pick(['hosts', 'latency', 'daily', 'orders', 'sla'])}${rng.pick(['', `-${rng.range(1, 31)}`])}.${rng.pick(['csv', 'tsv', 'txt'])}`;
      const read = rng.pick([`read.csv("${path}")`, `read.table("${path}", header = TRUE)`, `readLines("${path}")`]);
      return rng.int(2) === 0
        ? { command: `Rscript -e ${shq(`d <- ${read}; print(summary(d))`)}`, step: 'report' }
        : { files: { 'report.R': `# ${app(rng)} report\nd <- ${read}\ncat(nrow(d), "rows\\n")\n` }, command: 'Rscript report.R', step: 'report' };
    },
  },
  {
    id: 'r-package-missing',
    program: 'Rscript',
    fix: 'install the R package (install.packages)',
    expect: /there is no package called/,
    make: (rng) => {
      const pkg = rPkg(rng);
      return rng.int(2) === 0 ? { command: `Rscript -e ${shq(`library(${pkg})`)}`, step: 'report' } : { files: { 'etl.R': `suppressMessages(library(stats))\nlibrary(${pkg})\nmessage("loaded")\n` }, command: 'Rscript etl.R', step: 'etl' };
    },
  },
  {
    id: 'r-bad-workers',
    program: 'Rscript',
    fix: 'set WORKERS to a whole number',
    expect: /invalid worker count/,
    make: (rng) => {
      const v = junk(rng);
      const body = rng.pick([
        `n <- suppressWarnings(as.integer(Sys.getenv("WORKERS"))); if (is.na(n)) stop("invalid worker count: ", Sys.getenv("WORKERS"))`,
        `check <- function(v) { n <- suppressWarnings(as.integer(v)); if (is.na(n)) stop("invalid worker count: ", v); n }; check(Sys.getenv("WORKERS"))`,
        `n <- as.integer(Sys.getenv("WORKERS")); if (is.na(n)) stop("invalid worker count: ", Sys.getenv("WORKERS"))`,
      ]);
      return { files: { 'workers.R': `${body}\ncat("workers:", n, "\\n")\n` }, command: 'Rscript workers.R', step: 'etl', env: { WORKERS: v } };
    },
  },
  {
    id: 'r-object-missing',
    program: 'Rscript',
    fix: 'refer to the column through its data frame (the bare name is not defined)',
    expect: /object '\w+' not found/,
    make: (rng) => {
      const col = rng.pick(['latency_ms', 'orders', 'revenue', 'error_rate', 'p99', 'backlog', 'queue_depth', 'cpu']);
      const fn = rng.pick(['summary', 'mean', 'max', 'quantile']);
      return { files: { 'stats.R': `d <- data.frame(${col} = c(${rng.range(1, 90)}, ${rng.range(1, 90)}))\nprint(${fn}(${col}))\n` }, command: 'Rscript stats.R', step: 'report' };
    },
  },
  // ---- Guile Scheme ----
  {
    id: 'guile-unbound',
    program: 'guile',
    fix: 'load the helper module that defines the procedure',
    expect: /Unbound variable/,
    make: (rng) => {
      const fn = rng.pick(['load-config', 'fetch-upstream', 'parse-hosts', 'render-template', 'read-settings', 'open-pool']);
      return { files: { 'job.scm': `(display "${app(rng)} job\\n")\n${'\n'.repeat(rng.int(4))}(define settings (${fn} "${dir(rng)}/${app(rng)}.scm"))\n(display settings)\n` }, command: 'guile --no-auto-compile job.scm', step: 'render' };
    },
  },
  {
    id: 'guile-no-module',
    program: 'guile',
    fix: 'install the Guile library the script uses',
    expect: /no code for module/,
    make: (rng) => {
      const mod = rng.pick(['(json)', '(gnutls)', '(sqlite3)', '(web client tls)', '(fibers)', '(yaml)', '(dbi dbi)', '(redis)']);
      return rng.int(2) === 0 ? { command: `guile --no-auto-compile -c ${shq(`(use-modules ${mod}) (display "ok")`)}`, step: 'render' } : { files: { 'sync.scm': `(use-modules (ice-9 format) ${mod})\n(display "sync\\n")\n` }, command: 'guile --no-auto-compile sync.scm', step: 'sync' };
    },
  },
  {
    id: 'guile-config-key',
    program: 'guile',
    fix: 'add the missing key to the settings alist',
    expect: /Wrong type argument in position/,
    make: (rng) => {
      const have = key(rng);
      const want = rng.pick(['port', 'workers', 'replicas', 'timeout', 'retries']);
      return { files: { 'limits.scm': `(define cfg '(("${have}" . "${rng.alnum(5)}")))\n(display "computing limits\\n")\n(display (${rng.pick(['+', '*', '-'])} ${rng.range(1, 9)} (assoc-ref cfg "${want}")))\n` }, command: 'guile --no-auto-compile limits.scm', step: 'render' };
    },
  },
  // ---- SBCL (Common Lisp) ----
  {
    id: 'sbcl-parse-integer',
    program: 'sbcl',
    fix: 'set the port setting to a number',
    expect: /junk in string/,
    make: (rng) => ({ files: { 'serve.lisp': `(format t "starting ${app(rng)}~%")\n(defun port-of (s) (parse-integer s))\n(print (port-of "${junk(rng)}"))\n` }, command: 'sbcl --script serve.lisp', step: 'serve' }),
  },
  {
    id: 'sbcl-file-missing',
    program: 'sbcl',
    fix: 'create the settings file the Lisp service reads',
    expect: /does not exist/,
    make: (rng) => ({ files: { 'boot.lisp': `(with-open-file (s "${dir(rng)}/${app(rng)}/${rng.pick(['settings', 'routes', 'init'])}.${rng.pick(['lisp', 'sexp', 'conf'])}")\n  (print (read s)))\n` }, command: 'sbcl --script boot.lisp', step: 'serve' }),
  },
  {
    id: 'sbcl-undefined-function',
    program: 'sbcl',
    fix: 'load the system that defines the function (quickload before use)',
    expect: /is undefined/,
    make: (rng) => {
      const fn = rng.pick(['load-settings', 'connect-pool', 'fetch-routes', 'start-server', 'parse-json']);
      return { files: { 'main.lisp': `(format t "${app(rng)} ~a~%" "${version(rng)}")\n(print (${fn} "${word(rng)}"))\n` }, command: 'sbcl --script main.lisp', step: 'serve' };
    },
  },
  // ---- OCaml (toplevel scripts) ----
  {
    id: 'ocaml-not-found',
    program: 'ocaml',
    fix: 'add the key to the table the job looks up',
    expect: /Exception: Not_found/,
    make: (rng) => ({ files: { 'job.ml': `let () = print_endline "${app(rng)}: loading"\nlet tbl = Hashtbl.create 8\nlet () = Hashtbl.add tbl "${key(rng)}" ${rng.range(1, 99)}\nlet () = print_int (Hashtbl.find tbl "${key(rng)}_x")\n` }, command: 'ocaml job.ml', step: 'compute' }),
  },
  {
    id: 'ocaml-int-of-string',
    program: 'ocaml',
    fix: 'set the count to a whole number',
    expect: /Failure \\?"int_of_string/,
    make: (rng) => ({ files: { 'count.ml': `let () = print_int (int_of_string "${junk(rng)}")\n` }, command: 'ocaml count.ml', step: 'compute', env: rng.int(2) === 0 ? { OCAMLRUNPARAM: 'b' } : {} }),
  },
  {
    id: 'ocaml-file-missing',
    program: 'ocaml',
    fix: 'create the input file the job opens',
    expect: /Sys_error .*No such file or directory/,
    make: (rng) => ({ files: { 'read.ml': `let ic = open_in "${dir(rng)}/${app(rng)}/${rng.pick(['pool', 'input', 'seeds'])}.${rng.pick(['conf', 'txt', 'dat'])}" in print_endline (input_line ic)\n` }, command: 'ocaml read.ml', step: 'compute' }),
  },
  // ---- xmllint ----
  {
    id: 'xml-tag-mismatch',
    program: 'xmllint',
    fix: 'close the element with its own name',
    expect: /Opening and ending tag mismatch/,
    make: (rng) => {
      const el = rng.pick(['pool', 'server', 'route', 'listener', 'queue']);
      const inner = rng.pick(['size', 'port', 'weight']);
      return { files: { [`${app(rng)}.xml`]: `<?xml version="1.0"?>\n<config>\n${'  <!-- generated -->\n'.repeat(rng.int(3))}  <${el} name="${word(rng)}">\n    <${inner}>${rng.range(1, 999)}</${inner}>\n  </${el}s>\n</config>\n` }, command: `xmllint --noout *.xml`, step: 'validate' };
    },
  },
  {
    id: 'xml-bare-ampersand',
    program: 'xmllint',
    fix: 'escape the & in the text as &amp;',
    expect: /xmlParseEntityRef: no name/,
    make: (rng) => ({ files: { [`${rng.pick(['feeds', 'sites', 'routes'])}.xml`]: `<?xml version="1.0"?>\n<config>\n  <name>${rng.pick(['R', 'Sales', 'Ops', 'Tom', 'Dev'])} & ${rng.pick(['D', 'Marketing', 'Infra', 'Jerry', 'QA'])}</name>\n  <port>${port(rng)}</port>\n</config>\n` }, command: 'xmllint --noout *.xml', step: 'validate' }),
  },
  {
    id: 'xml-file-missing',
    program: 'xmllint',
    fix: 'deploy the XML file before validating it',
    expect: /failed to load external entity/,
    make: (rng) => ({ command: `xmllint --noout ${dir(rng)}/${app(rng)}/${rng.pick(['pool', 'routes', 'beans', 'log4j2', 'server'])}.xml`, step: 'validate' }),
  },
  // ---- shellcheck ----
  {
    id: 'shellcheck-cd-exit',
    program: 'shellcheck',
    fix: "add `|| exit` after the script's cd",
    expect: /SC2164/,
    make: (rng) => ({ files: { [`${rng.pick(['deploy', 'release', 'rotate'])}.sh`]: `#!/bin/bash\nset -u\n${'echo "step"\n'.repeat(rng.int(4))}cd /srv/${app(rng)}/${word(rng)}\n./${rng.pick(['run', 'start', 'migrate'])}.sh\n` }, command: 'shellcheck *.sh', step: 'lint' }),
  },
  {
    id: 'shellcheck-quote',
    program: 'shellcheck',
    fix: 'quote the variable in the script',
    expect: /SC2086/,
    make: (rng) => {
      const v = rng.pick(['release', 'target', 'tag', 'dest', 'name']);
      return { files: { [`${rng.pick(['deploy', 'release', 'rotate'])}.sh`]: `#!/bin/bash\n${v}="$1"\n${'echo "step"\n'.repeat(rng.int(4))}${rng.pick(['cp -r build/', 'mv dist/', 'rm -rf /tmp/'])}${word(rng)} /srv/${app(rng)}/$${v}\n` }, command: 'shellcheck *.sh', step: 'lint' };
    },
  },
  // ---- yamllint ----
  {
    id: 'yaml-duplicate-key',
    program: 'yamllint',
    fix: 'remove the duplicated key from the YAML file',
    expect: /duplication of key/,
    make: (rng) => {
      const k = key(rng);
      return { files: { [`${app(rng)}.yaml`]: `${rng.pick(['---\n', ''])}${app(rng)}:\n  ${k}: ${rng.range(1, 99)}\n  ${rng.pick(KEYS.filter((x) => x !== k))}: ${word(rng)}\n  ${k}: ${rng.range(1, 99)}\n` }, command: `yamllint ${rng.pick(['.', '*.yaml'])}`, step: 'lint' };
    },
  },
  {
    id: 'yaml-bad-indent',
    program: 'yamllint',
    fix: 'fix the indentation of the YAML file (a key is out of line)',
    expect: /syntax error: expected <block end>/,
    make: (rng) => ({ files: { [`${app(rng)}.yaml`]: `${rng.pick(['---\n', ''])}${app(rng)}:\n  ${key(rng)}: ${rng.range(1, 99)}\n ${key(rng)}: ${word(rng)}\n` }, command: `yamllint ${rng.pick(['.', '*.yaml'])}`, step: 'lint' }),
  },
  {
    id: 'yaml-line-long',
    program: 'yamllint',
    fix: 'wrap the long line (or allow longer lines in .yamllint)',
    expect: /line too long/,
    make: (rng) => ({ files: { [`${app(rng)}.yaml`]: `---\n${app(rng)}:\n  ${key(rng)}: https://${app(rng)}.example.com/api/v${rng.range(1, 3)}/${'callbacks/'.repeat(rng.range(3, 6))}notify?tenant=${word(rng)}&retry=${rng.range(1, 9)}\n` }, command: `yamllint ${rng.pick(['.', '*.yaml'])}`, step: 'lint' }),
  },
  // ---- Subversion (local file:// repositories) ----
  {
    id: 'svn-path-missing',
    program: 'svn',
    fix: 'fix the path inside the repository (the repository exists, the path does not)',
    expect: /E170000/,
    make: (rng) => ({ command: `svnadmin create repo && svn checkout -q file://${ROOT}/repo/${rng.pick(['trunk', 'branches/release', 'tags'])}/${app(rng)} wc`, step: 'checkout' }),
  },
  {
    id: 'svn-no-repository',
    program: 'svn',
    fix: 'fix the repository root URL (no repository there)',
    expect: /E180001/,
    make: (rng) => ({ command: `svn checkout -q file:///srv/svn/${app(rng)}${rng.pick(['', '-legacy', String(rng.range(2, 9))])}/trunk wc`, step: 'checkout' }),
  },
  {
    id: 'svn-not-working-copy',
    program: 'svn',
    fix: 'check the code out before updating it',
    expect: /E155007/,
    make: (rng) => ({ command: `mkdir -p ${app(rng)}-${word(rng)} && svn update ${rng.pick(['-q ', ''])}$_`, step: 'update' }),
  },
  // ---- Mercurial ----
  {
    id: 'hg-repo-not-found',
    program: 'hg',
    fix: 'fix the source repository path of the clone',
    expect: /abort: repository .* not found/,
    make: (rng) => ({ command: `hg clone ${rng.pick(['-q ', ''])}/srv/hg/${app(rng)}${rng.pick(['', '-' + word(rng)])} ${word(rng)}-src`, step: 'checkout' }),
  },
  {
    id: 'hg-not-in-repo',
    program: 'hg',
    fix: 'cd into the clone before running hg',
    expect: /no repository found in/,
    make: (rng) => ({ command: `mkdir -p ${app(rng)}/${word(rng)} && cd $_ && hg ${rng.pick(['pull -u', 'update', 'status', 'log -l 1'])}`, step: 'update' }),
  },
  // ---- MariaDB client ----
  {
    id: 'mysql-refused',
    program: 'mysql',
    fix: 'start the database server on that port',
    expect: /ERROR 2002 \(HY000\): Can't connect to server on/,
    make: (rng) => ({ command: `mysql -h 127.0.0.${rng.range(1, 9)} -P ${port(rng)} -u ${app(rng)} -e ${shq(`SELECT COUNT(*) FROM ${app(rng)}.${rng.pick(['jobs', 'orders', 'events'])}`)}`, step: 'migrate' }),
  },
  {
    id: 'mysql-socket',
    program: 'mysql',
    fix: 'give the client the server host (there is no local server, so the socket is missing)',
    expect: /through socket/,
    make: (rng) => ({ command: `mysql ${rng.pick(['', `-S /run/mysqld/${app(rng)}.sock `, '-S /var/run/mysqld/mysqld.sock '])}-u ${app(rng)} ${app(rng)} -e ${shq(rng.pick(['SELECT 1', 'SHOW TABLES', 'SOURCE migrations/0042.sql']))}`, step: 'migrate' }),
  },
  {
    id: 'mysql-unknown-host',
    program: 'mysql',
    fix: 'fix the database host name (it does not resolve)',
    expect: /ERROR 2005 \(HY000\): Unknown server host/,
    make: (rng) => ({ command: `mysql -h ${dbHost(rng)} -u ${app(rng)} -e ${shq('SELECT 1')}`, step: 'migrate' }),
  },
  // ---- redis-cli ----
  {
    id: 'redis-refused',
    program: 'redis-cli',
    fix: 'start redis on that port',
    expect: /Could not connect to Redis at .*Connection refused/,
    make: (rng) => ({ command: `redis-cli -h 127.0.0.${rng.range(1, 9)} -p ${port(rng)} ${rng.pick(['PING', `GET ${app(rng)}:${key(rng)}`, `DEL ${app(rng)}:lock`, 'INFO replication'])}`, step: 'flush-cache' }),
  },
  {
    id: 'redis-unknown-host',
    program: 'redis-cli',
    fix: 'fix the cache host name (it does not resolve)',
    expect: /Could not connect to Redis at .*name resolution/,
    make: (rng) => ({ command: `redis-cli -h ${app(rng)}-${rng.pick(['cache', 'redis', 'sessions'])}.${rng.pick(['internal', 'invalid', 'svc.cluster.local'])} -p ${rng.pick([6379, 6380, 26379, port(rng)])} PING`, step: 'flush-cache' }),
  },
  // ---- m4 ----
  {
    id: 'm4-include-missing',
    program: 'm4',
    fix: 'deploy the included m4 file',
    expect: /m4:.*cannot open/,
    make: (rng) => ({ files: { [`${app(rng)}.conf.m4`]: `define(\`PORT', ${port(rng)})dnl\n${'dnl generated\n'.repeat(rng.int(4))}include(\`${dir(rng)}/${app(rng)}/${rng.pick(['site', 'local', 'secrets'])}.m4')dnl\nlisten PORT\n` }, command: `m4 *.conf.m4 > ${rng.pick(['out.conf', 'nginx.conf', 'app.conf'])}`, step: 'render' }),
  },
  {
    id: 'm4-unterminated',
    program: 'm4',
    fix: 'close the macro call in the template (a parenthesis is missing)',
    expect: /end of file in argument list/,
    make: (rng) => ({ files: { [`${app(rng)}.conf.m4`]: `define(\`ENV', \`${word(rng)}')dnl\n${'dnl generated\n'.repeat(rng.int(4))}ifelse(ENV, \`prod', \`workers ${rng.range(2, 64)}'\nlisten ${port(rng)}\n` }, command: `m4 *.conf.m4 > ${rng.pick(['out.conf', 'nginx.conf', 'app.conf'])}`, step: 'render' }),
  },
  // ---- socat ----
  {
    id: 'socat-refused',
    program: 'socat',
    fix: 'start the service on that TCP port',
    expect: /E connect\(.*Connection refused/,
    make: (rng) => ({ command: `echo ${shq(rng.pick(['PING', 'STATUS', 'stats']))} | socat -T2 - TCP:127.0.0.${rng.range(1, 9)}:${port(rng)}`, step: 'probe' }),
  },
  {
    id: 'socat-socket-missing',
    program: 'socat',
    fix: 'start the agent that creates the control socket',
    expect: /E connect\(.*AF=1.*No such file or directory/,
    make: (rng) => ({ command: `echo ${shq(rng.pick(['show stat', 'show info', 'reload']))} | socat - UNIX-CONNECT:/run/${app(rng)}/${rng.pick(['admin', 'control', 'agent', 'haproxy'])}.sock`, step: 'probe' }),
  },
  // ---- msgfmt (gettext) ----
  {
    id: 'msgfmt-unterminated',
    program: 'msgfmt',
    fix: 'close the quoted string in the translation file',
    expect: /end-of-line within string/,
    make: (rng) => {
      const lang = rng.pick(['de', 'fr', 'zh_CN', 'ja', 'es', 'pt_BR']);
      return { files: { [`${lang}.po`]: `${poEntries(rng)}msgid "${rng.pick(['Saved', 'Order placed', 'Retry later'])}"\nmsgstr "${rng.pick(['Gespeichert', 'Enregistré', 'OK', 'Listo'])}\n` }, command: `msgfmt -o ${lang}.mo ${lang}.po`, step: 'i18n' };
    },
  },
  {
    id: 'msgfmt-duplicate',
    program: 'msgfmt',
    fix: 'remove the duplicated message from the translation file',
    expect: /duplicate message definition/,
    make: (rng) => {
      const lang = rng.pick(['de', 'fr', 'zh_CN', 'ja', 'es', 'pt_BR']);
      const id = rng.pick(['Saved', 'Order placed', 'Retry later', 'Sign in']);
      return { files: { [`${lang}.po`]: `msgid "${id}"\nmsgstr "a"\n\n${poEntries(rng)}msgid "${id}"\nmsgstr "b"\n` }, command: `msgfmt -o ${lang}.mo ${lang}.po`, step: 'i18n' };
    },
  },
  // ---- gnuplot ----
  {
    id: 'gnuplot-data-missing',
    program: 'gnuplot',
    fix: 'produce the data file before plotting it',
    expect: /Cannot find or open file/,
    make: (rng) => ({ files: { 'plot.gp': `set terminal dumb\n${'set grid\n'.repeat(rng.int(3))}plot "/var/log/${app(rng)}/${rng.pick(['latency', 'qps', 'errors'])}-${rng.range(1, 31)}.dat" using 1:2 with lines\n` }, command: 'gnuplot plot.gp', step: 'chart' }),
  },
  {
    id: 'gnuplot-undefined-variable',
    program: 'gnuplot',
    fix: 'define the variable the plot script uses',
    expect: /undefined variable/,
    make: (rng) => ({ files: { 'plot.gp': `set terminal dumb\n${'set grid\n'.repeat(rng.int(3))}plot sin(x) * ${rng.pick(['scale', 'scale_factor', 'max_qps', 'baseline', 'slo'])}\n` }, command: 'gnuplot plot.gp', step: 'chart' }),
  },
  // ---- Erlang escript ----
  {
    id: 'erl-config-missing',
    program: 'escript',
    fix: 'create the sys.config the release reads',
    expect: /no match of right hand side value \{error,enoent\}/,
    make: (rng) => ({ files: { 'boot.escript': `#!/usr/bin/env escript\nmain(_) ->\n    io:format("booting ${app(rng)}~n"),\n    {ok, _} = file:read_file("${dir(rng)}/${app(rng)}/${rng.pick(['sys.config', 'vm.args', 'app.config'])}"),\n    ok.\n` }, command: 'escript boot.escript', step: 'boot' }),
  },
  {
    id: 'erl-bad-integer',
    program: 'escript',
    fix: 'set the port argument to a number',
    expect: /list_to_integer/,
    make: (rng) => ({ files: { 'port.escript': `#!/usr/bin/env escript\nmain([P]) ->\n    N = list_to_integer(P),\n    io:format("~p~n", [N]).\n` }, command: `escript port.escript ${shq(junk(rng))}`, step: 'boot' }),
  },
  {
    id: 'erl-syntax',
    program: 'escript',
    fix: 'fix the syntax of the script (its first line must be the shebang or a comment)',
    expect: /There were compilation errors/,
    make: (rng) => ({ files: { 'job.escript': `main(_) ->\n    ${rng.pick(['Cfg', 'Hosts', 'Opts'])} = #{${key(rng)} => "${word(rng)}"},\n    io:format("~p~n", [ok]).\n` }, command: 'escript job.escript', step: 'boot' }),
  },
];

// ---- The Go tools the go causes run: three builds of one program, each under its own module path. ----

function buildGoTools(): void {
  rmSync(TOOLS, { recursive: true, force: true });
  mkdirSync(TOOLS, { recursive: true });
  const variants = [
    ['fleet-agent', 'github.com/acme/fleet-agent', 0],
    ['shardctl', 'git.example.com/platform/shardctl', 4],
    ['poolmgr', 'github.com/fleetops/poolmgr', 9],
  ] as const;
  for (const [name, mod, pad] of variants) {
    const src = join(BASE, 'build', mod, 'cmd', name);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'go.mod'), `module ${mod}\n\ngo 1.19\n`);
    writeFileSync(
      join(src, 'main.go'),
      `package main\n${'\n'.repeat(pad)}\nimport (\n\t"fmt"\n\t"os"\n\t"strconv"\n\t"strings"\n)\n\ntype Pool struct {\n\tName string\n\tSize int\n}\n\nvar registry map[string]int\nvar pools = map[string]*Pool{"default": {"default", 4}}\n\n` +
        `func register(name string) {\n\tregistry[name] = len(name)\n}\n\nfunc shard(list string, i int) string {\n\tparts := strings.Split(list, ",")\n\treturn parts[i]\n}\n\nfunc poolSize(name string) int {\n\treturn pools[name].Size\n}\n\n` +
        `func main() {\n\tif len(os.Args) < 3 {\n\t\tfmt.Fprintln(os.Stderr, "usage: ${name} register|shard|pool ARGS")\n\t\tos.Exit(64)\n\t}\n\tswitch os.Args[1] {\n\tcase "register":\n\t\tregister(os.Args[2])\n\tcase "shard":\n\t\ti, _ := strconv.Atoi(os.Args[3])\n\t\tfmt.Println(shard(os.Args[2], i))\n\tcase "pool":\n\t\tfmt.Println(poolSize(os.Args[2]))\n\t}\n}\n`,
    );
    execFileSync('go', ['build', '-o', join(TOOLS, name), '.'], { cwd: src, env: { PATH: process.env.PATH, HOME: join(BASE, 'build'), GOCACHE: join(BASE, 'build', '.cache'), GOPATH: join(BASE, 'build', 'go'), GOFLAGS: '-mod=mod' }, stdio: 'inherit' });
    chmodSync(join(TOOLS, name), 0o755);
  }
}

// ---- Shapes, in this set's own style ----

const HOLDOUT2_SHAPES = ['bare', 'pylog', 'make', 'ansible', 'retry', 'ci'] as const;
type Shape2 = (typeof HOLDOUT2_SHAPES)[number];
/** The label a shape has in the fixture and the bench's table: not its name (`catalogue.ts`'s BLIND_SHAPES). */
const LABEL: Record<Shape2, AnyShape> = { bare: 'bare', pylog: 'k1', make: 'k2', ansible: 'k3', retry: 'k4', ci: 'k5' };

/** 2026-12-02 00:00:00 UTC plus up to a week. */
const EPOCH = 1_796_169_600;
const echo = (l: string) => `echo ${shq(l)}`;

/** The script of one instance in one shape, and the files the shape adds beside it (the make shape's makefile). */
function script(shape: Shape2, inst: Inst, rng: Rng, host: string): { text: string; files?: Record<string, string> } {
  const text = (t: string) => ({ text: t });
  const head = '#!/bin/bash\n';
  const start = EPOCH + rng.int(7 * 86_400);
  switch (shape) {
    case 'bare':
      return text(`${head}${inst.command}\n`);
    case 'pylog': {
      // A Python-logging style wrapper: every line `2026-12-07 22:05:01,123 <logger> LEVEL message`, the command's
      // stdout at INFO and its stderr at ERROR, and a CRITICAL line when the step fails.
      const logger = `${rng.pick(['deploy', 'fleet', 'ops'])}.${inst.step.replace(/-/g, '_')}`;
      const before = [`starting ${inst.step} on ${host}`, ...(rng.int(2) === 0 ? [`using release ${version(rng)} (${rng.alnum(7).toLowerCase()})`] : []), ...(rng.int(3) === 0 ? [`${rng.range(2, 40)} targets in batch ${rng.range(1, 9)}`] : [])];
      return text(
        `${head}RANDOM=${rng.range(1, 32_000)}\n__t=${start}\n` +
        `log() { local lvl=$1 ms=$((RANDOM % 500)); while IFS= read -r l; do printf '%(%Y-%m-%d %H:%M:%S)T,%03d %s %s %s\\n' "$__t" "$ms" ${shq(logger)} "$lvl" "$l"; ms=$(( (ms + RANDOM % 40) % 1000 )); done; }\n` +
        `${before.map((l) => `${echo(l)} | log INFO`).join('\n')}\n` +
        `{\n${inst.command}\n} 2> >(log ERROR >&2) | log INFO\nrc=\${PIPESTATUS[0]}\nwait\n` +
        `if [ "$rc" -ne 0 ]; then echo "step ${inst.step} failed (exit status $rc)" | log CRITICAL; exit "$rc"; fi\necho done | log INFO\n`
      );
    }
    case 'make': {
      // A Makefile-driven run: make echoes each recipe line and ends with `make: *** [<file>:<line>: <target>] Error N`.
      const a = app(rng);
      const env = Object.entries(inst.env ?? {});
      const lines = [
        'SHELL := /bin/bash',
        `APP := ${a}`,
        `VERSION := ${version(rng)}`,
        ...env.map(([k, v]) => `export ${k} := ${v}`),
        '',
        `.PHONY: all prepare ${inst.step}`,
        `all: prepare ${inst.step}`,
        '',
        'prepare:',
        `\t@echo "==> $(APP) $(VERSION): preparing on ${host}"`,
        `\tmkdir -p build/$(APP)`,
        '',
        `${inst.step}: prepare`,
        ...(rng.int(2) === 0 ? [`\t@echo "==> ${inst.step}"`] : []),
        `\t${inst.command.replace(/\$/g, '$$$$')}`,
        '',
      ];
      const makefile = rng.pick(['Makefile', 'deploy.mk', 'release.mk']);
      const target = rng.pick(['', ' all', ` ${inst.step}`]);
      return { text: `${head}make -f ${makefile}${target}\n`, files: { [makefile]: lines.join('\n') } };
    }
    case 'ansible': {
      // An ansible-like run: task banners padded with stars, the failed task's result as one JSON line, the recap.
      const a = app(rng);
      const banner = (t: string) => `${t} ${'*'.repeat(Math.max(3, 79 - t.length))}`;
      const cmd = inst.command;
      return text(
        `${head}__t=${start}\n` +
        `printf '\\n%s\\n' ${shq(banner(`PLAY [${a} ${rng.pick(['deploy', 'rollout', 'maintenance'])}]`))}\n` +
        `printf '\\n%s\\n%s\\n' ${shq(banner('TASK [Gathering Facts]'))} ${shq(`ok: [${host}]`)}\n` +
        (rng.int(2) === 0 ? `printf '\\n%s\\n%s\\n' ${shq(banner(`TASK [${a} : ensure directories]`))} ${shq(`changed: [${host}]`)}\n` : '') +
        `printf '\\n%s\\n' ${shq(banner(`TASK [${a} : ${inst.step}]`))}\n` +
        `__o=$(mktemp) __e=$(mktemp)\n( ${cmd} ) >"$__o" 2>"$__e"\nrc=$?\n` +
        `if [ $rc -ne 0 ]; then\n` +
        `  O="$__o" E="$__e" CMD=${shq(cmd)} RC=$rc HOST=${shq(host)} T0=$__t /usr/bin/python3 -c ${shq(
          'import json,os,datetime\n' +
            'o=open(os.environ["O"]).read().rstrip("\\n"); e=open(os.environ["E"]).read().rstrip("\\n")\n' +
            't=datetime.datetime.utcfromtimestamp(int(os.environ["T0"]))\n' +
            'r={"changed": True, "cmd": os.environ["CMD"], "delta": "0:00:00.%06d" % (int(os.environ["T0"]) % 999983), "end": str(t), "msg": "non-zero return code", "rc": int(os.environ["RC"]), "start": str(t), "stderr": e, "stderr_lines": e.split("\\n") if e else [], "stdout": o, "stdout_lines": o.split("\\n") if o else []}\n' +
            'print("fatal: [%s]: FAILED! => %s" % (os.environ["HOST"], json.dumps(r)))',
        )}\n` +
        `  printf '\\n%s\\n%s\\n\\n' ${shq(banner('PLAY RECAP'))} "$(printf '%-26s : ok=%-4d changed=%-4d unreachable=0    failed=1    skipped=0    rescued=0    ignored=0' ${shq(host)} ${rng.range(1, 3)} ${rng.range(0, 2)})"\n` +
        `  exit 2\nfi\n`
      );
    }
    case 'retry': {
      // A retry loop: the step is tried 2–4 times (its error printed each time), with a backoff line, then gives up.
      const n = rng.range(2, 4);
      const wait = rng.range(1, 5);
      return text(
        `${head}max=${n}; delay=${wait}\nfor i in $(seq 1 $max); do\n  echo "[retry] ${inst.step}: attempt $i of $max"\n  (\n${inst.command}\n  ) && exit 0\n  rc=$?\n` +
        `  if [ "$i" -lt "$max" ]; then echo "[retry] ${inst.step}: exit code $rc, next attempt in \${delay}s"; delay=$((delay * 2)); fi\ndone\n` +
        `echo "[retry] ${inst.step}: giving up after $max attempts (last exit code $rc)"\nexit $rc\n`
      );
    }
    case 'ci': {
      // A CI runner's log: every line led by an ISO timestamp with 7 fraction digits, a `##[group]Run` header with
      // the step's environment, and `##[error]Process completed with exit code N.` at the end.
      const a = app(rng);
      const header = [`##[group]Run ./ci/${inst.step}.sh`, `./ci/${inst.step}.sh`, 'shell: /usr/bin/bash -e {0}', 'env:', `  APP: ${a}`, `  RUNNER_NAME: ${host}`, ...(rng.int(2) === 0 ? [`  GIT_SHA: ${rng.alnum(12).toLowerCase()}`] : []), '##[endgroup]'];
      return text(
        `${head}RANDOM=${rng.range(1, 32_000)}\n__t=${start}\n` +
        `ts() { while IFS= read -r l; do printf '%(%Y-%m-%dT%H:%M:%S)T.%07dZ %s\\n' "$__t" $(( (RANDOM * 32768 + RANDOM) % 10000000 )) "$l"; __t=$((__t + RANDOM % 2)); done; }\n` +
        `{\n${header.map(echo).join('\n')}\n(\nset -e\n${inst.command}\n)\nrc=$?\n[ $rc -ne 0 ] && echo "##[error]Process completed with exit code $rc."\nexit $rc\n} 2>&1 | ts\nexit "\${PIPESTATUS[0]}"\n`
      );
    }
  }
}

const main = () =>
  generateBlindSet({
    name: 'holdout2',
    ...args,
    base: BASE,
    causes: CAUSES,
    shapes: HOLDOUT2_SHAPES,
    label: LABEL,
    idPrefix: 'k',
    timeoutSeconds: TIMEOUT_SECONDS,
    path: `${TOOLS}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    prepare: buildGoTools,
    plan: (rng0, _cause, selected, only) => (selected ? { count: only ? HOLDOUT2_SHAPES.length : rng0.range(8, 18), first: rng0.int(HOLDOUT2_SHAPES.length) } : undefined),
    script,
    env: (shape, inst) => (shape === 'make' ? {} : inst.env),
  });

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
