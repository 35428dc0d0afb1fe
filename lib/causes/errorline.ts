/**
 * Which lines of a command's output state its error (docs/causes.md, "Finding the error line").
 *
 * A failed script prints many lines; the one that says what went wrong can stand anywhere: at the end (a shell
 * diagnostic, `E: …`), above a stack (Node's `TypeError: …`), below one (Python's exception line), in the middle
 * (Java's `Caused by:`), before a cleanup trailer. Each line is read in three steps, every one a general rule about
 * command output, never a pattern for one program's message:
 *
 * 1. **Header.** A per-line prefix that a logger or a wrapper adds (a timestamp, then a host name and `prog[pid]:`) is
 *    cut off, as LogPAI's log-format split separates a log line's header from its content. A timestamp is recognised
 *    by its shape; a host word after it (syslog) or before it (a fleet shell's `host: `) is a header when it starts
 *    most of the output's timestamped lines.
 * 2. **What carries no error** is skipped: blank lines and rules, progress bars, stack frames (`at …`, `File "…",
 *    line N`, Go's `file.go:N +0x…` and `goroutine N`), a source excerpt and its caret or tilde underline, the
 *    traceback headings, runtime version footers (`Node.js v20.1.0`).
 * 3. **Strength.** 3: the line names an error as a program states one: an exception or error type with its message
 *    (`KeyError: …`, `java.io.IOException: …`, `Caused by: …`, `panic: …`, `Unhandled exception. …`, a PowerShell
 *    `Verb-Noun : …` record), a level word in front (`error:`, `fatal:`, `E:`, `ERROR`, `[error]`, `npm ERR!`,
 *    `ERROR 1045 (…)`), after a program name or a source location (`gcc: error: …`, `x.c:3:5: error: …`).
 *    2: a program's diagnostic (`<prog>: …` or a shell's `<script>: line N: …`) that holds an error word.
 *    1: any other line holding an error word (`failed`, `cannot`, `denied`, `refused`, `not found`, `timed out`, …).
 *    0: anything else, and a line whose level word says it is not an error (`warning:`, `W:`, `npm WARN`, `note:`,
 *    `usage:`);
 *    the last such line is the error line only when no line says more.
 *
 * {@link findErrorLines} returns the strongest lines (ties: the later one first), at most `max` of them; which one is
 * the error line of a cause is decided by the grouper when the whole invocation has been read (a line that recurs
 * under different error lines is boilerplate: `failure.ts`). {@link errorTemplate} turns a line into the text that is
 * mined: the shell's `<script>: line N:` prefix is dropped (the same error printed by two scripts is one cause), the
 * obvious variables are masked (`maskVariables`), and so are quoted values and the variable middle of paths.
 */
import { buildAutomaton } from './automaton';
import { WILDCARD, maskVariables } from './masking';
import { jsonObject } from '../fields';

/** A line of an output that may state its error. */
export interface ErrorLine {
  /** Index of the line in the output's lines. */
  line: number;
  /** 0 (nothing says more) to 3 (an error stated as such); see the module comment. */
  strength: number;
  /** The line without its header (timestamp, host, `prog[pid]:`), trimmed; raw otherwise. */
  content: string;
  /** Characters of the line's header. */
  header: number;
}

/** Longest line read (characters); a longer one keeps its start and its end. */
export const MAX_LINE_CHARS = 2000;
/** Lines read at most: the first and the last of a longer output (errors stand at either end). */
const MAX_LINES = 2000;

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const CONTROL_TEST = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** A timestamp at the start of a line: ISO or numeric date and time, syslog's `Mon dd hh:mm:ss` (after its `<13>` priority), a bracketed one, TAI64N. */
const TIMESTAMP_HEADER = new RegExp(
  [
    '^\\s*(?:<\\d{1,3}>)?\\[?',
    '(?:',
    // 2026-12-07T10:00:00.123Z, 2026/12/07 10:00:00,123 +0800, 20261207 10:00:00
    '\\d{4}[-/.]?\\d{2}[-/.]?\\d{2}(?:[T ]\\d{1,2}:\\d{2}(?::\\d{2})?(?:[.,]\\d+)?)?(?:\\s?(?:Z|UTC|GMT|[+-]\\d{2}:?\\d{2}))?',
    // Dec  7 10:00:00, Mon Dec 07 10:00:00 2026, date(1)'s Mon Dec  7 10:00:00 UTC 2026
    '|(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\\.?\\s+\\d{1,2}(?:,?\\s+\\d{4})?\\s+\\d{1,2}:\\d{2}(?::\\d{2})?(?:[.,]\\d+)?(?:\\s+[A-Z]{2,5}\\s+\\d{4}|\\s+\\d{4})?',
    // 10:00:00.123, [12.345678] (kernel), [   1.234s] (seconds since start), epoch seconds 1733565600.123
    '|\\d{1,2}:\\d{2}:\\d{2}(?:[.,]\\d+)?|\\s*\\d+\\.\\d{3,}s?|\\d{10}(?:\\.\\d+)?',
    // @4000000067540a0a1d2c3b4a: TAI64N, as daemontools' multilog, runit's svlogd and s6-log stamp each line
    '|@[0-9a-f]{24}',
    ')',
    '\\]?(?:\\s*[|:-])?\\s',
  ].join(''),
);
/** After a timestamp, the stream and a full or partial line's flag of the container runtime's log (CRI): `stderr F `. */
const CRI_STREAM = /^(?:stdout|stderr) [FP] /;
/** After a timestamp: `prog[pid]:` or `prog:` of syslog, optionally after a host word. */
const PROGRAM_HEADER = /^(?:[\w.-]+\s+)?[\w./-]+\[\d+\]:\s/;

