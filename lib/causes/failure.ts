/**
 * What a failed record says about its cause, and the grouping of those causes (docs/causes.md).
 *
 * {@link createFailureReader} reads one failed record's texts (the whole output, secrets masked first) and returns its
 * {@link FailureText}: the lines that may state its error (`errorline.ts`, at most five and the last plain line, strongest first), each as
 * a template to mine, its raw line, and its place in the record's example text; and (OOS) the error and exit codes its
 * texts state. {@link CauseGrouper} maps a failure to a provisional group id (O(causes) state, nothing per failure);
 * which candidate is the error line of a group is decided when the whole invocation has been read (one pass, late
 * resolution): a line that recurs beside different error lines is boilerplate (a cleanup trailer, a wrapper
 * exception) and is passed over. The final cause key, title and error line of each provisional id are read once, from
 * {@link CauseGrouper.finish}. The aggregation (lib/summary/aggregate.ts) keeps the per-group bookkeeping and merges
 * the groups whose final keys are equal.
 */
import { ERRORISH_STEMS, errorTemplate, findErrorLines, isErrorWord, outputLines } from './errorline';
import { intOrNull, jsonObject } from '../fields';
import { WILDCARD } from './masking';
import { OVERFLOW, TemplateMiner } from './miner';
import { maskSecrets, maskSecretsAndScan } from './secrets';
import type { LineScanResult } from './trigger-scan';
import { causeKey, clipWords, memoizeText, ownCopy } from './signature';

/** A line of a failed record that may state its error. */
export interface Candidate {
  /** The line's template to mine (`errorTemplate`). */
  template: string;
  /** 0–3, see `errorline.ts`. */
  strength: number;
  /** The line as printed (secrets masked), at most 200 characters. */
  raw: string;
}

/** What one failed record says about its cause (see {@link createFailureReader}). */
export interface FailureText {
  /** Lines that may state its error, strongest first (later first among equals); empty when the record has no text. */
  candidates: Candidate[];
  /** The example text of the record (≤ `maxBytes` of UTF-8, secrets masked) and the line of each candidate in it (-1: not in it). */
  example(maxBytes: number): { text: string; lines: number[] };
  /** OOS: the error code its `StatusMessage` names (`''` when none); ECS: undefined (the record's own is used). */
  errorCode?: string;
  /** OOS: the exit code its `Outputs` or `StatusMessage` state (`null` when none); ECS: undefined. */
  exitCode?: number | null;
}

/**
 * Candidate lines read per failure (and its last plain line). Five, not three: a script's trailer often prints two or
 * three lines with error words after the error (`!! deploy aborted …`, `posting failure to …`) and a tool a generic
 * last line (`Unable to load certificate`); with three slots those filled them and the error itself was never read.
 */
const CANDIDATES = 5;

/** Longest raw error line kept per candidate (characters). */
const RAW_LINE_CHARS = 200;

/**
 * The lines `[from, to)` of an output that fit in `maxBytes` around line `focus`: a third of the budget after it
 * (a stack under a Node error), the rest before it (a traceback above a Python one), what is left after it again.
 */
function windowAround(lines: readonly string[], focus: number, maxBytes: number): [number, number] {
  const size = (i: number) => Buffer.byteLength(lines[i] ?? '') + 1;
  let from = focus;
  let to = focus + 1;
  let used = size(focus) + 8; // the marks of a cut (`…`) on both sides
  const grow = (down: boolean, budget: number) => {
    for (;;) {
      const next = down ? to : from - 1;
      if (next < 0 || next >= lines.length || used + size(next) > budget) return;
      used += size(next);
      if (down) to += 1;
      else from -= 1;
    }
  };
  grow(true, Math.max(used, maxBytes / 3));
  grow(false, maxBytes);
  grow(true, maxBytes);
  return [from, to];
}

/**
 * An example text of an output's lines (secrets already masked) around its strongest error line, and the line of each
 * candidate in it.
 */
function exampleOf(lines: readonly string[], lineOf: readonly number[], maxBytes: number): { text: string; lines: number[] } {
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end -= 1;
  if (end === 0) return { text: '', lines: lineOf.map(() => -1) };
  // Each line as shown (a long one clipped), once: the window is measured and cut from the same lines.
  const shown = lines
    .slice(0, end)
    .map((l) => (l.length * 3 > maxBytes / 2 && Buffer.byteLength(l) > maxBytes / 2 ? clipWords(l, Math.floor(maxBytes / 8)) : l));
  const focus = Math.min(lineOf[0] ?? end - 1, end - 1);
  const [from, to] = windowAround(shown, focus, maxBytes);
  const out: string[] = from > 0 ? ['…'] : [];
  for (let i = from; i < to; i++) out.push(shown[i] ?? '');
  if (to < end) out.push('…');
  const at = (l: number) => (l >= from && l < to ? l - from + (from > 0 ? 1 : 0) : -1);
  return { text: out.join('\n'), lines: lineOf.map(at) };
}

/**
 * The {@link FailureText} of an output whose secrets are masked (the caller masks the whole output once, before it is
 * split into lines or read (a private key block, a `curl \` continuation, a `.netrc` entry span lines), and every text taken from it
 * (the candidates' templates and lines, the example) comes from that one masked text. `scanned`: what the masker's pass
 * found about the lines of `masked` (`maskSecretsAndScan`), when it left the text as it was.
 */
function readOutput(masked: string, maskTemplate: (content: string) => string, truncated = false, scanned?: LineScanResult): FailureText {
  const { printed, read, text } = outputLines(masked, scanned?.control);
  // An output the API cut ends in the middle of a line: that piece says nothing.
  const found = findErrorLines(truncated && !masked.endsWith('\n') ? read.slice(0, -1) : read, CANDIDATES, text, scanned?.lineWords);
  const candidates = found.map((f) => ({ template: maskTemplate(f.content), strength: f.strength, raw: clipWords((read[f.line] ?? '').trim(), RAW_LINE_CHARS) }));
  const lineOf = found.map((f) => f.line);
  return { candidates, example: (maxBytes) => exampleOf(printed, lineOf, maxBytes) };
}

/** A word that may be a value a program put last: an identifier or a token starting with a digit (`none`, `logLevel`, `103x`). */
const LAST_VALUE = /^[a-z0-9][\w.+-]*$/;

/**
 * A label that asks for a state or a kind, not for a value (`status:`, `state:`, `cause:`, `reason:`, `exit_code:`,
 * `kind:`, `type:`, `result:`, `phase:`): the word after it is which of a few conditions held (`unhealthy` vs `starting`,
 * `cancelled` vs `preempted`), and two of them are two causes.
 */
