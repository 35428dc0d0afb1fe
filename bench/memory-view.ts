/**
 * A bench worker that sees the memory Function Compute gives the function, without any runtime flag: V8 sizes its
 * heap from the memory the process sees (Node configures it from the machine's memory or, lower, its cgroup's limit),
 * so a collector in a 1024 MB instance gets a 524 MiB heap limit, semi-spaces of at most 4 MiB and an old generation
 * grown slowly between full GCs, where this 24 GB machine gives it 4,144 MiB, 16 MiB semi-spaces and a ×4 growth.
 *
 * How: the worker runs in a private mount namespace (`unshare -m`) in which a file holding the limit is bind-mounted
 * over the limit file of its own cgroup (`memory.limit_in_bytes` in cgroup v1, `memory.max` in v2), the one libuv
 * reads for `process.constrainedMemory()`. Nothing outside that process changes: the real cgroup keeps its limit,
 * nothing is enforced (the figure is the process's own RSS, as before), and other processes see nothing.
 * Linux only, and only where the bench may unshare a mount namespace (root or CAP_SYS_ADMIN); elsewhere
 * {@link memoryView} says why not and the bench reports the row as not measured.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** How to start a process that sees `mb` MiB of memory: a command and the arguments before the program's own. */
export interface MemoryView {
  command: string;
  prefix: string[];
}

/** The limit file of this process's memory cgroup (v1 `memory.limit_in_bytes`, v2 `memory.max`), if there is one. */
function limitFile(): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch {
    return undefined;
  }
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    const v1 = join('/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes');
    if (controllers?.split(',').includes('memory') && existsSync(v1)) return v1;
  }
  for (const line of lines) {
    const [, path] = /^0::(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    const v2 = join('/sys/fs/cgroup', path, 'memory.max');
    if (existsSync(v2)) return v2;
  }
  return undefined;
}

/**
 * The command that starts a process seeing `mb` MiB of memory (its limit written to `dir`), checked by starting node
 * that way once; a string saying why not where it cannot be done.
 * @example const view = memoryView(1024, dir); if (typeof view !== 'string') spawn(view.command, [...view.prefix, process.execPath, file]);
 */
export function memoryView(mb: number, dir: string): MemoryView | string {
  if (process.platform !== 'linux') return 'not Linux';
  const target = limitFile();
  if (!target) return 'no memory cgroup limit file to stand in for';
  const file = join(dir, `memory-view-${mb}`);
  const bytes = mb * 2 ** 20;
  writeFileSync(file, `${bytes}\n`);
  const script = 'mount --make-rprivate / 2>/dev/null; mount --bind "$0" "$1" && shift && exec "$@"';
  const view: MemoryView = { command: 'unshare', prefix: ['-m', 'sh', '-c', script, file, target] };
  const probe = spawnSync(view.command, [...view.prefix, process.execPath, '-e', 'process.stdout.write(String(process.constrainedMemory()))'], { encoding: 'utf8' });
  if (probe.error) return `unshare: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare -m failed (${probe.stderr.trim().split('\n')[0] ?? probe.status})`;
  if (Number(probe.stdout) !== bytes) return `the process saw ${probe.stdout || 'nothing'}, not ${bytes} bytes`;
  return view;
}
