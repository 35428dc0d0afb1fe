/**
 * What a failed record says about its cause, and the grouping of those causes.
 *
 * {@link ecsFailure} and {@link oosFailure} take one failed record's texts and return its {@link FailureText}: the
 * text pieces its cause is mined from, which of them is the title, the instance's own error line, its example text,
 * and (OOS) the error and exit codes its texts state. {@link CauseGrouper} maps a failure to a provisional group id
 * (O(causes) state, nothing per failure); groups may merge until the end, so the final cause key, signature and title
 * of each provisional id are read once, from {@link CauseGrouper.finish}. The aggregation (lib/summary/aggregate.ts)
 * keeps the per-group bookkeeping and merges the groups whose final keys are equal.
 */
import { OVERFLOW, TemplateMiner } from './miner';
import { causeKey, excerpt, isNoiseLine, joinSignature, meaningfulTail, memoizeText, prepareMessage } from './signature';

/** What one failed record says about its cause (see {@link ecsFailure}, {@link oosFailure}). */
export interface FailureText {
  /** The raw text pieces its cause is mined from ('' for an absent one); masked by the grouper. */
  pieces: string[];
  /** Which piece is the title (the one that says what failed). */
  titlePiece: number;
  /** The record's own error line, raw (the caller masks secrets before showing it). */
  errorLine: string;
  /** The example text of the record (≤ `maxBytes` of UTF-8, secrets masked); made only when asked. */
  example(maxBytes: number): string;
  /** OOS: the error code its `StatusMessage` names (`''` when none); ECS: undefined (the record's own is used). */
  errorCode?: string;
  /** OOS: the exit code its `Outputs` or `StatusMessage` state (`null` when none); ECS: undefined. */
  exitCode?: number | null;
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

function intOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return null;
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
  let value = outputs;
  if (typeof value === 'string') {
    const t = value.trim();
    if (!t.startsWith('{')) return undefined;
    try {
      value = JSON.parse(t);
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  return o.exitCode ?? o.ExitCode ?? o.exit_code;
}

/** Reads failures' texts; one per aggregation (it remembers the noise test of the output lines that repeat). */
export interface FailureReader {
  /** An ECS record: its `ErrorInfo` and `Output`. */
  ecs(errorInfo: string, output: string): FailureText;
  /** An OOS record: the linked failed child's `StatusMessage` (undefined when none) and the record's `Outputs`. */
  oos(statusMessage: string | undefined, outputs: unknown): FailureText;
}

/**
 * Creates a {@link FailureReader}. ECS: `ErrorInfo` + the output's last meaningful lines, titled by the last line.
 * OOS: the linked child's `StatusMessage` (boilerplate removed) + the last lines of `Outputs`, titled by the message.
 * @example const text = createFailureReader().ecs('', 'step 1\nError: disk full\n'); text.pieces[text.titlePiece] // 'Error: disk full'
 */
export function createFailureReader(): FailureReader {
  const isNoise = memoizeText(isNoiseLine);
  return {
    ecs(info, output) {
      const pieces = [info, ...meaningfulTail(output, undefined, undefined, isNoise)];
      const titlePiece = pieces.length - 1;
      return {
        pieces,
        titlePiece,
        errorLine: pieces[titlePiece] || pieces.find(Boolean) || '',
        example: (maxBytes) => excerpt([info, output.trimEnd()].filter(Boolean).join('\n\n'), maxBytes, 'tail'),
      };
    },
    oos(statusMessage, outputsValue) {
      const outputs = jsonText(outputsValue)
        .filter((l) => !EXIT_CODE_LINE.test(l.trim()))
        .join('\n');
      const message = statusMessage ?? '';
      const stated = oosMessage(message);
      const pieces = [message ? stated.text : '', ...meaningfulTail(outputs, undefined, undefined, isNoise)];
      const titlePiece = message ? 0 : pieces.length - 1;
      return {
        pieces,
        titlePiece,
        errorLine: pieces[titlePiece] || pieces.find(Boolean) || '',
        example: (maxBytes) => {
          const head = message ? excerpt(message, Math.floor(maxBytes / 2), 'head') : '';
          const body = outputs.trim() ? excerpt(outputs.trimEnd(), maxBytes - Buffer.byteLength(head) - 2, 'tail') : '';
          return [head, body].filter(Boolean).join('\n\n');
        },
        errorCode: stated.errorCode,
        exitCode: intOrNull(exitCodeOf(outputsValue)) ?? stated.exitCode,
      };
    },
  };
}

/** A final cause of a provisional group (see {@link CauseGrouper.finish}). */
export interface Cause {
  /** 12 hex digits of sha256(status, errorCode, exitCode, signature) ({@link causeKey}). */
  key: string;
  /** The templates of the cause's pieces joined with ` | ` (not shortened). */
  signature: string;
  /** The template of the title piece. */
  title: string;
}

/** Options of {@link CauseGrouper}. */
export interface GrouperOptions {
  /** Provisional groups kept; a failure that would start one more is {@link OVERFLOW}. @default 5000 */
  maxGroups?: number;
}

/**
 * Maps failures to provisional group ids (equal status, error code, exit code and mined pieces), at most `maxGroups`
 * of them; {@link finish} gives each id its final cause (ids whose templates ended up equal get equal keys).
 * @example
 *   const grouper = new CauseGrouper();
 *   const id = grouper.add('Failed', 'ExitCodeNonzero', 1, reader.ecs('', output));
 *   const causeOf = grouper.finish(); causeOf(id).key
 */
export class CauseGrouper {
  private readonly miner: TemplateMiner;
  private readonly maxGroups: number;
  /** Provisional id by (status, error code, exit code, the miner's group ids of the pieces). */
  private readonly ids = new Map<string, number>();
  private readonly groups: Array<{ status: string; errorCode: string; exitCode: number | null; pieces: number[]; titlePiece: number }> = [];
  private readonly overflowSeen = new Set<string>();
  private readonly prepare = memoizeText(prepareMessage);

  constructor(options: GrouperOptions = {}) {
    this.maxGroups = options.maxGroups ?? 5000;
    // A cause has up to four text pieces; the miner's bound keeps its memory flat whatever the archive holds.
    this.miner = new TemplateMiner({ maxGroups: this.maxGroups * 4 });
  }

  /** Distinct causes that did not fit under `maxGroups` (each counted once). */
  get overflowCauses(): number {
    return this.overflowSeen.size;
  }

  /** The provisional group id of a failure, or {@link OVERFLOW} when it would start a group beyond `maxGroups`. */
  add(status: string, errorCode: string, exitCode: number | null, text: FailureText): number {
    const pieces: number[] = [];
    let titlePiece = 0;
    text.pieces.forEach((piece, i) => {
      const prepared = this.prepare(piece);
      if (prepared === '') return;
      if (i === text.titlePiece || (i > text.titlePiece && pieces.length === 0)) titlePiece = pieces.length;
      pieces.push(this.miner.add(prepared));
    });
    const stateKey = [status, errorCode, String(exitCode), pieces.join(',')].join('\u001f');
    const known = this.ids.get(stateKey);
    if (known !== undefined) return known;
    if (this.groups.length >= this.maxGroups || pieces.includes(OVERFLOW)) {
      this.overflowSeen.add(stateKey);
      return OVERFLOW;
    }
    const id = this.groups.length;
    this.groups.push({ status, errorCode, exitCode, pieces, titlePiece });
    this.ids.set(stateKey, id);
    return id;
  }

  /** Ends the stream: the final cause of each provisional id. Call once, after the last {@link add}. */
  finish(): (id: number) => Cause {
    this.miner.settle();
    const causes = this.groups.map((g): Cause => {
      const templates = g.pieces.map((id) => this.miner.template(id));
      const signature = joinSignature(templates);
      return { key: causeKey(g.status, g.errorCode, g.exitCode, signature), signature, title: templates[g.titlePiece] ?? '' };
    });
    return (id) => {
      const cause = causes[id];
      if (!cause) throw new RangeError(`no provisional cause ${id}`);
      return cause;
    };
  }
}

export { OVERFLOW };
