/**
 * The text a failure cause is mined from, and the helpers around it: which lines of an output say why it failed
 * (`meaningfulTail`), secret masking, excerpts, and the stable key of a cause. The masking of variables is in
 * `masking.ts`, the template miner in `miner.ts`.
 */
import { createHash } from 'node:crypto';
import { WILDCARD, maskVariables } from './masking';
import { maskSecrets } from './secrets';

/** Longest signature shown (characters); longer ones are cut in the middle with `…` (the key uses the whole one). */
export const MAX_SIGNATURE_CHARS = 400;

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Drops terminal colour codes and keeps only what a `\r`-redrawn line finally showed. */
export function cleanLine(line: string): string {
  const cut = line.lastIndexOf('\r', line.length - 2);
  return (cut >= 0 ? line.slice(cut + 1) : line).replace(ANSI, '').replace(/\r$/, '');
}

/**
 * The text a cause is mined from: terminal codes and control characters dropped, secrets masked first (a secret
 * must never become a template word), then the obvious variables (`maskVariables`).
 * @example prepareMessage('mysql -u root --password=hunter2 failed after 3s') // 'mysql -u root --password=<redacted> failed after <*>'
 */
export function prepareMessage(text: string): string {
  return maskVariables(maskSecrets(cleanLine(text).replace(CONTROL, ' ')));
}

/**
 * The stable id of a cause: 12 hex digits of sha256(status, error code, exit code, template text). The same
 * template gives the same key in every archive.
 * @example causeKey('Failed', 'ExitCodeNonzero', 1, 'disk full on /dev/vda1 (<*>)')
 */
export function causeKey(status: string, errorCode: string, exitCode: number | null, template: string): string {
  return createHash('sha256').update([status, errorCode, String(exitCode), template].join('\u001f')).digest('hex').slice(0, 12);
}

/**
 * Cuts text longer than `max` characters in the middle (`…`), keeping two thirds from the start and one third
 * from the end, where error lines often say what went wrong.
 * @example clip('a'.repeat(500), 10) // 'aaaaaa…aaa'
 */
export function clip(text: string, max = MAX_SIGNATURE_CHARS): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) * (2 / 3));
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/**
 * {@link clip} that cuts between words: the head ends and the tail starts at a space when there is one within 30
 * characters of the cut (a text without spaces near the cut is cut where it must).
 * @example clipWords('disk full on the root volume of this instance', 30) // 'disk full on the…this instance'
 */
export function clipWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const reach = 30;
  const headMax = Math.ceil((max - 1) * (2 / 3));
  let head = text.slice(0, headMax);
  const space = head.lastIndexOf(' ');
  if (space >= headMax - reach && space > 0 && text[headMax] !== ' ') head = head.slice(0, space);
  head = head.trimEnd();
  const tailMax = max - 1 - head.length;
  let tail = text.slice(text.length - tailMax);
  const tailSpace = tail.indexOf(' ');
  if (tailSpace >= 0 && tailSpace <= reach && text[text.length - tailMax - 1] !== ' ') tail = tail.slice(tailSpace + 1);
  return `${head}…${tail.trimStart()}`;
}

