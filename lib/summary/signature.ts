/**
 * Failure signatures: error text with everything that varies from one instance to the next masked, so that 3,000
 * failures with one cause share one signature while different causes keep different ones.
 *
 * Masks (in this order): URL query strings → `?<*>`; secrets after `password=`/`token:`/`Bearer` → `<redacted>`;
 * e-mail addresses → `<email>`; MAC → `<mac>`; UUIDs → `<uuid>`; IPv4 (with port/CIDR) → `<ip>`; dates and
 * times → `<date>`/`<time>`; IPv6 → `<ip>`; variable path segments (those holding digits or masks, and the segment
 * after `/home`, `/tmp`, `/proc`, `C:\Users`...) → `<*>`; cloud ids (`i-…`, `exec-…`, `t-…`, `c-…`, any
 * `word-<alnum with digits>`) → `word-<id>`; hex of 6+ digits → `<hex>`; long random tokens → `<token>`; other
 * numbers → `<n>`, except the number right after `exit code`, `status`, `errno`, `error`, `signal`, `HTTP`...
 * (an error code is part of the cause). Runs of the same mask collapse into one; whitespace collapses.
 */

/** Longest signature shown (characters); longer ones are cut in the middle with `…` (the key uses the whole one). */
export const MAX_SIGNATURE_CHARS = 400;
/** Longest text normalised; longer text keeps its first and last 8 KB. */
const MAX_INPUT_CHARS = 16_384;

const MONTHS = 'Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?';
const WEEKDAYS = 'Mon(?:day)?|Tue(?:s(?:day)?)?|Wed(?:nesday)?|Thu(?:r(?:s(?:day)?)?)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?';

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g;
const SECRET_ASSIGNMENT =
  /\b((?:[a-z0-9_]*[_-])?(?:password|passwd|pwd|secret|token|access[_-]?key(?:[_-]?(?:id|secret))?|api[_-]?key|credentials?|authorization|signature)s?)(["']?\s*[:=]\s*["']?)(?!<redacted>)[^\s"',;&]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*/g;
const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi;
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_DATETIME =
  /\b\d{4}([-/.])\d{1,2}\1\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})\b)?/gi;