/** Lines that carry no error (step 2 of the module comment). */
const FRAME = new RegExp(
  [
    '^\\s+at\\s', // JavaScript, Java, .NET, PowerShell
    '^\\s*File "[^"]*", line \\d+', // Python
    '^\\s+\\S+\\.\\w+:\\d+(?:\\s+\\+0x[0-9a-f]+)?$', // Go
    '^goroutine \\d+ \\[', // Go
    '^[\\w./*()$-]+\\([^)]*\\)$', // Go function line
    '^\\s*\\.\\.\\. \\d+ (?:more|common frames omitted)', // Java
    '^\\s*#\\d+\\s+(?:0x[0-9a-f]+|[\\w:<>]+\\s*\\()', // gdb, PHP, Ruby-like numbered frames
    // Common Lisp (SBCL's backtrace: `12: (LOAD #<…>)`, `0: ((LAMBDA …))`, `0: ("undefined function" …)`): an
    // upper-case Lisp symbol, a nested form or a string after the index, never `1: (config) …`
    '^\\d+: \\((?:[A-Z*%][A-Z0-9*%:.+/-]*[ )]|\\(|")',
    '^\\s+\\d+:\\d+\\s+\\d+ \\(', // Guile (`  1218:36  6 (expand-top-sequence …)`: its line:column, then the index)
    '^In (?:unknown file|[\\w./-]+\\.scm):$', // Guile's file heading between its frames
    '^\\s+from\\s\\S+:\\d+:in\\s', // Ruby
    '^Traceback \\(most recent call last\\):',
    '^During handling of the above exception',
    '^The above exception was the direct cause',
    '^\\s*(?:\\+\\s)?(?:CategoryInfo|FullyQualifiedErrorId)\\s*:', // PowerShell record details
    '^At (?:line:\\d+ char:\\d+|\\S+:\\d+ char:\\d+)$', // PowerShell position
    '^\\s*\\+\\s', // PowerShell source excerpt
    '^\\s*stack(?: trace)?:?$',
  ].join('|'),
);
/** A caret or tilde underline (Python 3.11, Node, compilers), possibly with a `|` gutter. */
const UNDERLINE = /^[\s|]*[\^~][\s^~-]*$/;
/** False when a line cannot be an {@link UNDERLINE}: it holds no caret and no tilde. */
const mayUnderline = (line: string): boolean => line.includes('^') || line.includes('~');
/** A runtime's version footer, printed after its crash (`Node.js v20.20.2`). */
const FOOTER = /^(?:Node\.js|Deno|Bun|Python|Ruby|PHP|Java|OpenJDK|go)\s+v?\d+(?:\.\d+)+\S*$/;
/** Rules, box drawing, a bare counter: nothing but punctuation, digits, spaces. */
const RULE = /^[\s\-=_*#~.+|:<>[\](){}\u2500-\u257f\u2580-\u259f\d%/]*$/;
/** Progress bars and percentages at the start of a line. */
const PROGRESS = /^\[?[#=>\-. ]*\]?\s*\d{1,3}(?:\.\d+)?%|^\d{1,3}%\s*\|/;

/** Step 3: an error or exception type with its message, or a crash that names itself. */
const EXCEPTION = new RegExp(
  [
    '^(?:Uncaught |Unhandled exception\\.?\\s*|Exception in thread "[^"]*"\\s+|Caused by:\\s*|\\w+ exception:\\s*)?',
    '(?:[A-Za-z_$][\\w$]*(?:\\.|::))*[A-Za-z_$][\\w$]*(?:Error|Exception|Fault|Failure|Panic|Interrupt)',
    '(?:\\s*\\[[^\\]]*\\])?(?::\\s|:?$)',
  ].join(''),
);
const CRASH = /^(?:panic:|fatal error:|thread '[^']*'(?: \(\d+\))? panicked at|Exception in thread\b|Caused by:|Unhandled exception|Uncaught\b)/;
/** A Ruby-style `…: message (SomeError)` line. */
const TRAILING_TYPE = /\((?:[A-Z]\w*::)*[A-Z]\w*(?:Error|Exception)\)$/;
/** A PowerShell error record's first line: `Verb-Noun : message`. */
const POWERSHELL = /^[A-Z][a-z]+-[A-Z][A-Za-z]+ : \S/;
/** A level word in front: `error:`, `fatal:`, `E:`, `ERROR …`, `[error]`, `npm ERR!`, `ERROR 1045 (28000):`, `error[E0425]:`. */
const LEVEL =
  /^(?:\[(?:error|err|fatal|critical|crit|emerg|alert|severe|e|f)\]|(?:error|err|fatal|critical|crit|emerg|alert|severe)(?:\[[^\]]*\])?(?::|!|\s+-\s|\s+\d+\b)|[EF]:\s|\w[\w.-]* (?:ERR!|error|ERROR)(?=[:\s]|$))/i;
const LEVEL_WORD_UPPER = /^(?:ERROR|FATAL|CRITICAL|SEVERE)\b/;
/** The level prefix of a line, as repeated on the lines that continue it. */
const LEVEL_PREFIX = /^(?:\w[\w.-]* )?(?:\[\s*)?(?:error|err!?|fatal|critical|e|f)(?:\s*\])?(?::|!|\b)/i;
/** A program name or a source location, then a level word: `gcc: error: …`, `x.c:3:5: error: …`, `tar: Error is …`. */
const PROGRAM_LEVEL = /^[\w./+-]+(?:\[\d+\])?(?::\d+)*:\s+(?:error|fatal(?: error)?|ERROR|FATAL|Error|Fatal)\b/;
/** A program's diagnostic: `prog: …` or a shell's `<script>: line N: …` / `sh: 1: …`. */
const DIAGNOSTIC = /^[A-Za-z./~][\w./+-]*(?:\[\d+\]|(?::\d+)+)?:\s+(?:line \d+:\s+)?\S/;
/** A level word in front that is not an error: `warning:`, `W:`, `WARN`, `npm WARN`, `[info]`, `notice:`, `hint:`. */
const NOT_ERROR_LEVEL = /^(?:\[\s*)?(?:\w[\w.-]* )?(?:warn(?:ing)?|notice|info|debug|trace|hint|note|usage|[WIND])(?:\s*\])?(?:\[[^\]]*\])?(?::|!|\s+-\s)/i;
const NOT_ERROR_LEVEL_UPPER = /^(?:\[\s*)?(?:\w[\w.-]* )?(?:WARN(?:ING)?|NOTICE|INFO|DEBUG|TRACE)\b/;
/** A program's name or a source location, then a level word that says no error: `svn: warning: …`, `x.c:3: note: …`. */
const PROGRAM_NOT_ERROR = /^[\w./+-]+(?:\[\d+\])?(?::\d+)*:\s+(?:warning|warn|note|notice|info|hint)\b/i;
/** A command's own diagnostic: a lower-case command name (or a path), a colon, a message. */
const COMMAND_DIAGNOSTIC = /^(?:[a-z][\w.+-]*|[./~][\w./+-]*)(?:\[\d+\])?:\s+\S|^[\w./~-]*\w\.[A-Za-z]\w{0,7}(?::\d+)+:\s+\S/;
/**
 * A report of a child's exit status: `Child returned status 1`, `exit status 2`, `exited with code 1`, and a build
 * tool's `Error 2` closing a line (`make: *** [Makefile:14: lint] Error 2`: the recipe's command exited with 2).
 */
const STATUS_REPORT = /\b(?:returned|exited with|exit)\s+(?:non-?zero\s+)?(?:status|code)\s*:?\s*\d+\b|\bError \d+$/i;
/** A runner's level marker in front of a line (`##[error]`, `::error::`, `[ERROR]`): not a word of the message. */
const MARKER_LEVEL = /^[^\w\s]*(?:error|err|fatal|critical|crit|failure|failed)[^\w\s]*/i;
/** Words that only say that something failed, not how: beside a status report they add nothing. */
const GENERIC_FAILURE = /\b(?:fail(?:s|ed|ure|ing)?|errors?|unsuccessful(?:ly)?)\b/gi;
/**
 * A line that only names the failed outcome of the run itself: a runner's closing status (`Finished: FAILURE`,
 * `BUILD FAILED`, `Result: error`, `Job failed`, `FAILED`): it says that the job failed, never why. A subject other
 * than the run (`Authentication failed`, `Upload aborted`) is a program's statement of its error and stays one.
 */
const OUTCOME_ONLY =
  /^(?:(?:finished|result|status|outcome|state|build|job|pipeline|run|task|stage|step|workflow) ?:? +)?(?:fail(?:ed|ure)?|errors?|abort(?:ed)?|unstable|unsuccessful)[.!]?$/i;
/** A count of errors: `found 1 fatal error`, `2 errors generated.`, `1 failed, 3 passed`: a summary of lines above it. */
const ERROR_COUNT = /\b\d+ (?:fatal |compilation |syntax )?(?:errors?|failures?|failed)\b/gi;
/** Any quoted text (a command a wrapper names), whatever its length. */
const ANY_QUOTED = /"[^"]*"|'[^']*'|`[^`']*[`']/g;

/**
 * True when a line that holds a {@link STATUS_REPORT} says nothing else about an error once its level word, the
 * report and what it quotes are set aside (`ERROR: command "tar -xzf x" exited with status 2 (line 12)`).
 */
function onlyReportsStatus(content: string): boolean {
  const stated = LEVEL.exec(content) ?? LEVEL_WORD_UPPER.exec(content) ?? PROGRAM_LEVEL.exec(content);
  const level = stated ?? MARKER_LEVEL.exec(content);
  const rest = (level ? content.slice(level[0].length) : content).replace(ANY_QUOTED, ' ').replace(STATUS_REPORT, ' ');
  // Without a level word of its own, `failed` beside a status is a wrapper's word for it (`step sync failed (exit
  // status 1)`); after one, the program states its error (`ERROR: deploy failed with exit code 2`).
  return !ERROR_WORDS.test(stated ? rest : rest.replace(GENERIC_FAILURE, ' '));
}

/** True when the error words of a line are counts of errors only (`msgfmt: found 1 fatal error`). */
function onlyCountsErrors(content: string): boolean {
  const level = LEVEL.exec(content) ?? LEVEL_WORD_UPPER.exec(content) ?? PROGRAM_LEVEL.exec(content) ?? MARKER_LEVEL.exec(content);
  return !ERROR_WORDS.test((level ? content.slice(level[0].length) : content).replace(ERROR_COUNT, ' '));
}

/** Words that say something went wrong. */
const ERROR_WORDS =
  /\b(?:errors?|fail(?:s|ed|ure|ing)?|fatal|denied|refused|forbidden|unauthori[sz]ed|cannot|can't|couldn't|could not|unable|invalid|illegal|unknown|missing|not (?:found|allowed|permitted|supported|installed|recognized|recognised|a valid|enough|exist)|no such|does not exist|doesn't exist|timed? ?out|timeout|killed|abort(?:ed|ing)?|terminated|unreachable|exceeded|out of memory|no space|too many|unexpected|corrupt(?:ed)?|mismatch|conflicts?|expired|rejected|violat\w*|exception|panic(?:ked)?|segmentation|undefined|unrecognized|unrecognised|unsupported|non-?zero|bad|wrong|broken|unavailable|disallowed|prohibited|overflow|dead|crash(?:ed)?)\b/i;

/**
 * True for a word of the error vocabulary (`refused`, `reset`, `denied`, `timeout`, `full`…): it names the kind of a
 * failure, never a value.
 * @example isErrorWord('refused') // true
 */
export function isErrorWord(word: string): boolean {
  return ERROR_WORDS.test(word) || KIND_WORDS.test(word);
}

/** Words that name how something failed without saying it failed. */
const KIND_WORDS = /^(?:reset|closed|lost|full|busy|locked|exists|empty|stale|hung|blocked|read-only|readonly|offline|down|stopped|inactive|disabled|expired|revoked)$/i;

/** Strength of a line's content (step 3 of the module comment); -1 for a line that carries no error (step 2). */
export function lineStrength(content: string, raw: string): number {
  if (content === '' || FRAME.test(raw) || UNDERLINE.test(raw) || FOOTER.test(content) || RULE.test(content) || PROGRESS.test(content)) return -1;
  if (EXCEPTION.test(content) || CRASH.test(content) || TRAILING_TYPE.test(content) || POWERSHELL.test(content)) return 3;
  // A line that only reports that a command ended with a status says less than the line that says why, even behind a
  // level word (`ERROR: command "…" exited with status 2`, `Error: Process completed with exit code 1.`): the command it
  // quotes is the script's own text.
  if (STATUS_REPORT.test(content) && onlyReportsStatus(content)) return 0.5;
  // A runner's closing status (`Finished: FAILURE`) and a count of the errors printed above (`found 1 fatal error`)
  // say less than the lines they sum up, as a status report does.
  if (OUTCOME_ONLY.test(content)) return 0.5;
  ERROR_COUNT.lastIndex = 0;
  if (ERROR_COUNT.test(content) && onlyCountsErrors(content)) return 0.5;
  if (LEVEL.test(content) || LEVEL_WORD_UPPER.test(content) || PROGRAM_LEVEL.test(content)) return 3;
  if (NOT_ERROR_LEVEL.test(content) || NOT_ERROR_LEVEL_UPPER.test(content) || PROGRAM_NOT_ERROR.test(content)) return 0;
  const words = ERROR_WORDS.test(content);
  const diagnostic = DIAGNOSTIC.test(content);
  if (words && diagnostic) return 2;
  if (words) return 1;
  // `prog: message` is how a command states its error (GNU's convention), even without an error word; below one with.
  return diagnostic && COMMAND_DIAGNOSTIC.test(content) ? 0.75 : 0;
}

/**
 * Splits an output into its lines, as printed (`printed`: only terminal colour codes dropped, for the example) and as
 * read (`read`: `\r` redraws resolved, control characters dropped, a structured log line read as its message: see
 * {@link structuredMessage}); both cut the same way (a very long line keeps its start and end, a very long output its
 * first and last lines), so a line has the same index in both. `text`: the text whose lines are `read`, when nothing
 * was cut, resolved, dropped or read from a structured line (it is scanned whole, {@link findErrorLines}). `control`: whether `text` holds a control character
 * (see `CONTROL_TEST`), when a pass over it already knows (`TriggerScanner.scanLines`).
 */
export function outputLines(text: string, control?: boolean): { printed: string[]; read: string[]; text?: string } {
  const json = text.includes('{"');
  const source = json ? withEmbeddedOutput(text) : undefined;
  if (source === undefined) return readLines(text, control, json);
  // The lines are no longer the text's own: they are read whole, and the example shows the embedded output's lines.
  const lines = readLines(source);
  return { printed: lines.printed, read: lines.read };
}

/** {@link outputLines} of a text without an embedded output (`json`: whether it holds `{"`, when known). */
function readLines(text: string, control?: boolean, json = text.includes('{"')): { printed: string[]; read: string[]; text?: string } {
  const split = splitOutput(text, control);
  const untagged = withoutSuffixTag(split.read);
  const lines = untagged === undefined ? split : { printed: split.printed, read: untagged };
  if (!json && !text.includes('msg=') && !text.includes('message=')) return lines;
  let changed = false;
  const read = lines.read.map((line) => {
    const message = structuredMessage(line);
    if (message === undefined) return line;
    changed = true;
    return message;
  });
  return changed ? { printed: lines.printed, read } : lines;
}

/**
 * The text with each line that embeds an output ({@link embeddedOutput}) replaced by that output's lines; undefined
 * when none does. When a report's own words say its step failed (`fatal: [web-1]: FAILED! => {…}`), the tool's other
 * lines (task banners, `PLAY RECAP … failed=1`, `ok: [web-1]`) are its narrative, the same whatever the command said:
 * only the embedded outputs are kept, else a result whose output states no error would be known by them. Otherwise
 * the text's other lines stay: a program's own error line beside an answer it printed (`response: {"message": …}`,
 * a JSON line with an `output` field) is still read.
 */
function withEmbeddedOutput(text: string): string | undefined {
  const inner: string[] = [];
  const all: string[] = [];
  let embedded = false;
  let failedReport = false;
  for (const line of text.split('\n')) {
    const lines = line.includes('{"') ? embeddedOutput(line) : undefined;
    if (lines === undefined) {
      all.push(line);
      continue;
    }
    embedded = true;
    failedReport ||= REPORT_FAILED.test(line.slice(0, line.indexOf('{"')));
    inner.push(...lines);
    all.push(...lines);
  }
  if (!embedded) return undefined;
  return failedReport ? `${inner.join('\n')}\n` : all.join('\n');
}

/** A report's words in front of its JSON that say the step failed (`fatal: [web-1]: FAILED! =>`). */
const REPORT_FAILED = /fail|fatal|error/i;

/** A stream field's name in a JSON line, and an escaped line break inside a value (prefilters of {@link embeddedOutput}). */
const STREAM_NAME = /"(?:stdout|stderr|output|module_stdout|module_stderr)"\s*:/;
const INNER_BREAK = /\\n(?!")/;
/** Fields of a JSON report that hold a command's streams, as config-management tools and job runners report a step. */
const STREAM_FIELDS = new Set<string>(['stdout', 'stderr', 'output', 'module_stdout', 'module_stderr']);
/** Fields whose value is read even when of one line: the streams, and a log line's message and error. */
const OUTPUT_FIELDS = new Set<string>([...STREAM_FIELDS, 'msg', 'message', 'MESSAGE', 'log', 'text', 'error', 'err', 'exception']);

/**
 * The output a JSON report on one line embeds, as its lines: a JSON object (after a wrapper's words, or alone on the
 * line) whose fields hold a command's streams or a message (Ansible's `fatal: [web-1]: FAILED! => {"rc": 1, "stderr":
 * "…\n…", "stdout": "…"}`, a runner's `{"host": …, "stdout": "…"}`): the wrapper prints the same output as an escaped
 * string, with its own words and fields (host, times, rc) around it, which say nothing about the error. Undefined for
 * a line that embeds none, and for a logger's line (a level field, or a message of one line alone on the line: read by
 * {@link structuredMessage}).
 */
function embeddedOutput(line: string): string[] | undefined {
  const k = line.indexOf('{"');
  const t = line.slice(k).trimEnd();
  if (t.charCodeAt(t.length - 1) !== 125) return undefined;
  // Most JSON lines (a logger's) have neither a broken value, nor a stream field, nor words in front: no parse here.
  if (k > 0 ? line.slice(0, k).trim() === '' : !INNER_BREAK.test(t) && !STREAM_NAME.test(t)) return undefined;
  const o = jsonObject(t);
  if (o === undefined || LEVEL_FIELDS.some((f) => f in o)) return undefined;
  const parts: string[] = [];
  const streams: string[] = [];
  let several = false;
  for (const [key, value] of Object.entries(o)) {
    if (typeof value !== 'string') continue;
    const v = value.trimEnd();
    if (v.trim() === '') continue;
    const broken = v.includes('\n');
    if (!broken && !OUTPUT_FIELDS.has(key)) continue;
    (STREAM_FIELDS.has(key) ? streams : parts).push(v);
    several ||= broken;
  }
  // The report's own message beside the streams (`"msg": "non-zero return code"`) says only that the step failed.
  if (streams.length > 0) return streams.join('\n').split('\n');
  if (parts.length === 0 || (!several && line.trimStart().startsWith('{"'))) return undefined;
  return parts.join('\n').split('\n');
}

/** What a bracketed or parenthesised tag closing a line holds: no bracket of its kind, at most 80 characters. */
const TAG_INSIDE = /^(?:\[[^\][]{1,80}\]|\([^()]{1,80}\))$/;

/**
 * The tag closing a line (` [web-1]`, `  (host=web-1)`, ` (0.37s)`, or a line that is only one) and where the blanks
 * before it start; undefined when the line ends otherwise. Found from the line's end, not by a scan of the line.
 */
function suffixTag(line: string): { index: number; tag: string } | undefined {
  const close = line.charCodeAt(line.length - 1);
  if (close !== 93 && close !== 41) return undefined;
  const at = line.lastIndexOf(close === 93 ? '[' : '(');
  if (at < 0 || line.length - at > 82) return undefined;
  const tag = line.slice(at);
  if (!TAG_INSIDE.test(tag)) return undefined;
  let index = at;
  while (index > 0 && (line.charCodeAt(index - 1) === 32 || line.charCodeAt(index - 1) === 9)) index -= 1;
  return index === at && at > 0 ? undefined : { index, tag };
}

/**
 * The lines without the tag a wrapper closes each of them with (` [web-1]`, `  (host=web-1)`, ` (0.37s)`: the host,
 * the time the line took), when nine in ten of the lines that are not blank (at least two) end with the same tag, or
 * with tags of one shape once digits are set aside and no blank inside (`(0.37s)`, `(1.20s)`); undefined when not. A
 * program's own parenthesis (`(rows=3788, 262 ms)`, `(core dumped)` on one line) is no such tag.
 */
function withoutSuffixTag(lines: readonly string[]): string[] | undefined {
  const line0 = lines.find((l) => l.trim() !== '')?.trimEnd() ?? '';
  const c = line0.charCodeAt(line0.length - 1);
  // Only a line that ends in a bracket or a parenthesis may carry one; most outputs stop here.
  if (c !== 93 && c !== 41) return undefined;
  const first = suffixTag(line0)?.tag;
  if (first === undefined) return undefined;
  const shape = (tag: string) => (/\s/.test(tag) ? tag : tag.replace(/\d+/g, '0'));
  const wanted = shape(first);
  let filled = 0;
  let tagged = 0;
  // One line in ten may lack it: more misses than that end the look (most outputs end it within a few lines).
  const allowed = Math.floor(lines.length / 10) + 1;
  const cuts = new Array<number>(lines.length).fill(-1);
  for (let i = 0; i < lines.length; i++) {
    const t = (lines[i] ?? '').trimEnd();
    if (t === '') continue;
    filled += 1;
    const m = suffixTag(t);
    if (!m || shape(m.tag) !== wanted) {
      // The first two lines must both carry it (a wrapper tags every line); most outputs stop here.
      if (filled <= 2 || filled - tagged > allowed) return undefined;
      continue;
    }
    tagged += 1;
    cuts[i] = m.index;
  }
  if (tagged < 2 || tagged < filled * 0.9) return undefined;
  return lines.map((line, i) => ((cuts[i] ?? -1) >= 0 ? line.slice(0, cuts[i]) : line));
}

/** The fields of a structured (JSON) log line that hold its message, and those that hold its level. */
const MESSAGE_FIELDS = ['msg', 'message', 'MESSAGE', 'log', 'text'] as const;
const ERROR_FIELDS = ['error', 'err', 'exception'] as const;
const LEVEL_FIELDS = ['level', 'severity', 'lvl', 'levelname', 'loglevel', 'PRIORITY'] as const;
/** A field that names the kind of a failure: a code, a status, a reason, a kind or a type (`status`, `error_code`, `statusCode`, `http_status`). */
const KIND_FIELD = /^(?:(?:[\w.-]*[_.-])?(?:code|status|reason|kind|type)|[a-z]\w*(?:Code|Status|Reason|Kind|Type))$/i;
/** Levels that say the line states an error (syslog's priorities 0–3 included). */
const ERROR_LEVEL_VALUE = /^(?:error|err|fatal|critical|crit|panic|emerg(?:ency)?|alert|severe|[0-3])$/i;

/**
 * A structured log line (one JSON object: `{"ts":…,"host":…,"level":"error","msg":"…"}`, as loggers and log shippers
 * write them, or a logfmt line: `time=… level=error msg="…"`) read as its message (and its error field, when it has one), with `ERROR: ` in front when its level says
 * so; the other fields (time, host, caller) are its header, as a text line's timestamp and host are. Undefined for
 * any other line.
 */
export function structuredMessage(line: string): string | undefined {
  const t = line.trim();
  const o = t.startsWith('{"') ? jsonObject(t) : LOGFMT_START.test(t) ? logfmtObject(t) : undefined;
  if (o === undefined) return undefined;
  const text = MESSAGE_FIELDS.map((f) => o[f]).find((v): v is string => typeof v === 'string');
  const error = ERROR_FIELDS.map((f) => o[f]).find((v): v is string => typeof v === 'string');
  if (text === undefined && error === undefined) return undefined;
  // A message with its error beside it (`"msg":"request failed","error":"dial tcp …: connection refused"`) says both;
  // of a message of several lines, its first.
  const joined = text !== undefined && error !== undefined ? `${text}: ${error}` : (text ?? error ?? '');
  let message = joined.split('\n', 1)[0] ?? '';
  // Fields that name the kind of the failure (`status=404`, `"error_code":"NotFound"`, `reason`, `kind`) tell two
  // causes of one message apart: they stay, after it, as `key=value`.
  for (const [key, value] of Object.entries(o)) {
    if ((typeof value === 'string' || typeof value === 'number') && KIND_FIELD.test(key) && !LEVEL_FIELDS.includes(key as never)) message += ` ${key}=${String(value)}`;
  }
  const level = LEVEL_FIELDS.map((f) => o[f]).find((v) => typeof v === 'string' || typeof v === 'number');
  return level !== undefined && ERROR_LEVEL_VALUE.test(String(level)) ? `ERROR: ${message}` : message;
}

/** A line that may be logfmt: a `key=` first. */
const LOGFMT_START = /^[A-Za-z_][\w.-]*=/;
/** One logfmt pair: `key=value`, `key="quoted value"`, then blanks. */
const LOGFMT_PAIR = /([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)\s*/y;

/**
 * The fields of a logfmt line (`time="2026-12-07T10:00:00Z" level=error msg="dial tcp: connection refused"`, as Go's
 * logrus and many agents write them), when the whole line is at least two `key=value` pairs; else undefined.
 */
function logfmtObject(line: string): Record<string, unknown> | undefined {
  const o: Record<string, unknown> = {};
  let pairs = 0;
  LOGFMT_PAIR.lastIndex = 0;
  while (LOGFMT_PAIR.lastIndex < line.length) {
    const m = LOGFMT_PAIR.exec(line);
    if (!m) return undefined;
    const raw = m[2] ?? '';
    let value: string = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        value = raw.slice(1, -1);
      }
    }
    o[m[1] ?? ''] = value;
    pairs += 1;
  }
  return pairs >= 2 ? o : undefined;
}

/** {@link outputLines} before structured lines are read. */
function splitOutput(text: string, control?: boolean): { printed: string[]; read: string[]; text?: string } {
  // One scan tells most outputs apart: no control character at all (an ESC and a `\r` are ones), nothing to resolve.
  const plain = !(control ?? CONTROL_TEST.test(text));
  const clean = !plain && text.includes('\u001b') ? text.replace(ANSI, '') : text;
  let lines = clean.split('\n');
  const many = lines.length > MAX_LINES;
  if (many) lines = [...lines.slice(0, MAX_LINES / 4), '…', ...lines.slice(lines.length - (MAX_LINES * 3) / 4)];
  const long = clean.length > MAX_LINE_CHARS * 2 && lines.some((l) => l.length > MAX_LINE_CHARS * 2);
  const printed = long ? lines.map((l) => (l.length > MAX_LINE_CHARS * 2 ? `${l.slice(0, MAX_LINE_CHARS)} … ${l.slice(-MAX_LINE_CHARS / 2)}` : l)) : lines;
  const redraws = !plain && clean.includes('\r');
  const controls = !plain && CONTROL_TEST.test(clean);
  // Most outputs have none of these: their lines are read as printed, and are the text's own lines.
  if (!redraws && !controls) return many || long ? { printed, read: printed } : { printed, read: printed, text: clean };
  const read = printed.map((l) => {
    let line = l;
    if (redraws && line.includes('\r')) {
      const cut = line.lastIndexOf('\r', line.length - 2);
      line = (cut >= 0 ? line.slice(cut + 1) : line).replace(/\r$/, '');
    }
    return controls ? line.replace(CONTROL, ' ') : line;
  });
  return { printed, read };
}

/** The three letters a month's or a weekday's name starts with, as numbers (see {@link threeLetters}). */
const DATE_NAMES = new Set(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].map((n) => threeLetters(n, 0)),
);

/**
 * The three characters of `line` at `at` as one number (no string is cut out to look it up). Characters outside
 * Latin-1 may make two different triples one number: it is a prefilter, the pattern decides.
 */
function threeLetters(line: string, at: number): number {
  return (line.charCodeAt(at) << 16) | (line.charCodeAt(at + 1) << 8) | line.charCodeAt(at + 2);
}

/**
 * True when a timestamp may start at `at`: (spaces or `[`, then) a digit, `@` (TAI64N), or the name of a month or a weekday.
 * {@link TIMESTAMP_HEADER} runs only there: most lines of an output have no header and fail this one test.
 */
function mayStartTimestamp(line: string, at = 0): boolean {
  let i = at;
  let c = line.charCodeAt(i);
  while (c === 32 || c === 9 || c === 91) c = line.charCodeAt(++i);
  // Syslog's priority in front (`<13>Dec  7 …`).
  if (c === 60) {
    const close = line.indexOf('>', i);
    if (close > i && close <= i + 4) return mayStartTimestamp(line, close + 1);
  }
  if ((c >= 48 && c <= 57) || c === 64) return true;
  return c >= 65 && c <= 90 && DATE_NAMES.has(threeLetters(line, i));
}

/** A word in front of a line's timestamp: a host as fleet shells print it (`web-17: 2026-12-05 22:19:20.819 …`). */
const HOST_BEFORE_TIMESTAMP = /^([\w.-]+):?\s+/;
/**
 * Words in front of a timestamp that are not hosts: a level word (`ERROR 2026-12-07 10:00:00,123 …`, log4j's `%p %d`)
 * and glog's level letter with the month and day (`E1207 10:00:01.123456 …`), which belong to the message.
 */
const NOT_A_HOST = /^(?:error|err|warn(?:ing)?|info|debug|trace|fatal|crit(?:ical)?|notice|severe|alert|emerg|[A-Z]\d{4})$/i;
/** A timestamp that holds a date (not only a time of day or a counter). */
const DATED = /\d{4}[-/.]?\d{2}[-/.]?\d{2}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d/;

/**
 * The end of a `host timestamp` header at the start of `line` and its host word (pdsh, clush and similar fleet shells
 * put the host first), or undefined.
 */
function hostThenTimestamp(line: string): { at: number; host: string; dated: boolean } | undefined {
  const space = line.indexOf(' ');
  if (space <= 0 || space > 64) return undefined;
  let from = space;
  while (line.charCodeAt(from) === 32) from += 1;
  if (!mayStartTimestamp(line, from)) return undefined;
  const host = HOST_BEFORE_TIMESTAMP.exec(line);
  const word = host?.[1] ?? '';
  if (!host || host[0].length !== from || !/[A-Za-z]/.test(word) || NOT_A_HOST.test(word)) return undefined;
  const m = TIMESTAMP_HEADER.exec(line.slice(from));
  return m ? { at: from + m[0].length, host: word, dated: DATED.test(m[0]) } : undefined;
}

/**
 * The header of each line (step 1): how many characters of it are a timestamp, host and `prog[pid]:` prefix. A host
 * word stands after the timestamp (syslog) or before it (a fleet shell's `host: `); either way it is a header only when
 * it starts most of the output's timestamped lines.
 */
function headers(lines: readonly string[]): number[] {
  const counted = lineCounters(lines);
  const cut = counted === undefined ? uncountedHeaders(lines) : uncountedHeaders(lines.map((line, i) => line.slice(counted[i] ?? 0))).map((at, i) => at + (counted[i] ?? 0));
  return withoutStreamLabels(lines, cut);
}

/** A stream's name as a label in front of a line (`Stderr: `, `STDOUT: `, `stderr: `). */
const STREAM_LABEL = /(?:std(?:out|err)|Std(?:out|err)|STD(?:OUT|ERR)):[ \t]/y;

/**
 * `cut` moved past a stream's label in front of a line: a parallel shell or a job runner heads what a command wrote
 * to a stream with the stream's name (pssh's `Stderr: ` before the first line of it), which says nothing about what
 * the command said. One test of a character per line; a line that starts with `s` or `S` tries the label.
 */
function withoutStreamLabels(lines: readonly string[], cut: number[]): number[] {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const at = cut[i] ?? 0;
    const c = line.charCodeAt(at);
    if (c !== 115 && c !== 83) continue;
    STREAM_LABEL.lastIndex = at;
    const m = STREAM_LABEL.exec(line);
    if (m) cut[i] = at + m[0].length;
  }
  return cut;
}

