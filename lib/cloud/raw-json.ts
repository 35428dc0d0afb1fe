/**
 * A large response body read without building it: one pass over the bytes validates the JSON, builds only its
 * shallow part (containers nested `depth` levels or deeper become {@link RawSpan}s that know their element count), and
 * remembers where each built object's text is, so that object can be stored as its own minified text
 * ({@link RawJsonText}) instead of being parsed into objects and stringified again.
 *
 * Why: DescribeInvocations describes an invocation over 100,000 instances with every instance (~40 MB). The
 * collector needs its status and instance count, and stores the invocation as a related object. Parsing it built
 * ~100,000 objects and stringifying it again another 40 MB string, all at once: most of the collector's peak memory.
 *
 * Same values as the parsed path: the text is valid UTF-8 (checked natively), whitespace between tokens is dropped,
 * strings and short numbers are kept as they are (JSON.parse gives them the same values), and a number literal longer
 * than 15 characters, the ones json-bigint parses exactly, is written as the value the parsed path stores (a number
 * when a JS number holds it exactly, else its exact decimal string). Anything unusual (invalid JSON or UTF-8, a raw
 * control character in a string, a number JSON.parse turns into Infinity, a body that is not an object) is not
 * handled here: {@link scanJson} returns undefined and the caller parses as before, with the same errors.
 */
import { isUtf8 } from 'node:buffer';

/** A container the scan did not build: an object (`count` members) or an array (`count` elements). */
export class RawSpan {
  constructor(
    readonly kind: 'object' | 'array',
    readonly count: number,
  ) {}
}

/** The minified JSON text of one value of a scanned body, written out in chunks (no line break at the end). */
export class RawJsonText {
  constructor(
    private readonly body: Buffer,
    private readonly start: number,
    private readonly end: number,
    /** The body has no whitespace between tokens and no long number: the text is the body's bytes as they are. */
    private readonly verbatim: boolean,
    private readonly exactNumber: (token: string) => number | string,
  ) {}

