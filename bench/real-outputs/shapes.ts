/**
 * The script shapes one failing command is run in, as a fleet's scripts wrap their commands: the bare command; a
 * multi-step script that prints varying progress first (and sometimes retries); every line prefixed with a timestamp
 * and the host name; a script whose `trap` prints a cleanup trailer after every failure.
 *
 * Two styles: the main set's and the hold-out set's (other progress words, a syslog-like prefix with `prog[pid]:`,
 * another trailer), so the hold-out also tests wrappers the grouping was not developed on.
 */
import type { Rng } from '@execution-archive/local-cloud/datasets/prng';
import { PACKAGES, SHAPES, WORDS, version, type Instance, type Shape } from './catalogue';

export { SHAPES, type Shape };
export type Style = 'main' | 'holdout';

/** Seconds since the epoch of the first prefixed line: 2026-12-01, plus up to a week. */
const EPOCH = 1_796_083_200;

/** Progress lines of a deployment that has not failed yet: downloads, percentages, counters, a stray warning. */
function progressLines(rng: Rng, style: Style): string[] {
  const lines: string[] = [];
  const n = rng.range(1, 5);
  for (let i = 0; i < n; i++) {
    const pkg = rng.pick(PACKAGES);
    const v = version(rng);
    if (style === 'main') {
      switch (rng.int(4)) {
        case 0:
          lines.push(`Downloading ${pkg} ${v} ...`, `  ${rng.range(1, 100)}% [${'#'.repeat(rng.range(1, 20))}] ${rng.range(1, 900)} kB/s`);
          break;
        case 1:
          lines.push(`Downloading ${pkg} ${v} (${rng.range(10, 9000)} kB)`);
          break;
        case 2:
          lines.push(`Get:${i + 1} http://mirrors.cloud.aliyuncs.com/debian bookworm/main amd64 ${pkg} amd64 ${v} [${rng.range(10, 900)} kB]`);
          break;
        default:
          lines.push(`Unpacking ${pkg} (${v}) over (${version(rng)}) ...`);
      }
    } else {
      switch (rng.int(3)) {
        case 0:
          lines.push(`fetching ${pkg}@${v}: ${rng.range(1, 64)}/${rng.range(64, 128)} chunks`);
          break;
        case 1:
          lines.push(`[${rng.range(1, 9)}/${rng.range(9, 12)}] resolving ${pkg} -> ${v}`);
          break;
        default:
          lines.push(`-- ${pkg} ${v} installed in ${rng.range(1, 900) / 100}s`);
      }
    }
  }
  if (rng.int(4) === 0) lines.push(`Fetched ${rng.range(1, 90)}.${rng.range(0, 9)} MB in ${rng.range(1, 20)}s (${rng.range(100, 9000)} kB/s)`);
  if (rng.int(5) === 0) {
    lines.push(
      rng.pick([
        "WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager.",
        'W: Some index files failed to download. They have been ignored, or old ones used instead.',
        `warning: ${rng.range(1, 40)} packages can be upgraded. Run 'apt list --upgradable' to see them.`,
        'npm WARN deprecated request@2.88.2: request has been deprecated, see https://github.com/request/request/issues/3142',
      ]),
    );
  }
  return lines;
}

/** `echo` of a line, safe for any text without a single quote. */
const echo = (line: string): string => `echo '${line.replace(/'/g, `'\\''`)}'`;

export interface ScriptContext {
  rng: Rng;
  host: string;
  style: Style;
}

/** The whole script (bash) that runs `inst` in `shape`. */
export function script(shape: Shape, inst: Instance, ctx: ScriptContext): string {
  const { rng, host, style } = ctx;
  const head = '#!/bin/bash\n';
  switch (shape) {
    case 'bare':
      return `${head}${inst.command}\n`;
    case 'progress': {
      const app = rng.pick(WORDS);
      const v = version(rng);
      const intro = style === 'main' ? [`==> ${host}: deploying ${app} ${v}`] : [`### ${app} rollout ${v} on ${host} ###`];
      const steps = rng.range(2, 6);
      const at = rng.range(1, steps);
      const lines = [...intro, ...progressLines(rng, style), style === 'main' ? `[${at}/${steps}] ${inst.step}` : `step ${at} of ${steps}: ${inst.step}`];
      const retries = !inst.once && rng.int(3) === 0 ? rng.range(2, 3) : 0;
      if (retries === 0) return `${head}set -e\n${lines.map(echo).join('\n')}\n${inst.command}\n${echo('==> done')}\n`;
      const wait = rng.range(1, 30);
      return (
        `${head}${lines.map(echo).join('\n')}\n` +
        `for attempt in $(seq 1 ${retries}); do\n  echo "attempt $attempt/${retries}: ${inst.step}"\n  (\n${inst.command}\n  ) && exit 0\n  rc=$?\n` +
        `  [ "$attempt" -lt ${retries} ] && echo "retrying in ${wait}s (exit code $rc)"\ndone\nexit $rc\n`
      );
    }
    case 'prefixed': {
      const start = EPOCH + rng.int(7 * 86_400);
      const pid = rng.range(300, 60_000);
      const prog = rng.pick(['deploy', 'runjob', 'agent-task', 'bootstrap']);
      const format = style === 'main' ? `'%(%Y-%m-%dT%H:%M:%S)TZ %s %s\\n' "$__ts" "$HOST" "$__line"` : `'%(%b %e %H:%M:%S)T %s ${prog}[${pid}]: %s\\n' "$__ts" "$HOST" "$__line"`;
      const progress = rng.int(2) === 0 ? progressLines(rng, style).slice(0, 2) : [];
      return (
        `${head}RANDOM=${rng.range(1, 32_000)}\n__ts=${start}\n` +
        `__stamp() { while IFS= read -r __line; do printf ${format}; __ts=$((__ts + RANDOM % 3)); done; }\n` +
        `{\nset -e\n${[`starting ${inst.step}`, ...progress].map(echo).join('\n')}\n${inst.command}\n} 2>&1 | __stamp\nexit "\${PIPESTATUS[0]}"\n`
      );
    }
    case 'trap': {
      const work = `$ROOT/tmp/job.${rng.alnum(6)}`;
      const trailer =
        style === 'main'
          ? `    echo "cleaning up $WORKDIR ..."\n    rm -rf "$WORKDIR"\n    echo "step '$STEP' failed with exit code $rc"`
          : `    echo "==> rolling back $STEP (rc=$rc)"\n    rm -rf "$WORKDIR" && echo "removed $WORKDIR"\n    echo "FAILED: see /var/log/jobs/$STEP.log for details"`;
      return (
        `${head}set -e\nWORKDIR="${work}"\nSTEP='${inst.step}'\nmkdir -p "$WORKDIR"\n` +
        `cleanup() {\n  rc=$?\n  if [ "$rc" -ne 0 ]; then\n${trailer}\n  fi\n}\ntrap cleanup EXIT\n` +
        `echo "running $STEP on $HOST"\n${inst.command}\n`
      );
    }
  }
}