/** A line counter in front of a line: digits (right-aligned), then a tab (`cat -n`, `nl`), or `: `, `| `. */
const COUNTER = /^ *(\d{1,7})(?:\t| ?[:|] )/;

/**
 * The length of the line counter in front of each line, when the lines of an output carry one (`     1\tfetching …`,
 * as `cat -n`, `nl`, an editor's or a viewer's listing prints): the numbers count up by one from line to line (a
 * line the counter skips, blank under `nl`, is passed over) on nine in ten of the lines that are not blank (at least
 * two, the first two among them; of an output of one line, only `cat -n`'s own `     1\t`). A number that counts the lines says nothing about the error; a program's own
 * numbers in front (`1 error`, a table's ids) do not count up by one behind a tab or a colon. Undefined when not.
 */
function lineCounters(lines: readonly string[]): number[] | undefined {
  const first = lines.find((l) => l.trim() !== '') ?? '';
  let i0 = 0;
  while (first.charCodeAt(i0) === 32) i0 += 1;
  const c = first.charCodeAt(i0);
  // A counter starts with a digit; most outputs fail here.
  if (!(c >= 48 && c <= 57)) return undefined;
  const lengths = new Array<number>(lines.length).fill(0);
  const allowed = Math.floor(lines.length / 10) + 1;
  let filled = 0;
  let counted = 0;
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    filled += 1;
    const m = COUNTER.exec(line);
    const n = m ? Number(m[1]) : NaN;
    if (!m || (last >= 0 && n !== last + 1)) {
      if (filled <= 2 || filled - counted > allowed) return undefined;
      continue;
    }
    last = n;
    counted += 1;
    lengths[i] = m[0].length;
  }
  // An output of one line: only `cat -n`'s and `nl`'s own format (the number 1 right-aligned, then a tab) says so.
  if (filled === 1) return counted === 1 && /^ +1\t/.test(first) ? lengths : undefined;
  return counted >= 2 && counted >= filled * 0.9 ? lengths : undefined;
}