  /** The text's bytes, in chunks of at most `chunkBytes` (slices of the body when it is already minified). */
  *chunks(chunkBytes = 1 << 20): Generator<Buffer> {
    const { body, end } = this;
    if (this.verbatim) {
      for (let i = this.start; i < end; i += chunkBytes) yield body.subarray(i, Math.min(end, i + chunkBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let out = Buffer.allocUnsafe(chunkBytes);
    let n = 0;
    const emit = (bytes: Buffer) => {
      for (let k = 0; k < bytes.length; ) {
        const room = Math.min(out.length - n, bytes.length - k);
        bytes.copy(out, n, k, k + room);
        n += room;
        k += room;
        if (n === out.length) {
          chunks.push(out);
          out = Buffer.allocUnsafe(chunkBytes);
          n = 0;
        }
      }
    };
    let i = this.start;
    let run = i; // start of the bytes copied unchanged
    while (i < end) {
      const b = body[i] as number;
      if (b === 0x22) {
        i = stringEnd(body, i);
      } else if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
        emit(body.subarray(run, i));
        while (i < end && isWs(body[i] as number)) i++;
        run = i;
      } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
        const stop = numberEnd(body, i);
        if (stop - i > 15) {
          emit(body.subarray(run, i));
          emit(Buffer.from(JSON.stringify(this.exactNumber(body.toString('latin1', i, stop)))));
          run = stop;
        }
        i = stop;
      } else {
        i++;
      }
      while (chunks.length > 0) yield chunks.shift() as Buffer;
    }
    emit(body.subarray(run, end));
    while (chunks.length > 0) yield chunks.shift() as Buffer;
    if (n > 0) yield out.subarray(0, n);
  }
}

const texts = new WeakMap<object, RawJsonText>();

/** The stored form of an object built by {@link scanJson}: its minified text; undefined for any other object. */
export function rawTextOf(value: object): RawJsonText | undefined {
  return texts.get(value);
}

/** Elements of a list that is either built (an array) or a {@link RawSpan}; undefined for anything else. */
export function lengthOf(value: unknown): number | undefined {
  if (Array.isArray(value)) return value.length;
  return value instanceof RawSpan && value.kind === 'array' ? value.count : undefined;
}

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The index after the string token starting at `i` (a `"`); the scan has validated it. */
function stringEnd(body: Buffer, i: number): number {
  for (i++; ; i++) {
    const b = body[i];
    if (b === 0x22) return i + 1;
    if (b === 0x5c) i++;
  }
}

/** The index after the number token starting at `i`; the scan has validated it. */
function numberEnd(body: Buffer, i: number): number {
  for (i++; i < body.length; i++) {
    const b = body[i] as number;
    if (!((b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b || b === 0x2d)) break;
  }
  return i;
}

interface Frame {
  object: boolean;
  /** The container being built, or undefined when it is too deep to build. */
  value: Record<string, unknown> | unknown[] | undefined;
  start: number;
  count: number;
  key: string | undefined;
  /** The keys of an object seen so far, when duplicate keys are refused. */
  keys: Set<string> | undefined;
}

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** What a {@link scan} is asked to do besides validating. */
export interface ScanOptions {
  /** Containers at this nesting or deeper (the top value is depth 0) are counted ({@link RawSpan}), not built. */
  depth: number;
  /** The value stored for a number literal longer than 15 characters. */
  exactNumber: (token: string) => number | string;
  /** Refuse (`too-deep`) text that nests containers deeper than this. @default no limit */
  maxNesting?: number;
  /** Refuse (`duplicate-key`) an object that names a key twice (keys compared unescaped). @default false */
  uniqueKeys?: boolean;
  /** Accept any JSON value at the top, not only an object. @default false */
  anyRoot?: boolean;
}

/** What a {@link scan} found: the value (its built part) and where each built object's text is, or why not. */
export type ScanResult =
  | { ok: true; value: unknown; built: Array<[object, number, number]>; verbatim: boolean }
  | { ok: false; refused?: 'too-deep' | 'duplicate-key'; key?: string };

/**
 * The one hand-written JSON scanner of lib/: a single pass over UTF-8 bytes that validates JSON as JSON.parse does,
 * builds the containers above `depth`, counts the deeper ones, and can refuse duplicate keys and deep nesting.
 * Used for large RPC bodies ({@link scanJson}) and for the payload checks of lib/triggers.ts (`parseJson`).
 * Each step is a method named after what it reads; `i` is the position of the next byte.
 */
class Scanner {
  private i = 0;
  private compact = true;
  private longNumbers = false;
  private readonly built: Array<[object, number, number]> = [];
  private readonly stack: Frame[] = [];
  private refusal: { refused: 'too-deep' | 'duplicate-key'; key?: string } | undefined;

  constructor(
    private readonly body: Buffer,
    private readonly options: ScanOptions,
  ) {}

  run(): ScanResult {
    const { body } = this;
    if (!isUtf8(body)) return { ok: false };
    this.whitespace();
    if (!this.options.anyRoot && body[this.i] !== 0x7b) return { ok: false };
    const value = this.values();
    if (value === INVALID) return this.refusal ? { ok: false, ...this.refusal } : { ok: false };
    this.whitespace();
    if (this.i !== body.length) return { ok: false };
    return { ok: true, value, built: this.built, verbatim: this.compact && !this.longNumbers };
  }

  /** The top value: each value read, then attached to its container, climbing out of every container that ends. */
  private values(): unknown {
    for (;;) {
      let value = this.value();
      if (value === INVALID) return INVALID;
      let closed = value === CLOSED;
      for (;;) {
        if (closed) {
          value = this.close();
          closed = false;
        }
        if (value === OPENED) break; // a container with members: its first one comes next
        const top = this.stack[this.stack.length - 1];
        if (top === undefined) return value;
        this.attach(top, value);
        const next = this.afterMember(top);
        if (next === INVALID) return INVALID;
        if (next === CLOSED) {
          closed = true;
          continue;
        }
        break; // a comma: the next member's value
      }
    }
  }

  /** The value at `i`: a scalar, or a container opened (`OPENED`, or `CLOSED` when it is empty). */
  private value(): unknown {
    const { body } = this;
    const parent = this.stack[this.stack.length - 1];
    const want = parent === undefined || parent.value !== undefined;
    const b = body[this.i];
    if (b === 0x7b || b === 0x5b) return this.open(b === 0x7b);
    if (b === 0x22) {
      const s = this.string(want);
      return s === null ? INVALID : s;
    }
    if (b === 0x74) return this.literal('true', true);
    if (b === 0x66) return this.literal('false', false);
    if (b === 0x6e) return this.literal('null', null);
    const n = this.number(want);
    return n === null ? INVALID : n;
  }

  /** At `{` or `[`: pushes its frame; `CLOSED` when it is empty, else `OPENED` (an object's first key read). */
  private open(object: boolean): unknown {
    const { stack, options } = this;
    if (options.maxNesting !== undefined && stack.length >= options.maxNesting) return this.refuse('too-deep');
    const build = stack.length < options.depth;
    stack.push({ object, value: build ? (object ? {} : []) : undefined, start: this.i, count: 0, key: undefined, keys: object && options.uniqueKeys ? new Set() : undefined });
    this.i++;
    this.whitespace();
    if (this.body[this.i] === (object ? 0x7d : 0x5d)) return CLOSED;
    if (object && !this.key()) return INVALID;
    return OPENED;
  }

  /** At the `}` or `]` of the innermost container: pops it; returns what stands for it in its parent. */
  private close(): unknown {
    const frame = this.stack.pop() as Frame;
    this.i++;
    if (frame.value === undefined) return new RawSpan(frame.object ? 'object' : 'array', frame.count);
    this.built.push([frame.value, frame.start, this.i]);
    return frame.value;
  }

  /** Puts a member's value into its container (when it is built). */
  private attach(top: Frame, value: unknown): void {
    top.count++;
    if (top.value === undefined) return;
    if (Array.isArray(top.value)) top.value.push(value);
    // Own data properties, `__proto__` included, as JSON.parse makes them (the last of a repeated key wins).
    else Object.defineProperty(top.value, top.key as string, { value, enumerable: true, writable: true, configurable: true });
  }

  /** After a member: `,` and the next key (`undefined`: a value follows), or the container's end (`CLOSED`). */
  private afterMember(top: Frame): unknown {
    const { body } = this;
    this.whitespace();
    const c = body[this.i];
    if (c === 0x2c) {
      this.i++;
      this.whitespace();
      if (top.object) return this.key() ? undefined : INVALID;
      return body[this.i] === 0x5d || body[this.i] === undefined ? INVALID : undefined;
    }
    return c === (top.object ? 0x7d : 0x5d) ? CLOSED : INVALID;
  }

  /** At `i`: `"key"` `:` and whitespace; the key goes into the innermost frame. */
  private key(): boolean {
    const { body } = this;
    const frame = this.stack[this.stack.length - 1] as Frame;
    if (body[this.i] !== 0x22) return false;
    const key = this.string(frame.value !== undefined || frame.keys !== undefined);
    if (key === null) return false;
    if (frame.keys) {
      if (frame.keys.has(key as string)) {
        this.refuse('duplicate-key', key as string);
        return false;
      }
      frame.keys.add(key as string);
    }
    frame.key = key;
    this.whitespace();
    if (body[this.i] !== 0x3a) return false;
    this.i++;
    this.whitespace();
    return true;
  }

  private refuse(refused: 'too-deep' | 'duplicate-key', key?: string): typeof INVALID {
    this.refusal = key === undefined ? { refused } : { refused, key };
    return INVALID;
  }

  private whitespace(): void {
    const { body } = this;
    const from = this.i;
    while (this.i < body.length && isWs(body[this.i] as number)) this.i++;
    if (this.i !== from) this.compact = false;
  }

  /** Reads the string token at `i` (a `"`); returns its value when `want`, or null when it is malformed. */
  private string(want: boolean): string | null | undefined {
    const { body } = this;
    const len = body.length;
    const start = this.i;
    let i = this.i;
    let escaped = false;
    for (i++; ; i++) {
      if (i >= len) return null;
      const b = body[i] as number;
      if (b === 0x22) break;
      if (b < 0x20) return null;
      if (b === 0x5c) {
        escaped = true;
        const e = body[++i];
        if (e === 0x75) {
          if (!(HEX[body[i + 1] ?? 0] && HEX[body[i + 2] ?? 0] && HEX[body[i + 3] ?? 0] && HEX[body[i + 4] ?? 0])) return null;
          i += 4;
        } else if (!(e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
          return null;
        }
      }
    }
    this.i = ++i;
    if (!want) return undefined;
    return escaped ? (JSON.parse(body.toString('utf8', start, i)) as string) : body.toString('utf8', start + 1, i - 1);
  }

  /** Reads the number token at `i`; returns its value when `want`, null when malformed or not finite. */
  private number(want: boolean): number | string | null | undefined {
    const { body } = this;
    const start = this.i;
    let i = this.i;
    if (body[i] === 0x2d) i++;
    const first = body[i];
    if (first === 0x30) i++;
    else if (first !== undefined && first >= 0x31 && first <= 0x39) while (isDigit(body[i])) i++;
    else return null;
    if (body[i] === 0x2e) {
      i++;
      if (!isDigit(body[i])) return null;
      while (isDigit(body[i])) i++;
    }
    if (body[i] === 0x65 || body[i] === 0x45) {
      i++;
      if (body[i] === 0x2b || body[i] === 0x2d) i++;
      if (!isDigit(body[i])) return null;
      while (isDigit(body[i])) i++;
    }
    this.i = i;
    const token = body.toString('latin1', start, i);
    const n = Number(token);
    if (!Number.isFinite(n)) return null;
    if (token.length > 15) {
      this.longNumbers = true;
      return want ? this.options.exactNumber(token) : undefined;
    }
    return n;
  }

  private literal(text: string, value: boolean | null): unknown {
    for (let k = 0; k < text.length; k++) if (this.body[this.i + k] !== text.charCodeAt(k)) return INVALID;
    this.i += text.length;
    return value;
  }
}

/** Markers between the scanner's steps (never values of a body). */
const INVALID = Symbol('invalid');
const OPENED = Symbol('opened');
const CLOSED = Symbol('closed');

/**
 * Scans JSON bytes with {@link Scanner}.
 * @example scan(Buffer.from('{"a":1,"a":2}'), { depth: 0, exactNumber: Number, uniqueKeys: true }) // { ok: false, refused: 'duplicate-key', key: 'a' }
 */
export function scan(body: Buffer, options: ScanOptions): ScanResult {
  return new Scanner(body, options).run();
}

/**
 * Scans a JSON object body. Containers at nesting `depth` or deeper (the body itself is depth 0) are not built: a
 * {@link RawSpan} stands in. Every built object's text is available through {@link rawTextOf}.
 * @returns the built part of the body, or undefined when the body is anything but a valid JSON object in UTF-8 whose
 *   values JSON.parse would give as they are, or an error body (one with a `Code`, which pop-core must see to throw):
 *   the caller then parses it the ordinary way
 * @example scanJson(Buffer.from('{"a":{"b":[1,2]}}'), 2, Number) // { a: { b: RawSpan { kind: 'array', count: 2 } } }
 */
export function scanJson(body: Buffer, depth: number, exactNumber: (token: string) => number | string): Record<string, unknown> | undefined {
  const result = scan(body, { depth, exactNumber });
  if (!result.ok) return undefined;
  const root = result.value as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(root, 'Code')) return undefined;
  for (const [obj, start, end] of result.built) {
    if (!Array.isArray(obj)) texts.set(obj, new RawJsonText(body, start, end, result.verbatim, exactNumber));
  }
  return root;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/**
 * Where each element of a list sits in the JSON body it was parsed from, when those bytes are exactly what
 * `JSON.stringify` makes of the element's parsed value: then an archive line can be the body's own bytes, not a
 * string built by stringifying the element again (for the collector's record pages, most of what the walk allocated:
 * ~2 KB per record between the builder's parts and the flat copy the encoding makes of them).
 *
 * `path` names the list: the keys from the body (an object) down to it, each an object's member, the last one the
 * list. The body must be one `JSON.parse` accepted as valid UTF-8 (the caller's check): then this pass only finds the
 * positions and decides, per element, whether its bytes are the canonical text. They are when there is no
 * whitespace between its tokens, its strings use only the escapes JSON.stringify writes (`\"`, `\\`, `\b`, `\f`,
 * `\n`, `\r`, `\t`, and `\u00xx` in lower case for the other control characters), its numbers are written as
 * JSON.stringify writes their values (`-0`, `1.0`, `1E5` are not), no key repeats in an object (JSON.parse keeps the
 * last value in the first one's place) and none is all digits (V8 orders integer-like keys first). An element that is
 * not is marked `-1` and stringified as before. Non-ASCII bytes are kept as they are: for valid UTF-8 they are the
 * characters JSON.stringify writes.
 *
 * Fills `spans` with each element's start and end: `spans[2k]`, `spans[2k + 1]`. Returns false (use none of them)
 * when an element is not canonical (the scan stops there: an API that writes one record otherwise writes them all so,
 * and its pages are stringified as before at the cost of one record's scan), the list is not found where `path` says
 * exactly once, a key on the way is escaped, or it does not hold `count` elements.
 * @example canonicalSpans(Buffer.from('{"L":[{"a":1},{"a":2}]}'), ['L'], 2, spans) // true; spans [5, 12, 13, 20]
 */
export function canonicalSpans(body: Buffer, path: readonly string[], count: number, spans: Int32Array): boolean {
  if (path.length === 0 || spans.length < 2 * count) return false;
  const keys = path.map((k) => Buffer.from(k, 'utf8'));
  nextQuote = -1;
  nextEscape = -1;
  const state = { found: false, n: 0 };
  const end = findList(body, skipWs(body, 0), keys, 0, count, spans, state);
  return end >= 0 && state.found && state.n === count;
}

/** Whether the element scanned last is canonical (set by the `canonical*` readers; module state keeps them cheap). */
let canonical = true;
/** Nesting beyond which an element is only skipped (and stringified): the readers below recurse. */
const CANONICAL_DEPTH = 64;

/**
 * Reads the object at `i` looking for `keys[level]`; returns the index after the object, or -1 to give up. At the last
 * level the list's elements are scanned into `spans`.
 */
function findList(body: Buffer, i: number, keys: Buffer[], level: number, count: number, spans: Int32Array, state: { found: boolean; n: number }): number {
  if (body[i] !== 0x7b) return -1;
  const want = keys[level] as Buffer;
  let seen = false;
  i = skipWs(body, i + 1);
  if (body[i] === 0x7d) return i + 1;
  for (;;) {
    const ks = i;
    const ke = stringEnd(body, i);
    let escaped = false;
    for (let k = ks + 1; k < ke - 1; k++) if (body[k] === 0x5c) escaped = true;
    if (escaped) return -1;
    i = skipWs(body, skipWs(body, ke) + 1);
    const match = ke - ks - 2 === want.length && body.compare(want, 0, want.length, ks + 1, ke - 1) === 0;
    if (match) {
      if (seen) return -1;
      seen = true;
      if (level + 1 < keys.length) {
        i = findList(body, i, keys, level + 1, count, spans, state);
        if (i < 0) return -1;
      } else {
        i = listElements(body, i, count, spans, state);
        if (i < 0) return -1;
        state.found = true;
      }
    } else {
      i = valueEnd(body, i);
    }
    i = skipWs(body, i);
    if (body[i] === 0x2c) {
      i = skipWs(body, i + 1);
      continue;
    }
    return body[i] === 0x7d ? i + 1 : -1;
  }
}

/** The list at `i`: each element's span (start, end) into `spans`; the index after the list, or -1 (an element is not canonical). */
function listElements(body: Buffer, i: number, count: number, spans: Int32Array, state: { n: number }): number {
  if (body[i] !== 0x5b) return -1;
  i = skipWs(body, i + 1);
  if (body[i] === 0x5d) return i + 1;
  for (;;) {
    if (state.n >= count) return -1;
    canonical = true;
    keyTop = 0;
    const start = i;
    i = canonicalEnd(body, i, 0);
    // An API that writes one record otherwise writes them all so: the page is stringified, its scan stops here.
    if (!canonical) return -1;
    spans[2 * state.n] = start;
    spans[2 * state.n + 1] = i;
    state.n++;
    i = skipWs(body, i);
    if (body[i] === 0x2c) {
      i = skipWs(body, i + 1);
      continue;
    }
    return body[i] === 0x5d ? i + 1 : -1;
  }
}

/**
 * The keys of the objects being read, as start and end pairs, innermost object's last (from `keyTop` down to where it
 * began): a stack reused from element to element, so reading a record allocates nothing.
 */
let keyStack = new Int32Array(256);
let keyTop = 0;

/** The index after the value at `i`, clearing {@link canonical} for anything JSON.stringify would write otherwise. */
function canonicalEnd(body: Buffer, i: number, depth: number): number {
  const b = body[i];
  if (b === 0x22) return canonicalStringEnd(body, i);
  if (b === 0x7b || b === 0x5b) {
    if (depth >= CANONICAL_DEPTH) {
      canonical = false;
      return valueEnd(body, i);
    }
    const object = b === 0x7b;
    const close = object ? 0x7d : 0x5d;
    i = canonicalWs(body, i + 1);
    if (body[i] === close) return i + 1;
    // This object's keys, as start and end pairs on the key stack from `first` on (for repeats).
    const first = keyTop;
    for (;;) {
      if (object) {
        const ks = i;
        i = canonicalStringEnd(body, i);
        if (canonical) checkKey(body, ks, i, first);
        if (keyTop + 2 > keyStack.length) {
          const grown = new Int32Array(keyStack.length * 2);
          grown.set(keyStack);
          keyStack = grown;
        }
        keyStack[keyTop++] = ks;
        keyStack[keyTop++] = i;
        i = canonicalWs(body, i);
        i = canonicalWs(body, i + 1); // the colon
      }
      i = canonicalWs(body, canonicalEnd(body, i, depth + 1));
      if (body[i] === 0x2c) {
        i = canonicalWs(body, i + 1);
        continue;
      }
      keyTop = first;
      return i + 1;
    }
  }
  if (b === 0x74 || b === 0x6e) return i + 4;
  if (b === 0x66) return i + 5;
  return canonicalNumberEnd(body, i);
}

/** Whitespace at `i` (none in canonical text) skipped. */
function canonicalWs(body: Buffer, i: number): number {
  const b = body[i] as number;
  if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) {
    canonical = false;
    return skipWs(body, i);
  }
  return i;
}

/** A key (`ks`..`ke`, quotes included) that JSON.stringify would not write where it is: all digits, or a repeat. */
function checkKey(body: Buffer, ks: number, ke: number, first: number): void {
  let digits = true;
  for (let k = ks + 1; k < ke - 1; k++) {
    const c = body[k] as number;
    if (c < 0x30 || c > 0x39) {
      digits = false;
      break;
    }
  }
  if (digits) {
    canonical = false;
    return;
  }
  const length = ke - ks;
  for (let k = first; k < keyTop; k += 2) {
    const s = keyStack[k] as number;
    if ((keyStack[k + 1] as number) - s === length && body.compare(body, ks, ke, s, s + length) === 0) {
      canonical = false;
      return;
    }
  }
}

/**
 * Where the body's next `"` and next `\` are (at or after where the scan is), found natively and kept until the scan
 * passes them: a long string (a command's output) is crossed in a few memchr calls instead of a byte at a time.
 */
let nextQuote = -1;
let nextEscape = -1;
/** Bytes of a string read a byte at a time before its end is looked for natively (most keys and values are shorter). */
const SHORT_STRING = 48;

/** The index after the string at `i`; a `\/` or a `\u` escape JSON.stringify would not write clears {@link canonical}. */
function canonicalStringEnd(body: Buffer, i: number): number {
  const short = i + SHORT_STRING;
  for (i++; i < short; i++) {
    const b = body[i];
    if (b === 0x22) return i + 1;
    if (b === 0x5c) i = canonicalEscape(body, i);
  }
  for (;;) {
    if (nextQuote < i) nextQuote = body.indexOf(0x22, i);
    if (nextEscape < i) {
      nextEscape = body.indexOf(0x5c, i);
      if (nextEscape < 0) nextEscape = body.length;
    }
    if (nextQuote < nextEscape) return nextQuote + 1;
    i = canonicalEscape(body, nextEscape) + 1;
  }
}

/** The escape whose backslash is at `i`; returns the index of its last byte. */
function canonicalEscape(body: Buffer, i: number): number {
  const e = body[++i];
  if (e === 0x75) {
    // JSON.stringify writes \u00xx (lower case) only for control characters without a short escape.
    const d3 = body[i + 3] as number;
    const d4 = body[i + 4] as number;
    const low = d4 >= 0x30 && d4 <= 0x39 ? d4 - 0x30 : d4 >= 0x61 && d4 <= 0x66 ? d4 - 0x57 : -1;
    const code = (d3 - 0x30) * 16 + low;
    if (body[i + 1] !== 0x30 || body[i + 2] !== 0x30 || (d3 !== 0x30 && d3 !== 0x31) || low < 0 || code === 8 || code === 9 || code === 10 || code === 12 || code === 13) canonical = false;
    return i + 4;
  }
  if (e === 0x2f) canonical = false;
  return i;
}

/** The index after the number at `i`; one JSON.stringify would write otherwise (`-0`, `1.0`, `1E5`, `01`) clears {@link canonical}. */
function canonicalNumberEnd(body: Buffer, i: number): number {
  const end = numberEnd(body, i);
  let k = body[i] === 0x2d ? i + 1 : i;
  // An integer without a leading zero (and not -0) is written as it is; anything else is compared with its value's text.
  if (body[k] === 0x30 && end - k === 1) {
    if (k !== i) canonical = false;
    return end;
  }
  if (body[k] !== 0x30) {
    for (; k < end; k++) {
      const c = body[k] as number;
      if (c < 0x30 || c > 0x39) break;
    }
    if (k === end) return end;
  }
  const token = body.toString('latin1', i, end);
  if (String(Number(token)) !== token) canonical = false;
  return end;
}

/** The index after the (valid) value at `i`, nothing checked: strings skipped, brackets counted. */
function valueEnd(body: Buffer, i: number): number {
  const b = body[i];
  if (b === 0x22) return stringEnd(body, i);
  if (b !== 0x7b && b !== 0x5b) {
    if (b === 0x74 || b === 0x6e) return i + 4;
    if (b === 0x66) return i + 5;
    return numberEnd(body, i);
  }
  let depth = 0;
  for (;;) {
    const c = body[i];
    if (c === 0x22) {
      i = stringEnd(body, i);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
}

function skipWs(body: Buffer, i: number): number {
  while (isWs(body[i] as number)) i++;
  return i;
}
