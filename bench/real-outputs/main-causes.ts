/**
 * The main set's true causes: what `make.ts` runs for `bench/data/real-outputs.jsonl.gz`. Each makes one failing
 * instance from varied parameters; the program really runs and prints its own error. Look-alike pairs that are
 * different causes stand next to each other (exit 124 vs 137, HTTP 404 vs 503, a missing config file vs a missing
 * binary, KeyError vs IndexError, a corrupt archive vs a missing one, two sqlite OperationalErrors, ...).
 *
 * The hold-out set (`holdout-causes.ts`) shares no cause with this one.
 */
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';
import {
  APPS, KEYS, MISSING_PACKAGES, PACKAGES, SERVICES, WORDS, missingConfigPath, shq, version,
  type CauseSpec, type RunEnv,
} from './catalogue';

const pick = <T>(rng: Rng, items: readonly T[]): T => rng.pick(items);
/** 0–3 comment or blank lines, so that line numbers in tracebacks and diagnostics vary. */
const pad = (rng: Rng, comment: string): string => Array.from({ length: rng.int(4) }, (_, i) => (i % 2 === 0 ? `${comment} ${pick(rng, WORDS)} settings` : '')).join('\n');
const fnName = (rng: Rng): string => pick(rng, ['load_settings', 'read_config', 'prepare', 'bootstrap', 'init_job', 'setup', 'load']);
const mainName = (rng: Rng): string => pick(rng, ['main', 'run', 'cli', 'entrypoint']);
/** A Python program: a helper function doing `body` (indented by the caller) called from a main function. */
function pyProgram(rng: Rng, imports: string, body: string, call = ''): string {
  const f = fnName(rng);
  const m = mainName(rng);
  return `${imports}\n${pad(rng, '#')}\n\ndef ${f}(path):\n${body}\n\n\ndef ${m}():\n    result = ${f}(${call || shq('/srv/app')})\n    print(result)\n\n\nif __name__ == "__main__":\n    ${m}()\n`;
}
const jsName = (rng: Rng): string => pick(rng, ['index', 'server', 'worker', 'sync', 'main', 'app']);
const url = (env: RunEnv, path: string): string => {
  const s = env.http[env.rng.int(env.http.length)] ?? { addr: '127.0.0.1', port: 80 };
  return `http://${s.addr}:${s.port}${path}`;
};
const apiPath = (rng: Rng): string => `/${pick(rng, ['api/v1', 'api/v2', 'v1', 'internal'])}/${pick(rng, ['orders', 'health', 'config', 'releases', 'artifacts', 'users'])}/${rng.int(2) === 0 ? rng.range(1, 99_999) : pick(rng, WORDS)}`;
const javaMain = (rng: Rng): string => pick(rng, ['com.acme.billing.Main', 'com.acme.orders.App', 'io.shop.sync.Runner', 'org.example.etl.Job']);

/** Package names apt knows nothing of (other missing packages are "referred to by another package": another message). */
const UNKNOWN_TO_APT = ['nginx-extras-plus', 'node-exporter-bin', 'aliyun-cli', 'ossutil', 'redis-sentinel-tools', 'docker-ce-cli-legacy', 'td-agent-bit', 'filebeat-oss', 'consul-template', 'cloudmonitor-agent', 'ilogtail-agent'] as const;

