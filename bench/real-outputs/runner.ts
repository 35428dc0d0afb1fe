/**
 * Runs one generated script the way Cloud Assistant runs a command: `bash <file>` in its own process group, stdout and
 * stderr into one stream (a file, so their order is the order the program wrote them), killed with its group at the
 * timeout. Used by the development sets' generators (`dev.ts`, `dev2.ts`) and the second hold-out's (`holdout2.ts`).
 * `launcher`, when given, is the command line that starts bash (`bash <file>` is appended to it): another user, another
 * network namespace.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export function runScript(root: string, scriptFile: string, env: NodeJS.ProcessEnv, timeoutSeconds: number, launcher: readonly string[] = []): Promise<{ code: number; bytes: Buffer }> {
  const outFile = `${root}.out`;
  const fd = openSync(outFile, 'w');
  const [command = 'bash', ...args] = [...launcher, 'bash', scriptFile];
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, timeoutSeconds * 1000);
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), bytes: readFileSync(outFile) });
    });
  });
}