/** True for lines that say nothing about a cause: blank, rules and box drawing, progress bars, bare timestamps. */
export function isNoiseLine(line: string): boolean {
  const t = line.trim();
  if (t === '') return true;
  if (/^[\s\-=_*#~.+|:<>[\](){}\u2500-\u257f\u2580-\u259f]*$/.test(t)) return true;
  if (/^\[?[#=>\-. ]*\]?\s*\d{1,3}(?:\.\d+)?%/.test(t) || /^\d{1,3}%\s*\|/.test(t)) return true; // progress bars
  if (t.length > 120) return false; // a bare timestamp or counter line is short; spare long lines the regex work
  return maskVariables(t).split(WILDCARD).every((rest) => /^[\s\-=_*#~.:,;|[\]()/]*$/.test(rest)); // nothing left but masks and punctuation
}

/**
 * The last `count` meaningful lines of an output (noise lines skipped: `isNoise`, {@link isNoiseLine} or a memo of
 * it), oldest first. Only the end of the text is scanned (`scanChars`), so a 24 KB output costs little.
 * @example meaningfulTail('step 1\nError: disk full\n\n----\n', 1) // ['Error: disk full']
 */
export function meaningfulTail(text: string, count = 3, scanChars = 8192, isNoise: (line: string) => boolean = isNoiseLine): string[] {
  const tail = text.length > scanChars ? text.slice(-scanChars) : text;
  const lines = tail.split('\n');
  if (text.length > scanChars) lines.shift(); // the first one is probably cut
  const out: string[] = [];
  for (let i = lines.length - 1; i >= 0 && out.length < count; i--) {
    const line = cleanLine(lines[i] ?? '');
    if (!isNoise(line)) out.unshift(line.trim());
  }
  return out;
}

/**
 * A copy of a string that holds only its own characters. A piece cut from a larger string (`slice`, `split`,
 * `trim`) may keep the whole of it alive in V8; the copy of a concatenation is built anew.
 */
export function ownCopy(text: string): string {
  return ` ${text}`.slice(1);
}

/**
 * Remembers the answers of a function of one string for the texts that repeat. The records of one archive come
 * from one command on many instances, so the same error line comes back from thousands of them, and its masking
 * (secrets, variables) need not run again. Bounded: only texts of at most `maxChars` are kept, at most `entries` of
 * them, each an own copy (never a piece that keeps a whole output alive): at most ~`entries` × 2 × `maxChars`
 * characters. Two generations of `entries` / 2: a text found in the older one is copied into the newer one, and when
 * the newer one is full it becomes the older one, so a text that keeps coming back stays while lines that never
 * repeat pass through. A lookup is one or two `Map` reads (a map kept in order of use, with a delete and a set per
 * hit, cost more than the masking it saved). A text is admitted on its second sighting only: a fingerprint of each
 * text seen (a 32-bit hash in a table of 4 × `entries` slots) says whether it came before. Where nearly every line is
 * new (per-host values in every message), admitting each one made an entry that outlived V8's young generation and
 * died in the old one (~69 MB promoted over summarize of 1M records at 30 % failed); now such a line leaves only
 * its fingerprint. A repeated text is computed at most twice. `fn` must depend on its text only.
 * @example const prepare = memoizeText(prepareMessage); prepare(line) === prepareMessage(line)
 */
export function memoizeText<T>(fn: (text: string) => T, entries = 2048, maxChars = 400): (text: string) => T {
  const half = Math.max(1, Math.floor(entries / 2));
  let recent = new Map<string, T>();
  let older = new Map<string, T>();
  const seen = new Uint32Array(1 << Math.ceil(Math.log2(Math.max(4, entries * 4))));
  const slots = seen.length - 1;
  return (text) => {
    if (text.length > maxChars) return fn(text);
    // One lookup per map (an answer that is `undefined` is looked up in vain and computed again: the same answer).
    const hit = recent.get(text);
    if (hit !== undefined) return hit;
    let answer = older.get(text);
    if (answer === undefined) {
      answer = fn(text);
      // A text not seen before leaves only its fingerprint (never 0, the empty slot's value).
      const print = (fingerprint(text) | 1) >>> 0;
      const slot = (print >>> 1) & slots;
      if (seen[slot] !== print) {
        seen[slot] = print;
        return answer;
      }
      if (typeof answer === 'string') answer = ownCopy(answer) as T;
    }
    if (recent.size >= half) {
      older = recent;
      recent = new Map();
    }
    recent.set(ownCopy(text), answer);
    return answer;
  };
}

/** FNV-1a over a text's UTF-16 code units: 32 bits, enough to tell whether a short text was seen lately. */
function fingerprint(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * The signature of a cause: the templates of its text pieces (error message, output lines), empty and repeated
 * ones dropped, joined with ` | `. Not shortened: the key hashes all of it (use {@link clip} to display it).
 * @example joinSignature(['The command execution exit code is not zero.', 'df: /dev/<*>: No space left on device'])
 */
export function joinSignature(normalized: readonly string[]): string {
  const out: string[] = [];
  for (const n of normalized) if (n !== '' && !out.includes(n)) out.push(n);
  return out.join(' | ');
}

/**
 * At most `maxBytes` of UTF-8 text, cut at a character boundary: from the end (`'tail'`, where errors are) or the
 * start. A cut is marked with `…`. Secrets are redacted.
 * @example excerpt(longOutput, 2048, 'tail')
 */
export function excerpt(text: string, maxBytes = 2048, from: 'head' | 'tail' = 'tail'): string {
  // Work on a window a little larger than the budget (every character is at least one byte), so a 24 KB output
  // costs no more than a 2 KB one; the margin lets a secret that straddles the window edge still be recognised.
  const margin = 256;
  const window = text.length > maxBytes + margin ? (from === 'tail' ? text.slice(-(maxBytes + margin)) : text.slice(0, maxBytes + margin)) : text;
  const clean = maskSecrets(window.replace(ANSI, ''));
  if (window === text && Buffer.byteLength(clean) <= maxBytes) return clean;
  const budget = maxBytes - 3; // the ellipsis is 3 bytes
  const chars = [...clean];
  const picked: string[] = [];
  let bytes = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = from === 'tail' ? (chars[chars.length - 1 - i] ?? '') : (chars[i] ?? '');
    if (/^[\ud800-\udfff]$/.test(c)) continue; // half of a pair cut by the window
    bytes += Buffer.byteLength(c);
    if (bytes > budget) break;
    picked.push(c);
  }
  return from === 'tail' ? '…' + picked.reverse().join('') : picked.join('') + '…';
}
