/**
 * `execution-archive`: the operator's command line (package.json `bin`, `npx execution-archive --help`). Each command
 * calls the same lib/ code as the functions; this file only declares the commands and their options (commander),
 * maps errors to exit codes (0 ok, 1 failure, 2 usage, 3 partial/checkpointed) and turns Ctrl-C into a clean stop.
 */
import { Command, CommanderError, Option } from 'commander';
import { AppError } from '../errors';
import { collectCommand } from './collect';
import { EXIT, UsageError, println, type CliIo } from './io';
import { withCommonOptions } from './runtime';

const EXAMPLES = {
  collect: [
    'execution-archive collect exec-6be6d6ff805349d9ac13 --region cn-hangzhou --to oss://my-bucket/archive',
    'execution-archive collect --source ecs --invoke-id t-hz0jdfwd9f0abc --include-history --to ./archive',
    'execution-archive collect --ids ids.txt --concurrency 8 --json > results.json',
    'execution-archive sweep --since 72h --json | jq -r ".notArchived[].id" | execution-archive collect --ids -',
  ],
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
      `\nExit codes: 0 ok, 1 failure, 2 usage, 3 partial (checkpointed by Ctrl-C, or some items failed): run again to resume.\n` +
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
    process.stderr.write(`\n${signal}: stopping at the next page boundary and checkpointing (press Ctrl-C again to quit at once)\n`);
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