export const MAIN_CAUSES: readonly CauseSpec[] = [
  // ---------------- bash and coreutils ----------------
  {
    id: 'bash-command-not-found',
    program: 'bash',
    fix: 'install the missing tool (or fix PATH)',
    expect: /command not found/,
    exitCode: 127,
    make({ rng }) {
      const tool = pick(rng, ['helm', 'nomad', 'docker-compose', 'ansible-playbook', 'aliyun', 'ossutil64', 'consul', 'vault', 'pm2', 'supervisorctl', 'yarn', 'pipenv', 'mc', 'etcdctl', 'istioctl', 'crictl', 'velero']);
      const args = pick(rng, ['--version', `apply -f /srv/${pick(rng, APPS)}/deploy.yaml`, `status ${pick(rng, SERVICES)}`, `login --region cn-${pick(rng, ['hangzhou', 'shanghai', 'beijing'])}`, 'install']);
      return { command: `${tool} ${args}`, step: 'tooling' };
    },
  },
  {
    id: 'config-file-missing',
    program: 'coreutils',
    fix: 'deploy the application config file before starting',
    expect: /cat: .*No such file or directory/,
    exitCode: 1,
    make({ rng }) {
      return { command: `cat ${missingConfigPath(rng)} > /dev/null`, step: 'read-config' };
    },
  },
  {
    id: 'script-not-executable',
    program: 'bash',
    fix: 'chmod +x the helper script in the release',
    expect: /Permission denied/,
    exitCode: 126,
    make({ rng, root }) {
      const app = pick(rng, APPS);
      const tool = pick(rng, ['migrate', 'warmup', 'healthcheck', 'rotate-logs', 'register', 'post-install']);
      const path = `opt/${app}/bin/${tool}${rng.int(3) === 0 ? rng.range(2, 5) : ''}.sh`;
      return { files: { [path]: { content: '#!/bin/bash\necho ok\n', mode: 0o644 } }, command: `${root}/${path} ${pick(rng, ['--check', '--env prod', '', `--shard ${rng.range(1, 16)}`])}`, step: tool };
    },
  },
  {
    id: 'mkdir-permission-denied',
    program: 'coreutils',
    fix: 'create the data directory as root (or give the service user write access)',
    expect: /mkdir: cannot create directory .*Permission denied/,
    exitCode: 1,
    make({ rng }) {
      const dir = `/${pick(rng, ['var/lib', 'opt', 'srv', 'var/log'])}/${pick(rng, APPS)}${rng.int(3) === 0 ? rng.range(2, 9) : ''}/${pick(rng, ['data', 'cache', 'spool', 'tmp', 'releases'])}`;
      return { command: `runuser -u nobody -- mkdir -p ${dir}`, step: 'prepare-dirs' };
    },
  },
  {
    id: 'cd-release-missing',
    program: 'bash',
    fix: 'unpack the release before switching to it',
    expect: /cd: .*No such file or directory/,
    exitCode: 1,
    make({ rng }) {
      const rel = rng.int(2) === 0 ? version(rng) : `${pick(rng, WORDS)}-${rng.hex(7)}`;
      return { command: `cd /srv/${pick(rng, APPS)}/releases/${rel}`, step: 'switch-release' };
    },
  },
  {
    id: 'unbound-variable',
    program: 'bash',
    fix: 'set the deployment variable in the job parameters',
    expect: /unbound variable/,
    exitCode: 1,
    make({ rng }) {
      const v = pick(rng, ['DEPLOY_TARGET', 'RELEASE_TAG', 'DB_HOST', 'OSS_BUCKET', 'APP_ENV', 'REGION_ID', 'SHARD', 'CLUSTER_NAME']);
      return { command: `set -u\necho "deploying to \${${v}}"`, step: 'render-env' };
    },
  },
  {
    id: 'disk-full-dd',
    program: 'coreutils',
    fix: 'free space on the data disk',
    expect: /No space left on device/,
    exitCode: 1,
    make({ rng }) {
      return { command: `dd if=/dev/zero of=/dev/full bs=${pick(rng, ['4K', '64K', '1M', '512'])} count=${rng.range(1, 64)}`, step: 'write-cache' };
    },
  },
  {
    id: 'timeout-124',
    program: 'coreutils',
    fix: 'the service never came up: start it before the readiness wait',
    expect: /waiting for/,
    exitCode: 124,
    make({ rng }) {
      const svc = pick(rng, SERVICES);
      const port = pick(rng, [8080, 8443, 9000, 5432, 6379, 3000]);
      return { command: `echo "waiting for ${svc} on port ${port}"\ntimeout 0.${rng.range(2, 4)} tail -f /dev/null`, step: 'wait-ready' };
    },
  },
  {
    id: 'timeout-kill-137',
    program: 'coreutils',
    fix: 'the job ignores TERM: give it a TERM handler (it is being KILLed)',
    expect: /Killed/,
    exitCode: 137,
    make({ rng }) {
      const svc = pick(rng, SERVICES);
      const port = pick(rng, [8080, 8443, 9000, 5432, 6379, 3000]);
      return { command: `echo "waiting for ${svc} on port ${port}"\ntimeout -s KILL 0.${rng.range(2, 4)} tail -f /dev/null`, step: 'wait-ready' };
    },
  },
  {
    id: 'grep-key-absent',
    program: 'coreutils',
    fix: 'add the required key to the env file',
    expect: /^[\s\S]*$/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const key = pick(rng, KEYS).toUpperCase();
      const lines = Array.from({ length: rng.range(2, 6) }, () => `${pick(rng, KEYS).toUpperCase()}_X=${rng.alnum(6)}`).join('\n');
      return { files: { [`etc/${app}/app.env`]: `${lines}\n` }, command: `grep -q '^${key}=' ${'$'}ROOT/etc/${app}/app.env`, step: 'check-env' };
    },
  },
  {
    id: 'sourced-syntax-error',
    program: 'bash',
    fix: 'fix the if/fi in the shared shell library',
    expect: /syntax error/,
    exitCode: 2,
    make({ rng, root }) {
      const lib = `opt/${pick(rng, APPS)}/lib/${pick(rng, ['common', 'functions', 'helpers', 'deploy-lib'])}.sh`;
      const body = `${pad(rng, '#')}\nlog() { echo "$*"; }\nif [ -n "$1" ]; then\n  log "args: $1"\n  fi\nfi\n`;
      return { files: { [lib]: body }, command: `bash ${root}/${lib} ${pick(rng, WORDS)}`, step: 'load-lib' };
    },
  },
  {
    id: 'division-by-zero',
    program: 'bash',
    fix: 'guard the percentage against an empty host list',
    expect: /division by 0/,
    exitCode: 1,
    make({ rng }) {
      const a = pick(rng, ['done_count', 'ok', 'finished', 'healthy']);
      const b = pick(rng, ['total', 'hosts', 'count', 'targets']);
      return { command: `${a}=${rng.range(0, 40)}\n${b}=0\n(( pct = ${a} * 100 / ${b} ))`, step: 'report' };
    },
  },
  {
    id: 'artifact-missing-cp',
    program: 'coreutils',
    fix: 'publish the build artifact before deploying',
    expect: /cp: cannot stat/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      return { command: `cp /var/cache/build/${app}-${version(rng)}.${pick(rng, ['jar', 'tar.gz', 'zip', 'whl'])} /opt/${app}/current/`, step: 'fetch-artifact' };
    },
  },
  {
    id: 'checksum-mismatch',
    program: 'coreutils',
    fix: 'the artifact is corrupt: download it again',
    expect: /did NOT match/,
    exitCode: 1,
    make({ rng }) {
      const name = `${pick(rng, APPS)}-${version(rng)}.tar.gz`;
      const bytes = Buffer.from(rng.alnum(rng.range(100, 4000)));
      return { files: { [`dl/${name}`]: bytes }, command: `cd ${'$'}ROOT/dl && echo "${rng.hex(64)}  ${name}" | sha256sum -c -`, step: 'verify' };
    },
  },
  {
    id: 'cloud-assistant-timeout',
    program: 'bash',
    fix: 'raise the command Timeout (the lock holder finishes later) or release the stale lock',
    expect: /waiting for lock/,
    exitCode: -1,
    make({ rng }) {
      const lock = `/var/lock/${pick(rng, APPS)}${rng.int(2) === 0 ? '' : `-${pick(rng, WORDS)}`}.lock`;
      return { command: `echo "waiting for lock ${lock} (held by pid ${rng.range(300, 40_000)})"\nsleep 30`, step: 'acquire-lock', killAfterSeconds: 1 + rng.int(2) / 2, once: true };
    },
  },

  // ---------------- Python ----------------
  {
    id: 'py-keyerror',
    program: 'python3',
    fix: 'add the key to the service config',
    expect: /KeyError/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const key = pick(rng, KEYS);
      const present = KEYS.filter((k) => k !== key).slice(0, rng.range(1, 4)).map((k) => `${shq(k)}: ${shq(rng.alnum(5))}`).join(', ');
      const file = `opt/${app}/${pick(rng, ['deploy', 'sync', 'worker', 'migrate'])}.py`;
      return { files: { [file]: pyProgram(rng, 'import os', `    cfg = {${present}}\n    return cfg[${shq(key)}]`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'configure' };
    },
  },
  {
    id: 'py-indexerror',
    program: 'python3',
    fix: 'pass the shard list argument',
    expect: /IndexError: list index out of range/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const file = `opt/${app}/${pick(rng, ['shard', 'balance', 'split'])}.py`;
      return { files: { [file]: pyProgram(rng, 'import sys', `    hosts = sys.argv[1:]\n    return hosts[${rng.range(0, 3)}].split(":")`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'plan-shards' };
    },
  },
  {
    id: 'py-module-not-found',
    program: 'python3',
    fix: 'install the Python dependency (pip install -r requirements.txt)',
    expect: /ModuleNotFoundError: No module named/,
    exitCode: 1,
    make({ rng }) {
      const mod = pick(rng, ['aliyunsdkcore', 'oss2', 'kazoo', 'confluent_kafka', 'pymysql', 'ldap3', 'elasticsearch', 'pika', 'psycopg2', 'prometheus_client', 'tenacity']);
      const file = `opt/${pick(rng, APPS)}/${pick(rng, ['export', 'ingest', 'backup'])}.py`;
      return { files: { [file]: `${pad(rng, '#')}\nimport os\nimport ${mod}\n\nprint(${mod}.__name__)\n` }, command: `python3 ${'$'}ROOT/${file}`, step: 'start' };
    },
  },
  {
    id: 'py-config-not-found',
    program: 'python3',
    fix: 'deploy the YAML settings file',
    expect: /FileNotFoundError: \[Errno 2\]/,
    exitCode: 1,
    make({ rng }) {
      const path = `/etc/${pick(rng, APPS)}/${pick(rng, ['settings', 'app', 'worker', 'jobs'])}${rng.int(3) === 0 ? rng.range(1, 3) : ''}.yaml`;
      const file = `opt/${pick(rng, APPS)}/${pick(rng, ['run', 'job', 'app'])}.py`;
      return { files: { [file]: pyProgram(rng, 'import os', `    with open(path) as f:\n        return f.read()`, shq(path)) }, command: `python3 ${'$'}ROOT/${file}`, step: 'configure' };
    },
  },
  {
    id: 'py-json-decode',
    program: 'python3',
    fix: 'the state file is empty or HTML: regenerate it',
    expect: /JSONDecodeError: Expecting value/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const state = `var/${app}/state${rng.int(2) === 0 ? `-${pick(rng, WORDS)}` : ''}.json`;
      const content = `${'\n'.repeat(rng.int(3))}${pick(rng, ['', '<html><body>502 Bad Gateway</body></html>', 'OK', 'Service Unavailable'])}`;
      const file = `opt/${app}/resume.py`;
      return { files: { [state]: content, [file]: pyProgram(rng, 'import json, os', `    with open(path) as f:\n        return json.load(f)`, `os.environ["ROOT"] + ${shq(`/${state}`)}`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'resume' };
    },
  },
  {
    id: 'py-zero-division',
    program: 'python3',
    fix: 'skip the rate when no requests were sampled',
    expect: /ZeroDivisionError/,
    exitCode: 1,
    make({ rng }) {
      const file = `opt/${pick(rng, APPS)}/${pick(rng, ['stats', 'rates', 'sla'])}.py`;
      return { files: { [file]: pyProgram(rng, 'import os', `    errors, total = ${rng.range(0, 50)}, 0\n    return errors / total`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'compute-sla' };
    },
  },
  {
    id: 'py-none-attribute',
    program: 'python3',
    fix: 'the version banner format changed: update the regular expression',
    expect: /AttributeError: 'NoneType' object has no attribute/,
    exitCode: 1,
    make({ rng }) {
      const attr = pick(rng, ['group', 'groups', 'start']);
      const file = `opt/${pick(rng, APPS)}/probe.py`;
      const banner = `${pick(rng, ['nginx', 'redis', 'postgres'])} ${pick(rng, ['build', 'rev'])} ${rng.hex(6)}`;
      return { files: { [file]: pyProgram(rng, 'import re', `    m = re.match(r"version (\\d+)", ${shq(banner)})\n    return m.${attr}(${attr === 'group' ? '1' : ''})`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'probe' };
    },
  },
  {
    id: 'py-int-parse',
    program: 'python3',
    fix: 'PORT must be a number (strip the /tcp suffix in the env file)',
    expect: /ValueError: invalid literal for int\(\) with base 10/,
    exitCode: 1,
    make({ rng }) {
      const value = pick(rng, ['8080/tcp', '80:80', 'eighty', '${PORT}', '0x1F90', '9000,9001', '']);
      const file = `opt/${pick(rng, APPS)}/serve.py`;
      return { files: { [file]: pyProgram(rng, 'import os', `    return int(os.environ.get("PORT", ${shq(value)}))`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'serve' };
    },
  },
  {
    id: 'py-urlopen-refused',
    program: 'python3',
    fix: 'start the local agent the job reports to',
    expect: /Connection refused/,
    exitCode: 1,
    make(env) {
      const port = env.rng.pick(env.closedPorts);
      const file = `opt/${pick(env.rng, APPS)}/report.py`;
      return { files: { [file]: pyProgram(env.rng, 'import urllib.request', `    return urllib.request.urlopen("http://127.0.0.1:${port}${apiPath(env.rng)}", timeout=2).read()`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'report' };
    },
  },
  {
    id: 'py-http-500',
    program: 'python3',
    fix: 'the config service fails on this request: fix the config service',
    expect: /HTTPError: HTTP Error 500/,
    exitCode: 1,
    make(env) {
      const file = `opt/${pick(env.rng, APPS)}/fetch_config.py`;
      return { files: { [file]: pyProgram(env.rng, 'import urllib.request', `    return urllib.request.urlopen(${shq(url(env, `/status/500${apiPath(env.rng)}`))}, timeout=5).read()`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'fetch-config' };
    },
  },
  {
    id: 'py-sqlite-no-table',
    program: 'python3',
    fix: 'run the database migrations first',
    expect: /sqlite3.OperationalError: no such table/,
    exitCode: 1,
    make({ rng }) {
      const table = pick(rng, ['users', 'orders', 'jobs', 'sessions', 'audit_log', 'invoices', 'events']);
      const file = `opt/${pick(rng, APPS)}/report_db.py`;
      return { files: { [file]: pyProgram(rng, 'import os, sqlite3', `    db = sqlite3.connect(os.environ["ROOT"] + "/var/app.db")\n    return db.execute("SELECT count(*) FROM ${table} WHERE id > ${rng.range(0, 999)}").fetchone()`) }, setup: 'mkdir -p var', command: `python3 ${'$'}ROOT/${file}`, step: 'report' };
    },
  },
  {
    id: 'py-sqlite-locked',
    program: 'python3',
    fix: 'stop the other writer (a second job holds the database lock)',
    expect: /database is locked/,
    exitCode: 1,
    make({ rng }) {
      const table = pick(rng, ['users', 'orders', 'jobs', 'sessions']);
      const file = `opt/${pick(rng, APPS)}/writer.py`;
      const body =
        `    path = os.environ["ROOT"] + "/var/app.db"\n    holder = sqlite3.connect(path)\n    holder.execute("CREATE TABLE IF NOT EXISTS ${table} (id INTEGER)")\n    holder.commit()\n    holder.execute("BEGIN EXCLUSIVE")\n` +
        `    db = sqlite3.connect(path, timeout=0.${rng.range(1, 3)})\n    db.execute("INSERT INTO ${table} VALUES (${rng.range(1, 9999)})")`;
      return { files: { [file]: pyProgram(rng, 'import os, sqlite3', body) }, setup: 'mkdir -p var', command: `python3 ${'$'}ROOT/${file}`, step: 'write' };
    },
  },
  {
    id: 'py-sqlite-unique',
    program: 'python3',
    fix: 'the seed data is already loaded: make the seed step idempotent',
    expect: /UNIQUE constraint failed/,
    exitCode: 1,
    make({ rng }) {
      const [table, col] = pick(rng, [['users', 'email'], ['tenants', 'slug'], ['api_keys', 'name'], ['hosts', 'hostname']] as const);
      const v = `${pick(rng, WORDS)}${rng.range(1, 99)}`;
      const file = `opt/${pick(rng, APPS)}/seed.py`;
      const body = `    db = sqlite3.connect(":memory:")\n    db.execute("CREATE TABLE ${table} (id INTEGER PRIMARY KEY, ${col} TEXT UNIQUE)")\n    for _ in range(2):\n        db.execute("INSERT INTO ${table} (${col}) VALUES (?)", (${shq(v)},))`;
      return { files: { [file]: pyProgram(rng, 'import sqlite3', body) }, command: `python3 ${'$'}ROOT/${file}`, step: 'seed' };
    },
  },
  {
    id: 'py-argparse-required',
    program: 'python3',
    fix: 'pass --region to the sync tool',
    expect: /error: the following arguments are required/,
    exitCode: 2,
    make({ rng }) {
      const name = pick(rng, ['sync', 'backup', 'rotate', 'export']);
      const file = `opt/${pick(rng, APPS)}/${name}.py`;
      const body = `import argparse\n${pad(rng, '#')}\np = argparse.ArgumentParser()\np.add_argument("--region", required=True)\np.add_argument("--dry-run", action="store_true")\np.add_argument("--${pick(rng, ['bucket', 'limit', 'since'])}")\nargs = p.parse_args()\n`;
      return { files: { [file]: body }, command: `python3 ${'$'}ROOT/${file} ${pick(rng, ['', '--dry-run', `--limit ${rng.range(1, 500)}`])}`, step: name };
    },
  },
  {
    id: 'py-permission-log',
    program: 'python3',
    fix: 'give the service user write access to its log directory',
    expect: /PermissionError: \[Errno 13\] Permission denied/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const file = `opt/${app}/logger_setup.py`;
      const log = `/var/log/${app}/${pick(rng, ['app', 'worker', 'access', 'jobs'])}${rng.int(3) === 0 ? `-${rng.range(1, 4)}` : ''}.log`;
      return { files: { [file]: { content: pyProgram(rng, 'import logging', `    logging.basicConfig(filename=${shq(log.replace(`/var/log/${app}`, '/var/log'))})\n    return True`), mode: 0o755 } }, command: `cd /tmp && runuser -u nobody -- /usr/bin/python3 ${'$'}ROOT/${file}`, step: 'logging' };
    },
  },
  {
    id: 'py-assertion',
    program: 'python3',
    fix: 'the replica count check fails: scale the deployment first',
    expect: /AssertionError: expected/,
    exitCode: 1,
    make({ rng }) {
      const want = rng.range(2, 12);
      const file = `opt/${pick(rng, APPS)}/verify.py`;
      return { files: { [file]: pyProgram(rng, 'import os', `    ready = ${rng.range(0, want - 1)}\n    assert ready == ${want}, f"expected ${want} ready replicas, got {ready}"\n    return ready`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'verify' };
    },
  },

  // ---------------- Node.js ----------------
  {
    id: 'node-undefined-property',
    program: 'node',
    fix: 'the upstream response has no data field: handle the error response',
    expect: /TypeError: Cannot read properties of undefined/,
    exitCode: 1,
    make({ rng }) {
      const prop = pick(rng, ['id', 'items', 'length', 'host', 'token', 'status', 'name']);
      const file = `srv/${pick(rng, APPS)}/${jsName(rng)}.js`;
      const fn = pick(rng, ['handle', 'processReply', 'consume', 'apply']);
      const body = `${pad(rng, '//')}\nconst res = { error: ${JSON.stringify(pick(rng, ['not found', 'unauthorized', 'timeout']))} };\nfunction ${fn}(r) {\n  return r.data.${prop};\n}\nconsole.log(${fn}(res));\n`;
      return { files: { [file]: body }, command: `node ${'$'}ROOT/${file}`, step: 'consume' };
    },
  },
  {
    id: 'node-json-parse',
    program: 'node',
    fix: 'the cached manifest is not JSON (an HTML error page was saved): fetch it again',
    expect: /SyntaxError: Unexpected token .* is not valid JSON/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const manifest = `var/${app}/manifest.json`;
      // Each an error page or status text saved in place of the JSON: one message, `Unexpected token …`.
      const content = pick(rng, [`<html><head><title>${rng.range(500, 504)} Bad Gateway</title></head></html>`, `<!DOCTYPE html><html lang="en">`, `OK ${rng.range(1, 99)}`, `Service Unavailable (${pick(rng, SERVICES)})`]);
      const file = `srv/${app}/${jsName(rng)}.js`;
      return { files: { [manifest]: content, [file]: `${pad(rng, '//')}\nconst fs = require('fs');\nconst manifest = JSON.parse(fs.readFileSync(process.env.ROOT + '/${manifest}', 'utf8'));\nconsole.log(manifest.version);\n` }, command: `node ${'$'}ROOT/${file}`, step: 'load-manifest' };
    },
  },
  {
    id: 'node-syntax-error',
    program: 'node',
    fix: 'the release holds a half-merged source file: rebuild the release',
    expect: /SyntaxError: /,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const file = `srv/${app}/lib/${pick(rng, ['routes', 'config', 'db', 'jobs'])}.js`;
      const name = pick(rng, ['handler', 'options', 'retries', 'pool']);
      return { files: { [file]: `${pad(rng, '//')}\nmodule.exports = {\n  ${name}: ${rng.range(1, 9)}\n<<<<<<< HEAD\n  timeout: ${rng.range(1, 60)},\n=======\n  timeout: ${rng.range(61, 90)},\n>>>>>>> ${pick(rng, WORDS)}\n};\n` }, command: `node ${'$'}ROOT/${file}`, step: 'start' };
    },
  },
  {
    id: 'node-fetch-refused',
    program: 'node',
    fix: 'start the metadata sidecar the service fetches from',
    expect: /ECONNREFUSED/,
    exitCode: 1,
    make(env) {
      const port = env.rng.pick(env.closedPorts);
      const file = `srv/${pick(env.rng, APPS)}/${jsName(env.rng)}.js`;
      return { files: { [file]: `${pad(env.rng, '//')}\nasync function main() {\n  const res = await fetch('http://127.0.0.1:${port}${apiPath(env.rng)}');\n  console.log(await res.json());\n}\nmain();\n` }, command: `node ${'$'}ROOT/${file}`, step: 'bootstrap' };
    },
  },
  {
    id: 'node-module-not-found',
    program: 'node',
    fix: 'run npm ci in the release',
    expect: /Cannot find module/,
    exitCode: 1,
    make({ rng }) {
      const mod = pick(rng, ['express', 'ioredis', 'pg', 'axios', 'dotenv', 'winston', 'ali-oss', 'kafkajs', 'lodash']);
      const file = `srv/${pick(rng, APPS)}/${jsName(rng)}.js`;
      return { files: { [file]: `${pad(rng, '//')}\n'use strict';\nconst dep = require('${mod}');\nconsole.log(dep);\n` }, command: `node ${'$'}ROOT/${file}`, step: 'start' };
    },
  },
  {
    id: 'node-enoent-config',
    program: 'node',
    fix: 'deploy the service JSON config',
    expect: /ENOENT: no such file or directory/,
    exitCode: 1,
    make({ rng }) {
      const path = `/etc/${pick(rng, APPS)}/${pick(rng, ['config', 'service', 'routes', 'flags'])}${rng.int(3) === 0 ? `.${pick(rng, WORDS)}` : ''}.json`;
      const file = `srv/${pick(rng, APPS)}/${jsName(rng)}.js`;
      return { files: { [file]: `${pad(rng, '//')}\nconst fs = require('fs');\nconst config = JSON.parse(fs.readFileSync('${path}', 'utf8'));\nconsole.log(config);\n` }, command: `node ${'$'}ROOT/${file}`, step: 'configure' };
    },
  },
  {
    id: 'node-eaddrinuse',
    program: 'node',
    fix: 'another process holds the port: stop the old instance before starting',
    expect: /EADDRINUSE/,
    exitCode: 1,
    make(env) {
      const s = env.rng.pick(env.http);
      const file = `srv/${pick(env.rng, APPS)}/${jsName(env.rng)}.js`;
      return { files: { [file]: `${pad(env.rng, '//')}\nconst http = require('http');\nconst server = http.createServer((req, res) => res.end('ok'));\nserver.listen(${s.port}, '${s.addr}', () => console.log('listening on ${s.port}'));\n` }, command: `node ${'$'}ROOT/${file}`, step: 'listen' };
    },
  },
  {
    id: 'node-reference-error',
    program: 'node',
    fix: 'the build dropped an import: rebuild with the missing helper',
    expect: /ReferenceError: \w+ is not defined/,
    exitCode: 1,
    make({ rng }) {
      const name = pick(rng, ['formatDate', 'retryPolicy', 'logger', 'parseArgs', 'metrics', 'uuidv4']);
      const file = `srv/${pick(rng, APPS)}/${jsName(rng)}.js`;
      return { files: { [file]: `${pad(rng, '//')}\nfunction run(job) {\n  return ${name}(job.${pick(rng, ['id', 'at', 'name'])});\n}\nrun({ id: ${rng.range(1, 9999)} });\n` }, command: `node ${'$'}ROOT/${file}`, step: 'run' };
    },
  },
  {
    id: 'node-app-error-log',
    program: 'node',
    fix: 'the downstream health check fails: fix the downstream service',
    expect: /ERROR healthcheck/,
    exitCode: 3,
    make({ rng }) {
      const svc = pick(rng, SERVICES);
      const file = `srv/${pick(rng, APPS)}/health.js`;
      const lines = Array.from({ length: rng.range(1, 4) }, () => `console.log(new Date(${1_780_000_000_000 + rng.int(1e9)}).toISOString() + ' INFO  checked ${pick(rng, SERVICES)}: ok (' + ${rng.range(2, 90)} + ' ms)');`).join('\n');
      return { files: { [file]: `${lines}\nconsole.error(new Date(${1_780_000_000_000 + rng.int(1e9)}).toISOString() + ' ERROR healthcheck: ${svc} unhealthy (status=${pick(rng, [500, 502, 503])}, ${rng.range(1, 5)} of ${rng.range(5, 9)} probes failed)');\nprocess.exit(3);\n` }, command: `node ${'$'}ROOT/${file}`, step: 'healthcheck' };
    },
  },

  // ---------------- Java ----------------
  {
    id: 'java-npe',
    program: 'java',
    fix: 'the settings lack the endpoint entry: add it',
    expect: /java.lang.NullPointerException/,
    exitCode: 1,
    make({ rng }) {
      return { command: `java -cp ${'$'}JAVA_CLASSES ${javaMain(rng)} npe ${pick(rng, KEYS)}`, step: 'start' };
    },
  },
  {
    id: 'java-array-index',
    program: 'java',
    fix: 'the host:port:weight triple lacks a field: fix the upstream list',
    expect: /ArrayIndexOutOfBoundsException/,
    exitCode: 1,
    make({ rng }) {
      const parts = Array.from({ length: rng.range(1, 2) }, () => `${pick(rng, SERVICES)}`).join(':');
      return { command: `java -cp ${'$'}JAVA_CLASSES ${javaMain(rng)} index ${parts}`, step: 'start' };
    },
  },
  {
    id: 'java-number-format',
    program: 'java',
    fix: 'WORKERS must be a number',
    expect: /NumberFormatException/,
    exitCode: 1,
    make({ rng }) {
      return { command: `java -cp ${'$'}JAVA_CLASSES ${javaMain(rng)} number ${pick(rng, ['four', '8x', '1.5', 'auto', '""', 'max', `${rng.range(1, 9)}k`])}`, step: 'start' };
    },
  },
  {
    id: 'java-config-caused-by',
    program: 'java',
    fix: 'deploy application.properties',
    expect: /Caused by: java.io.FileNotFoundException/,
    exitCode: 1,
    make({ rng }) {
      return { command: `java -cp ${'$'}JAVA_CLASSES ${javaMain(rng)} config /etc/${pick(rng, APPS)}/${pick(rng, ['application', 'app', 'server'])}${rng.int(3) === 0 ? `-${pick(rng, WORDS)}` : ''}.properties`, step: 'start' };
    },
  },
  {
    id: 'java-class-not-found',
    program: 'java',
    fix: 'the jar is missing from the classpath: fix the start script',
    expect: /Could not find or load main class/,
    exitCode: 1,
    make({ rng }) {
      const cls = `com.${pick(rng, ['acme', 'example', 'shop'])}.${pick(rng, APPS)}.${pick(rng, ['Main', 'Application', 'Server', 'Worker'])}`;
      return { command: `java -cp /opt/${pick(rng, APPS)}/lib/${pick(rng, APPS)}-${version(rng)}.jar ${cls}`, step: 'start' };
    },
  },
  {
    id: 'java-heap-oom',
    program: 'java',
    fix: 'raise -Xmx for the import job',
    expect: /OutOfMemoryError: Java heap space/,
    exitCode: 1,
    make({ rng }) {
      return { command: `java -Xmx${pick(rng, [16, 24, 32])}m -cp ${'$'}JAVA_CLASSES ${javaMain(rng)} oom ${rng.range(1, 8)}`, step: 'import' };
    },
  },
  {
    id: 'javac-cannot-find-symbol',
    program: 'javac',
    fix: 'the source uses a method the library version lacks: bump the library',
    expect: /error: cannot find symbol/,
    exitCode: 1,
    make({ rng }) {
      const cls = pick(rng, ['Main', 'Report', 'Sync', 'Importer']);
      const sym = pick(rng, ['parseDuration', 'fromEnv', 'retryAfter', 'shardCount', 'toSnakeCase']);
      const file = `build/src/${cls}.java`;
      return { files: { [file]: `${pad(rng, '//')}\npublic class ${cls} {\n  public static void main(String[] args) {\n    int n = Util.${sym}(args.length);\n    System.out.println(n);\n  }\n}\nclass Util {}\n` }, command: `cd ${'$'}ROOT/build && javac -d out src/${cls}.java`, step: 'compile' };
    },
  },

  // ---------------- git ----------------
  {
    id: 'git-not-a-repo',
    program: 'git',
    fix: 'clone the repository before pulling',
    expect: /fatal: not a git repository/,
    exitCode: 128,
    make({ rng }) {
      const dir = `srv/${pick(rng, APPS)}${rng.int(3) === 0 ? rng.range(2, 9) : ''}`;
      return { files: { [`${dir}/README`]: 'x\n' }, command: `cd ${'$'}ROOT/${dir} && git pull --ff-only`, step: 'update-code' };
    },
  },
  {
    id: 'git-pathspec',
    program: 'git',
    fix: 'push the release branch before deploying it',
    expect: /did not match any file\(s\) known to git/,
    exitCode: 1,
    make({ rng }) {
      const branch = `${pick(rng, ['release', 'hotfix', 'deploy'])}/${rng.int(2) === 0 ? version(rng) : pick(rng, WORDS)}`;
      return { setup: 'git init -q repo && cd repo && echo a > a && git add a && git commit -qm init', command: `cd ${'$'}ROOT/repo && git checkout ${branch}`, step: 'checkout' };
    },
  },
  {
    id: 'git-merge-conflict',
    program: 'git',
    fix: 'resolve the conflict in the config branch',
    expect: /CONFLICT \(content\)/,
    exitCode: 1,
    make({ rng }) {
      const file = `${pick(rng, ['config', 'deploy', 'conf'])}/${pick(rng, ['app.yaml', 'values.yaml', 'nginx.conf', 'settings.py'])}`;
      const br = `feature/${pick(rng, WORDS)}-${rng.range(1, 300)}`;
      const setup = `git init -q -b main repo && cd repo && mkdir -p $(dirname ${file}) && echo base > ${file} && git add . && git commit -qm base && git checkout -qb ${br} && echo theirs-${rng.alnum(4)} > ${file} && git commit -qam theirs && git checkout -q main && echo ours-${rng.alnum(4)} > ${file} && git commit -qam ours`;
      return { setup, command: `cd ${'$'}ROOT/repo && git merge --no-edit ${br}`, step: 'merge', once: true };
    },
  },
  {
    id: 'git-clone-404',
    program: 'git',
    fix: 'the repository URL is wrong (renamed repository): fix the URL',
    expect: /not found/,
    exitCode: 128,
    make(env) {
      const repo = `${pick(env.rng, ['infra', 'platform', 'ops', 'team-' + pick(env.rng, WORDS)])}/${pick(env.rng, APPS)}${env.rng.int(3) === 0 ? '-v' + env.rng.range(2, 4) : ''}.git`;
      return { command: `cd ${'$'}ROOT && git clone -q ${url(env, `/${repo}`)}`, step: 'clone' };
    },
  },
  {
    id: 'git-push-rejected',
    program: 'git',
    fix: 'pull before pushing the tag commit (the remote moved)',
    expect: /\[rejected\]/,
    exitCode: 1,
    make({ rng }) {
      const setup =
        'git init -q --bare -b main remote.git && git clone -q remote.git a 2>/dev/null && cd a && echo 1 > f && git add f && git commit -qm one && git push -q origin main && cd .. && ' +
        `git clone -q remote.git b && cd a && echo ${rng.alnum(5)} > f && git commit -qam two && git push -q origin main && cd ../b && echo ${rng.alnum(5)} > g && git add g && git commit -qm three`;
      return { setup, command: `cd ${'$'}ROOT/b && git push origin main`, step: 'publish', once: true };
    },
  },

  // ---------------- curl ----------------
  {
    id: 'curl-404',
    program: 'curl',
    fix: 'the artifact URL is wrong: publish to the path the job reads',
    expect: /error: 404/,
    exitCode: 22,
    make(env) {
      return { command: `curl -fsS -o /dev/null ${url(env, `/status/404${apiPath(env.rng)}`)}`, step: 'download' };
    },
  },
  {
    id: 'curl-503',
    program: 'curl',
    fix: 'the upstream is overloaded: scale it or retry later',
    expect: /error: 503/,
    exitCode: 22,
    make(env) {
      return { command: `curl -fsS -o /dev/null ${url(env, `/status/503${apiPath(env.rng)}`)}`, step: 'download' };
    },
  },
  {
    id: 'curl-refused',
    program: 'curl',
    fix: 'start the service on that port',
    expect: /Failed to connect/,
    exitCode: 7,
    make(env) {
      return { command: `curl -fsS http://127.0.0.1:${env.rng.pick(env.closedPorts)}${apiPath(env.rng)}`, step: 'register' };
    },
  },
  {
    id: 'curl-timeout',
    program: 'curl',
    fix: 'the backend hangs: raise the timeout or fix the backend',
    expect: /Operation timed out/,
    exitCode: 28,
    make(env) {
      return { command: `curl -fsS -m 0.${env.rng.range(2, 5)} ${url(env, `/hang${apiPath(env.rng)}`)}`, step: 'register' };
    },
  },

  // ---------------- tar and gzip ----------------
  {
    id: 'tar-not-gzip',
    program: 'tar',
    fix: 'the downloaded archive is an error page: download it again',
    expect: /not in gzip format/,
    exitCode: 2,
    make({ rng }) {
      const name = `${pick(rng, APPS)}-${version(rng)}.tar.gz`;
      return { files: { [`dl/${name}`]: `<html><body>${pick(rng, ['403 Forbidden', '404 Not Found', 'AccessDenied'])}</body></html>\n` }, command: `mkdir -p ${'$'}ROOT/opt/release && tar -xzf ${'$'}ROOT/dl/${name} -C ${'$'}ROOT/opt/release`, step: 'unpack' };
    },
  },
  {
    id: 'tar-archive-missing',
    program: 'tar',
    fix: 'the download step did not run: download the archive first',
    expect: /Cannot open: No such file or directory/,
    exitCode: 2,
    make({ rng }) {
      const name = `${pick(rng, APPS)}-${version(rng)}.tar.gz`;
      return { command: `tar -xzf /var/cache/${pick(rng, ['deploy', 'releases', 'artifacts'])}/${name} -C /tmp`, step: 'unpack' };
    },
  },
  {
    id: 'gzip-truncated',
    program: 'gzip',
    fix: 'the backup upload was cut short: upload it again',
    expect: /unexpected end of file/,
    exitCode: 1,
    make({ rng }) {
      return { setup: `mkdir -p backup && head -c ${rng.range(3000, 60_000)} /dev/urandom > data.bin && gzip -c data.bin | head -c ${rng.range(200, 2000)} > backup/${pick(rng, APPS)}-${rng.range(20_260_101, 20_261_231)}.sql.gz && rm data.bin`, command: `gzip -t ${'$'}ROOT/backup/*.sql.gz`, step: 'verify-backup' };
    },
  },

  // ---------------- sqlite3 CLI ----------------
  {
    id: 'sqlite-cli-no-table',
    program: 'sqlite3',
    fix: 'run the schema migration before the report',
    expect: /no such table/,
    exitCode: 1,
    make({ rng }) {
      return { setup: 'mkdir -p var && sqlite3 var/app.db "CREATE TABLE meta (k TEXT)"', command: `sqlite3 ${'$'}ROOT/var/app.db "SELECT count(*) FROM ${pick(rng, ['orders', 'jobs', 'audit', 'payments', 'nodes'])} WHERE created_at > '2026-${String(rng.range(1, 12)).padStart(2, '0')}-01'"`, step: 'report' };
    },
  },
  {
    id: 'sqlite-cli-cannot-open',
    program: 'sqlite3',
    fix: 'create the database directory',
    expect: /unable to open database/,
    exitCode: 1,
    make({ rng }) {
      return { command: `sqlite3 /var/lib/${pick(rng, APPS)}/${pick(rng, ['state', 'queue', 'cache'])}.db "PRAGMA integrity_check"`, step: 'check-db' };
    },
  },

  // ---------------- jq ----------------
  {
    id: 'jq-cannot-index',
    program: 'jq',
    fix: 'the API answers a string (an error message), not an object: check the API token',
    expect: /jq: error .*Cannot index string/,
    exitCode: 5,
    make({ rng }) {
      const file = `var/${pick(rng, APPS)}-response.json`;
      return { files: { [file]: JSON.stringify(pick(rng, ['invalid token', 'rate limited', 'forbidden', `quota exceeded for ${pick(rng, APPS)}`])) }, command: `jq -r '.${pick(rng, KEYS)}' ${'$'}ROOT/${file}`, step: 'parse-response' };
    },
  },
  {
    id: 'jq-parse-error',
    program: 'jq',
    fix: 'the inventory file is not JSON: regenerate it',
    expect: /parse error: Invalid numeric literal at line/,
    exitCode: 4,
    make({ rng }) {
      const file = `var/${pick(rng, APPS)}-inventory.json`;
      const content = pick(rng, [`hosts:\n  - ${pick(rng, SERVICES)}\n`, `server=10.0.${rng.int(9)}.${rng.range(2, 250)}\nport=${rng.range(80, 9000)}\n`, `<html><body>${rng.range(500, 504)}</body></html>\n`]);
      return { files: { [file]: content }, command: `jq '.hosts | length' ${'$'}ROOT/${file}`, step: 'parse-inventory' };
    },
  },

  // ---------------- apt / dpkg / systemctl ----------------
  {
    id: 'apt-unable-to-locate',
    program: 'apt-get',
    fix: 'add the vendor repository (or fix the package name)',
    expect: /E: Unable to locate package/,
    exitCode: 100,
    make({ rng }) {
      return { command: `apt-get -s install -y ${pick(rng, UNKNOWN_TO_APT)}${rng.int(3) === 0 ? `=${version(rng)}` : ''}`, step: 'install-deps' };
    },
  },
  {
    id: 'dpkg-not-installed',
    program: 'dpkg',
    fix: 'install the agent package before configuring it',
    expect: /is not installed and no information is available/,
    exitCode: 1,
    make({ rng }) {
      return { command: `dpkg -s ${pick(rng, MISSING_PACKAGES)}`, step: 'check-agent' };
    },
  },
  {
    id: 'dpkg-deb-not-debian',
    program: 'dpkg',
    fix: 'the .deb download is an error page: download it again',
    expect: /is not a Debian format archive/,
    exitCode: 2,
    make({ rng }) {
      const name = `${pick(rng, PACKAGES)}_${version(rng)}_amd64.deb`;
      return { files: { [`dl/${name}`]: `<?xml version="1.0"?><Error><Code>${pick(rng, ['NoSuchKey', 'AccessDenied'])}</Code></Error>\n` }, command: `dpkg-deb --info ${'$'}ROOT/dl/${name}`, step: 'install-deb' };
    },
  },
  {
    id: 'systemctl-no-systemd',
    program: 'systemctl',
    fix: 'the image runs without systemd: start the service with its own supervisor',
    expect: /System has not been booted with systemd/,
    exitCode: 1,
    make({ rng }) {
      return { command: `systemctl ${pick(rng, ['restart', 'start', 'reload', 'stop'])} ${pick(rng, SERVICES)}${rng.int(2) === 0 ? '.service' : ''}`, step: 'restart' };
    },
  },
  // ---------------- Python jobs with secrets in their source, long logs ----------------
  {
    id: 'py-http-401',
    program: 'python3',
    fix: 'the API token expired: rotate the token in the job',
    expect: /HTTPError: HTTP Error 401/,
    exitCode: 1,
    make(env) {
      const token = `${pick(env.rng, ['sk-', 'ghp_', 'tok_'])}${env.rng.alnum(24)}`;
      const file = `opt/${pick(env.rng, APPS)}/push_metrics.py`;
      return { files: { [file]: pyProgram(env.rng, 'import urllib.request', `    return urllib.request.urlopen(${shq(url(env, `/status/401${apiPath(env.rng)}?access_token=${token}`))}, timeout=5).read()`) }, command: `python3 ${'$'}ROOT/${file}`, step: 'push-metrics' };
    },
  },
  {
    id: 'py-batch-upstream-closed',
    program: 'python3',
    fix: 'the export upstream drops long connections: raise its idle timeout',
    expect: /processed batch/,
    exitCode: 1,
    make({ rng }) {
      const file = `opt/${pick(rng, APPS)}/export_batches.py`;
      const batches = rng.range(20, 700);
      const body = `    for i in range(${batches}):\n        print(f"processed batch {i + 1}/${batches + rng.range(1, 50)} (rows={(i * 7919) % 5000 + 100}, {(i * 31) % 900 + 50} ms)", flush=True)\n    raise ConnectionResetError(f"batch ${batches + 1} failed: upstream ${pick(rng, SERVICES)} closed the connection")`;
      return { files: { [file]: pyProgram(rng, 'import os', body) }, command: `python3 ${'$'}ROOT/${file}`, step: 'export' };
    },
  },

  // ---------------- pip and npm ----------------
  {
    id: 'pip-no-distribution',
    program: 'pip',
    fix: 'the internal package index lacks the package: publish it to the index',
    expect: /No matching distribution found/,
    exitCode: 1,
    make({ rng }) {
      const pkg = `${pick(rng, ['acme', 'shop', 'infra'])}-${pick(rng, APPS)}-${pick(rng, ['client', 'sdk', 'utils'])}`;
      return { command: `python3 -m pip install --dry-run --no-index --disable-pip-version-check ${pkg}${rng.int(2) === 0 ? `==${version(rng)}` : ''}`, step: 'install-deps' };
    },
  },
  {
    id: 'pip-externally-managed',
    program: 'pip',
    fix: 'install into a virtualenv (the system Python is externally managed)',
    expect: /externally-managed-environment/,
    exitCode: 1,
    make({ rng }) {
      return { command: `/usr/bin/python3 -m pip install --dry-run --no-index ${pick(rng, ['requests', 'pyyaml', 'boto3', 'psutil', 'jinja2', 'redis'])}${rng.int(2) === 0 ? `==${version(rng)}` : ''}`, step: 'install-deps' };
    },
  },
  {
    id: 'npm-missing-script',
    program: 'npm',
    fix: 'the package has no build script: use the renamed script',
    expect: /Missing script/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      const scripts = Object.fromEntries(['start', 'test', 'lint'].slice(0, rng.range(1, 3)).map((k) => [k, `node ${k}.js`]));
      return { files: { [`srv/${app}/package.json`]: JSON.stringify({ name: app, version: version(rng).replace(/-.*/, ''), scripts }, null, 2) }, command: `cd ${'$'}ROOT/srv/${app} && npm run ${pick(rng, ['build', 'build:prod', 'compile', 'bundle'])}`, step: 'build' };
    },
  },
  {
    id: 'npm-ci-no-lockfile',
    program: 'npm',
    fix: 'commit package-lock.json',
    expect: /can only install with an existing package-lock.json/,
    exitCode: 1,
    make({ rng }) {
      const app = pick(rng, APPS);
      return { files: { [`srv/${app}/package.json`]: JSON.stringify({ name: app, version: '1.0.0', dependencies: { [pick(rng, ['express', 'pg', 'ioredis'])]: `^${rng.range(1, 5)}.0.0` } }, null, 2) }, command: `cd ${'$'}ROOT/srv/${app} && npm ci --no-audit --no-fund`, step: 'install-deps' };
    },
  },

  // ---------------- Rust ----------------
  {
    id: 'rust-unwrap-none',
    program: 'rust',
    fix: 'pass the upstream argument to the proxy',
    expect: /called `Option::unwrap\(\)` on a `None` value/,
    exitCode: 101,
    make({ rng }) {
      return { command: `${'$'}TOOLS_BIN/${pick(rng, ['log-shipper', 'edge-proxy'])} ${rng.range(1024, 65000)}`, step: 'start-proxy' };
    },
  },
  {
    id: 'rust-parse-int',
    program: 'rust',
    fix: 'the port argument is not a number: fix the unit file',
    expect: /called `Result::unwrap\(\)` on an `Err` value: ParseIntError/,
    exitCode: 101,
    make({ rng }) {
      return { command: `${'$'}TOOLS_BIN/${pick(rng, ['log-shipper', 'edge-proxy'])} ${pick(rng, ['auto', '80/tcp', '"$PORT"', 'http', '99999', '-1'])} ${pick(rng, SERVICES)}:${rng.range(80, 9000)}`, step: 'start-proxy' };
    },
  },
];