const DATE_YMD = /\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b/g;
const DATE_DMY = /\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/g;
const DATE_COMPACT = /\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[T_-]?\d{4,6})?\b/g;
const TIME = /\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?(?:Z|UTC|GMT|[AP]M|[+-]\d{2}:?\d{2})\b)?/gi;
const MONTH_DAY = new RegExp(`\\b(?:(?:${WEEKDAYS}),?\\s+)?(?:${MONTHS})\\.?\\s+\\d{1,2}(?:,?\\s+\\d{4})?\\b`, 'g');
const DAY_MONTH = new RegExp(`\\b\\d{1,2}[\\s/-](?:${MONTHS})[\\s/-]\\d{2,4}\\b`, 'g');
const WEEKDAY_BEFORE_DATE = new RegExp(`\\b(?:${WEEKDAYS}),?\\s+(?=<date>|<time>)`, 'g');
const UNIX_PATH = /(?<![\w.:/<>*-])(?:~|\.{1,2})?(?:\/[\w.@+~%<>*-]+)+\/?/g;
const WINDOWS_PATH = /\b[A-Za-z]:\\(?:[^\\\s"'<>|:*?]+\\?)*/g;
const MAC = /\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b/gi;
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?::\d{1,5})?(?:\/\d{1,2})?\b/g;
const IPV6_CANDIDATE = /(?<![\w:.])\[?(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:%\w+)?\]?(?::\d{1,5})?(?![\w:])/gi;
const CLOUD_ID = /\b([a-z]{1,12})-(?=[a-z0-9]*\d)[a-z0-9]{6,}\b/gi;
const HEX_PREFIXED = /\b0x[0-9a-f]+\b/gi;
const HEX = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b/gi;
const TOKEN = /(?<![\w<])(?=[A-Za-z0-9+/_=-]*[A-Z])(?=[A-Za-z0-9+/_=-]*[a-z])(?=[A-Za-z0-9+/_=-]*\d)[A-Za-z0-9+/_=-]{20,}/g;
/** A number that is a code (kept): `exit code 2`, `status: 503`, `errno 111`, `HTTP/1.1 404`, `signal 9`, `error 1045`. */
const CODE_NUMBER =
  /\b(exit(?:\s+(?:code|status))?|status(?:\s+code)?|code|errno|error|err|signal|rc|returned|return\s+code|http(?:\/\d(?:\.\d)?)?)(\s*[:=#]?\s*)(\d{1,4})(?![\d.])/gi;
const NUMBER = /\d+(?:[.,]\d+)*/g;
const REPEATED_MASK = /(<[a-z*]+>)(?:[\s,;:./-]*\1)+/g;

/** Parents whose next path segment names a user, a temp dir or a process, not a place: it is masked. */
const VOLATILE_PARENTS = new Set(['home', 'users', 'tmp', 'temp', 'proc', 'run', 'user', 'mnt', 'media']);

/** Private-use characters that stand in for the digits of a kept code number while other numbers are masked. */
const KEPT_DIGIT_BASE = 0xe000;

function maskSegments(segments: string[], sep: string, prefix: string): string {
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const parent = (segments[i - 1] ?? '').toLowerCase();
    const variable = seg !== '' && (/[\d<>*]/.test(seg) || VOLATILE_PARENTS.has(parent));
    const masked = variable ? '<*>' : seg;
    if (masked === '<*>' && out[out.length - 1] === '<*>') continue;
    out.push(masked);
  }
  return prefix + out.join(sep);
}

function maskUnixPath(path: string): string {
  const lead = path.match(/^(?:~|\.{1,2})?/)?.[0] ?? '';
  const rest = path.slice(lead.length);
  const trailing = rest.endsWith('/') && rest.length > 1 ? '/' : '';
  const segments = rest.slice(1, trailing ? -1 : undefined).split('/');
  return maskSegments(segments, '/', lead + '/') + trailing;
}

function maskWindowsPath(path: string): string {
  const drive = path.slice(0, 3);
  const segments = path.slice(3).split('\\');
  return maskSegments(segments, '\\', drive);
}

function isIpv6(candidate: string): boolean {
  const core = candidate.replace(/^\[/, '').replace(/\](?::\d+)?$/, '').replace(/%\w+$/, '');
  const colons = (core.match(/:/g) ?? []).length;
  if (core.includes(':::')) return false;
  if (!core.includes('::') && colons < 7) return false;
  if (core.includes('::') && colons < 2) return false;
  return core.split(':').every((g) => /^[0-9a-f]{0,4}$/i.test(g));
}

/** Drops terminal colour codes and keeps only what a `\r`-redrawn line finally showed. */
export function cleanLine(line: string): string {
  const cut = line.lastIndexOf('\r', line.length - 2);
  return (cut >= 0 ? line.slice(cut + 1) : line).replace(ANSI, '').replace(/\r$/, '');
}

/**
 * Masks secret values (`password=…`, `token: …`, `Authorization: Bearer …`). Used on signatures and on every
 * excerpt shown in a summary or report.
 * @example redactSecrets('mysql -u root --password=hunter2') // 'mysql -u root --password=<redacted>'
 */
export function redactSecrets(text: string): string {
  return text.replace(BEARER, '$1 <redacted>').replace(SECRET_ASSIGNMENT, '$1$2<redacted>');
}

/**
 * Masks what varies between instances (see the module comment) and collapses whitespace. Deterministic and
 * idempotent: `normalizeText(normalizeText(x)) === normalizeText(x)`.
 * @example normalizeText('dial tcp 10.0.3.7:3306: connect: connection refused') // 'dial tcp <ip>: connect: connection refused'
 */
export function normalizeText(text: string): string {
  let s = cleanLine(text.length > MAX_INPUT_CHARS ? `${text.slice(0, MAX_INPUT_CHARS / 2)}…${text.slice(-MAX_INPUT_CHARS / 2)}` : text);
  s = s.replace(URL_QUERY, '$1?<*>');
  s = redactSecrets(s);
  s = s.replace(EMAIL, '<email>');
  s = s.replace(MAC, '<mac>');
  s = s.replace(UUID, '<uuid>');
  s = s.replace(IPV4, '<ip>');
  s = s.replace(ISO_DATETIME, '<time>');
  s = s.replace(DATE_YMD, '<date>');
  s = s.replace(DATE_COMPACT, '<date>');
  s = s.replace(MONTH_DAY, '<date>');
  s = s.replace(DAY_MONTH, '<date>');
  s = s.replace(TIME, '<time>');
  s = s.replace(WEEKDAY_BEFORE_DATE, '');
  s = s.replace(DATE_DMY, '<date>');
  s = s.replace(IPV6_CANDIDATE, (m) => (isIpv6(m) ? '<ip>' : m));
  s = s.replace(UNIX_PATH, maskUnixPath);
  s = s.replace(WINDOWS_PATH, maskWindowsPath);
  s = s.replace(CLOUD_ID, '$1-<id>');
  s = s.replace(HEX_PREFIXED, '<hex>');
  s = s.replace(HEX, '<hex>');
  s = s.replace(TOKEN, '<token>');
  s = s.replace(CODE_NUMBER, (_m, word: string, sep: string, digits: string) =>
    word + sep + [...digits].map((d) => String.fromCharCode(KEPT_DIGIT_BASE + Number(d))).join(''),
  );
  s = s.replace(NUMBER, '<n>');
  s = s.replace(/[\ue000-\ue009]/g, (c) => String(c.charCodeAt(0) - KEPT_DIGIT_BASE));
  s = s.replace(REPEATED_MASK, '$1');
  return s.replace(/\s+/g, ' ').trim();
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

/** True for lines that say nothing about a cause: blank, rules and box drawing, progress bars, bare timestamps. */
export function isNoiseLine(line: string): boolean {
  const t = line.trim();
  if (t === '') return true;
  if (/^[\s\-=_*#~.+|:<>[\](){}\u2500-\u257f\u2580-\u259f]*$/.test(t)) return true;
  if (/^\[?[#=>\-. ]*\]?\s*\d{1,3}(?:\.\d+)?%/.test(t) || /^\d{1,3}%\s*\|/.test(t)) return true; // progress bars
  if (t.length > 120) return false; // a bare timestamp or counter line is short; spare long lines the regex work
  const n = normalizeText(t);
  return /^(?:[\s\-=_*#~.:,;|[\]()]*(?:<[a-z*]+>)?)*$/.test(n); // nothing left but masks and punctuation
}

/**
 * The last `count` meaningful lines of an output (noise lines skipped), oldest first. Only the end of the text is
 * scanned (`scanChars`), so a 24 KB output costs little.
 * @example meaningfulTail('step 1\nError: disk full\n\n----\n', 1) // ['Error: disk full']
 */
export function meaningfulTail(text: string, count = 3, scanChars = 8192): string[] {
  const tail = text.length > scanChars ? text.slice(-scanChars) : text;
  const lines = tail.split('\n');
  if (text.length > scanChars) lines.shift(); // the first one is probably cut
  const out: string[] = [];
  for (let i = lines.length - 1; i >= 0 && out.length < count; i--) {
    const line = cleanLine(lines[i] ?? '');
    if (!isNoiseLine(line)) out.unshift(line.trim());
  }
  return out;
}

/**
 * The signature of a set of text pieces (error message, output tail...): each normalised, empty and repeated ones
 * dropped, joined with ` | `. Returns `''` when nothing is left. Not shortened: group keys hash all of it, so two
 * causes that differ only past some length are never merged (use {@link clip} to display it).
 * @example signatureOf(['The command execution exit code is not zero.', 'df: /dev/vda1: No space left on device'])
 */
export function signatureOf(pieces: readonly (string | undefined)[]): string {
  return joinSignature(pieces.map((p) => (p ? normalizeText(p) : '')));
}

/** {@link signatureOf} for pieces already normalised: empty and repeated ones dropped, joined with ` | `. */
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
  const clean = redactSecrets(window.replace(ANSI, ''));
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
