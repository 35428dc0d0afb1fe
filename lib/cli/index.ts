/**
 * `execution-archive`: the operator's command line (package.json `bin`, `npx execution-archive --help`). Each command
 * calls the same lib/ code as the functions; this file only declares the commands and their options (commander),
 * maps errors to exit codes (0 ok, 1 failure, 2 usage, 3 partial/checkpointed, 4 verify could not read) and turns Ctrl-C into a clean stop.
 */
import { Command, CommanderError, Option } from 'commander';
import { AppError } from '../errors';
import { reportCommand, summarizeCommand, verifyCommand } from './archive-commands';
import { causesCommand } from './causes';
import { collectCommand } from './collect';
import { COMPACT_FLAG_DEFAULTS, compactCommand } from './compact';
import { digestCommand } from './digest';
import { EXIT, UsageError, println, type CliIo, type CommandIo } from './io';
import { withCommonOptions } from './runtime';
import { serveCommand } from './serve';
import { SQL_FORMATS, sqlCommand } from './sql';
import { sweepCommand } from './sweep';

export type { CommandIo } from './io';

/** Commands that parse their own arguments (everything after the name is theirs, `--help` included). */
const RAW_COMMANDS: Record<string, { summary: string; run: (argv: string[], io: CommandIo) => Promise<number> }> = {
  causes: { summary: 'group messages (one per line) into failure causes, as summarize does (--input FILE, --json)', run: causesCommand },
};

