/**
 * Light masking of the obvious variables of a message, before template mining (see `miner.ts`): UUIDs, IP and MAC
 * addresses, e-mail addresses, times and dates, cloud ids (`i-bp1…`, `exec-6be6…`, all-letter ones such as
 * `t-hzzosfpyvuetgz`), hex numbers and digests, numbers on their own (with a bound and a unit: `5.2 KB`, `12s`,
 * `<1 sec`, `30 seconds`; a size with its other form in brackets, `1190 bytes (1.16 KB)`, is one value), the variable
 * segments of paths, URL query strings. Each becomes `<*>`. A number inside a word (`x86_64`, `utf8`, `HTTP/1.1`,
 * `blk_123`) is left to the miner, which generalises a position only when it varies; so is the number that names a
 * failure (`exit code 2`, `errno 111`, `signal 9`).
 */

/** The variable marker of masks and templates. */
export const WILDCARD = '<*>';

/** Longest text masked; longer text keeps its first and last 4 KB. */
const MAX_MINED_CHARS = 8192;

const MONTHS = 'Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?';
const WEEKDAYS = 'Mon(?:day)?|Tue(?:s(?:day)?)?|Wed(?:nesday)?|Thu(?:r(?:s(?:day)?)?)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?';

/** Characters that may not touch a masked number on either side (a number inside a word is part of the word). */
const WORD = 'A-Za-z0-9_';

const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"']*/gi;
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const MAC = /\b(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}\b/gi;
const IPV4 = /(?<![\w.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?::\d{1,5})?(?:\/\d{1,2})?(?!\w|\.\d)/g;
const IPV6_CANDIDATE = /(?<![\w:.])\[?(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:%\w+)?\]?(?::\d{1,5})?(?![\w:])/gi;
const ISO_DATETIME =
  /\b\d{4}([-/.])\d{1,2}\1\d{1,2}(?:[T ]|:)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})\b)?/gi;