/** {@link headers} of lines without a line counter. */
function uncountedHeaders(lines: readonly string[]): number[] {
  const tags = wrapperTags(lines);
  const cut = tags === undefined ? stampHeaders(lines) : stampHeaders(lines.map((line, i) => line.slice(tags[i] ?? 0))).map((at, i) => at + (tags[i] ?? 0));
  return levelColumn(lines, sharedLevel(lines, cut));
}

/**
 * A logger's level field after its header: a level word of the general logging vocabulary (upper or lower case), then
 * blanks (a quiet one also a ` - `/` | ` separator: a level that says something went wrong among a logger's separated
 * fields is the program's own, as `sharedFields` and `wrapperTags` decide); never one a colon follows (`ERROR: …` is how
 * a program states its own error), nor one in brackets (`[ERROR]`, a tool's own level: maven's lines carry it with and
 * without a wrapper's timestamp). On a line of its own ({@link NAMED_LEVEL_FIELD}), only an upper-case one, after at
 * most one word (a logger's name or a host: `web-1 INFO …`), or a lower-case one a tab follows (zap's console format:
 * `2026-12-07T10:00:00Z\terror\t…`).
 */
const LEVEL_FIELD =
  /(?:(?:TRACE|DEBUG|VERBOSE|INFO|NOTICE|trace|debug|verbose|info|notice)(?:[ \t]*[-|][ \t]+|[ \t]+(?!\s)|[ \t]*$)|(?:WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG|PANIC|warn|warning|error|err|critical|crit|fatal|severe|alert|emerg|panic)(?:[ \t]+(?![\s|-])|[ \t]*$))/y;
const NAMED_LEVEL_FIELD =
  /(?:[\w.-]+(?: +[-|])? +)?(?:(?:TRACE|DEBUG|VERBOSE|INFO|NOTICE)(?:[ \t]*[-|][ \t]+|[ \t]+(?![\s\d])|[ \t]*$)|(?:WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG|PANIC)(?:[ \t]+(?![\s\d|-])|[ \t]*$)|(?:trace|debug|info|notice|warn|warning|error|err|critical|crit|fatal|severe|alert|emerg|panic|dpanic)\t(?!\s))/y;

/**
 * `cut` moved past a logger's level field where one follows a line's header (a timestamp, a logger's name or a host):
 * `2026-12-07 10:00:01,123 deploy.sync ERROR <line>` is a logger's line format, and its level is a field as its
 * timestamp is. A wrapper that logs a command's output gives its stdout one level and its stderr another, whatever the
 * lines say: the message is read as the program printed it (the same error bare and under such a logger is one cause),
 * and a line's own level after the logger's (`ERROR ERROR 2005 (HY000): …`) stays. An upper-case level ({@link
 * NAMED_LEVEL_FIELD}) is a field on any line; a lower-case one, or one a number follows (`ERROR 1045 (28000): …`, a
 * program's code under a timestamp; `INFO 36 targets`), only when the output's lines carry one after their headers on
 * all lines but one in ten (at least two): a column of the logger's format ({@link LEVEL_FIELD}). Else `cut` as it is.
 */
function levelColumn(lines: readonly string[], cut: number[]): number[] {
  // No line has a header (most outputs): no level stands after one, and nothing is counted.
  if (!cut.some((at) => at > 0)) return cut;
  let filled = 0;
  let levelled = 0;
  let column = false;
  // Per line: where its level field ends (-1: none), whether it is one of the column only, and where its level word
  // ends when blanks alone follow it (-1: a separator or the line's end).
  const ends = new Array<number>(lines.length).fill(-1);
  const columnOnly = new Array<boolean>(lines.length).fill(false);
  const words = new Array<number>(lines.length).fill(-1);
  // The blanks after the level that every such line carries pad its field (`INFO  `, log4j's `%-5p`); more on some
  // lines are the line's own indentation (a stack frame, a detail line under its error).
  let pad = Infinity;
  for (let i = 0; i < lines.length; i++) {
    const at = cut[i] ?? 0;
    const line = lines[i] ?? '';
    if (at === 0) {
      if (line.trim() !== '') filled += 1;
      continue;
    }
    filled += 1;
    NAMED_LEVEL_FIELD.lastIndex = at;
    let m = NAMED_LEVEL_FIELD.exec(line);
    if (!m) {
      // A level starts with a letter of the vocabulary's initials (T D V I N W E C F S A P, either case).
      const c = line.charCodeAt(at) | 32;
      if (c !== 116 && c !== 100 && c !== 118 && c !== 105 && c !== 110 && c !== 119 && c !== 101 && c !== 99 && c !== 102 && c !== 115 && c !== 97 && c !== 112) continue;
      LEVEL_FIELD.lastIndex = at;
      m = LEVEL_FIELD.exec(line);
      if (!m) continue;
      column = true;
      columnOnly[i] = true;
    }
    levelled += 1;
    const end = at + m[0].length;
    ends[i] = end;
    const field = m[0].trimEnd();
    const last = field.charCodeAt(field.length - 1);
    if (end < line.length && last !== 45 && last !== 124) {
      const word = at + field.length;
      words[i] = word;
      pad = Math.min(pad, end - word);
    }
  }
  const takeColumn = column && levelled >= 2 && filled - levelled <= Math.floor(lines.length / 10) + 1;
  let out: number[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const end = ends[i] ?? -1;
    if (end < 0 || (columnOnly[i] && !takeColumn)) continue;
    const word = words[i] ?? -1;
    (out ??= cut.slice())[i] = word >= 0 ? word + pad : end;
  }
  return out ?? cut;
}