const EXAMPLES = {
  collect: [
    'execution-archive collect exec-6be6d6ff805349d9ac13 --region cn-hangzhou --to oss://my-bucket/archive',
    'execution-archive collect --source ecs --invoke-id t-hz0jdfwd9f0abc --include-history --to ./archive',
    'execution-archive collect --ids ids.txt --concurrency 8 --json > results.json',
    'execution-archive sweep --since 72h --json | jq -r ".notArchived[].id" | execution-archive collect --ids -',
  ],
  summarize: ['execution-archive summarize t-hz0jdfwd9f0abc --to oss://my-bucket/archive', 'execution-archive summarize exec-6be6d6ff805349d9ac13 --force --json'],
  report: ['execution-archive report t-hz0jdfwd9f0abc', 'execution-archive report exec-6be6d6ff805349d9ac13 --top 20', 'execution-archive report t-hz0jdfwd9f0abc --open'],
  verify: ['execution-archive verify exec-6be6d6ff805349d9ac13 --to oss://my-bucket/archive', 'execution-archive verify t-hz0jdfwd9f0abc --json'],
  sweep: [
    'execution-archive sweep --since 72h',
    'execution-archive sweep --since 2026-05-01 --until 2026-05-08 --source oos --collect --concurrency 8',
    'execution-archive sweep --since 30d --retention-days 28 --warn-days 3 --json',
  ],
  digest: ['execution-archive digest', 'execution-archive digest --days 30 --open', 'execution-archive digest --to oss://my-bucket/archive --json | jq .changes'],
  compact: ['execution-archive compact', 'execution-archive compact --to oss://my-bucket/archive --json', 'execution-archive compact --closed-after-hours 0 --grace-minutes 0   # a copied archive nobody else reads'],
  sql: [
    'execution-archive sql "select status, count(*) n from results group by status order by n desc"',
    'execution-archive sql "select cause_key, any_value(title) title, sum(instances) instance_runs from causes group by cause_key order by instance_runs desc limit 10"',
    'execution-archive sql "select * from results where outcome = \'failed\' and date >= current_date - 7" --format csv > failed.csv',
    'execution-archive sql "select count(*) from results" --to ./copied-archive --format json',
  ],
  serve: ['execution-archive serve', 'execution-archive serve --port 9100 --clean', 'execution-archive serve --port 0 --verbose   # ephemeral ports, function logs on stderr'],
};

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** Builds the program; `setCode` receives each command's exit code. */
export function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = new Command('execution-archive')
    .description('Archive OOS executions and Cloud Assistant invocations completely, summarize their failures, and check archives.')
    .version(io.env.npm_package_version ?? '0.1.0', '--version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      `\nExit codes: 0 ok, 1 failure, 2 usage, 3 partial (checkpointed by Ctrl-C, or some items failed): run again to resume; 4 verify could not read the archive.\n` +
        `Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET(/SECURITY_TOKEN), else the default chain (--profile).\n` +
        `Endpoints: ALIBABA_CLOUD_{OOS,ECS,OSS,FC}_ENDPOINT, exactly as for the functions.\n`,
    );

  withCommonOptions(
    program
      .command('collect')
      .summary('archive executions/invocations into the archive (resumable)')
      .description(
        'Archive every record of OOS executions (exec-…) or Cloud Assistant invocations (t-…), with the collect function\'s code and no deadline.\n' +
          'Ctrl-C checkpoints at the next page boundary; the same command resumes. Ids: arguments, --execution-id/--invoke-id, or --ids FILE (- = stdin, one per line).',
      )
      .argument('[ids...]', 'execution ids (exec-…) or invoke ids (t-…); the source follows from the id')
      .addOption(new Option('--source <source>', 'oos or ecs (default: from the id)').choices(['oos', 'ecs']))
      .option('--execution-id <id>', 'an OOS execution id')
      .option('--invoke-id <id>', 'a Cloud Assistant invoke id')
      .option('--include-history', 'ECS: keep every run of a periodic task (IncludeHistory)')
      .option('--force', 'collect again even when a complete archive exists')
      .option('--ids <file>', 'read ids from a file, one per line (- reads stdin)')
      .option('--concurrency <n>', 'collections at once (1-64)', '4'),
  )
    .addHelpText('after', examples(EXAMPLES.collect))
    .action(async (ids: string[], opts) => setCode(await collectCommand(ids, opts, io)));

  const archiveCommand = (name: 'summarize' | 'report' | 'verify', summary: string, description: string) =>
    withCommonOptions(
      program
        .command(name)
        .summary(summary)
        .description(description)
        .argument('[id]', 'the execution id (exec-…) or invoke id (t-…) of the archive')
        .addOption(new Option('--source <source>', 'oos or ecs (default: from the id)').choices(['oos', 'ecs'])),
    );
  archiveCommand('summarize', 'write the failure summary of an archive (summary.json, summary.md, report.html, retry.txt)', 'Summarize a complete archive, as the summarize function does; a stored summary that matches the manifest is kept unless --force.')
    .option('--force', 'recompute even when the stored summary is current')
    .addHelpText('after', examples(EXAMPLES.summarize))
    .action(async (id: string | undefined, opts) => setCode(await summarizeCommand(id, opts, io)));
  archiveCommand('report', 'print the summary as a table, or --open the HTML report', 'Print an archive\'s summary (computed first if there is none): statuses, the failure causes as a table, truncated outputs, what to re-run.')
    .option('--open', 'open report.html in the browser ($BROWSER, else xdg-open/open)')
    .option('--top <n>', 'causes to list', '10')
    .addHelpText('after', examples(EXAMPLES.report))
    .action(async (id: string | undefined, opts) => setCode(await reportCommand(id, opts, io)));
  archiveCommand(
    'verify',
    're-read an archive and check every object against the manifest',
    'Re-read every object manifest.json lists and report each on its own line: ok, missing, size differs, sha256 differs, does not decompress,\n' +
      "not valid NDJSON at line N, record count differs, holds another archive's records. Then the objects under the archive the manifest does not\n" +
      'list (leftover generations, pending objects of an unfinished collection, stray files) as warnings, then the verdict. Never stops at the first damage.',
  )
    .addHelpText('after', `\nExit codes: 0 intact (warnings allowed), 1 damaged, 4 could not read the archive at all (no manifest.json, storage unreachable).\n${examples(EXAMPLES.verify)}`)
    .action(async (id: string | undefined, opts) => setCode(await verifyCommand(id, opts, io)));

  withCommonOptions(
    program
      .command('sweep')
      .summary('list what finished in a window and is not archived; --collect archives it')
      .description(
        "List OOS executions and Cloud Assistant invocations that finished in the window and have no complete archive (the sweep function's listing).\n" +
          'With --collect, archive them here (bounded concurrency, Ctrl-C checkpoints) instead of dispatching the collect function.',
      )
      .addOption(new Option('--source <source>', 'only oos or ecs (default: both)').choices(['oos', 'ecs']))
      .option('--since <when>', 'start of the window: ISO-8601 or an age (90m, 72h, 3d)', '72h')
      .option('--until <when>', 'end of the window: ISO-8601 or an age (default: now)')
      .option('--collect', 'archive what is not archived')
      .option('--concurrency <n>', 'collections at once with --collect (1-64)', '4')
      .option('--retention-days <days>', "the API's retention, for the warnings", '28')
      .option('--warn-days <days>', 'warn about what is this close to the retention horizon', '3'),
  )
    .addHelpText('after', examples(EXAMPLES.sweep))
    .action(async (opts) => setCode(await sweepCommand(opts, io)));

  withCommonOptions(
    program
      .command('digest')
      .summary('write the fleet digest across runs (digests/<date>/digest.html): new, regressed, gone causes; broken, flaky hosts')
      .description(
        "Compute the digest function's digest over the archive's warehouse/: per cause new / recurring / regressed / gone, per instance broken / flaky, " +
          'per command the failure rate per day and its change, and what changed since the last digest; writes digests/<date>/digest.json, digest.md and digest.html.',
      )
      .option('--days <n>', 'days in the window, ending now', '7')
      .option('--history-days <n>', 'days of history before the window (first seen, regressed, gone)', '30')
      .option('--open', 'open digest.html in the browser ($BROWSER, else xdg-open/open)'),
  )
    .addHelpText('after', examples(EXAMPLES.digest))
    .action(async (opts) => setCode(await digestCommand(opts, io)));

  withCommonOptions(
    program
      .command('compact')
      .summary("rewrite the warehouse's closed days into one object per table and partition; retire the per-archive objects")
      .description(
        "The digest timer's compaction (docs/warehouse.md \"Small files\"): every partition (table, source, region, day) of a day that ended --closed-after-hours ago " +
          'is rewritten into warehouse/compacted/<table>/…/compacted.parquet, and its per-archive objects are deleted --grace-minutes after. Readers never see a run twice or not at all; ' +
          'idempotent, and a stopped run goes on next time.',
      )
      .option('--closed-after-hours <h>', 'a day is closed this long after its end (UTC)', String(COMPACT_FLAG_DEFAULTS.closedAfterHours))
      .option('--grace-minutes <m>', 'delete per-archive objects this long after the compacted object holding them was written', String(COMPACT_FLAG_DEFAULTS.graceMinutes)),
  )
    .addHelpText('after', examples(EXAMPLES.compact))
    .action(async (opts) => setCode(await compactCommand(opts, io)));

  program
    .command('sql')
    .summary('run SQL (DuckDB) over the warehouse: the results and causes views')
    .description(
      'Run one SQL query with DuckDB over the archive root\'s warehouse/ (Parquet, partitioned by source, region and the run\'s date): ' +
        '`results` has a row per record, `causes` a row per cause of each run (columns in docs/warehouse.md). Reads a folder: the local cloud\'s, a copied or mounted archive.',
    )
    .argument('<query>', 'the SQL query')
    .option('--to <url|dir>', 'the archive root: a folder or file:///abs/dir (default: $ARCHIVE_URL, else ./.local-cloud/archive)')
    .addOption(new Option('--format <format>', 'table, csv or json').choices([...SQL_FORMATS]).default('table'))
    .addHelpText('after', examples(EXAMPLES.sql))
    .action(async (query: string, opts) => setCode(await sqlCommand(query, opts, io)));

  program
    .command('serve')
    .summary('run the local cloud and the functions on stable ports, with copy-paste commands')
    .description(
      'Start the local cloud (OOS + ECS RPC, OSS, FC invoke API) and the four functions of s.yaml (built from dist/, rebuilt when stale), ' +
        'print every endpoint, the demo credentials and ids, and commands that work while it runs. Ports: --port P (RPC), P+1 (OSS), P+2 (FC), P+3 (HTTP triggers).',
    )
    .option('--port <base>', 'base port; 0 picks four free ports', '8787')
    .option('--seed <n>', 'the demo data set', '1')
    .option('--to <url|dir>', "the functions' archive (default ./.local-cloud/archive)")
    .option('--clean', 'start from an empty archive and OSS')
    .option('-v, --verbose', "the functions' log lines on stderr")
    .addHelpText('after', examples(EXAMPLES.serve))
    .action(async (opts) => setCode(await serveCommand(opts, io)));

  for (const [name, command] of Object.entries(RAW_COMMANDS)) {
    program.command(name).summary(command.summary).helpOption(false).allowUnknownOption().allowExcessArguments();
  }

  return program;
}

/** Runs the command line; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    const raw = RAW_COMMANDS[argv[0] ?? ''];
    if (raw) return await raw.run(argv.slice(1), io);
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else commander rejects is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      println(io.stderr, `error: ${err.message}`);
      println(io.stderr, '(add --help for usage)');
      return EXIT.usage;
    }
    const message = err instanceof AppError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    println(io.stderr, `error: ${message}`);
    return EXIT.failure;
  }
}

/** The process entry point (bin/execution-archive.cjs). */
export function main(): void {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${signal} again: stopping now (the last checkpoint stands)\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: stopping; a running collection checkpoints at its next page boundary (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stderr.isTTY === true,
    interrupt: controller.signal,
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      // Open sockets (keep-alive agents) must not keep a finished command alive.
      setTimeout(() => process.exit(code), 50).unref();
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(EXIT.failure);
    },
  );
}