const KIND_LABEL = /(?:code|status|state|reason|cause|kind|type|result|phase|outcome)$/i;

/**
 * A template whose message ends `label: value` with the value one word (`invalid worker count: none`,
 * `undefined: logLevel`), with `<*>` for that word: programs put the value a message is about after its label, last;
 * a word there that names a kind (`timeout`, `refused`, a code: {@link namesAKind}) stays, and so does any word after a
 * label that asks for a state or a kind ({@link KIND_LABEL}).
 */
function lastValue(template: string): string {
  const cut = template.lastIndexOf(' ');
  if (cut < 0) return template;
  const word = template.slice(cut + 1);
  const before = template.lastIndexOf(' ', cut - 1);
  if (before < 0 || template[cut - 1] !== ':' || !LAST_VALUE.test(word) || namesAKind(word)) return template;
  if (KIND_LABEL.test(template.slice(before + 1, cut - 1))) return template;
  return `${template.slice(0, cut)} ${WILDCARD}`;
}

/** OOS `StatusMessage` boilerplate: `Task 'runCommand' failed: ExitCodeNonzero: ` (the code is kept as the error code). */
const OOS_TASK_PREFIX = /^\s*Task '[^']*' failed:\s*(?:([A-Z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*):\s+)?/;
/** A trailing list of context fields, `(InstanceId: i-…, InvokeId: t-…, ExitCode: 1)`. */
const CONTEXT_SUFFIX = /\s*\((?:[A-Z][A-Za-z]*: [^,()]*)(?:, [A-Z][A-Za-z]*: [^,()]*)*\)\s*$/;
/** An exit code stated in text: `ExitCode: 1`, `exit code 2`, `exit status 127`, `"exitCode": 7`. */
const STATED_EXIT_CODE = /\bexit[ _-]?(?:code|status)["']?\s*[:=]?\s*(-?\d{1,6})\b/i;
/** A `key: value` line of an OOS output that only states the exit code (it is read into `exitCode`). */
const EXIT_CODE_LINE = /^exit_?code: -?\d+$/i;

/**
 * Splits an OOS child's `StatusMessage` into what says why it failed, the error code its boilerplate names and the
 * exit code it states.
 * @example oosMessage("Task 'runCommand' failed: ExitCodeNonzero: disk full (InstanceId: i-1, ExitCode: 1)")
 *   // { text: 'disk full', errorCode: 'ExitCodeNonzero', exitCode: 1 }
 */
export function oosMessage(message: string): { text: string; errorCode: string; exitCode: number | null } {
  const prefix = OOS_TASK_PREFIX.exec(message);
  const stated = STATED_EXIT_CODE.exec(message);
  const text = message.slice(prefix ? prefix[0].length : 0).replace(CONTEXT_SUFFIX, '').trim();
  return { text: text || message.trim(), errorCode: prefix?.[1] ?? '', exitCode: stated ? Number(stated[1]) : null };
}

/** The string leaves of a JSON value (or of a string holding JSON), as `key: value` lines for scalars. */
function jsonText(value: unknown, depth = 0): string[] {
  if (depth > 6) return [];
  if (typeof value === 'string') {
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        return jsonText(JSON.parse(t), depth + 1);
      } catch {
        return [value];
      }
    }
    return [value];
  }
  if (Array.isArray(value)) return value.flatMap((v) => jsonText(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      typeof v === 'string' || typeof v === 'object' ? jsonText(v, depth + 1) : v === undefined ? [] : [`${k}: ${String(v)}`],
    );
  }
  return value === undefined || value === null ? [] : [String(value)];
}

/** The `exitCode` of an OOS `Outputs` value (a JSON string or an object), if it states one. */
function exitCodeOf(outputs: unknown): unknown {
  const value = typeof outputs === 'string' ? jsonObject(outputs) : outputs;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  return o.exitCode ?? o.ExitCode ?? o.exit_code;
}

/** Reads failures' texts; one per aggregation (it remembers the templates of the lines that repeat). */
export interface FailureReader {
  /** An ECS record: its `ErrorInfo` (read only when the output is empty) and `Output` (`truncated`: the API cut its end, `Dropped` > 0). */
  ecs(errorInfo: string, output: string, truncated?: boolean): FailureText;
  /** An OOS record: the linked failed child's `StatusMessage` (undefined when none) and the record's `Outputs`. */
  oos(statusMessage: string | undefined, outputs: unknown): FailureText;
}

/** Options of {@link createFailureReader}. */
export interface ReaderOptions {
  /**
   * Masks the secrets of a whole output (idempotent, linear); every text the reader returns is taken from its answer.
   * @default maskSecrets (`secrets.ts`)
   */
  maskSecrets?: (text: string) => string;
  /**
   * Characters of whole texts whose reading is remembered ({@link ExactTextMemo}); 0: none. @default {@link MEMO_CHARS}
   */
  memoChars?: number;
}

/** Characters of the whole texts {@link ExactTextMemo} remembers, by default (~1 M: 2–4 MB with what they keep alive). */
export const MEMO_CHARS = 1 << 20;
/** Longest text remembered (characters); a longer one is read each time (the memo's bound holds a few of them). */
const MEMO_TEXT_CHARS = 16_000;
/** Texts that were seen once, remembered by their fingerprint only (two generations of this many). */
const MEMO_SEEN = 8192;
/** Characters a fingerprint looks at, spread over the text ({@link fingerprint}). */
const FINGERPRINT_CHARS = 64;

/**
 * A number made of a text's length and {@link FINGERPRINT_CHARS} of its characters spread from the first to the last:
 * equal texts have equal fingerprints; different texts usually do not (when they do, the texts are compared whole).
 */
