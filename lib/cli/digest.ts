/**
 * `execution-archive digest [--days N] [--history-days N] [--open]`: the digest function's work from a laptop, over the
 * archive's warehouse (`--to`): writes digests/<date>/digest.json, digest.md and digest.html and prints the headline,
 * what changed and where the page is.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIGEST_LIMITS, runDigest } from '../digest';
import { renderDigestHtml } from '../digest/render';
import { digestDeps } from '../digest/invocation';
import { openInBrowser } from './archive-commands';
import { EXIT, UsageError, println, type CliIo } from './io';
import { cliRuntime, type CommonOptions } from './runtime';

export interface DigestOptions extends CommonOptions {
  days?: string;
  historyDays?: string;
  open?: boolean;
}

function days(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number of days from 1 to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

export async function digestCommand(opts: DigestOptions, io: CliIo): Promise<number> {
  const request = { days: days(opts.days, '--days', DIGEST_LIMITS.maxDays) ?? 7, historyDays: days(opts.historyDays, '--history-days', DIGEST_LIMITS.maxHistoryDays) ?? 30 };
  const rt = cliRuntime(io, opts);
  const { digest, keys, notification } = await runDigest(digestDeps(rt), request);
  let opened: string | undefined;
  if (opts.open) {
    if (digest.links.html.startsWith('file://')) opened = fileURLToPath(digest.links.html);
    else {
      // An OSS object: a local copy (the page is self-contained).
      opened = join(await mkdtemp(join(tmpdir(), 'execution-archive-digest-')), `digest-${digest.date}.html`);
      await writeFile(opened, renderDigestHtml(digest));
    }
    await openInBrowser(opened, rt.config.browser);
  }
  if (opts.json) {
    println(io.stdout, JSON.stringify({ ...digest, keys, ...(notification ? { notification } : {}), ...(opened ? { opened } : {}) }, null, 2));
    return EXIT.ok;
  }
  const c = digest.changes;
  println(io.stdout, digest.headline);
  const changed = c.newCauses.length + c.regressedCauses.length + c.goneCauses.length + c.newlyBroken.length + c.recovered.length + c.commands.length;
  println(io.stdout, `since ${c.since ? `the digest of ${c.since}` : 'the start'}: ${changed ? `${c.newCauses.length} new, ${c.regressedCauses.length} regressed, ${c.goneCauses.length} gone causes; ${c.newlyBroken.length} newly broken, ${c.recovered.length} recovered instances; ${c.commands.length} commands moved ≥ 5 points` : 'nothing changed'}`);
  for (const cause of digest.causes.filter((x) => x.state !== 'gone').slice(0, 5)) {
    println(io.stdout, `  ${cause.state.padEnd(9)} ${cause.key}  ${String(cause.instances).padStart(6)} instance-runs  ${cause.title || cause.status}`);
  }
  println(io.stdout, `digest.html ${opened ?? digest.links.html}`);
  if (notification) println(io.stdout, `notification: ${notification.sent ? `sent (${notification.items} items)` : notification.reason}`);
  return EXIT.ok;
}