const DATE_YMD = /\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b/g;
const TIME = /\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?(?:Z|UTC|GMT|[AP]M|[+-]\d{2}:?\d{2})\b)?/gi;
const MONTH_DAY = new RegExp(`\\b(?:(?:${WEEKDAYS}),?\\s+)?(?:${MONTHS})\\.?\\s+\\d{1,2}(?:,?\\s+\\d{4})?\\b`, 'g');
/** Cloud ids: `i-bp1…`, `exec-6be6…` (a digit somewhere), or a known short prefix and 8+ letters (`t-hzzosfpyvuetgz`). */
const CLOUD_ID = /\b([a-z]{1,12})-(?=[a-z0-9]*\d)[a-z0-9]{6,}\b/gi;
const CLOUD_ID_LETTERS = /\b(i|t|c|d|s|m|r|sg|lb|rg|eni|vpc|vsw|eip|nat|ngw|exec|cmd|acs|ack|cs|img|snap)-[a-z]{8,}\b/g;
const HEX_PREFIXED = /\b0x[0-9a-f]+\b/gi;
/** Hex runs of 6+ characters holding a digit and a letter, or of 8+ (digests, object ids, masks like `ffffffff`). */
const HEX = new RegExp(`(?<![${WORD}])(?:(?=[0-9a-f]*\\d)[0-9a-f]{6,}|[0-9a-f]{8,}|(?=[0-9A-F]*\\d)[0-9A-F]{6,}|[0-9A-F]{8,})(?![${WORD}])`, 'g');
const HEX_LETTERS = /[a-fA-F]{8}/;
/** Units a number may carry: sizes (with or without a space), spelled-out durations after a space (`3 secs`, `30 seconds`), short units without one (`12s`, `5m`). */
const SIZE_UNIT = '(?:[kKMGTP]i?B|B|bytes)';
const NUMBER_UNIT = `\\s?${SIZE_UNIT}|\\s(?:secs?|seconds?|mins?|minutes?|hours?|days?)(?![${WORD}])|[kKMGTP]i?[bB]?|[mun]?s|%|sec|min|h|d`;
/** A size followed by the same size in other units, in brackets (`1190 bytes (1.16 KB)`): one value. */
const SIZE_PAIR = new RegExp(`(?<![${WORD}./])\\d+(?:[.,]\\d+)*\\s?${SIZE_UNIT}\\s\\(\\d+(?:[.,]\\d+)*\\s?${SIZE_UNIT}\\)`, 'g');
/** A number on its own (not inside a word), with an optional bound (`<1 sec`), sign, decimals and unit. */
/** A duration in parts, as Go and most schedulers print it: `1m30s`, `1h5m0s`, `2h45m`, `1m0.5s`. */
const COMPOUND_DURATION = new RegExp(`(?<![${WORD}./])(?:\\d+(?:\\.\\d+)?(?:h|ms|us|µs|ns|m|s)){2,}(?![${WORD}])`, 'g');
const NUMBER = new RegExp(`(?<![${WORD}./])(?:[<>]=?)?[-+]?\\d+(?:[.,]\\d+)*(?:${NUMBER_UNIT})?(?![${WORD}])`, 'g');
const UNIX_PATH = /(?<![\w.:/<>*-])(?:~|\.{1,2})?(?:\/[\w.@+~%<>*-]+)+\/?/g;
const WINDOWS_PATH = /\b[A-Za-z]:\\(?:(?:[^\\\s"'<>|:*?]|<\*>)+\\?)*/g;
/**
 * A number that names the failure (kept; the miner decides whether it varies): a number in a code or status slot, that is
 * right after a word naming a code or status (`exit code 2`, `errno 111`, `signal 9`, `ERROR 1045`, `HTTP/1.1 404`,
 * `returned 503`, `responded with 404`, any word or key ending in `code`/`status`: `status 404`, `response code: 500`,
 * `statusCode: 503`, `http_status=502`, `"status":404`; after such a word a 1xx-3xx status, which reports no failure, is
 * a value), or an HTTP-range number (100-599) followed by its reason phrase
 * (`404 Client Error`, `503 Service Unavailable`, `(404 Not Found)`).
 */
const CODE_NUMBER = new RegExp(
  `\\b((?:exit|errno|error|signal|rc|returned|(?:responded|replied|answered)(?:\\s+with)?|http(?:\\/\\d(?:\\.\\d)?)?|[A-Za-z_]*(?:code|status))["']?)(\\s*[:=#]?\\s*)(\\d{1,4})(?![\\d.])`,
  'gi',
);
/** Words before a number that always name a failure's code (the number is kept whatever it is). */
const NAMED_CODE = /^(?:exit|errno|error|signal|rc|returned|http)/i;
/** A word run together with `code`/`status` in lower case (`keycode`, `barcode`): not a code's slot (`statusCode`, `http_status` are). */
const PLAIN_COMPOUND = /[a-z](?:code|status)["']?$/;
/** A three-digit number in the HTTP status range. */
const HTTP_STATUS = /^[1-5]\d\d$/;
/** An HTTP-range number followed by its reason phrase in capitals (`404 Client Error`, `503 (Service Unavailable)`). */
const STATUS_REASON = /(?<![\w./-])([1-5]\d\d)(?=\s\(?[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*\)?(?:[\s:.,;)]|$))/g;
/** Private-use characters that stand in for the digits of a kept code number while other numbers are masked. */
const KEPT_DIGIT_BASE = 0xe000;
/** The stand-ins of {@link KEPT_DIGIT_BASE}. */
const KEPT_DIGITS = /[\ue000-\ue009]/;
const KEPT_DIGITS_ALL = /[\ue000-\ue009]/g;
/** Adjacent masks joined by punctuation only (`<*>:<*>`, `<*>.<*>`) are one value. */
const JOINED_MASKS = /<\*>(?:[:.,/_-]?<\*>)+/g;

/** Parents whose next path segment names a user, a temp dir or a process, not a place: it is masked. */
const VOLATILE_PARENTS = new Set(['home', 'users', 'tmp', 'temp', 'proc', 'run', 'user', 'mnt', 'media']);

function maskSegments(segments: string[], sep: string, prefix: string): string {
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const parent = (segments[i - 1] ?? '').toLowerCase();
    const variable = seg !== '' && (/[\d<>*]/.test(seg) || VOLATILE_PARENTS.has(parent));
    const masked = variable ? WILDCARD : seg;
    if (masked === WILDCARD && out[out.length - 1] === WILDCARD) continue;
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
  return maskSegments(path.slice(3).split('\\'), '\\', path.slice(0, 3));
}

function isIpv6(candidate: string): boolean {
  const core = candidate.replace(/^\[/, '').replace(/\](?::\d+)?$/, '').replace(/%\w+$/, '');
  const colons = (core.match(/:/g) ?? []).length;
  if (core.includes(':::')) return false;
  if (!core.includes('::') && colons < 7) return false;
  if (core.includes('::') && colons < 2) return false;
  return core.split(':').every((g) => /^[0-9a-f]{0,4}$/i.test(g));
}

/** What {@link traits} counts: colons, dots, dashes, the longest run of digits and of hex digits, a digit after a space. */
const COLONS = 0;
const DOTS = 1;
const DASHES = 2;
const DIGIT_RUN = 3;
const HEX_RUN = 4;
const SPACE_DIGIT = 5;
const TRAITS = new Int32Array(6);

/** A character of `\s` (white space as JavaScript's patterns have it). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 128 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff));
}

/**
 * Counts into {@link TRAITS} what the patterns of {@link maskVariables} need in a text (one pass, nothing made): a
 * pattern is not run on a text that has too few of them (a date needs four digits in a row, a time two colons, an IPv4
 * address three dots, a UUID four dashes and twelve hex digits in a row…).
 */
function traits(s: string): void {
  let colons = 0;
  let dots = 0;
  let dashes = 0;
  let digitRun = 0;
  let hexRun = 0;
  let maxDigitRun = 0;
  let maxHexRun = 0;
  let spaceDigit = 0;
  let space = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (digit) {
      if (++digitRun > maxDigitRun) maxDigitRun = digitRun;
      if (space) spaceDigit = 1;
    } else digitRun = 0;
    if (digit || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) {
      if (++hexRun > maxHexRun) maxHexRun = hexRun;
    } else hexRun = 0;
    if (c === 58) colons++;
    else if (c === 46) dots++;
    else if (c === 45) dashes++;
    space = isSpace(c);
  }
  TRAITS[COLONS] = colons;
  TRAITS[DOTS] = dots;
  TRAITS[DASHES] = dashes;
  TRAITS[DIGIT_RUN] = maxDigitRun;
  TRAITS[HEX_RUN] = maxHexRun;
  TRAITS[SPACE_DIGIT] = spaceDigit;
}

/**
 * Replaces the obvious variables of a message by `<*>` (see the module comment) and collapses whitespace.
 * Idempotent. Secrets must be masked before (the caller does). `guarded: false` runs every pattern whatever the text holds
 * (the plain path the tests compare the guarded one with; the answer is the same).
 * @example maskVariables('dial tcp 10.0.3.7:3306: connect: connection refused') // 'dial tcp <*>: connect: connection refused'
 */
export function maskVariables(text: string, guarded = true): string {
  let s = text.length > MAX_MINED_CHARS ? `${text.slice(0, MAX_MINED_CHARS / 2)} … ${text.slice(-MAX_MINED_CHARS / 2)}` : text;
  // Each pattern runs only when the text holds what every match of it needs (`://`, `@`, `-`, `:`, a digit…), so a
  // pattern skipped could not have matched: most messages have no URL, address, date or path, and a scan of the
  // whole text per pattern was most of the masking's time. The digit test is made once: no replacement before the
  // numbers brings a digit the text did not have.
  // The counts of `traits` (one pass over the text) are made once too: no replacement adds a colon, a dot or a dash,
  // lengthens a run of digits or hex digits, or puts a digit after a space (each puts `<*>` where its match was, or
  // keeps a piece of its match in place).
  const hasDigit = /\d/.test(s);
  traits(s);
  const colons = TRAITS[COLONS] ?? 0;
  if (!guarded || s.includes('://')) s = s.replace(URL_QUERY, `$1?${WILDCARD}`);
  if (!guarded || s.includes('@')) s = s.replace(EMAIL, WILDCARD);
  if (!guarded || ((TRAITS[DASHES] ?? 0) >= 4 && (TRAITS[HEX_RUN] ?? 0) >= 12)) s = s.replace(UUID, WILDCARD);
  if (!guarded || colons + (TRAITS[DASHES] ?? 0) >= 5) s = s.replace(MAC, WILDCARD);
  if (!guarded || (hasDigit && colons >= 1 && (TRAITS[DIGIT_RUN] ?? 0) >= 4)) s = s.replace(ISO_DATETIME, WILDCARD);
  if (!guarded || (hasDigit && (TRAITS[DIGIT_RUN] ?? 0) >= 4)) s = s.replace(DATE_YMD, WILDCARD);
  if (!guarded || (hasDigit && (TRAITS[SPACE_DIGIT] ?? 0) > 0)) s = s.replace(MONTH_DAY, WILDCARD);
  if (!guarded || (hasDigit && colons >= 2)) s = s.replace(TIME, WILDCARD);
  if (!guarded || (hasDigit && (TRAITS[DOTS] ?? 0) >= 3)) s = s.replace(IPV4, WILDCARD);
  if (!guarded || colons >= 2) s = s.replace(IPV6_CANDIDATE, (m) => (isIpv6(m) ? WILDCARD : m));
  if (!guarded || (hasDigit && s.includes('-'))) s = s.replace(CLOUD_ID, `$1-${WILDCARD}`);
  if (!guarded || s.includes('-')) s = s.replace(CLOUD_ID_LETTERS, `$1-${WILDCARD}`);
  if (!guarded || (hasDigit && s.includes('('))) s = s.replace(SIZE_PAIR, WILDCARD);
  if (!guarded || (s.includes('0x') || s.includes('0X'))) s = s.replace(HEX_PREFIXED, WILDCARD);
  // A hex run without a digit is 8+ letters a–f (`deadbeef`): the cheap test of a letter run spares the full pattern.
  if (!guarded || ((TRAITS[HEX_RUN] ?? 0) >= 6 && (hasDigit || HEX_LETTERS.test(s)))) s = s.replace(HEX, WILDCARD);
  // Whether a code number's digits stand aside, or the text held such characters already (only then is the pass that
  // puts them back run: it finds nothing otherwise).
  let kept = !guarded || KEPT_DIGITS.test(s);
  if (!guarded || hasDigit) {
    const keep = (digits: string): string => [...digits].map((d) => String.fromCharCode(KEPT_DIGIT_BASE + Number(d))).join('');
    s = s.replace(CODE_NUMBER, (m: string, word: string, sep: string, digits: string) => {
      // After a status or code word, an HTTP status that reports no failure (1xx-3xx: `status: 200` in an access log)
      // is a value like a length or a time beside it.
      if (!NAMED_CODE.test(word) && PLAIN_COMPOUND.test(word)) return m;
      if (!NAMED_CODE.test(word) && HTTP_STATUS.test(digits)) {
        if (digits < '400') return m;
        // A server-side status (5xx) tells the caller one thing, the server failed: its class is the kind.
        if (digits >= '500') return `${word}${sep}5xx`;
      }
      kept = true;
      return word + sep + keep(digits);
    });
    s = s.replace(STATUS_REASON, (digits: string) => {
      kept = true;
      return keep(digits);
    });
    s = s.replace(COMPOUND_DURATION, WILDCARD).replace(NUMBER, WILDCARD);
  }
  if (hasDigit && kept) s = s.replace(KEPT_DIGITS_ALL, (c) => String(c.charCodeAt(0) - KEPT_DIGIT_BASE));
  // Paths last: a segment that holds a digit or a mask is a variable as a whole (`/cache/blob-<*>` → `/cache/<*>`).
  if (!guarded || s.includes('/')) s = s.replace(UNIX_PATH, maskUnixPath);
  if (!guarded || s.includes(':\\')) s = s.replace(WINDOWS_PATH, maskWindowsPath);
  if (!guarded || s.includes(WILDCARD)) s = s.replace(JOINED_MASKS, WILDCARD);
  // Each run of white space becomes one space: only the runs that are not one space already are replaced.
  return s.replace(/\s{2,}|(?! )\s/g, ' ').trim();
}
