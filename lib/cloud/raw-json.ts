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
}

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/**
 * Scans a JSON object body. Containers at nesting `depth` or deeper (the body itself is depth 0) are not built: a
 * {@link RawSpan} stands in. Every built object's text is available through {@link rawTextOf}.
 * @returns the built part of the body, or undefined when the body is anything but a valid JSON object in UTF-8 whose
 *   values JSON.parse would give as they are (the caller then parses it the ordinary way)
 * @example scanJson(Buffer.from('{"a":{"b":[1,2]}}'), 2, Number) // { a: { b: RawSpan { kind: 'array', count: 2 } } }
 */
export function scanJson(body: Buffer, depth: number, exactNumber: (token: string) => number | string): Record<string, unknown> | undefined {
  if (!isUtf8(body)) return undefined;
  const len = body.length;
  let compact = true;
  let longNumbers = false;
  const built: Array<[object, number, number]> = [];
  const stack: Frame[] = [];
  let root: Record<string, unknown> | undefined;
  let i = 0;
  const ws = () => {
    const from = i;
    while (i < len && isWs(body[i] as number)) i++;
    if (i !== from) compact = false;
  };
  /** Reads the string token at `i` (a `"`); returns its value when `want`, or null when it is malformed. */
  const string = (want: boolean): string | null | undefined => {
    const start = i;
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
    i++;
    if (!want) return undefined;
    return escaped ? (JSON.parse(body.toString('utf8', start, i)) as string) : body.toString('utf8', start + 1, i - 1);
  };
  /** Reads the number token at `i`; returns its value when `want`, null when malformed or not finite. */
  const number = (want: boolean): number | string | null | undefined => {
    const start = i;
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
    const token = body.toString('latin1', start, i);
    const n = Number(token);
    if (!Number.isFinite(n)) return null;
    if (token.length > 15) {
      longNumbers = true;
      return want ? exactNumber(token) : undefined;
    }
    return n;
  };
  const literal = (text: string, value: boolean | null): boolean | null | undefined => {
    for (let k = 0; k < text.length; k++) if (body[i + k] !== text.charCodeAt(k)) return undefined;
    i += text.length;
    return value;
  };

  ws();
  if (body[i] !== 0x7b) return undefined;
  for (;;) {
    // A value starts at i (whitespace skipped).
    const parent = stack[stack.length - 1];
    const want = parent === undefined || parent.value !== undefined;
    const b = body[i];
    let value: unknown;
    let closed = false;
    if (b === 0x7b || b === 0x5b) {
      const object = b === 0x7b;
      const build = stack.length < depth;
      stack.push({ object, value: build ? (object ? {} : []) : undefined, start: i, count: 0, key: undefined });
      i++;
      ws();
      if (body[i] === (object ? 0x7d : 0x5d)) {
        closed = true;
      } else if (object) {
        if (!readKey()) return undefined;
        continue;
      } else {
        continue;
      }
    } else if (b === 0x22) {
      const s = string(want);
      if (s === null) return undefined;
      value = s;
    } else if (b === 0x74) {
      value = literal('true', true);
      if (value === undefined) return undefined;
    } else if (b === 0x66) {
      value = literal('false', false);
      if (value === undefined) return undefined;
    } else if (b === 0x6e) {
      value = literal('null', null);
      if (value === undefined) return undefined;
    } else {
      const n = number(want);
      if (n === null) return undefined;
      value = n;
    }
    // The value is complete (or a container just closed); attach it and climb out of every container that ends here.
    for (;;) {
      if (closed) {
        const frame = stack.pop() as Frame;
        i++;
        if (frame.value !== undefined) {
          built.push([frame.value, frame.start, i]);
          value = frame.value;
        } else {
          value = new RawSpan(frame.object ? 'object' : 'array', frame.count);
        }
        closed = false;
      }
      const top = stack[stack.length - 1];
      if (top === undefined) {
        root = value as Record<string, unknown>;
        ws();
        if (i !== len) return undefined;
        if (Object.prototype.hasOwnProperty.call(root, 'Code')) return undefined;
        const verbatim = compact && !longNumbers;
        for (const [obj, start, end] of built) {
          if (!Array.isArray(obj)) texts.set(obj, new RawJsonText(body, start, end, verbatim, exactNumber));
        }
        return root;
      }
      top.count++;
      if (top.value !== undefined) {
        if (Array.isArray(top.value)) top.value.push(value);
        // Own data properties, `__proto__` included, as JSON.parse makes them (the last of a repeated key wins).
        else Object.defineProperty(top.value, top.key as string, { value, enumerable: true, writable: true, configurable: true });
      }
      ws();
      const c = body[i];
      if (c === 0x2c) {
        i++;
        ws();
        if (top.object && !readKey()) return undefined;
        if (!top.object && (body[i] === 0x5d || body[i] === undefined)) return undefined;
        break;
      }
      if (c === (top.object ? 0x7d : 0x5d)) {
        closed = true;
        continue;
      }
      return undefined;
    }
  }

  /** At `i`: `"key"` `:` and whitespace; the key goes into the innermost frame. */
  function readKey(): boolean {
    const frame = stack[stack.length - 1] as Frame;
    if (body[i] !== 0x22) return false;
    const key = string(frame.value !== undefined);
    if (key === null) return false;
    frame.key = key;
    ws();
    if (body[i] !== 0x3a) return false;
    i++;
    ws();
    return true;
  }
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}