/** A level in front that says no error: `[INFO] `, `INFO `, `INFO:deploy:` (Python's default format). */
const QUIET_LEVEL = /(?:\[\s*(?:INFO|DEBUG|NOTICE|TRACE|VERBOSE|info|debug|notice|trace|verbose)\s*\]\s?|(?:INFO|DEBUG|NOTICE|TRACE|VERBOSE)(?::[\w.-]+:|\s))/y;

/**
 * `cut` moved past the level every line carries: when one level that says no error (a {@link QUIET_LEVEL}, the same
 * text, and one blank after it) leads nine in ten of an output's lines that are not blank (at least two), it is the level a wrapper logs each
 * line of a command's output at, whatever the line says, not the program's own (a program that logs its own levels
 * mixes them: maven's `[INFO]` lines and its `[ERROR]` ones). Else `cut` as it is.
 */
function sharedLevel(lines: readonly string[], cut: number[]): number[] {
  let filled = 0;
  let lead: string | undefined;
  let shared = 0;
  // One line in ten may lack it: more misses than that end the look (most outputs end it at their first lines).
  const allowed = Math.floor(lines.length / 10) + 1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const at = cut[i] ?? 0;
    if (line.length <= at || line.trim() === '') continue;
    filled += 1;
    if (filled - shared > allowed) return cut;
    const c = line.charCodeAt(at);
    // Only a bracket or the initial of a level starts one (`[`, I, D, N, T, V).
    if (c !== 91 && c !== 73 && c !== 68 && c !== 78 && c !== 84 && c !== 86) continue;
    QUIET_LEVEL.lastIndex = at;
    const m = QUIET_LEVEL.exec(line);
    if (!m) continue;
    // The level as printed; the blank after it is the line's (`INFO  msg`, `INFO    - item ok`).
    const level = m[0].trimEnd();
    if (lead === undefined) lead = level;
    if (level === lead) shared += 1;
  }
  // An output of one line under such a wrapper carries the level once: the line is its error line whatever the level.
  if (lead === undefined || shared < Math.min(2, filled) || shared < filled * 0.9) return cut;
  const level = lead;
  // The blanks after the level that every line carries pad its field (`INFO  `, log4j's `%-5p`); more are the line's
  // own indentation.
  let pad = Infinity;
  cut.forEach((at, i) => {
    const line = lines[i] ?? '';
    if (!line.startsWith(level, at) || line.trim().length === level.length + at) return;
    let b = at + level.length;
    while (line.charCodeAt(b) === 32 || line.charCodeAt(b) === 9) b += 1;
    pad = Math.min(pad, b - at - level.length);
  });
  return cut.map((at, i) => {
    const line = lines[i] ?? '';
    if (!line.startsWith(level, at)) return at;
    const after = at + level.length;
    const c = line.charCodeAt(after);
    if (Number.isNaN(c)) return after;
    // A level that ends in its own colon (Python's `INFO:deploy:`) has no blank of its own: one after it is the line's.
    if (level.endsWith(':')) return after;
    if (c === 32 || c === 9) {
      let b = after;
      while (b - after < Math.max(1, pad) && (line.charCodeAt(b) === 32 || line.charCodeAt(b) === 9)) b += 1;
      return b;
    }
    return at;
  });
}

/**
 * A wrapper's tag in front of a line: a bracketed name (`[web-1] `, `[pod/web-7d9f/app] `, `[stdout] `), a name and a
 * pipe (`web-1       | `, as docker compose prints), a program and its pid (`deploy[4242]: `), a name and a tab (GNU
 * parallel's `--tag`: `web-1\t…`), a build step's number (BuildKit's plain progress: `#8 0.412 …`, the seconds after
 * it a timestamp's shape).
 */
