/**
 * Answers with long lists, built a slice at a time: a list serialized ahead as JSON text ({@link JsonText}) and the
 * answer's body serialized around it ({@link stringifyAnswer}) are byte for byte what `JSON.stringify` of the whole
 * answer gives, but neither the list's items nor their serialization runs in one go on the thread that serves every
 * other request (DescribeInvocations of an invocation over 100,000 instances is one answer of ~45 MB).
 */
import { randomBytes } from 'node:crypto';

/** Items built (and serialized) between two turns of the event loop. */
export const SLICE_ITEMS = 256;

/** The texts met by the {@link stringifyAnswer} under way (it is synchronous: one at a time). */
let met: JsonText[] | undefined;
/** Marks a text's place in the answer's JSON; the nonce keeps it from matching any string of the answer. */
const MARK = `\u0000json-text:${randomBytes(8).toString('hex')}:`;
/** The mark as it stands in the JSON text (a JSON string), with the text's number. */
const MARKED = new RegExp(`"${JSON.stringify(MARK).slice(1, -1).replace(/\\/g, '\\\\')}(\\d+)"`, 'g');

/** A JSON value serialized ahead, as pieces of text in order; {@link stringifyAnswer} puts them in place as they are. */
export class JsonText {
  constructor(readonly pieces: readonly string[]) {}
  toJSON(): unknown {
    // Serialized some other way: the value itself.
    if (!met) return JSON.parse(this.pieces.join('')) as unknown;
    return `${MARK}${met.push(this) - 1}`;
  }
}

/** One turn of the event loop: the requests that came in meanwhile are served. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The JSON array of `count` items, `item(i)` for each, in order, serialized as `JSON.stringify` serializes the array,
 * with a turn of the event loop after every `sliceItems` items. The items are built in order and only once; what they
 * read must not change in between (the caller fixes the time and the run it reports).
 */
export async function jsonArrayInSlices(count: number, item: (i: number) => unknown, sliceItems = SLICE_ITEMS): Promise<JsonText> {
  const pieces = ['['];
  for (let start = 0; start < count; start += sliceItems) {
    if (start > 0) await nextTurn();
    const slice: unknown[] = [];
    for (let i = start; i < Math.min(count, start + sliceItems); i++) slice.push(item(i));
    // `[a,b]` without its brackets, after a comma from the slice before.
    const json = JSON.stringify(slice);
    pieces.push(...(start > 0 ? [',', json.slice(1, -1)] : [json.slice(1, -1)]));
  }
  pieces.push(']');
  return new JsonText(pieces);
}

/**
 * `JSON.stringify(body)` as pieces of text in order (their concatenation), with the pieces of each {@link JsonText}
 * in the body in place as they are: written one after another, none is copied into one large string.
 */
export function stringifyAnswer(body: unknown): string[] {
  const texts: JsonText[] = [];
  met = texts;
  let json: string;
  try {
    json = JSON.stringify(body);
  } finally {
    met = undefined;
  }
  if (texts.length === 0) return [json];
  const pieces: string[] = [];
  let at = 0;
  for (const m of json.matchAll(MARKED)) {
    pieces.push(json.slice(at, m.index), ...(texts[Number(m[1])]?.pieces ?? ['null']));
    at = m.index + m[0].length;
  }
  pieces.push(json.slice(at));
  return pieces;
}