function fingerprint(text: string): number {
  const n = text.length;
  let h = n;
  if (n <= FINGERPRINT_CHARS) for (let i = 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  else for (let k = 0; k < FINGERPRINT_CHARS; k++) h = Math.imul(h ^ text.charCodeAt(Math.floor((k * (n - 1)) / (FINGERPRINT_CHARS - 1))), 16777619);
  // A small integer (a V8 Smi): a Map key without a heap number.
  return h & 0x3fffffff;
}

/**
 * The reading of whole texts that repeat byte for byte. A fleet prints the same output on many hosts (the same script,
 * the same missing package); such a text is then masked, split and read twice, not thousands of times. A hit needs
 * the very text (compared whole, never only a hash of it), and the value is the reading, a function of the text
 * alone: a hit returns what a miss would. What it costs a text seen once: its {@link fingerprint}, kept in a bounded
 * set (nothing of the text itself is kept). A text whose fingerprint was seen before is read and kept with its reading;
 * a third one equal to it is a hit. Bounded: at most `chars` characters of texts (two generations of half each; when
 * the newer one is full it becomes the older one, and a text found in the older one moves to the newer one), and two
 * generations of {@link MEMO_SEEN} fingerprints. Each text kept is an own copy (never a piece of a larger string kept
 * alive), and its reading is made from that copy. Texts over {@link MEMO_TEXT_CHARS} are read each time.
 */
class ExactTextMemo<T> {
  private recent = new Map<number, { text: string; value: T }>();
  private older = new Map<number, { text: string; value: T }>();
  private recentChars = 0;
  private seen = new Set<number>();
  private seenBefore = new Set<number>();
  constructor(private readonly chars: number) {}

  get(text: string, read: (text: string) => T): T {
    if (text.length > MEMO_TEXT_CHARS || text.length > this.chars / 2) return read(text);
    const print = fingerprint(text);
    const recent = this.recent.get(print);
    if (recent !== undefined && recent.text === text) return recent.value;
    const older = this.older.get(print);
    if (older !== undefined && older.text === text) {
      this.keep(print, older);
      return older.value;
    }
    if (recent === undefined && older === undefined && !this.seen.has(print) && !this.seenBefore.has(print)) {
      if (this.seen.size >= MEMO_SEEN) {
        this.seenBefore = this.seen;
        this.seen = new Set();
      }
      this.seen.add(print);
      return read(text);
    }
    const own = ownCopy(text);
    const entry = { text: own, value: read(own) };
    this.keep(print, entry);
    return entry.value;
  }

  private keep(print: number, entry: { text: string; value: T }): void {
    if (this.recentChars + entry.text.length > this.chars / 2) {
      this.older = this.recent;
      this.recent = new Map();
      this.recentChars = 0;
    }
    this.recent.set(print, entry);
    this.recentChars += entry.text.length;
  }
}

/**
 * Creates a {@link FailureReader}. Secrets are masked in every text taken from an output before it is mined or kept. ECS:
 * the `Output` (the `ErrorInfo` when there is none). OOS: the linked child's `StatusMessage` without its boilerplate as
 * the first line (a heading), then the `Outputs` text; both read the same way.
 * @example const text = createFailureReader().ecs('', 'step 1\nE: Unable to locate package foo\n'); text.candidates[0]?.template // 'E: Unable to locate package foo'
 */
export function createFailureReader(options: ReaderOptions = {}): FailureReader {
  const maskTemplate = memoizeText((content: string) => lastValue(errorTemplate(content)));
  const mask = options.maskSecrets ?? maskSecrets;
  // A whole text's reading, remembered: one memo for texts read whole, one for outputs the API cut (their last line is
  // not read). An ECS `ErrorInfo`, an ECS output and an OOS text are read the same way: one memo serves them all.
  // With the default masker, its one pass over the text also finds the lines with error stems and any control
  // character (`maskSecretsAndScan`): the reading does not scan the text again for them.
  const read = (text: string, truncated: boolean): FailureText => {
    if (options.maskSecrets) return readOutput(mask(text), maskTemplate, truncated);
    const { masked, lines } = maskSecretsAndScan(text, ERRORISH_STEMS);
    return readOutput(masked, maskTemplate, truncated, lines);
  };
  const readWhole = (text: string) => read(text, false);
  const readCut = (text: string) => read(text, true);
  const chars = options.memoChars ?? MEMO_CHARS;
  const whole = chars > 0 ? new ExactTextMemo<FailureText>(chars / 2) : undefined;
  const cut = chars > 0 ? new ExactTextMemo<FailureText>(chars / 2) : undefined;
  const readText = (text: string) => (whole ? whole.get(text, readWhole) : readWhole(text));
  return {
    ecs(info, output, truncated = false) {
      if (output.trim() === '') return readText(info);
      if (!truncated) return readText(output);
      return cut ? cut.get(output, readCut) : readCut(output);
    },
    oos(statusMessage, outputsValue) {
      // `Outputs` is mostly a string that holds a JSON object: parsed once, for its text and for its exit code.
      let value = outputsValue;
      let depth = 0;
      const parsed = typeof outputsValue === 'string' ? jsonObject(outputsValue) : undefined;
      // Else read as the text it is (jsonText and exitCodeOf try it again and keep it as text).
      if (parsed !== undefined) {
        value = parsed;
        depth = 1;
      }
      const outputs = jsonText(value, depth)
        .filter((l) => !EXIT_CODE_LINE.test(l.trim()))
        .join('\n');
      const message = statusMessage ?? '';
      const stated = oosMessage(message);
      // The service's message first, as a heading, then what the task printed: a message that states an error ranks by
      // its strength like any line, and a generic one (`The command execution exit code is not zero.`, the same for every
      // failure of its error code) is the error line only when the output says nothing, as `ErrorInfo` is for ECS.
      const text = [message ? stated.text : '', outputs.trimEnd()].filter(Boolean).join('\n');
      const reading = readText(text);
      // Built with its four fields named, not spread from the reading with two more: V8 then moved ~200 bytes a failure
      // into its old generation (measured over 300,000 OOS failures: 60 MB more promoted by scavenges), garbage that
      // waited there for a full GC.
      return {
        candidates: reading.candidates,
        example: reading.example,
        errorCode: stated.errorCode,
        exitCode: intOrNull(exitCodeOf(value)) ?? stated.exitCode,
      };
    },
  };
}

/** A final cause of a provisional group (see {@link CauseGrouper.finish}). */
export interface Cause {
  /** 12 hex digits of sha256(status, errorCode, exitCode, template of the error line) ({@link causeKey}). */
  key: string;
  /** The template of the error line (not shortened). */
  signature: string;
  /** The template of the error line (what the report shows). */
  title: string;
  /** Which of the group's candidates is its error line (an index into {@link FailureText.candidates}); -1: none. */
  line: number;
}

/** The strength from which a line states an error (a command's `prog: message` and up; not a child's exit status). */
const STATES_AN_ERROR = 0.75;

/** Options of {@link CauseGrouper}. */
export interface GrouperOptions {
  /** Provisional groups kept; a failure that would start one more is {@link OVERFLOW}. @default 5000 */
  maxGroups?: number;
}

/** A provisional group: a failure's codes and its candidates (the miner's group ids, strongest first). */
interface Provisional {
  status: string;
  errorCode: string;
  exitCode: number | null;
  candidates: number[];
  /** The strength of each candidate. */
  strengths: number[];
  count: number;
}

/**
 * Maps failures to provisional group ids (equal status, error code, exit code and mined candidate lines), at most
 * `maxGroups` of them; {@link finish} gives each id its final cause (ids whose error lines ended up with equal
 * templates get equal keys).
 * @example
 *   const grouper = new CauseGrouper();
 *   const id = grouper.add('Failed', 'ExitCodeNonzero', 1, reader.ecs('', output));
 *   const causeOf = grouper.finish(); causeOf(id).title
 */
export class CauseGrouper {
  private readonly miner: TemplateMiner;
  private readonly maxGroups: number;
  /** Provisional id by (status, error code, exit code, the miner's group ids of the candidates). */
  private readonly ids = new Map<string, number>();
  private readonly groups: Provisional[] = [];
  private readonly overflowSeen = new Set<string>();

  constructor(options: GrouperOptions = {}) {
    this.maxGroups = options.maxGroups ?? 5000;
    // Up to CANDIDATES + 1 candidates per failure; the miner's bound keeps its memory flat whatever the archive holds.
    this.miner = new TemplateMiner({ maxGroups: this.maxGroups * (CANDIDATES + 1), maskedWordsVary: false, isKind: namesACode, isValue: onceSeenValue });
  }

  /** Distinct causes that did not fit under `maxGroups` (each counted once). */
  get overflowCauses(): number {
    return this.overflowSeen.size;
  }

  /** The provisional group id of a failure, or {@link OVERFLOW} when it would start a group beyond `maxGroups`. */
  add(status: string, errorCode: string, exitCode: number | null, text: FailureText): number {
    const candidates = text.candidates.map((c) => (c.template === '' ? OVERFLOW - 1 : this.miner.add(c.template)));
    const stateKey = `${status}\u001f${errorCode}\u001f${String(exitCode)}\u001f${candidates.join(',')}`;
    const known = this.ids.get(stateKey);
    if (known !== undefined) {
      const group = this.groups[known];
      if (group) group.count += 1;
      return known;
    }
    if (this.groups.length >= this.maxGroups || candidates.includes(OVERFLOW)) {
      this.overflowSeen.add(stateKey);
      return OVERFLOW;
    }
    const id = this.groups.length;
    this.groups.push({ status, errorCode, exitCode, candidates, strengths: text.candidates.map((c) => c.strength), count: 1 });
    this.ids.set(stateKey, id);
    return id;
  }

  /**
   * Ends the stream: the final cause of each provisional id. Call once, after the last {@link add}.
   *
   * The error line of a group is its strongest candidate (the later one among equals) that is not boilerplate. Two
   * candidate templates are neighbours when they stood in the same failures at least twice, or once when the other
   * says what went wrong with an error word (its strength is at least 1, however loud the template itself is: a trailer
   * with a level word after causes seen once each); a template is boilerplate when it has at least two neighbours
   * and none of its neighbours has more: a trailer or a wrapper line stands beside the error lines of many causes,
   * each of which stands beside few lines. When every candidate of a group is boilerplate, its error line is the one
   * with the fewest neighbours.
   */
  finish(): (id: number) => Cause {
    this.miner.settle();
    const templateOf = (id: number) => (id < 0 ? '' : this.miner.template(id));
    const templates = this.groups.map((g) => g.candidates.map(templateOf));
    // Neighbours: template → (other template → failures where they stood together).
    const together = new Map<string, Map<string, number>>();
    const link = (a: string, b: string, n: number) => {
      if (a === b || a === '' || b === '') return;
      let m = together.get(a);
      if (!m) together.set(a, (m = new Map()));
      m.set(b, (m.get(b) ?? 0) + n);
    };
    this.groups.forEach((g, i) => {
      const t = templates[i] ?? [];
      for (let a = 0; a < t.length; a++) for (let b = a + 1; b < t.length; b++) {
        link(t[a] ?? '', t[b] ?? '', g.count);
        link(t[b] ?? '', t[a] ?? '', g.count);
      }
    });
    const strength = new Map<string, number>();
    this.groups.forEach((g, i) => (templates[i] ?? []).forEach((t, k) => strength.set(t, Math.max(strength.get(t) ?? 0, g.strengths[k] ?? 0))));
    // A template's neighbours that state an error (an error word, or a command's own diagnostic), not yet set aside:
    // those it stood beside in two failures or more, and those that say what went wrong with an error word, even once
    // (a tool's generic last line, or a script's loud trailer, after the messages of causes that failed only once).
    const hubs = new Set<string>();
    const neighbours = (t: string) => {
      return [...(together.get(t) ?? [])]
        .filter(([o, n]) => {
          const s = strength.get(o) ?? 0;
          return !hubs.has(o) && s >= STATES_AN_ERROR && (n >= 2 || s >= 1);
        })
        .map(([o]) => o);
    };
    // Two lines that never stood together are apart, unless one is the start of the other: one sentence wrapped at
    // different places (the wrap follows the lengths of the values before it), not two different errors.
    // Nor are two lines that differ only in a file's type (`app.jar: FAILED`, `lib.so: FAILED`): one check that
    // failed for several files, one line per file. Nor two that differ in one value (`crm: loading`, `search: loading`:
    // one line naming each step; an error line after it is no boilerplate), unless the word names a kind.
    const apart = (a: string, b: string) => (together.get(a)?.get(b) ?? 0) < 2 && !a.startsWith(b) && !b.startsWith(a) && !sameButFileType(a, b) && !sameButOneValue(a, b);
    // Peeled like an onion: the biggest hubs first (a `trap` trailer beside every cause), then the hubs that show
    // once those are gone (a tool's own trailer beside its few causes). A hub stands beside error lines that never
    // stand together (different failures), and beside no line with more such neighbours.
    for (;;) {
      const found: string[] = [];
      for (const t of together.keys()) {
        if (hubs.has(t)) continue;
        const near = neighbours(t);
        if (near.length < 2 || !near.some((a, i) => near.slice(i + 1).some((b) => apart(a, b)))) continue;
        if (near.every((o) => neighbours(o).length <= near.length)) found.push(t);
      }
      if (found.length === 0) break;
      for (const t of found) hubs.add(t);
    }
    const boilerplate = (t: string): boolean => hubs.has(t);
    const chosen = this.groups.map((_g, i): [number, string] => {
      const t = templates[i] ?? [];
      let line = t.findIndex((x) => x !== '' && !boilerplate(x));
      if (line < 0) {
        // Every candidate is boilerplate (a runtime's frames shared by its causes, under a runner's closing line): the
        // one that stood beside the fewest other lines says most about this failure; the strongest (the runner's line)
        // would put the failures of different causes under one key.
        let fewest = Infinity;
        t.forEach((x, k) => {
          const n = together.get(x)?.size ?? 0;
          if (x !== '' && n < fewest) [fewest, line] = [n, k];
        });
      }
      if (line < 0) line = t.findIndex((x) => x !== '');
      return [line, line < 0 ? '' : (t[line] ?? '')];
    });
    const general = generalise(new Set(chosen.map(([, template]) => template)));
    const causes = this.groups.map((g, i): Cause => {
      const [line, own] = chosen[i] ?? [-1, ''];
      const template = general.get(own) ?? own;
      return { key: causeKey(g.status, g.errorCode, g.exitCode, template), signature: template, title: template, line };
    });
    return (id) => {
      const cause = causes[id];
      if (!cause) throw new RangeError(`no provisional cause ${id}`);
      return cause;
    };
  }
}

/**
 * A word that names a kind of failure rather than a value, kept even where templates differ only in it: one holding
 * digits and perhaps capitals (a code: `404`, `E404`, `(HY000)`; not `uuidv4`, a name), a path (its root and file type are what the template kept of it), a
 * bracketed one (`[ERR_INVALID_ARG_TYPE]`), an upper-case code without an underscore (`ENOENT`, `EACCES`), a code of a
 * standard vocabulary (`PERMISSION_DENIED`: {@link STANDARD_CODE}), a single capital letter (apt's `E:`), a word of
 * the error vocabulary (`refused` against `reset`: {@link isErrorWord}), an error type's name ({@link TYPE_NAME}), a code
 * in capitals with an underscore named for what went wrong (`AUTH_FAILED`: {@link namedForAFailure}), a capitalised
 * code of words run together (`NotFound`: {@link CODE_NAME}), the value of a code or status key (`code=E_AUTH`:
 * {@link CODE_SLOT}).
 */
function namesAKind(word: string): boolean {
  // A quoted span of several words is a value the program put in its message (a name with spaces, a slice of the
  // input); it names a kind only through a word of the error vocabulary (`"connection refused by peer"`).
  if (word.includes(' ')) return word.split(' ').some((w) => isErrorWord(w.replace(/^\W+|\W+$/g, '')));
  const bare = word.replace(/[:,;.!?]+$/, '');
  return /^\W*[A-Z]*\d[A-Z\d]*\W*$/.test(bare) || /^--?[A-Za-z][\w-]*=?<\*>$/.test(bare) || /^[/~.]|[/\\]/.test(bare) || /^[[(].*[\])]$/.test(bare) || /^[A-Z][A-Z]{2,}$/.test(bare) || /^[A-Z]$/.test(bare) || STANDARD_CODE.has(bare) || isErrorWord(bare) || TYPE_NAME.test(bare) || (/^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(bare) && namedForAFailure(bare)) || CODE_SLOT.test(bare);
}

/** Distinct plain words at one place of otherwise equal templates up to which they may be kinds (the miner's maxConstants). */
const MAX_PLAIN = 3;

/**
 * True when the word at `p` of `words` looks like a value rather than a word of the language: it holds a digit, a mask,
 * a quote, a path or name separator (`.`, `/`, `_`, `-`, `@`, `:` inside), capitals inside (`getUser`, `MyApp`), or it
 * is a name in capitals in a `NAME:` subject's place ({@link subjectName}).
 */
function looksLikeValue(words: readonly string[], p: number): boolean {
  return valueShaped(words[p] ?? '') || subjectName(words, p);
}

/** The word-only part of {@link looksLikeValue}. */
function valueShaped(text: string): boolean {
  const word = text.replace(/[:,;.!?)\]]+$/, '').replace(/^[([]+/, '');
  return /[\d"'`/_@.\\-]|<\*>|:./.test(word) || /^.+[A-Z]/.test(word);
}

/** A value for the miner's end-of-stream rule ({@link MinerOptions.isValue}): value-shaped, or a lower-case name in brackets (`(gnutls)`). */
function onceSeenValue(word: string): boolean {
  return valueShaped(word) || /^\([a-z][\w+-]*\)[:,;.]?$/.test(word);
}

/**
 * True when the word at `p` of `words` is a capitalised code ({@link CODE_NAME}) in a code's slot: after a word naming a
 * code or status (`code = NotFound`, `status: PermissionDenied`), in brackets after `error`/`occurred` (`An error
 * occurred (AccessDenied) when …`), or in front of a message as its head (`Error: InvalidAccessKeyId: The key …`,
 * `SignatureDoesNotMatch: …`). Elsewhere such a word may be a name (`ParseIntError { kind: Empty }` is one failure
 * whatever its kind).
 */
function codeInSlot(words: readonly string[], p: number): boolean {
  const word = words[p] ?? '';
  const bare = word.replace(/^[[(]|[\])]?[:,;.]*$/g, '');
  if (!CODE_NAME.test(bare)) return false;
  const before = words[p - 1] ?? '';
  if (/^(?:[=:]|[\w-]*(?:code|status|reason)["']?[=:]?)$/i.test(before)) return true;
  if (/^[[(]/.test(word)) return /^(?:occurred|error:?|failed:?)$/i.test(before);
  return word.endsWith(':') && (p === 0 || /^[\w.-]*(?:error|exception|fault):$/i.test(before));
}

/**
 * The part of {@link namesAKind} that the miner's end-of-stream rule honours ({@link MinerOptions.isKind}): a code
 * (digits, capitals, a standard or failure-named code, a capitalised code name {@link CODE_NAME}, a code key's value),
 * an error type's name or a word of the error vocabulary. Paths, words holding a mask and bracketed names are left out:
 * a path the masking did not reduce (`unix:///tmp/docker-lnjj.sock`), `crm-cache.invalid:<*>:` or `(gnutls)` seen once
 * each is a value there.
 */
function namesACode(word: string): boolean {
  if (word.includes(' ')) return namesAKind(word);
  const bare = word.replace(/[:,;.!?]+$/, '');
  if (/^[/~.]|[/\\]/.test(bare) || bare.includes(WILDCARD)) return false;
  const inner = /^[[(](.+)[\])]$/.exec(bare)?.[1];
  return inner === undefined ? namesAKind(word) || CODE_NAME.test(bare) : namesACode(inner);
}

/**
 * An error code as cloud APIs and gRPC print it: one capitalised identifier of two or more words run together, letters
 * only (`NotFound`, `PermissionDenied`, `AccessDenied`, `InvalidAccessKeyId`). A value of that shape is rare: a
 * program's names hold digits, dots, lower-case starts or underscores (`uuidv4`, `getUser`, `orders_api`).
 */
const CODE_NAME = /^[A-Z][a-z]+(?:[A-Z][a-z]+)+$/;
/** A key that names a code, a status or a reason, with its value (`code=E_AUTH`, `errorCode:Throttling`): the value is a kind. */
const CODE_SLOT = /^["']?[A-Za-z_-]*(?:code|Code|CODE|status|Status|STATUS|reason|Reason)["']?[=:]["']?[^\s<]/;

/**
 * The name of an error's type, as runtimes print it in front of the message: a capitalised identifier ending in
 * `Error`, `Exception`, `Fault` or `Warning`, perhaps qualified (`KeyError`, `java.io.IOException`,
 * `ActiveRecord::RecordNotFound` is not one). A kind, never a value.
 */
const TYPE_NAME = /^(?:[A-Za-z_$][\w$]*(?:\.|::))*[A-Z][\w$]*(?:Error|Exception|Fault|Warning)$/;

/** A level word in capitals (`ERROR:`, `WARNING:`): it names how bad, a kind, wherever it stands. */
const LEVEL_NAME = /^(?:ERR|ERROR|FATAL|CRIT|CRITICAL|SEVERE|PANIC|ALERT|EMERG|WARN|WARNING|NOTICE|INFO|DEBUG|TRACE)$/;

/**
 * Codes of the standard vocabularies a program prints in front of a message (`ENOENT: no such file …`,
 * `PERMISSION_DENIED: …`): POSIX's errno names (with getaddrinfo's), gRPC's canonical status codes and DNS's response
 * codes. Each names a different failure, so two of them before the same words are two causes, never one subject.
 */
const STANDARD_CODE = new Set(
  (
    'E2BIG EACCES EADDRINUSE EADDRNOTAVAIL EAFNOSUPPORT EAGAIN EALREADY EBADF EBADMSG EBUSY ECANCELED ECHILD ' +
    'ECONNABORTED ECONNREFUSED ECONNRESET EDEADLK EDESTADDRREQ EDOM EDQUOT EEXIST EFAULT EFBIG EHOSTDOWN EHOSTUNREACH ' +
    'EIDRM EILSEQ EINPROGRESS EINTR EINVAL EIO EISCONN EISDIR ELOOP EMFILE EMLINK EMSGSIZE EMULTIHOP ENAMETOOLONG ' +
    'ENETDOWN ENETRESET ENETUNREACH ENFILE ENOBUFS ENODATA ENODEV ENOENT ENOEXEC ENOLCK ENOLINK ENOMEM ENOMSG ' +
    'ENOPROTOOPT ENOSPC ENOSR ENOSTR ENOSYS ENOTBLK ENOTCONN ENOTDIR ENOTEMPTY ENOTFOUND ENOTRECOVERABLE ENOTSOCK ' +
    'ENOTSUP ENOTTY ENXIO EOPNOTSUPP EOVERFLOW EOWNERDEAD EPERM EPIPE EPROTO EPROTONOSUPPORT EPROTOTYPE ERANGE EROFS ' +
    'ESHUTDOWN ESPIPE ESRCH ESTALE ETIME ETIMEDOUT ETXTBSY EUSERS EWOULDBLOCK EXDEV EAI_AGAIN EAI_FAIL EAI_NONAME ' +
    'CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS PERMISSION_DENIED RESOURCE_EXHAUSTED ' +
    'FAILED_PRECONDITION ABORTED OUT_OF_RANGE UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS UNAUTHENTICATED ' +
    'NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED'
  ).split(' '),
);

/**
 * True when the word at `p` of a template's `words` is the name a statement is about, in capitals: the subject of a
 * `NAME: message` diagnostic (`REGION: readonly variable`, `PATH: unbound variable`, `SHARD_KEY: parameter not set`),
 * standing first or after programs' names only (`bash: REGION: …`). A shell or a tool names the variable, key or
 * table it could not use there; the name varies as a lower-case one does (`logger is not defined`). In capitals it
 * looks like a code (`ENOENT`), but a code stands inside a message (`code ENOENT`, `status: NXDOMAIN`,
 * `getaddrinfo ENOTFOUND`), where it stays a kind; a level word (`ERROR:`, `WARNING:`), a single letter (apt's `E:`,
 * `W:`), a code of a standard vocabulary ({@link STANDARD_CODE}) and a program's own code named for what went wrong
 * (`AUTH_FAILED:`, `QUOTA_EXCEEDED:`: {@link namedForAFailure}) stay kinds everywhere.
 */
function subjectName(words: readonly string[], p: number): boolean {
  const word = words[p] ?? '';
  if (!/^[A-Z][A-Z0-9_]+:$/.test(word) || LEVEL_NAME.test(word.slice(0, -1)) || STANDARD_CODE.has(word.slice(0, -1)) || namedForAFailure(word.slice(0, -1))) return false;
  for (let i = 0; i < p; i++) if (!/^[a-z][\w.+-]*:$/.test(words[i] ?? '')) return false;
  return true;
}

/**
 * True when a name in capitals says what went wrong, in the error vocabulary, whole or by one of its parts
 * (`AUTH_FAILED`, `QUOTA_EXCEEDED`, `TOO_MANY_REQUESTS`, `ERR_NO_SPACE`, `CONN_RESET`): a program's own error code, a
 * kind. A variable's or a key's name (`REGION`, `DB_HOST`, `SHARD_KEY`) names a thing, not a failure.
 */
function namedForAFailure(name: string): boolean {
  const parts = name.toLowerCase().split('_');
  return parts[0] === 'err' || isErrorWord(parts.join(' ')) || parts.some((p) => isErrorWord(p));
}

/** A path as a template keeps it: its root, `<*>`, its file's type, then punctuation (`/home/<*>.pub:`). */
const MASKED_PATH = /^(\/[\w.-]*\/)?<\*>(?:\.[A-Za-z][A-Za-z0-9]{0,5})?([^\w<>*]*)$/;

/**
 * When `words` are paths under one root that differ only in their file's type (`/home/<*>.pub:`, `/home/<*>:`), the
 * path they share (`/home/<*>:`); else undefined. The type then names no kind: the same step fails the same way on
 * `id_rsa` and on `id_rsa.pub` (and the miner takes them for one once it has seen four types).
 */
function pathsPlace(words: readonly string[]): string | undefined {
  let shared: string | undefined;
  for (const w of words) {
    const m = MASKED_PATH.exec(w);
    if (!m) return undefined;
    const place = `${m[1] ?? ''}${WILDCARD}${m[2] ?? ''}`;
    if (shared !== undefined && place !== shared) return undefined;
    shared = place;
  }
  return shared;
}

/** The closing mark of each opening quote mark (`…' is how GNU tools quoted before Unicode quotes). */
const CLOSING_QUOTE: Record<string, string> = { "'": "'", '"': '"', '`': "'", '\u2018': '\u2019', '\u201c': '\u201d' };

/**
 * A template's words, with a quoted span of several words kept as one (`release "draft q3 report" not found` has five
 * words, as `release "<*>" not found` has): programs quote the values they put in a message, and a value with spaces in
 * it is still one value. A span opens at a quote mark that starts a word and closes at the first word that ends with
 * the matching mark (before trailing punctuation); an apostrophe inside a word (`can't`) opens nothing.
 */
function quotedWords(template: string): string[] {
  const words = template.split(' ');
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    const close = CLOSING_QUOTE[w[0] ?? ''];
    const closes = (x: string, from: number) => x.replace(/[:,;.!?)\]]+$/, '').endsWith(close ?? '') && x.replace(/[:,;.!?)\]]+$/, '').length > from;
    if (close === undefined || closes(w, 1)) {
      out.push(w);
      continue;
    }
    let end = i + 1;
    while (end < words.length && end - i < 16 && !closes(words[end] ?? '', 0)) end++;
    if (end >= words.length || end - i >= 16) {
      out.push(w);
      continue;
    }
    out.push(words.slice(i, end + 1).join(' '));
    i = end;
  }
  // Variables side by side are one value (a quoted name with spaces, once the miner took its words for variables).
  return out.filter((w, i) => !(w === WILDCARD && out[i - 1] === WILDCARD));
}

/**
 * Two templates of the same words but one, a value in both (neither names a kind, {@link namesAKind}, nor follows an
 * error adjective, {@link ERROR_ADJECTIVE}): one line printed
 * with two values (`crm: loading`, `search: loading`: a step's name in front), not two different lines.
 */
function sameButOneValue(a: string, b: string): boolean {
  const x = a.split(' ');
  const y = b.split(' ');
  if (x.length !== y.length) return false;
  let differ = -1;
  for (let i = 0; i < x.length; i++) {
    if (x[i] === y[i]) continue;
    if (differ >= 0) return false;
    differ = i;
  }
  // The word after an error adjective says what is wrong (`bad minute`, `bad day-of-week`): a kind.
  return differ >= 0 && !ERROR_ADJECTIVE.test(x[differ - 1] ?? '') && !namesAKind(x[differ] ?? '') && !namesAKind(y[differ] ?? '') && !codeInSlot(x, differ) && !codeInSlot(y, differ);
}

/** Two templates of the same words but one, a path or file name at one place that differs only in its file's type. */
function sameButFileType(a: string, b: string): boolean {
  const x = a.split(' ');
  const y = b.split(' ');
  if (x.length !== y.length) return false;
  const differ = x.map((_w, i) => i).filter((i) => x[i] !== y[i]);
  return differ.length === 1 && pathsPlace([x[differ[0] ?? 0] ?? '', y[differ[0] ?? 0] ?? '']) !== undefined;
}

/** An adjective that says something is wrong, in front of the noun that says what (`bad minute`, `invalid option`). */
const ERROR_ADJECTIVE = /^(?:bad|invalid|illegal|unknown|missing|unsupported|unexpected|unrecogni[sz]ed|wrong|corrupt(?:ed)?|broken|malformed)$/i;

/**
 * Values that vary at one position of otherwise equal templates are variables, digits or not (`logger is not defined`,
 * `uuidv4 is not defined`): templates of at least three words that differ in one word only, neither of which names a
 * kind of failure ({@link namesAKind}), are one template with `<*>` there. Returns the template each one becomes.
 */
function generalise(templates: ReadonlySet<string>): Map<string, string> {
  const addTo = <K>(m: Map<K, number[]>, key: K, i: number) => {
    const list = m.get(key);
    if (list) list.push(i);
    else m.set(key, [i]);
  };
  const list = [...templates].filter((t) => t !== '');
  const words = list.map(quotedWords);
  const parent = list.map((_, i) => i);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] ?? r;
    return r;
  };
  // Templates with the same words but at position p, by (length, p, the other words). A position is a variable when
  // at least two of its words are values (a `<*>` counts as one); then all of them join (`SHARD` beside `APP_ENV`).
  const buckets = new Map<string, number[]>();
  words.forEach((w, i) => {
    if (w.length < 3) return;
    w.forEach((_word, p) => {
      const key = `${w.length}\u0000${p}\u0000${[...w.slice(0, p), ...w.slice(p + 1)].join(' ')}`;
      addTo(buckets, key, i);
    });
  });
  for (const [key, members] of buckets) {
    if (members.length < 2) continue;
    const p = Number(key.split('\u0000')[1]);
    // The word after an error adjective says what is wrong (`bad minute`, `bad day-of-week`): a kind, not a value.
    if (ERROR_ADJECTIVE.test(words[members[0] ?? 0]?.[p - 1] ?? '')) continue;
    const values = members.filter((m) => (!namesAKind(words[m]?.[p] ?? '') && !codeInSlot(words[m] ?? [], p)) || subjectName(words[m] ?? [], p));
    // Plain words (`relation` / `column`, `container` / `image`) are a value's place only when many of them stand there
    // or one of them looks like a value: else two different causes that differ in one noun would be one.
    const distinct = new Set(values.map((m) => words[m]?.[p] ?? '')).size;
    if (values.length >= 2 && (distinct > MAX_PLAIN || values.some((m) => looksLikeValue(words[m] ?? [], p)))) {
      for (const i of members.slice(1)) parent[find(i)] = find(members[0] ?? i);
      continue;
    }
    // Paths under one root join when they differ only in their file's type; other roots stay apart.
    const byPlace = new Map<string, number>();
    for (const i of members) {
      const place = pathsPlace([words[i]?.[p] ?? '']);
      if (place === undefined) continue;
      const first = byPlace.get(place);
      if (first === undefined) byPlace.set(place, i);
      else parent[find(i)] = find(first);
    }
  }
  // Two values at once (`release "<*>" not found in channel main`, `release "q3 report" not found in channel east`):
  // templates of at least five words that differ in two words only, each a value in both and no word after an error
  // adjective, and that share at least three words.
  buckets.clear();
  words.forEach((w, i) => {
    if (w.length < 5) return;
    for (let p = 0; p < w.length; p++) {
      for (let q = p + 1; q < w.length; q++) {
        const key = `${w.length}\u0000${p}\u0000${q}\u0000${[...w.slice(0, p), ...w.slice(p + 1, q), ...w.slice(q + 1)].join(' ')}`;
        addTo(buckets, key, i);
      }
    }
  });
  for (const [key, members] of buckets) {
    if (members.length < 2) continue;
    const [, pText, qText] = key.split('\u0000');
    const at = [Number(pText), Number(qText)];
    const first = words[members[0] ?? 0] ?? [];
    if (at.some((p) => ERROR_ADJECTIVE.test(first[p - 1] ?? ''))) continue;
    const values = members.filter((m) => at.every((p) => !namesAKind(words[m]?.[p] ?? '') && !codeInSlot(words[m] ?? [], p)));
    for (const i of values.slice(1)) parent[find(i)] = find(values[0] ?? i);
  }
  const byRoot = new Map<number, number[]>();
  list.forEach((_, i) => addTo(byRoot, find(i), i));
  const out = new Map<string, string>();
  for (const members of byRoot.values()) {
    if (members.length < 2) continue;
    const first = words[members[0] ?? 0] ?? [];
    const merged = first.map((word, p) => (members.every((m) => words[m]?.[p] === word) ? word : (pathsPlace(members.map((m) => words[m]?.[p] ?? '')) ?? variable(members.map((m) => words[m]?.[p] ?? ''))))).join(' ');
    for (const m of members) out.set(list[m] ?? '', merged);
  }
  // One message in two wordings: its values placed differently, or a clause of circumstance added.
  const wording = joinWordings(new Set(list.map((t) => out.get(t) ?? t)));
  if (wording.size > 0) for (const t of list) {
    const now = out.get(t) ?? t;
    const to = wording.get(now);
    if (to !== undefined) out.set(t, to);
  }
  return out;
}