const WRAPPER_TAG = /^(?:\[[^\][]{1,100}\](?:\s|$)|[\w.@/-]{1,64}\s*\|(?:\s|$)|[\w./-]+\[\d+\]:(?:\s|$)|[\w.@/-]{1,64}\t|#\d{1,5} )/;
/** What a bracket holds when it is no tag: a level or a status (`[ERROR]`, `[info]`, `[ OK ]`, `[FAILED]`), a counter (`[2/5]`). */
const NOT_A_TAG = /^\[\s*(?:[^A-Za-z]*|(?:error|err|fatal|critical|crit|emerg|alert|severe|warn(?:ing)?|notice|info|debug|trace|note|hint|ok|pass(?:ed)?|done|skip(?:ped)?|success|[EFWIDT])\s*)\]/i;
/**
 * A level that says something went wrong or may have (`CRITICAL`, `WARNING`): a logger's, never a wrapper's tag
 * before a pipe (`CRITICAL | …`, loguru's layout) nor one of the fields a header rule takes away (`- ERROR - `).
 */
const ALARM_LEVEL = /^(?:error|err|fatal|critical|crit|emerg(?:ency)?|alert|severe|panic|warn(?:ing)?)$/i;
/** Tags an output's lines may carry (`[stdout]` and `[stderr]`). */
const MAX_TAGS = 2;

/**
 * The length of the wrapper's tag in front of each line, when the lines of an output carry one (at most
 * {@link MAX_TAGS} different ones, on nine in ten of the lines that are not blank): a
 * container runner, a parallel shell or a log collector leads every line it passes on with the name of its source,
 * which says nothing about the error (LogPAI's header, recognised by being shared). Undefined when not.
 */
function wrapperTags(lines: readonly string[]): number[] | undefined {
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const c = first.charCodeAt(0);
  // A tag starts with a bracket or a name; most outputs fail here.
  if (!(c === 91 || c === 35 || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return undefined;
  if (c !== 91 && !/^(?:[\w.@/-]+(?:\s*\||\[|\t)|#\d{1,5} )/.test(first)) return undefined;
  const seen = new Map<string, number>();
  let filled = 0;
  let tabbed = false;
  const lengths = lines.map((line) => {
    if (line.trim() === '') return 0;
    filled += 1;
    const m = WRAPPER_TAG.exec(line);
    const name = m?.[0].replace(/^\[|\]\s*$|\s*\|\s*$/g, '').trim() ?? '';
    if (!m || NOT_A_TAG.test(m[0]) || isErrorWord(name) || ALARM_LEVEL.test(name)) return 0;
    // The tag, without the one blank after it (the line's own indentation follows).
    const tag = m[0].trimEnd();
    tabbed ||= m[0].endsWith('\t');
    seen.set(tag, (seen.get(tag) ?? 0) + 1);
    return m[0].length;
  });
  // A name and a tab is a tag only when one name leads the lines (a host); two are a table's first column.
  if (seen.size === 0 || seen.size > (tabbed ? 1 : MAX_TAGS)) return undefined;
  let tagged = 0;
  for (const n of seen.values()) tagged += n;
  return tagged >= filled * 0.9 ? lengths : undefined;
}

/** {@link headers} of lines without a wrapper's tag. */
function stampHeaders(lines: readonly string[]): number[] {
  const cut = new Array<number>(lines.length).fill(0);
  let stamped = 0;
  // Lines led by a word, then a timestamp: the word is a host when most such lines share it.
  const hostFirst = new Map<string, number>();
  const hostOf: (string | undefined)[] = [];
  let dated = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    let m: { 0: string } | null | undefined;
    let at: number;
    if (mayStartTimestamp(line)) m = TIMESTAMP_HEADER.exec(line);
    if (m) at = m[0].length;
    else {
      const h = hostThenTimestamp(line);
      if (!h) continue;
      at = h.at;
      hostOf[i] = h.host;
      dated ||= h.dated;
      hostFirst.set(h.host, (hostFirst.get(h.host) ?? 0) + 1);
    }
    const program = PROGRAM_HEADER.exec(line.slice(at)) ?? CRI_STREAM.exec(line.slice(at));
    if (program) at += program[0].length;
    cut[i] = at;
    stamped += 1;
  }
  if (stamped === 0) return cut;
  if (hostFirst.size > 0) {
    // A word before a timestamp is a host when it leads most timestamped lines (at least two, or one line whose
    // timestamp holds a date: an output of one line); else not a header.
    let host: string | undefined;
    for (const [word, n] of hostFirst) if (n >= stamped * 0.8 && (n >= 2 || (stamped === 1 && dated))) host = word;
    hostOf.forEach((word, i) => {
      if (word !== undefined && word !== host) {
        cut[i] = 0;
        stamped -= 1;
      }
    });
    if (stamped === 0) return cut;
  }
  // Fields a logger prints after its timestamp on most lines (`deploy - INFO - `, `web-1 | INFO | `).
  const fields = sharedFields(lines, cut, hostOf, stamped);
  // A host word after the timestamp: the first word of most timestamped lines (at least two of them).
  const firstWords = new Map<string, number>();
  lines.forEach((line, i) => {
    const at = cut[i] ?? 0;
    if (at === 0 || hostOf[i] !== undefined) return;
    const rest = line.slice(at);
    const word = /^(\S+)(?:\s+\S|\s*$)/.exec(rest)?.[1];
    if (word && !LEVEL_WORD_UPPER.test(word) && !NOT_A_HOST.test(word) && !/[:!]$/.test(word) && !OWN_LEVEL.test(rest)) firstWords.set(word, (firstWords.get(word) ?? 0) + 1);
  });
  let host: string | undefined;
  for (const [word, n] of firstWords) if (stamped >= 2 && n >= Math.max(2, stamped * 0.8)) host = word;
  if (stamped === 1 && host === undefined && fields === undefined) return oneSyslogLine(lines, cut);
  const hostWord = host;
  const tag = hostWord === undefined || !HOST_NAME.test(hostWord) ? undefined : syslogTag(lines, cut, hostOf, hostWord, stamped);
  return cut.map((at, i) => {
    if (at === 0 || hostOf[i] !== undefined) return at;
    const line = lines[i] ?? '';
    let next = at;
    const rest = line.slice(at);
    if (fields !== undefined && rest.startsWith(fields)) return at + fields.length;
    if (hostWord !== undefined && (rest.startsWith(`${hostWord} `) || rest.trimEnd() === hostWord)) {
      next += hostWord.length + 1;
      // After a host, `prog[pid]:` is syslog's tag.
      const program = /^[\w./-]+\[\d+\]:\s/.exec(line.slice(next));
      if (program) next += program[0].length;
      else if (tag !== undefined && line.startsWith(tag, next)) next += tag.length;
    }
    // A wrapper's header in front of a program's own (a script's timestamp before an application's log line).
    const inner = mayStartTimestamp(line, next) ? TIMESTAMP_HEADER.exec(line.slice(next)) : null;
    return inner ? next + inner[0].length : next;
  });
}

/** Syslog's timestamp (RFC 3164: `Dec  7 10:00:01`, no year), after its priority at most. */
const SYSLOG_TIMESTAMP = /^\s*(?:<\d{1,3}>)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2} \d{2}:\d{2}:\d{2} $/;
/** Syslog's host and its tag without a pid (`web-1 deploy: `). */
const SYSLOG_HOST_TAG = /^([\w.-]+) ([\w./-]+): (?=\S)/;

/**
 * `cut` of an output of one line under syslog's timestamp: syslog's format puts the host and the sender's tag after it
 * (`Dec  7 10:00:01 web-1 deploy: <line>`, as `logger -t deploy` writes it), so a word and a `name: ` there are its
 * header even on one line, where no second line shows the host (with a pid, `deploy[4242]: `, the tag was cut already).
 * A date with a year, a program's own `prog: ` right after the time (`Dec 07 10:00:01 cp: …`, moreutils' `ts`), or
 * a level or an error word where the tag stands (`parse error: …`) is not syslog's host and tag.
 */
function oneSyslogLine(lines: readonly string[], cut: number[]): number[] {
  const i = cut.findIndex((at) => at > 0);
  const line = lines[i] ?? '';
  const at = cut[i] ?? 0;
  if (!SYSLOG_TIMESTAMP.test(line.slice(0, at))) return cut;
  const m = SYSLOG_HOST_TAG.exec(line.slice(at));
  // (a level or an error word as the tag is a program's own message: `parse error: Invalid numeric literal …`)
  const tag = m?.[2] ?? '';
  if (!m || NOT_A_HOST.test(m[1] ?? '') || LEVEL_WORD_UPPER.test(m[1] ?? '') || NOT_A_HOST.test(tag) || isErrorWord(tag)) return cut;
  const out = cut.slice();
  out[i] = at + m[0].length;
  return out;
}

/**
 * A program's name and its own level (`npm error …`, `pip warning …`, `npm ERR! …`): the name is the program's, not a
 * host, under a timestamp too. The level is a word of the general logging vocabulary in lower case (syslog's
 * severities, `warn`, `verbose`, `trace`) or a shouted one ending in a bang; no program's own word list.
 */
const OWN_LEVEL = /^\S+ (?:(?:emerg|alert|crit|critical|err|error|fatal|warn|warning|notice|info|debug|verbose|trace)|[A-Z]{3,7}!)(?:\s|$)/;

/** A host's name as syslog prints it (letters, digits, `.`, `-`, `_`): a bracketed word (`[INFO]`) is none. */
const HOST_NAME = /^[\w.-]+$/;
/** Syslog's tag without a pid after the host (`deploy: `): a program's name and a colon. */
const SYSLOG_TAG = /^[\w./-]+: /;

/**
 * Syslog's tag without a pid (`Dec  7 10:00:01 web-1 deploy: …`, as `logger -t deploy` and many daemons write it), when
 * the same one follows the host word on eight in ten of the lines the host leads (at least two): syslog's format puts
 * the sender's tag there, the same on each line of one sender, so it is the wrapper's, not a diagnostic of the program
 * (a program's own `tar: ` stands on its error lines only). Undefined when there is none.
 */
function syslogTag(lines: readonly string[], cut: readonly number[], hostOf: readonly (string | undefined)[], host: string, stamped: number): string | undefined {
  let first: string | undefined;
  let shared = 0;
  for (let i = 0; i < lines.length; i++) {
    const at = cut[i] ?? 0;
    if (at === 0 || hostOf[i] !== undefined) continue;
    const line = lines[i] ?? '';
    if (!line.startsWith(`${host} `, at)) continue;
    const m = SYSLOG_TAG.exec(line.slice(at + host.length + 1));
    if (!m) continue;
    first ??= m[0];
    if (m[0] === first) shared += 1;
  }
  return first !== undefined && shared >= 2 && shared >= stamped * 0.8 ? first : undefined;
}

/** Where a logger's field ends: ` - ` (Python's `%(name)s - %(levelname)s - `) or ` | `. */
const FIELD_END = / [-|] /g;

/**
 * The fields a logger prints between its timestamp and the message, when most timestamped lines (at least two, eight
 * in ten) share them: the longest run of whole fields (each ending in ` - ` or ` | `) the first such line starts
 * with and the others share (`deploy - INFO - `, the format Python's logging documents). They are the wrapper's (its
 * name, the level it logs a command's output at), not the message's. Undefined when there are none.
 */
function sharedFields(lines: readonly string[], cut: readonly number[], hostOf: readonly (string | undefined)[], stamped: number): string | undefined {
  if (stamped < 2) return undefined;
  const rests: string[] = [];
  lines.forEach((line, i) => {
    if ((cut[i] ?? 0) > 0 && hostOf[i] === undefined) rests.push(line.slice(cut[i]));
  });
  const first = rests[0] ?? '';
  let best: string | undefined;
  for (const m of first.slice(0, 120).matchAll(FIELD_END)) {
    const prefix = first.slice(0, (m.index ?? 0) + 3);
    if (!/[A-Za-z]/.test(prefix)) continue;
    // A level that says something went wrong is the message's, however many lines carry it.
    if (prefix.split(FIELD_END).some((field) => ALARM_LEVEL.test(field.trim()))) break;
    const shared = rests.filter((r) => r.startsWith(prefix)).length;
    if (shared >= 2 && shared >= stamped * 0.8) best = prefix;
    else break;
  }
  return best;
}

/**
 * Stems that every line of strength ≥ 1 holds (lower case); one scan of the whole output finds the lines worth reading
 * (the failure reader has the masker's pass find them: `maskSecretsAndScan`, then {@link findErrorLines}' `stemLines`).
 */
export const ERRORISH_STEMS: readonly string[] = [
  'err', 'fail', 'fatal', 'crit', 'emerg', 'alert', 'severe', 'fault', 'panic', 'interrupt', 'exception', 'denied', 'refused',
  'forbidden', 'unauthori', 'cannot', "can't", "couldn't", 'could not', 'unable', 'invalid', 'illegal', 'unknown', 'missing',
  'not ', 'no such', 'exist', 'timed', 'timeout', 'killed', 'abort', 'terminat', 'unreachable', 'exceeded', 'out of memory',
  'no space', 'too many', 'unexpected', 'corrupt', 'mismatch', 'conflict', 'expired', 'rejected', 'violat', 'segmentation',
  'undefined', 'unrecogni', 'unsupported', 'zero', 'bad', 'wrong', 'broken', 'unavailable', 'disallowed', 'prohibited',
  'overflow', 'dead', 'crash', 'caused by', 'unhandled', 'uncaught', ' : ', 'status',
];

/**
 * The stems as one automaton ({@link buildAutomaton}): a line is read once, one table step per character, whatever
 * the number of stems. A regex alternation of 60 stems costs several times more per character, and the scan runs over
 * every character of every failure's output. `step[state + cls[c]]` is the next state, bit 0 set when a stem ends
 * there: one load and one test per character. Built on first use, not when the module loads (a cold start).
 */
interface Stems {
  /** The automaton's transition table. */
  step: Int32Array;
  /** The symbol of each UTF-16 code unit (64 KB: one load per character, no branch; 0 outside the stems' characters). */
  cls: Uint8Array;
}

/** Builds the stems' tables ({@link stems} once). */
function buildStems(): Stems {
  const { table, symbol } = buildAutomaton(ERRORISH_STEMS, 'error stem');
  const cls = new Uint8Array(65536);
  cls.set(symbol);
  return { step: table, cls };
}
let builtStems: Stems | undefined;
function stems(): Stems {
  return (builtStems ??= buildStems());
}

/** True when `line[from…]` holds one of {@link ERRORISH_STEMS} (any case). */
function holdsStem(line: string, from: number): boolean {
  const { step, cls } = stems();
  let state = 0;
  for (let i = from, n = line.length; i < n; i++) {
    state = step[state + (cls[line.charCodeAt(i)] as number)] as number;
    if ((state & 1) !== 0) return true;
  }
  return false;
}

/** `E:`/`F:` or a command's `prog:`/`prog[pid]:` in front (at `from`), how commands state their errors. */
const DIAGNOSTIC_START = /(?:[EF]:|(?:[a-z][\w.+-]*|[./~][\w./+-]*)(?:\[\d+\])?:\s|[\w./~-]*\w\.[A-Za-z]\w{0,7}(?::\d+)+:\s)/y;

/**
 * Which lines of `text` (split at `\n`) hold one of {@link ERRORISH_STEMS}, headers included: one pass over the
 * whole text, the rest of a line skipped once it holds one.
 */
function linesHoldingStems(text: string): Uint8Array {
  const { step, cls } = stems();
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines += 1;
  const holds = new Uint8Array(lines);
  let line = 0;
  let state = 0;
  for (let i = 0, n = text.length; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line += 1;
      state = 0;
      continue;
    }
    state = step[state + (cls[c] as number)] as number;
    if ((state & 1) !== 0) {
      holds[line] = 1;
      state = 0;
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end - 1;
    }
  }
  return holds;
}

/**
 * True when line `line` (its content from `from`) may state an error: it holds an error stem or starts as a diagnostic.
 * `holds`: whether the whole line holds a stem, when known (a stem in its header only does not count).
 */
function errorish(line: string, from: number, holds?: boolean): boolean {
  if (holds === undefined || (holds && from > 0) ? holdsStem(line, from) : holds) return true;
  const c = line.charCodeAt(from);
  // a–z . / ~ E F: the first characters of a diagnostic start.
  if (!((c >= 97 && c <= 122) || c === 46 || c === 47 || c === 126 || c === 69 || c === 70)) return false;
  DIAGNOSTIC_START.lastIndex = from;
  return DIAGNOSTIC_START.test(line);
}

const PYTHON_FRAME = /^\s*File "[^"]*", line \d+/;
/** A line of at least three columns: words apart by runs of two or more spaces (or tabs). */
const TABLE_ROW = /^\S+(?: \S+)*(?: {2,}|\t+)\S+(?: \S+)*(?: {2,}|\t+)\S/;
/** A table's header: at least three column names in capitals (`NAME  READY  STATUS`, `STEP  STATUS  TIME`). */
const TABLE_HEADER = /^[A-Z][A-Z0-9_./%-]*(?: [A-Z][A-Z0-9_./%-]*)*(?:(?: {2,}|\t+)[A-Z][A-Z0-9_./%-]*(?: [A-Z][A-Z0-9_./%-]*)*){2,}$/;
/** Rows of a table read upwards for its header at most. */
const TABLE_ROWS_READ = 50;
/** The strength of a table row's status (as a child's exit status report: below any line that says why). */
const STATUS_ROW = 0.5;
const LOCATION = /^\S+:\d+(?::\d+)?$/;

/** What {@link readLine} says of a line. */
interface LineReading {
  strength: number;
  content: string;
  header: number;
}

/** An output's lines, their headers, and each line's reading once it has been read (lines are read at most once). */
class Reader {
  readonly cut: number[];
  private readonly readings: (LineReading | undefined)[];
  /** The end (exclusive) of a runner's step header fold at the top of the output ({@link stepHeaderEnd}); 0: none. */
  private readonly stepHeader: number;
  constructor(readonly lines: readonly string[]) {
    this.cut = headers(lines);
    this.readings = new Array<LineReading | undefined>(lines.length);
    this.stepHeader = stepHeaderEnd(lines, this.cut);
  }

  /** Line `i` without its header. */
  body(i: number): string | undefined {
    const line = this.lines[i];
    return line === undefined ? undefined : line.slice(this.cut[i] ?? 0);
  }

  /**
   * Strength of line `i` (see {@link lineStrength}), its content and where its content starts (after its header); a
   * source excerpt (the line above a caret underline, the indented line under a Python frame) carries no error.
   */
  read(i: number): Readonly<LineReading> {
    let r = this.readings[i];
    if (!r) this.readings[i] = r = this.readFresh(i);
    return r;
  }

  private readFresh(i: number): LineReading {
    const header = this.cut[i] ?? 0;
    const body = (this.lines[i] ?? '').slice(header);
    const content = body.trim();
    if (content === '' || i < this.stepHeader) return { strength: -1, content, header };
    const below = this.body(i + 1);
    // (An underline holds a caret or a tilde: most lines are passed over without the pattern, or a trim.)
    if (below !== undefined && mayUnderline(below) && UNDERLINE.test(below)) return { strength: -1, content, header };
    if (i > 0 && /^\s/.test(body) && PYTHON_FRAME.test(this.body(i - 1) ?? '')) return { strength: -1, content, header };
    if (LOCATION.test(content)) {
      const second = this.body(i + 2);
      if (below !== undefined && second !== undefined && UNDERLINE.test(second)) return { strength: -1, content, header };
    }
    const strength = lineStrength(content, body);
    // A row of a table under a header of column names reports a status (`deploy  FAILED (2)  3s`, `web-1  0/1
    // CrashLoopBackOff`); the line that says why stands elsewhere.
    if (strength > STATUS_ROW && TABLE_ROW.test(content) && this.underTableHeader(i)) return { strength: STATUS_ROW, content, header };
    return { strength, content, header };
  }

  /**
   * The tags of a runner's narrative among the last lines from `stop` (see {@link narrativeTag}): those that lead at
   * least two of them. A job runner or a retry loop prints its own lines between the command's (`[Pipeline] sh`,
   * `[retry] attempt 2 of 3`, `##[endgroup]`), the same whatever the command said: the last of them is not what the
   * command ended on. Undefined when no line starts with a bracket or `#` (most outputs).
   */
  private narrativeTags(stop: number): Set<string> | undefined {
    let counts: Map<string, number> | undefined;
    for (let i = this.lines.length - 1; i >= stop; i--) {
      const tag = narrativeTag(this.body(i) ?? '');
      if (tag === undefined) continue;
      counts ??= new Map();
      counts.set(tag, (counts.get(tag) ?? 0) + 1);
    }
    if (counts === undefined) return undefined;
    const tags = new Set<string>();
    for (const [tag, n] of counts) if (n >= 2 || tag.startsWith('#')) tags.add(tag);
    return tags.size === 0 ? undefined : tags;
  }

  /** True when line `i` stands in a block of {@link TABLE_ROW} lines (no blank line between) led by a {@link TABLE_HEADER}. */
  private underTableHeader(i: number): boolean {
    for (let j = i - 1; j >= Math.max(0, i - TABLE_ROWS_READ); j--) {
      const above = (this.body(j) ?? '').trim();
      if (TABLE_HEADER.test(above)) return true;
      if (!TABLE_ROW.test(above)) return false;
    }
    return false;
  }

  /**
   * The last line of strength 0 that is not progress (`Downloading … ...`, a rate, a percentage); else the last line
   * of strength 0. Only the last {@link PLAIN_LINES_READ} lines are read: it is the line an output ended on.
   */
  lastPlainLine(): ErrorLine | undefined {
    const stop = Math.max(0, this.lines.length - PLAIN_LINES_READ);
    // A line in progress or of a runner's narrative is passed over before it is read (most of a long output's lines
    // may be progress), and so is a heading that says nothing of its own (`For more information:`, `Did you mean:`).
    const inProgress: number[] = [];
    const narrative = this.narrativeTags(stop);
    this.lastStatus = undefined;
    for (let i = this.lines.length - 1; i >= stop; i--) {
      const body = this.body(i) ?? '';
      if ((mayBeInProgress(body) && IN_PROGRESS.test(body.trimEnd())) || (narrative !== undefined && narrative.has(narrativeTag(body) ?? ''))) {
        inProgress.push(i);
        continue;
      }
      const r = this.read(i);
      if (r.strength === 0 && r.content.endsWith(':')) inProgress.push(i);
      else if (r.strength === 0) return { line: i, ...r };
      else if (r.strength > 0 && r.strength < STATES_AN_ERROR && this.lastStatus === undefined) this.lastStatus = { line: i, ...r };
    }
    for (const i of inProgress) {
      const r = this.read(i);
      if (r.strength === 0) return { line: i, ...r };
    }
    return undefined;
  }

  /**
   * The last line that only reports a status (a child's exit status, a runner's outcome: strength below
   * {@link STATES_AN_ERROR}) among those {@link lastPlainLine} read before it stopped; undefined when none.
   */
  lastStatus: ErrorLine | undefined;
}

/** A runner's tag leading a line: a bracketed name (`[Pipeline] `, `[retry] `), or a workflow command (`##[group]`, `::error::`). */
const NARRATIVE_TAG = /^(?:##\[[\w-]+\]|::[\w-]+::|\[[A-Za-z][\w .:/-]{0,40}\](?= |$))/;

/**
 * The runner's tag leading a line's body ({@link NARRATIVE_TAG}), not a level, a status or a counter (`[ERROR]`,
 * `[ OK ]`, `[2/5]`: {@link NOT_A_TAG}); undefined for a line that has none. A workflow command (`##[…]`, `::…::`) is
 * the runner's on its own; a bracketed name only when it leads several lines.
 */
function narrativeTag(body: string): string | undefined {
  const c = body.charCodeAt(0);
  if (c !== 91 && c !== 35 && c !== 58) return undefined;
  const m = NARRATIVE_TAG.exec(body);
  if (!m || (c === 91 && NOT_A_TAG.test(m[0]))) return undefined;
  return c === 91 ? m[0] : `#${m[0]}`;
}

/** A CI runner's fold of a step's header: `##[group]Run <the step's command>`, closed by `##[endgroup]`. */
const STEP_HEADER_OPEN = '##[group]Run ';
const STEP_HEADER_CLOSE = '##[endgroup]';
/** Lines from the top in which a step's header fold may open. */
const STEP_HEADER_FIRST = 8;

/**
 * The end (exclusive: the line after its `##[endgroup]`) of the fold in which a CI runner echoes the step it starts
 * (GitHub Actions' and Azure Pipelines' raw log: `##[group]Run ./deploy.sh`, the script, `shell: /usr/bin/bash -e {0}`,
 * `env:` and its variables, `##[endgroup]`), when one opens among the first lines and closes: the runner's, the same
 * for every failure of the step, and never the command's output (`shell: …` read as a command's diagnostic). A fold
 * the script opens itself (`::group::Tests`, printed as `##[group]Tests`) holds the command's output and stays.
 * 0 when there is none (one test of the first lines' first character for most outputs).
 */
function stepHeaderEnd(lines: readonly string[], cut: readonly number[]): number {
  const n = Math.min(lines.length, STEP_HEADER_FIRST);
  for (let i = 0; i < n; i++) {
    const line = lines[i] ?? '';
    const at = cut[i] ?? 0;
    if (line.charCodeAt(at) !== 35 || !line.startsWith(STEP_HEADER_OPEN, at)) continue;
    for (let j = i + 1; j < lines.length; j++) if ((lines[j] ?? '').startsWith(STEP_HEADER_CLOSE, cut[j] ?? 0)) return j + 1;
    return 0;
  }
  return 0;
}

/** Lines of a wrapped message joined to its heading at most (after the first). */
const WRAPPED_LINES = 8;

/** Leading white space of a line (characters). */
const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Lines with error words read at most: the last ones and the first ones (see {@link findErrorLines}). */
const READ_LAST = 96;
const READ_FIRST = 32;

/** The strength from which a line states an error (a command's `prog: message` and up); below it, a status at most. */
const STATES_AN_ERROR = 0.75;

/** Lines read from the end for the last plain line. */
const PLAIN_LINES_READ = 200;

/** A line that reports work under way: it ends in an ellipsis, or states a rate or a percentage. */
const IN_PROGRESS = /^\W*[A-Za-z]+ing\b.*(?:\.\.\.|…)$|\b\d+(?:\.\d+)?\s?[kKMG]i?B\/s\b|\b\d{1,3}(?:\.\d+)?%/;

/** False when a line cannot be {@link IN_PROGRESS} (none of `%`, `B/s`, an ellipsis): most lines, one native scan each. */
function mayBeInProgress(line: string): boolean {
  return line.includes('%') || line.includes('B/s') || line.includes('…') || line.includes('...');
}

/**
 * The lines of an output (its `read` lines, see {@link outputLines}) that may state its error: the strongest ones,
 * later lines first among equals, at most `max`; when no line holds an error word, the last line that carries anything
 * (strength 0). Only the lines that hold an error word are read in full: one scan of the output finds them.
 * `text`: the text `lines` were split from (see {@link outputLines}); `stemLines`: per line of `text`, 1 when it holds one
 * of {@link ERRORISH_STEMS}, when a pass over it already found them (`maskSecretsAndScan`).
 * @example findErrorLines(outputLines('Downloading…\nE: Unable to locate package foo\ncleanup done\n').read)
 *   // [{ line: 1, strength: 3, content: 'E: Unable to locate package foo', header: 0 }]
 */
export function findErrorLines(lines: readonly string[], max = 3, text?: string, stemLines?: Uint8Array): ErrorLine[] {
  const reader = new Reader(lines);
  const { cut } = reader;
  const holds = text === undefined ? undefined : (stemLines ?? linesHoldingStems(text));
  const picked: ErrorLine[] = [];
  // The lines that may state an error (an error stem, a diagnostic's start); the others are never read further. Of a
  // long output that repeats error words on hundreds of lines (a log of retries), the last READ_LAST and the first
  // READ_FIRST of them are read: an error stands near the end, or at the top above its stack.
  const worth: number[] = [];
  for (let i = 0; i < lines.length; i++) if (errorish(lines[i] ?? '', cut[i] ?? 0, holds === undefined ? undefined : holds[i] === 1)) worth.push(i);
  const read = worth.length <= READ_FIRST + READ_LAST ? worth : [...worth.slice(0, READ_FIRST), ...worth.slice(-READ_LAST)];
  for (let k = read.length - 1; k >= 0; k--) {
    const i = read[k] ?? 0;
    const known = reader.read(i);
    if (known.strength <= 0) continue;
    const r: ErrorLine = { line: i, strength: known.strength, content: known.content, header: known.header };
    // Lines that repeat the level prefix of the line above (`npm error …`, `E: …`) go on stating the same error: the
    // first of them says what it is, the rest give details.
    const prefix = r.strength >= 2 ? LEVEL_PREFIX.exec(r.content)?.[0] : undefined;
    if (prefix !== undefined && i > 0 && (reader.body(i - 1) ?? '').trim().startsWith(prefix)) r.strength = 1;
    // A stated error or a diagnostic that ends in a colon is a heading: its message is the next line (Rust's panic,
    // `Error:`, `boot-9.scm:3330:6: In procedure resolve-interface:`).
    const next = r.strength >= 0.75 && r.content.endsWith(':') ? reader.read(i + 1) : undefined;
    // (a diagnostic's heading takes a line that says no more than it does: `main.c: In function 'main':` above
    // `main.c:5:24: error: …` is a heading of its own, the error below it another line)
    if (next && next.content !== '' && next.strength >= 0 && (r.strength >= 2 || next.strength <= r.strength)) {
      r.content = `${r.content} ${next.content}`;
      let end = i + 1;
      // A message wrapped over several lines indented under its heading is one message: where each line breaks depends
      // on the lengths of the values in it (`CMake Error at …:` above a wrapped paragraph).
      const indent = indentOf(reader.body(i + 1) ?? '');
      if (indent > indentOf(reader.body(i) ?? '')) {
        for (let j = i + 2; j < i + 2 + WRAPPED_LINES; j++) {
          const body = reader.body(j);
          if (body === undefined || body.trim() === '' || indentOf(body) !== indent) break;
          r.content = `${r.content} ${body.trim()}`;
          end = j;
        }
      }
      // The lines joined to the heading are part of its message, not errors of their own (picked already: the loop
      // goes backwards).
      while (picked.length > 0 && (picked[picked.length - 1]?.line ?? -1) <= end && (picked[picked.length - 1]?.line ?? -1) > i) picked.pop();
    }
    picked.push(r);
  }
  if (picked.length === 0) {
    // Nothing states an error: the last plain line, then a line that only reports a status (`command exited with code
    // 124`, read here when no error stem drew it in), so the error line is never empty while the output says anything.
    const last = reader.lastPlainLine();
    const status = reader.lastStatus;
    return [last, status].filter((l): l is ErrorLine => l !== undefined);
  }
  // Strongest first, later first among equals (the loop above went backwards, and the sort is stable); a line printed
  // again (a retried step) counts once.
  picked.sort((a, b) => b.strength - a.strength);
  const found: ErrorLine[] = [];
  for (const p of picked) {
    if (found.some((f) => sameButNumbers(f.content, p.content))) continue;
    found.push(p);
    if (found.length === max) break;
  }
  // The last line that carries anything comes after the lines that state an error: the error line when every other
  // one is boilerplate (a timeout whose only error-like line is the script's trailer). It comes before the lines that
  // only report a status (a child's exit status, a runner's closing `Finished: FAILURE`, a count of errors): what the
  // program printed last says more than a wrapper's word that it failed (`make: *** [lint] Error 1` after a linter's
  // report).
  const last = reader.lastPlainLine();
  if (last && !found.some((f) => f.line === last.line)) {
    const status = found.findIndex((f) => f.strength <= STATUS_ROW);
    if (status < 0) found.push(last);
    else found.splice(status, 0, last);
  }
  return found;
}

/**
 * True when `a` and `b` are equal once every run of digits in each is one `0` (`a.replace(/\d+/g, '0') ===
 * b.replace(/\d+/g, '0')`), compared in place: no string is made, nothing is hashed.
 */
export function sameButNumbers(a: string, b: string): boolean {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(j);
    if (x >= 48 && x <= 57 && y >= 48 && y <= 57) {
      do i++;
      while (i < n && a.charCodeAt(i) >= 48 && a.charCodeAt(i) <= 57);
      do j++;
      while (j < m && b.charCodeAt(j) >= 48 && b.charCodeAt(j) <= 57);
      continue;
    }
    if (x !== y) return false;
    i++;
    j++;
  }
  return i === n && j === m;
}

/** Private-use characters that hold the place of a masked path while the other masks run. */
const PATH_MARK = 0xe100;
const PATH_MARKS = /\ue100[\ue101-\ue8ff]/g;

/** A shell's prefix of its diagnostics: `<script>: line N: ` (bash), `<script>: N: ` (dash), `zsh:N: ` (a shell's name, a `.sh` or a path). */
const SHELL_PREFIX = /^(?:(?:ba|da|z|k|c|tc|fi)?sh|[\w.+-]*\.sh|[\w.+-]*\/[\w./+-]*):(?:\s+line)?\s*\d+:\s+/;
/** A step counter in front: `[2/3] `, `attempt 2/5: `, `(3/4) `, `step 2 of 3: `. */
const STEP_COUNTER = /^(?:(?:attempt|step|try|retry|stage|task)\s+)?[[(]?\d+\s*(?:\/|of)\s*\d+[\])]?:?\s+/i;
/** A shell's report of a job a signal ended: `28325 Killed   <the command>` (the command is the script's text). */
const JOB_REPORT = /^\d+\s+(Killed|Terminated|Aborted|Hangup|Interrupt|Quit|Alarm clock|Segmentation fault|Bus error|Illegal instruction|Floating point exception|User defined signal \d|Broken pipe)(?:\s+\(core dumped\))?\s+\S.*$/;
/** A quoted value: '…', "…", `…`, ‘…’, “…” of at most three words and 100 characters (a longer quote is a message). */
const QUOTED = /(?<!\w)'[^'\s]{0,100}(?: [^'\s]+){0,2} ?'|"[^"\s]{0,100}(?: [^"\s]+){0,2} ?"|(?<!\w)`[^`'\s]{0,100}(?: [^`'\s]+){0,2}['`]|‘[^’\s]{0,100}(?: [^’\s]+){0,2}’|“[^”\s]{0,100}(?: [^”\s]+){0,2}”/g;
/**
 * A longer quote, four to twelve words (`"draft q3 report final"`, a slice of the input a parser quotes): a value too
 * when none of its words is of the error vocabulary; one that says what failed (`"connection refused by peer"`) is a
 * message and stays.
 */
const LONG_QUOTED = /(?<!\w)'[^'\s]{1,100}(?: [^'\s]+){3,11}'|"[^"\s]{1,100}(?: [^"\s]+){3,11}"|(?<!\w)`[^`'\s]{1,100}(?: [^`'\s]+){3,11}['`]|‘[^’\s]{1,100}(?: [^’\s]+){3,11}’|“[^”\s]{1,100}(?: [^”\s]+){3,11}”/g;
/** An escaped line break or tab in a quoted slice of input, and the indentation after it. */
const ESCAPED_BREAK = /(\\[nrt])[ \t]+/g;
/** A question closing a line after a sentence of its own: `. Did you mean: 'json'?`, `! Is the server running?`. */
const TRAILING_QUESTION = /[.!]\s+[A-Z](?:[^.?!]|\.(?!\s))*\?$/;
/** Typographic quote marks, which GNU programs print in a UTF-8 locale where they print `'` and `"` in the C one. */
const CURLY_QUOTE = /[‘’“”]/;
const CURLY_SINGLE = /[‘’]/g;
const CURLY_DOUBLE = /[“”]/g;
/** A character that opens a {@link QUOTED} value (the pattern runs only when one is there). */
const QUOTE_MARK = /['"`‘“]/;
/** A path of at least two segments, or an absolute one. */
const PATH = /(?<![\w.:/<>*~-])(?:~|\.{1,2})?(?:\/[\w.@+~%<>*-]+){2,}\/?|(?<![\w.:/<>*~-])\/[\w.@+~%-]+|\b[A-Za-z]:\\[^\s"'<>|:*?]+|(?<![\w.:/<>*~-])[\w.-]+(?:\/[\w.@+~%-]+)*\/[\w.-]*\.[A-Za-z]\w{0,5}\b/g;

/** A short option glued to its value (`-lssl`, `-I/usr/include`) or a long one with `=` (`--port=8080`). */
const GLUED_OPTION = /(^|[\s'"`(])(-[A-Za-z]|--[a-z][\w-]*=)(?=[\w.+/])[\w.+/-]*[\w+]/g;

/** A file's name without a folder (`west.c`, `app-1.2.tar.gz`, `values.yaml`): a name, then a short lower-case type. */
const FILE_NAME = /(?<![\w./<>*~-])[A-Za-z_][\w-]*(?:\.[\w-]+)*\.([a-z][a-z0-9]{0,3})(?![\w./-])/g;

/**
 * Masks a path to what it says about a cause: an absolute path keeps its root and the type of its file
 * (`/etc/app/agent.toml` → `/etc/<*>.toml`, `/opt/tool/bin/run` → `/opt/<*>`); the rest varies between instances and
 * scripts, and so does a relative one (`deploy/values.yaml` → `<*>`).
 */
function maskPath(path: string): string {
  // A relative path (`deploy/values.yaml`) is where a project keeps its files: all of it varies.
  if (!/^[~./]|^[A-Za-z]:\\/.test(path)) return WILDCARD;
  const windows = /^[A-Za-z]:\\/.test(path);
  const segments = path.split(windows ? '\\' : '/').filter((s) => s !== '');
  const root = windows ? (segments[0] ?? '') : segments.length > 1 ? `/${segments[0] ?? ''}` : '';
  const base = segments[segments.length - 1] ?? '';
  const ext = /\.([A-Za-z][A-Za-z0-9]{0,5})$/.exec(base)?.[1];
  if (segments.length <= 1) return ext ? `/${WILDCARD}.${ext}` : `/${WILDCARD}`;
  return `${root}${windows ? '\\' : '/'}${WILDCARD}${ext ? `.${ext}` : ''}`;
}

/**
 * The text of an error line that is mined: the shell's script prefix dropped, variables masked (`maskVariables`),
 * quoted values and the middle of paths masked.
 * @example errorTemplate("/tmp/deploy.sh: line 12: /opt/app/bin/run: No such file or directory") // '/opt/<*>: No such file or directory'
 * @example errorTemplate("KeyError: 'region'") // "KeyError: '<*>'"
 */
export function errorTemplate(content: string): string {
  let s = content.replace(SHELL_PREFIX, '').replace(STEP_COUNTER, '').replace(JOB_REPORT, '$1');
  // A slice of the input quoted with its line breaks escaped carries the next line's indentation, which follows the
  // file's formatting, not the error (`TEXT seen ...</version\n  <... @6:4`).
  if (s.includes('\\')) s = s.replace(ESCAPED_BREAK, '$1');
  // A question after the message is a hint (`… is not defined. Did you mean: 'json'?`): what it suggests depends on
  // the names nearby, and a runtime's newer versions add it where older ones do not.
  if (s.endsWith('?')) s = s.replace(TRAILING_QUESTION, '');
  // The quote marks a program prints follow the locale (`'5Q'` under LANG=C, `‘5Q’` under C.UTF-8 or en_US.UTF-8):
  // one mark of each kind.
  if (CURLY_QUOTE.test(s)) s = s.replace(CURLY_SINGLE, "'").replace(CURLY_DOUBLE, '"');
  if (QUOTE_MARK.test(s)) {
    const mask = (q: string) => `${q[0] ?? ''}${WILDCARD}${q[q.length - 1] ?? ''}`;
    s = s.replace(QUOTED, mask).replace(LONG_QUOTED, (q) => (q.slice(1, -1).split(' ').some((w) => isErrorWord(w.replace(/^\W+|\W+$/g, ''))) ? q : mask(q)));
  }
  // Paths are read before the other masks (which would take a digit-bearing file name, extension and all), and stand
  // aside as private-use characters while those run.
  const paths: string[] = [];
  if (s.includes('/') || s.includes(':\\')) {
    s = s.replace(PATH, (path) => {
      paths.push(maskPath(path));
      return String.fromCharCode(PATH_MARK, PATH_MARK + paths.length);
    });
  }
  // A file's name alone varies as a relative path does; its type is what it says (`west.c:` → `<*>.c:`).
  if (s.includes('.')) {
    s = s.replace(FILE_NAME, (_name, type: string) => {
      paths.push(`${WILDCARD}.${type}`);
      return String.fromCharCode(PATH_MARK, PATH_MARK + paths.length);
    });
  }
  // An option glued to its value keeps the option (`-lssl` → `-l<*>`, `--port=8080` → `--port=<*>`): it says what the
  // value is (a library, not an object file), while the value varies.
  if (s.includes('-')) s = s.replace(GLUED_OPTION, (_m, lead: string, option: string) => `${lead}${option}${WILDCARD}`);
  s = maskVariables(s);
  return paths.length === 0 ? s : s.replace(PATH_MARKS, (m) => paths[m.charCodeAt(1) - PATH_MARK - 1] ?? WILDCARD);
}