/** `<*>` for words that differ, with the punctuation they all end with (`REGION:`, `TIER:` → `<*>:`). */
function variable(words: readonly string[]): string {
  const ends = words.map((w) => /[:,;.!?]*$/.exec(w)?.[0] ?? '');
  return ends.every((e) => e === ends[0]) ? `${WILDCARD}${ends[0] ?? ''}` : WILDCARD;
}

/** A word that is only a value: `<*>`, a quoted `'<*>'`, `‘<*>’:`, with its punctuation. */
const VALUE_WORD = /^[(\[]?['"`‘“]?<\*>['"`’”]?[)\]]?[:,;.!?]*$/;
/** Punctuation around a word, set aside when the constant words of two wordings are compared (`input:`, `input`). */
const WORD_PUNCTUATION = /^[(\['"`‘“]+|[)\]'"`’”:,;.!?]+$/g;
/**
 * A word that opens a clause of circumstance: where, when or while the error happened (`… exceeded while calling a
 * Python object`, `… not found in <*>`), not what it is.
 */
const CIRCUMSTANCE = /^(?:while|whilst|when|during|in|at|on|for|after|before|from|with|within|by|via|since|until)$/;

/** Words a clause of circumstance holds at most (`after <*> ms`, `while calling a Python object`). */
const CLAUSE_WORDS = 6;
/** Punctuation that closes a word. */
const CLOSING_PUNCTUATION = /[:,;.!?]+$/;

/**
 * The template of `heads` that `words` are with one clause of circumstance left out, if there is one: the clause
 * starts with a {@link CIRCUMSTANCE} word after a word that does not close a sentence part, holds at most
 * {@link CLAUSE_WORDS} words none of which but the last closes one, and gives its closing punctuation back to the word
 * before it (`Failed to connect to <*> port <*> after <*> ms: Connection refused` without `after <*> ms` is
 * `… port <*>: Connection refused`). The shorter template holds at least three words.
 */
function shortened(words: readonly string[], heads: ReadonlySet<string>): string | undefined {
  for (let k = 1; k < words.length; k++) {
    if (!CIRCUMSTANCE.test(words[k] ?? '') || CLOSING_PUNCTUATION.test(words[k - 1] ?? '')) continue;
    for (let m = k + 1; m <= Math.min(words.length, k + CLAUSE_WORDS); m++) {
      const last = words[m - 1] ?? '';
      const closing = CLOSING_PUNCTUATION.exec(last)?.[0] ?? '';
      if (words.length - (m - k) < 3) break;
      const head = [...words.slice(0, k - 1), `${words[k - 1] ?? ''}${closing}`, ...words.slice(m)].join(' ');
      if (heads.has(head)) return head;
      if (closing !== '') break;
    }
  }
  return undefined;
}

/**
 * The template each of `templates` (final ones, after the variables) becomes when another template says the same
 * message in another wording (docs/causes.md):
 * - **values placed differently**: the same constant words (punctuation set aside, at least three) around a different
 *   number or placement of values (`invalid suffix in input: '<*>'`, `invalid suffix in input '<*>': '<*>'`); the one
 *   of fewest words stands for them all;
 * - **a clause of circumstance added**: a template that is another one (at least three words) followed by a clause
 *   that says where or while it happened (`maximum recursion depth exceeded` and `… exceeded while calling a Python
 *   object`: one runtime's version says it, another does not; `Failed to connect to <*> port <*> after <*> ms:
 *   Connection refused`, as newer curl prints it, {@link shortened}); the shorter one stands for both. Only when the shorter
 *   one has that one extension in the invocation: two different clauses after one message may be two causes
 *   (`permission denied for table <*>`, `permission denied for schema <*>`), and neither joins it.
 * A new statement after the shared words (`No module named '<*>'; '<*>' is not a package`) changes a word (`'<*>';`)
 * and is no extension.
 */
function joinWordings(templates: ReadonlySet<string>): Map<string, string> {
  const to = new Map<string, string>();
  const fewer = (a: string, b: string) => a.split(' ').length - b.split(' ').length || (a < b ? -1 : a > b ? 1 : 0);
  const byConstants = new Map<string, string[]>();
  for (const t of templates) {
    if (t === '' || !t.includes(WILDCARD)) continue;
    const words = quotedWords(t);
    const constants = words.filter((w) => !VALUE_WORD.test(w)).map((w) => w.replace(WORD_PUNCTUATION, ''));
    if (constants.length < 3 || constants.length === words.length) continue;
    const key = constants.join(' ');
    byConstants.set(key, [...(byConstants.get(key) ?? []), t]);
  }
  for (const members of byConstants.values()) {
    if (members.length < 2) continue;
    const [first] = [...members].sort(fewer);
    for (const m of members) if (m !== first && first !== undefined) to.set(m, first);
  }
  const now = (t: string) => to.get(t) ?? t;
  const heads = new Set([...templates].map(now));
  const extensions = new Map<string, Set<string>>();
  for (const t of heads) {
    const head = shortened(t.split(' '), heads);
    if (head !== undefined) extensions.set(head, (extensions.get(head) ?? new Set()).add(t));
  }
  for (const [head, longer] of extensions) {
    if (longer.size !== 1) continue;
    const [ext] = longer;
    if (ext === undefined || extensions.has(ext)) continue;
    for (const t of templates) if (now(t) === ext) to.set(t, head);
  }
  return to;
}

export { OVERFLOW };
