/**
 * Secret masking for everything a summary shows: summary.json, summary.md, report.html, retry.txt, notifications
 * and the `causes` command. The archive's parts are never masked (they stay exactly as the API returned them).
 *
 * A secret's value is replaced by {@link REDACTED}; what says where it was stays, so the cause stays readable:
 * `mysql -uroot -phunter2` → `mysql -uroot -p<redacted>`, `https://bob:pw@git.example.com` →
 * `https://bob:<redacted>@git.example.com`, `密码：abc` → `密码：<redacted>`.
 *
 * The rules, applied in this order:
 * 1. private-key blocks (`-----BEGIN … PRIVATE KEY-----` … `-----END …-----`, or to the end of the text);
 * 2. vendor tokens and keyword-scoped rules: gitleaks' rules (vendor-rules.generated.ts, run by vendor-rules.ts), and
 *    our prefixed shapes gitleaks has no rule for (Vercel, Docker Hub, Groq, Figma, Cloudflare, Tailscale,
 *    Mailchimp), Alibaba Cloud AccessKey ids (`LTAI…`) with the secret that follows them, STS tokens;
 * 3. JWTs; `Authorization:` headers and bare `Bearer`/`Basic` credentials;
 * 4. URL user-info (`scheme://user:password@host`: git, HTTP, MongoDB, MySQL, PostgreSQL, Redis, AMQP… URLs);
 * 5. command-line password flags: `--password VALUE`, `--password=VALUE` and every flag whose name looks secret
 *    (see {@link isSecretKey}); per tool: `-pVALUE` for mysql and its family (their `-p VALUE` with a space is the
 *    password prompt followed by a database name, so it is kept), `-p VALUE` for sshpass, `docker login` and the
 *    MongoDB shells, `-a VALUE` for redis-cli, `-P VALUE` for sqlcmd/bcp/zip/unzip, `-w VALUE` for the ldap tools,
 *    `-u user:VALUE` for curl, openssl's `pass:VALUE`; anywhere: `-uUSER -pVALUE`. A bare `-p 22` is a port
 *    (ssh, scp, docker run) and is kept;
 * 6. `KEY=VALUE`, `KEY: VALUE`, `"key": "value"`, `<key>value</key>` for secret-looking keys in any case and
 *    spelling (`DB_PASSWORD`, `PGPASSWORD`, `accessKeySecret`, `client-secret`…), and the Chinese keys
 *    `密码`, `口令`, `密钥`, `秘钥`, `私钥`, `令牌` (with `:`, `：`, `=`, `为`, `是`). Values that are plainly not
 *    secrets are kept: shell variables (`$DB_PASS`, `${X}`), already masked values, and words such as `YES`
 *    in MySQL's `(using password: YES)`;
 * 7. detect-secrets-style entropy: a run of base64 characters of 24 or more holding upper case, lower case and
 *    digits, with a Shannon entropy of at least 4.5 bits per character (detect-secrets' default limit for
 *    base64; log2(length) − 1 for runs shorter than 46), whose neighbouring letters and digits change class (upper,
 *    lower, digit) at least 40% of the time (random text: ~65%; words, camel case, versions: ~30% or less), and
 *    that is not a path (a slash every 12 characters or more often), not base64 of text, not the value of a key named
 *    public, not a URL's path segment (unless the segment before says a credential follows). Hex is never masked by
 *    entropy: hashes named as such (`sha256: …`), commit ids, request ids and UUIDs are part of a cause. Discord bot
 *    tokens are found here by their shape.
 *
 * Where the rules run: one pass over the text ({@link createTriggerScanner}) finds gitleaks' keywords, the words each
 * family of rules 3–7 needs (`://`, `-p`, `password`, `token`…) and the long mixed token runs; gitleaks' rules are
 * tried at their keywords, the families run on the lines around their words; the rest of an output is read once.
 *
 * Linear time: every pattern starts at a boundary that cannot occur inside the run it then scans, and every
 * repetition is bounded, so there is no catastrophic backtracking (a hostile 24 KB output costs milliseconds).
 */

import { isSecretKey, words } from '../secret-key';
import { createTriggerScanner, type LineScanResult, type ScanResult, type TriggerScanner } from './trigger-scan';
import { createVendorRules, shannonEntropy, type Span, type VendorRules } from './vendor-rules';

export { isSecretKey } from '../secret-key';
export { shannonEntropy } from './vendor-rules';
import { VENDOR_RULES } from './vendor-rules.generated';

/** What a masked value is replaced with. */
export const REDACTED = '<redacted>';

/** A value ends at whitespace, a quote, a delimiter of a list or a query, or a bracket that closes. */
const VALUE = String.raw`(?:\$\{[A-Za-z_][A-Za-z0-9_]{0,63}\}|"[^"\n]{1,512}"|'[^'\n]{1,512}'|[^\s"'<>,;&|(){}\[\]]{1,512})`;

/** Values after a secret-looking key that are plainly not secrets (lower-cased). */
const NOT_SECRET_VALUES = new Set([
  'yes', 'no', 'true', 'false', 'null', 'nil', 'none', 'empty', 'required', 'invalid', 'incorrect', 'wrong',
  'expired', 'missing', 'denied', 'not', 'unset', 'set', 'hidden', 'masked', 'changed', 'ok', 'is', 'was', 'has',
  'the', 'a', 'an', 'for', 'of', 'to', 'must', 'should', 'cannot', 'can', 'and', 'or', 'on', 'in', 'basic', 'bearer',
  'disabled', 'enabled', 'off', 'on', 'method', 'methods', 'mode', 'plugin', 'scheme', 'digest', 'negotiate', 'ntlm',
  'authentication', 'mismatch', 'failed', 'error', 'verification',
]);


/** Flag names that are passwords although they hold none of the fragments: redis-cli `--pass`, openssl `-passin`. */
const SECRET_FLAGS = new Set(['pass', 'passin', 'passout', 'pw', 'pwd']);

function isSecretFlag(name: string): boolean {
  return SECRET_FLAGS.has(name.toLowerCase()) || isSecretKey(name);
}

/** True for values kept after a secret-looking key: variables, masks, placeholder words. */
function keepValue(raw: string): boolean {
  const v = raw.replace(/^["']|["']$/g, '');
  if (v === '' || v.includes(REDACTED) || /^\*+$/.test(v) || /^x{3,}$/i.test(v)) return true;
  if (v.includes(PROTECT_OPEN)) return true; // a value an allow-list named
  if (isPlaceholder(v)) return true;
  // A URL: the URL rules mask the credentials in it (user-info, a webhook's path, a query's key), the rest is kept.
  if (/^[a-z][a-z0-9+.-]{1,30}:\/\//i.test(v)) return true;
  if (/^(?:[A-Z][A-Za-z0-9]{0,40}\.){1,8}[A-Z]?[a-z]{2,}(?:[A-Z][a-z]+){0,8}$/.test(v)) return true; // code: `Ed25519.BlindKeySignatures`
  if (/^[a-z][a-z0-9]{1,40}(?:-[a-z][a-z0-9]{1,40}){0,6}-\d{1,4}(?:\.\d{1,6}){1,3}$/.test(v)) return true; // a package and its version: `jjwt-jackson-0.11.2`
  if (/^[<{]/.test(v)) return true; // a template or a structure: `<API token>`, `{base64(user:password)}`
  if (/^(?:env|file|fd):[^\s]{1,256}$|^stdin$/.test(v)) return true; // openssl: where the password is, not what
  if (/^(?:[A-Za-z_$][\w$]{0,63}\.){1,12}[A-Za-z_$][\w$]{0,63}@[0-9a-f]{1,16}$/.test(v)) return true; // a Java object (`pkg.Class@2bd79ce`)
  if (/^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\d|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]{1,60}\}\}|\{[A-Za-z_][A-Za-z0-9_]{0,40}\})$/.test(v)) return true;
  if (/^(?:\$\(|`)/.test(v)) return true; // a command substitution: where the value comes from
  return NOT_SECRET_VALUES.has(v.toLowerCase());
}

/**
 * True for a value that stands in for a secret in documentation and templates: `<your token>`, `YOUR_PASSWORD`,
 * `REPLACE_WITH_PASSWORD`, `changeme`, `example`, `dummy`, `xxxxxxxx`, `...`, one character repeated, or the name of
 * what it stands for (`password`, `secret`, `token`).
 */
export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  if (v.length < 3) return true;
  if (/^<[^<>]{1,80}>$|^\[[^[\]]{1,80}\]$/.test(v)) return true;
  if (/^(?:your|my)[_-]|^replace[_-]?(?:with|me)|change[_-]?(?:me|it)|example|dummy|placeholder|^fake|not[_-]?a[_-]?real|x{4}|\.{3}|\*{3}/.test(v)) return true;
  // One character repeated, or a run of 8 of one character (`glc_11111111…`, `AIzaaaaaaaaa…`).
  if (/^(.)\1{2,}$/.test(v) || /(.)\1{7}/.test(v)) return true;
  // The name of what it stands for: `password`, `mypassword`, `ACCESS_TOKEN`, `API_KEY`.
  if (/^[A-Z][A-Z0-9_]{2,63}$/.test(value) && isSecretKey(value)) return true;
  return /^(?:your|my|the|some)?[_-]?(?:password|passwd|secret|token|api[_-]?key|changeit|username)$/.test(v);
}

/** Replaces a value, keeping the quotes around it. */
function maskValue(raw: string): string {
  const q = raw[0];
  return (q === '"' || q === "'") && raw.endsWith(q) && raw.length > 1 ? q + REDACTED + q : REDACTED;
}

// ---- 1. private-key blocks -------------------------------------------------------------------------------------

const KEY_BEGIN = /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const KEY_END = /-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

function maskPrivateKeys(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  let out = '';
  let at = 0;
  KEY_BEGIN.lastIndex = 0;
  for (let m = KEY_BEGIN.exec(text); m; m = KEY_BEGIN.exec(text)) {
    const bodyStart = m.index + m[0].length;
    out += text.slice(at, bodyStart) + REDACTED;
    KEY_END.lastIndex = bodyStart;
    const end = KEY_END.exec(text);
    at = end ? end.index : text.length;
    KEY_BEGIN.lastIndex = end ? end.index + end[0].length : text.length;
    if (end) {
      out += end[0];
      at = end.index + end[0].length;
    }
  }
  return out + text.slice(at);
}

// ---- 2. vendor tokens ------------------------------------------------------------------------------------------

/**
 * Prefixed tokens gitleaks has no rule for (yet), in the shapes their vendors document: OpenAI project and service
 * account keys, Vercel, Docker Hub, Notion, Groq, Figma, Cloudflare, Tailscale; Mailchimp keys found by their
 * `-us<n>` data-centre suffix alone (gitleaks needs the word "mailchimp" near them). Each starts where no token
 * character precedes it and has bounded repetitions.
 */
const OWN_TOKENS: readonly RegExp[] = [
  /(?<![A-Za-z0-9_])(?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60}(?![A-Za-z0-9])/g, // Vercel
  /(?<![A-Za-z0-9_])dckr_(?:pat|oat)_[A-Za-z0-9_-]{20,60}(?![A-Za-z0-9_-])/g, // Docker Hub
  /(?<![A-Za-z0-9_-])gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9_-])/g, // Groq
  /(?<![A-Za-z0-9_])fig[dou]_[A-Za-z0-9_-]{40,200}(?![A-Za-z0-9_-])/g, // Figma
  /(?<![A-Za-z0-9_])(?:cfk|cfut|cfat)_[A-Za-z0-9]{40,60}(?![A-Za-z0-9])/g, // Cloudflare
  /(?<![A-Za-z0-9_-])tskey-[a-z]{1,12}-[A-Za-z0-9-]{10,120}(?![A-Za-z0-9-])/g, // Tailscale
  /(?<![A-Za-z0-9_-])[0-9a-f]{32}-us\d{1,2}(?![A-Za-z0-9_-])/g, // Mailchimp
];
const OWN_TOKEN = new RegExp(OWN_TOKENS.map((re) => `(?:${re.source})`).join('|'), 'g');
const OWN_TOKEN_HINT = /sk-|vc[picrk]_|dckr_|ntn_|gsk_|fig[dou]_|cf[a-z]{1,3}_|tskey-|-us\d/;

/** An Alibaba Cloud AccessKey id, optionally followed by its 30-character secret (`LTAI… SECRET`, `LTAI…:SECRET`). */
const ALIYUN_KEY_PAIR = /(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12,24}(?![A-Za-z0-9])(?:([ \t]{0,4}[,:;|/][ \t]{0,4}|[ \t]{1,4})[A-Za-z0-9]{30}(?![A-Za-z0-9]))?/g;
/** An STS AccessKey id (`STS.…`) and an STS security token (`CAIS…`, base64). */
const ALIYUN_STS = /(?<![A-Za-z0-9.])STS\.[A-Za-z0-9]{16,40}(?![A-Za-z0-9])|(?<![A-Za-z0-9+/])CAIS[A-Za-z0-9+/]{20,4096}={0,2}(?![A-Za-z0-9+/=])/g;

/**
 * A rule's secret widened to the whole token it is part of: letters, digits, `_`, `-` on either side, and `+`, `/`,
 * `=` after it (base64), `.` between token characters. No piece of a token a rule recognised only in part is shown
 * (`xoxa-23984754863-2348975623111`, a key glued to the word before it).
 */
function widen(text: string, start: number, end: number): { start: number; end: number } {
  // [A-Za-z0-9_-], and after the token also +, / and =; a dot between token characters.
  const token = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
  const tail = (c: number): boolean => token(c) || c === 43 || c === 47 || c === 61;
  let a = start;
  let b = end;
  while (a > 0 && token(text.charCodeAt(a - 1)) && start - a < 256) a--;
  while (b < text.length && b - end < 256 && (tail(text.charCodeAt(b)) || (text.charCodeAt(b) === 46 && token(text.charCodeAt(b + 1))))) b++;
  return { start: a, end: b };
}

/** The spans widened to their whole tokens ({@link widen}), sorted, overlapping ones merged. */
function mergedSpans(text: string, spans: readonly { start: number; end: number }[]): { start: number; end: number }[] {
  const sorted = spans.map((sp) => widen(text, sp.start, sp.end)).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: { start: number; end: number }[] = [];
  for (const sp of sorted) {
    const last = out[out.length - 1];
    if (last && sp.start < last.end) last.end = Math.max(last.end, sp.end);
    else out.push({ ...sp });
  }
  return out;
}

/** The first line of a block that is public by nature: a public key, a certificate, a certificate request. */
const PUBLIC_BEGIN = /-----BEGIN ((?:[A-Z0-9]{1,20} ){0,4}(?:PUBLIC KEY(?: BLOCK)?|CERTIFICATE(?: REQUEST)?))-----/g;

/**
 * Public keys and certificates (`-----BEGIN PUBLIC KEY-----`, `…PGP PUBLIC KEY BLOCK-----`, `…CERTIFICATE-----` up to
 * their END line) are set aside like allow-listed values: their base64 body is random-looking but public, and the
 * entropy rule must not take it. A block without its END line is left to the rules.
 */
function setAsidePublicBlocks(text: string, keep: string[]): string {
  let out = '';
  let at = 0;
  // A kind whose END line is not after one BEGIN is not after any later one: looked for once (linear time).
  const endless = new Set<string>();
  PUBLIC_BEGIN.lastIndex = 0;
  for (let m = PUBLIC_BEGIN.exec(text); m; m = PUBLIC_BEGIN.exec(text)) {
    const kind = m[1] ?? '';
    if (endless.has(kind)) continue;
    const bodyStart = m.index + m[0].length;
    const end = text.indexOf(`-----END ${kind}-----`, bodyStart);
    if (end === -1) {
      endless.add(kind);
      continue;
    }
    out += text.slice(at, bodyStart) + PROTECT_OPEN + String(keep.length) + PROTECT_CLOSE;
    keep.push(text.slice(bodyStart, end));
    at = end;
    PUBLIC_BEGIN.lastIndex = end;
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * Where an allow-list named a value as not secret (a known public key, an `EXAMPLE` key), the value is set aside
 * behind a marker while the other rules run, and put back at the end: the entropy rule must not take what gitleaks'
 * allow-lists know to be harmless. The markers are non-characters, removed from the text beforehand.
 */
const PROTECT_OPEN = '\ufdd0';
const PROTECT_CLOSE = '\ufdd1';
const PROTECTED = /\ufdd0(\d{1,6})\ufdd1/g;

/** gitleaks' findings replaced (secrets) or set aside behind markers (values an allow-list named as harmless). */
function applyVendorFindings(text: string, found: { secrets: readonly Span[]; allowed: readonly Span[] }, keep: string[]): string {
  // (gitleaks' own allow-lists and entropy limits keep the placeholders they know: `AKIAXXXX…`, `…EXAMPLE…`.)
  const secrets = mergedSpans(
    text,
    found.secrets.filter((sp) => {
      const secret = text.slice(sp.start, sp.end);
      return !secret.includes(REDACTED);
    }),
  );
  // The allowed values no secret overlaps (one sweep over both sorted lists), set aside behind markers.
  const edits: { start: number; end: number; keep: boolean }[] = [];
  let j = 0;
  for (const a of [...found.allowed].sort((x, y) => x.start - y.start)) {
    while (j < secrets.length && (secrets[j]?.end ?? 0) <= a.start) j++;
    if (j < secrets.length && (secrets[j]?.start ?? Infinity) < a.end) continue;
    const last = edits[edits.length - 1];
    if (last && last.end > a.start) continue;
    edits.push({ start: a.start, end: a.end, keep: true });
  }
  const all = [...edits, ...secrets.map((sp) => ({ ...sp, keep: false }))].sort((x, y) => x.start - y.start);
  let s = '';
  let at = 0;
  for (const e of all) {
    s += text.slice(at, e.start);
    if (e.keep) {
      s += PROTECT_OPEN + String(keep.length) + PROTECT_CLOSE;
      keep.push(text.slice(e.start, e.end));
    } else s += REDACTED;
    at = e.end;
  }
  return s + text.slice(at);
}

/** Our prefixed tokens and Alibaba Cloud's (see {@link OWN_TOKENS}). */
function maskOwnTokens(text: string): string {
  let s = text;
  if (OWN_TOKEN_HINT.test(s)) s = s.replace(OWN_TOKEN, REDACTED);
  if (s.includes('LTAI')) s = s.replace(ALIYUN_KEY_PAIR, (_m, sep: string | undefined) => (sep === undefined ? REDACTED : REDACTED + sep + REDACTED));
  if (s.includes('STS.') || s.includes('CAIS')) s = s.replace(ALIYUN_STS, REDACTED);
  return s;
}

// ---- 3. JWTs and authorization ---------------------------------------------------------------------------------

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{0,4096}(?![A-Za-z0-9_-])/g;
/** `Authorization: <scheme> <credentials>` (also `Proxy-Authorization`, JSON or header style): all credentials go. */
const AUTHORIZATION_HEADER =
  /(?<![A-Za-z0-9_-])((?:proxy-)?authorization["']?[ \t]{0,8}[:=][ \t]{0,8}["']?)(?:((?:Digest|[A-Z0-9]{2,12}-HMAC-SHA\d{1,3})[ \t]{1,8})([^\n]{1,4096})|((?:Bearer|Basic|Token|Negotiate|NTLM|Bot)[ \t]{1,8})?([^\s"'\n]{1,4096}))/gi;
const BEARER = /(?<![A-Za-z0-9_-])(Bearer[ \t]{1,8})([A-Za-z0-9._~+/-]{8,4096}=*)(?![A-Za-z0-9._~+/=-])/g;
const BASIC = /(?<![A-Za-z0-9_-])(Basic[ \t]{1,8})([A-Za-z0-9+/]{6,4096}={0,2})(?![A-Za-z0-9+/=])/g;

function maskAuthorization(text: string): string {
  let s = text.includes('eyJ') ? text.replace(JWT, REDACTED) : text;
  if (!/authorization|bearer|basic/i.test(s)) return s;
  // Digest and HMAC schemes carry several parameters: everything to the end of the line goes.
  s = s.replace(AUTHORIZATION_HEADER, (m, head: string, multi: string | undefined, params: string | undefined, scheme: string | undefined, value: string | undefined) => {
    const v = params ?? value ?? '';
    return v.startsWith('<redacted') || keepValue(v) ? m : head + (multi ?? scheme ?? '') + REDACTED;
  });
  s = s.replace(BEARER, (m, head: string, value: string) =>
    /[\d._~+/-]/.test(value) || value.length >= 24 ? head + REDACTED : m,
  );
  // Basic credentials are base64 of `user:password`: only such a value is masked (not "Basic authentication").
  return s.replace(BASIC, (m, head: string, value: string) =>
    Buffer.from(value, 'base64').toString('latin1').includes(':') ? head + REDACTED : m,
  );
}

// ---- 4. URL user-info ------------------------------------------------------------------------------------------

/** `scheme://user:password@host` (user may be empty, as in `redis://:pw@host`). */
const URL_USERINFO = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:/?#@"'<>]{0,256}:)([^\s/"'<>]{1,512})@(?=[^\s@/"'<>]{1,256})/g;

/**
 * Chat-bot webhooks whose path is the credential: Feishu/Lark (`/open-apis/bot/v2/hook/TOKEN`), Discord, Slack-like
 * `/hooks/TOKEN` and `/webhooks/ID/TOKEN`: everything after `hook(s)/` up to the query goes when it holds a digit and
 * 16 characters or more (a short numeric id, as in GitHub's `/hooks/123`, stays).
 */
const WEBHOOK_PATH = /(\/(?:hook|hooks|webhook|webhooks)\/)([A-Za-z0-9_/-]{16,512})/g;
/** Query parameters that carry a credential although their names are not secret-looking words: WeCom's `send?key=`, `sign=`, `sig=`. */
const QUERY_CREDENTIAL = /([?&](?:key|sign|sig|apikey|api-key|code_verifier)=)([^&#\s"'<>]{6,512})/gi;

function maskUrls(text: string): string {
  if (!text.includes('://')) return text;
  // A placeholder (`${PASSWORD}`, `YOUR_PASSWORD`, `xxxx`) or a user name repeated as its password (`mysql:mysql`, a
  // default) is kept.
  // User-info ends at an `@`: a text without one holds none.
  let s = !text.includes('@')
    ? text
    : text.replace(URL_USERINFO, (m, head: string, pw: string) => (pw.startsWith('<redacted') || keepValue(pw) || head.endsWith(`/${pw}:`) ? m : `${head}${REDACTED}@`));
  if (/hook/i.test(s)) s = s.replace(WEBHOOK_PATH, (m, head: string, token: string) => (/\d/.test(token) && !token.startsWith('<') ? head + REDACTED : m));
  if (s.includes('=')) s = s.replace(QUERY_CREDENTIAL, (m, head: string, value: string) => (value.startsWith('<redacted') || keepValue(value) ? m : head + REDACTED));
  return s;
}

// ---- 4b. .netrc ------------------------------------------------------------------------------------------------

/**
 * `.netrc` entries: `machine HOST login USER password VALUE` on one line, or `password VALUE` on a line of its own
 * after the `machine` (and `login`) lines (the file's other layout). Prose such as `password authentication failed`
 * or a sentence that starts with "password" is kept.
 */
const NETRC_INLINE = new RegExp(String.raw`(\b(?:machine|default|login)\b[^\n]{0,256}?\b(?:password|passwd|account)[ \t]{1,8})(${VALUE})`, 'g');
const NETRC_LINE = new RegExp(
  String.raw`^([ \t]{0,16}(?:machine|default|login)\b[^\n]{0,256}\n(?:[ \t]{0,16}(?:login|account)\b[^\n]{0,256}\n){0,2}[ \t]{0,16}(?:password|passwd)[ \t]{1,8})(${VALUE})(?=[ \t]{0,16}\r?$)`,
  'gm',
);

function maskNetrc(text: string): string {
  if (!/passw|account/.test(text)) return text;
  const mask = (whole: string, head: string, value: string) => (keepValue(value) ? whole : head + maskValue(value));
  return text.replace(NETRC_INLINE, mask).replace(NETRC_LINE, mask);
}

// ---- 5. command-line flags -------------------------------------------------------------------------------------

/** `--password VALUE`, `--db-password=VALUE`, `-passin pass:X`: a flag whose name looks secret, and its value. */
const SECRET_FLAG = new RegExp(String.raw`(?<![A-Za-z0-9_-])(--?)([A-Za-z][A-Za-z0-9_.-]{0,63})(=|[ \t]{1,8})(?![-<])(${VALUE})`, 'g');

/** Tools whose short flags take a password, and the flags. The tool name is looked up in the same command. */
const TOOL_FLAGS: readonly { tool: RegExp; flag: RegExp }[] = [
  // mysql, mysqldump, mysqladmin, mariadb…: only the attached form is a password.
  { tool: /(?<![A-Za-z0-9_-])(?:mysql[a-z_-]{0,12}|mariadb[a-z_-]{0,12})(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-p)(?![<\s])(${VALUE})`, 'g') },
  { tool: /(?<![A-Za-z0-9_-])sshpass(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-p[ \t]{0,8})(?![<\s-])(${VALUE})`, 'g') },
  {
    tool: /(?<![A-Za-z0-9_-])(?:docker|podman|nerdctl|buildah|skopeo|helm|oras|crane|regctl)(?:[ \t]{1,8}registry)?[ \t]{1,8}login(?![A-Za-z0-9_])/,
    flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-p[ \t]{0,8})(?![<\s-])(${VALUE})`, 'g'),
  },
  { tool: /(?<![A-Za-z0-9_-])(?:mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop)(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-p[ \t]{0,8})(?![<\s-])(${VALUE})`, 'g') },
  { tool: /(?<![A-Za-z0-9_-])redis-cli(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-a[ \t]{0,8})(?![<\s-])(${VALUE})`, 'g') },
  { tool: /(?<![A-Za-z0-9_-])redis-cli(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(AUTH[ \t]{1,8}(?:[^\s<]{1,128}[ \t]{1,8})?)(?![<\s-])(${VALUE})`, 'gi') },
  { tool: /(?<![A-Za-z0-9_-])(?:sqlcmd|bcp|osql|zip|unzip)(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-P[ \t]{0,8})(?![<\s-])(${VALUE})`, 'g') },
  { tool: /(?<![A-Za-z0-9_-])(?:7z|7za|7zr|rar|unrar)(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-p)(?![<\s-])(${VALUE})`, 'g') },
  { tool: /(?<![A-Za-z0-9_-])ldap[a-z]{2,12}(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])(-w[ \t]{0,8})(?![<\s-])(${VALUE})`, 'g') },
  { tool: /(?<![A-Za-z0-9_-])(?:curl|wget|http|xh)(?![A-Za-z0-9_])/, flag: new RegExp(String.raw`(?<![A-Za-z0-9_-])((?:-u|--user|-U|--proxy-user)[ \t=]{0,8}["']?[^\s:"'<]{1,128}:)([^\s"'<]{1,512})`, 'g') },
];
/** openssl's password arguments: `pass:VALUE` (`env:VAR`, `file:PATH` are kept). */
const OPENSSL_PASS = /(?<![A-Za-z0-9_-])(pass:)([^\s"'<]{1,512})/g;
/** `-uUSER -pVALUE` or `-u USER -pVALUE`, whatever the tool. */
const USER_THEN_PASSWORD = new RegExp(String.raw`(?<![A-Za-z0-9_-])(-u[ \t]{0,8}[^\s-][^\s]{0,128}[ \t]{1,8}-p)(?![<\s])(${VALUE})`, 'g');
/**
 * `-u USER:VALUE`, `--user USER:VALUE`, whatever the tool (a continuation line of a `curl \` command shows no tool):
 * the colon form is curl's, wget's and httpie's credential. A numeric pair is docker's `-u UID:GID` and is kept.
 */
const USER_COLON_PASSWORD = /(?<![A-Za-z0-9_-])((?:-u|--user|-U|--proxy-user)(?:[ \t]{1,8}|=)["']?([^\s:"'<-][^\s:"'<]{0,127}):)([^\s"'<]{1,512})/g;
/** Where a command ends: a newline that no backslash continues, a pipe, `;`, `&`. */
const COMMAND_END = /(?<!\\\r?)\r?\n|[|;&]/g;

/** Every tool name in {@link TOOL_FLAGS}, and the `-u… -p…` and `pass:` forms: a cheap test before the tools. */
const TOOL_HINT = /mysql|mariadb|sshpass|login|mongo|redis-cli|sqlcmd|bcp|osql|zip|7z|rar|ldap|curl|wget|http|xh|-u|pass:/i;

/** Any tool of {@link TOOL_FLAGS}: when none is in the text, none of them is looked for one by one. */
const ANY_TOOL = new RegExp(TOOL_FLAGS.map(({ tool }) => `(?:${tool.source})`).join('|'), 'i');

function maskToolFlags(text: string): string {
  if (!TOOL_HINT.test(text)) return text;
  let s = text;
  for (const { tool, flag } of ANY_TOOL.test(s) ? TOOL_FLAGS : []) {
    if (!tool.test(s)) continue;
    const finder = new RegExp(tool.source, 'g');
    let out = '';
    let at = 0;
    for (let m = finder.exec(s); m; m = finder.exec(s)) {
      COMMAND_END.lastIndex = m.index + m[0].length;
      const end = COMMAND_END.exec(s)?.index ?? s.length;
      const segment = s.slice(m.index, end);
      out += s.slice(at, m.index) + segment.replace(flag, (whole, head: string, value: string) => (keepValue(value) ? whole : head + maskValue(value)));
      at = end;
      finder.lastIndex = end;
    }
    s = out + s.slice(at);
  }
  // Each pattern runs only where what every match of it holds is there (`-u` and `-p`; `-u` or `-U`, and a colon;
  // `pass:`): a flag word such as `-a` or `-w` brings this family in, and most of its parts hold none of them.
  if (s.includes('-u') && s.includes('-p')) s = s.replace(USER_THEN_PASSWORD, (whole, head: string, value: string) => (keepValue(value) ? whole : head + maskValue(value)));
  if ((s.includes('-u') || s.includes('-U')) && s.includes(':')) {
    s = s.replace(USER_COLON_PASSWORD, (whole, head: string, user: string, value: string) =>
      keepValue(value) || (/^\d+$/.test(user) && /^\d+$/.test(value)) ? whole : head + REDACTED,
    );
  }
  return s.includes('pass:') ? s.replace(OPENSSL_PASS, (whole, head: string, value: string) => (value.startsWith('<redacted') ? whole : head + REDACTED)) : s;
}

function maskSecretFlags(text: string): string {
  if (!text.includes('-')) return text;
  return text.replace(SECRET_FLAG, (whole, dashes: string, name: string, sep: string, value: string) =>
    isSecretFlag(name) && !keepValue(value) ? dashes + name + sep + maskValue(value) : whole,
  );
}

// ---- 6. KEY=VALUE, key: value ----------------------------------------------------------------------------------

/**
 * An identifier (it may start with a digit: `1PASSWORD_TOKEN`), a separator (`=`, `:=` and make's `::=`, `?=`, `:` not
 * starting `://`, `=>`, `：`), a value.
 */
const ASSIGNMENT = new RegExp(
  String.raw`(?<![A-Za-z0-9_.-])([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})(["']?[ \t]{0,8}(?:=>|:{1,3}=|\?=|=|:(?!//)|：)[ \t]{0,8})(${VALUE})`,
  'g',
);
const CHINESE_ASSIGNMENT = new RegExp(String.raw`(密码|口令|密钥|秘钥|私钥|令牌)([ \t]{0,8}(?:[:=：]|为|是)[ \t]{0,8})(${VALUE})`, 'g');
/** `<password>…</password>` and the like. */
const XML_ELEMENT = /<([A-Za-z][A-Za-z0-9_.-]{0,63})>([^<\n]{1,512})<\/\1>/g;

/**
 * `access_key_secret VALUE`, `AccessKeySecret VALUE`: a key of several words (snake, kebab or camel case) that
 * looks secret, a space, and a value that looks like a credential (a digit in it, or 12 characters or more).
 */
const SPACED_ASSIGNMENT = new RegExp(
  String.raw`(?<![A-Za-z0-9_.-])([A-Za-z][A-Za-z0-9_-]{2,63})([ \t]{1,8})(?![<-])(${VALUE})`,
  'g',
);

/** True when a value is the name of a structure that follows (`token=Token{a64f992 …}`, `token: Foo(…)`), not a secret. */
function opensStructure(whole: string, offset: number, text: string): boolean {
  const next = text[offset + whole.length];
  return next === '{' || next === '(' || next === '[';
}

/**
 * True when a value after `key: ` reads as the start of a sentence, not a credential: a word of letters only followed
 * by another word (`SignatureDoesNotMatch: Specified signature is not matched`, `token: Invalid or expired`).
 */
function isProse(sep: string, value: string, offset: number, whole: string, text: string): boolean {
  if (!/^["']?[ \t]{0,8}[:：][ \t]{1,8}$/.test(sep)) return false;
  if (!/^[A-Za-z][a-z]{1,24}$/.test(value)) return false;
  return /^[ \t]{1,4}[A-Za-z(]/.test(text.slice(offset + whole.length, offset + whole.length + 6));
}

/**
 * Values over several lines: a quoted value whose closing quote is on a later line (`PASSWORD="line 1⏎line 2"`), and a
 * YAML block scalar (`password: |` followed by its indented lines). All of it goes.
 */
const MULTI_LINE_QUOTED = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})(["']?[ \t]{0,8}(?:=|:)[ \t]{0,8})("[^"\n]{0,512}\n[^"]{0,4096}"|'[^'\n]{0,512}\n[^']{0,4096}')/g;
const YAML_BLOCK = /^([ \t]{0,32})([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})([ \t]{0,8}:[ \t]{0,8}[|>][-+]?[ \t]{0,8}\r?\n)((?:[ \t]{1,32}[^\n]{0,1024}(?:\n|$)){1,64})/gm;

function maskMultiLineValues(text: string): string {
  let s = text;
  if (s.includes('"') || s.includes("'")) {
    s = s.replace(MULTI_LINE_QUOTED, (whole, key: string, sep: string, value: string) => (isSecretKey(key) && !keepValue(value) ? key + sep + maskValue(value) : whole));
  }
  if (s.includes('|') || s.includes('>')) {
    s = s.replace(YAML_BLOCK, (whole, indent: string, key: string, sep: string, block: string) => {
      if (!isSecretKey(key)) return whole;
      // The block is the lines indented deeper than its key; the first line that is not ends it.
      const lines = block.split('\n');
      let inBlock = true;
      const out = lines.map((line) => {
        const lead = /^[ \t]*/.exec(line)?.[0] ?? '';
        if (inBlock && line.trim() !== '' && lead.length > indent.length) return lead + REDACTED;
        if (line.trim() !== '') inBlock = false;
        return line;
      });
      return indent + key + sep + out.join('\n');
    });
  }
  return s;
}

function maskAssignments(text: string): string {
  // A key that is not secret gives back all but itself, so `Error: password=…` and `env: DB_PASSWORD=…` are seen
  // as the assignments they hold.
  let s = '';
  let at = 0;
  ASSIGNMENT.lastIndex = 0;
  for (let m = ASSIGNMENT.exec(text); m; m = ASSIGNMENT.exec(text)) {
    const [whole, key = '', sep = '', value = ''] = m;
    if (isSecretKey(key) && !keepValue(value) && !opensStructure(whole, m.index, text) && !isProse(sep, value, m.index, whole, text)) {
      s += text.slice(at, m.index) + key + sep + maskValue(value);
      at = m.index + whole.length;
    } else {
      ASSIGNMENT.lastIndex = m.index + key.length + 1;
    }
  }
  s += text.slice(at);
  // (`isSecretKey` first: it remembers its answers, while `words` splits the key anew for every pair of words.)
  s = s.replace(SPACED_ASSIGNMENT, (whole, key: string, sep: string, value: string) =>
    isSecretKey(key) && words(key).length > 1 && !keepValue(value) && (/\d/.test(value) || value.length >= 12) ? key + sep + maskValue(value) : whole,
  );
  if (s.includes('</')) s = s.replace(XML_ELEMENT, (whole, tag: string, value: string) => (isSecretKey(tag) && !keepValue(value) ? `<${tag}>${REDACTED}</${tag}>` : whole));
  return s;
}

function maskChineseAssignments(text: string): string {
  return text.replace(CHINESE_ASSIGNMENT, (whole, key: string, sep: string, value: string) => (keepValue(value) ? whole : key + sep + maskValue(value)));
}

/** Text without one of these holds no secret-looking key or flag name ({@link isSecretKey}, {@link SECRET_FLAGS}). */
const KEY_HINT = /pass|pwd|pw|secret|token|key|credential|signature|cookie|auth/i;
const CHINESE_KEY_HINT = /密码|口令|密钥|秘钥|私钥|令牌/;

// ---- 7. entropy ------------------------------------------------------------------------------------------------

/** A run of base64 (or base64url) characters; only runs of 24 or more are weighed. */
const BASE64_RUN = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])/g;
/** What every run {@link BASE64_RUN} takes holds: a cheap test before it. */
const BASE64_HINT = /[A-Za-z0-9+/_-]{24}/;
/**
 * detect-secrets' default limit for base64 strings, in bits per character. A string of n characters holds at most
 * log2(n) bits per character, so shorter runs (24–45 characters) need log2(n) − 1 instead.
 */
const ENTROPY_LIMIT = 4.5;

/**
 * The share of neighbouring letters and digits that differ in class (upper case, lower case, digit): about two
 * thirds in random characters, a third or less in words, camel case and versions.
 */
function classChangeRatio(text: string): number {
  const cls = (c: number): number => (c >= 65 && c <= 90 ? 0 : c >= 97 && c <= 122 ? 1 : c >= 48 && c <= 57 ? 2 : 3);
  let pairs = 0;
  let changes = 0;
  for (let i = 1; i < text.length; i++) {
    const a = cls(text.charCodeAt(i - 1));
    const b = cls(text.charCodeAt(i));
    if (a === 3 || b === 3) continue;
    pairs++;
    if (a !== b) changes++;
  }
  return pairs === 0 ? 0 : changes / pairs;
}

function looksRandom(run: string): boolean {
  const core = run.replace(/=+$/, '');
  if (!/[A-Z]/.test(core) || !/[a-z]/.test(core) || !/\d/.test(core)) return false;
  if (encodesText(core)) return false;
  const slashes = core.split('/').length - 1;
  if (slashes * 12 > core.length) return false; // a path
  if (/^[A-Za-z][a-z]+(?:[-_][A-Za-z0-9][a-z0-9]*)+$/.test(core)) return false; // kebab/snake words
  // Words (`PlatformUpdate-Win7-SRV08R2`, `HarddiskVolumeShadowCopy2/Windows`) change between upper case, lower case
  // and digits rarely; random characters do on about two thirds of their neighbours.
  if (classChangeRatio(core) < 0.4) return false;
  return shannonEntropy(core) >= Math.min(ENTROPY_LIMIT, Math.log2(core.length) - 1);
}

/**
 * True when a run is base64 (or base64url) of text: 16 bytes or more that are all printable ASCII (`YmVkcm9jay5h…` is
 * "bedrock.a…"). A random key decodes to bytes of every value; encoded text is data, not a key (a `user:password`
 * pair is found by the Basic and assignment rules before, by its name).
 */
function encodesText(run: string): boolean {
  // JSON (`eyJ…`, `{"…`) is a token's payload (a JWT's parts), not text.
  if (run.length < 24 || run.startsWith('eyJ') || (/[+/]/.test(run) && /[-_]/.test(run))) return false;
  const bytes = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length < 16) return false;
  for (const b of bytes) if (b < 32 || b > 126) return false;
  return true;
}

/** Keys that name something public (`public_key`, `publicToken`, Stripe's publishable `pk_live_…`): their values are kept. */
const NAMED_PUBLIC = /(?:^|[^A-Za-z0-9])(?:public|pub|publishable)[_-]?[A-Za-z0-9_-]{0,40}["']?[ \t]{0,8}[:=][ \t]{0,8}["']?$/i;

/** A path segment after which a URL carries a credential (checked on the segment, or the text just before the run). */
const SECRET_PATH_WORD = /(?:token|tokens|key|keys|secret|secrets|auth|hooks?|webhooks?|password|credentials?|sig|signature)\/?$/i;

/** True when the run at `offset` is inside a URL: `://` comes before it in the same word. */
function inUrl(text: string, offset: number): boolean {
  const from = Math.max(0, offset - 512);
  const before = text.slice(from, offset);
  const scheme = before.lastIndexOf('://');
  return scheme !== -1 && !/\s/.test(before.slice(scheme));
}

/**
 * A Discord bot token in its documented shape: the bot's numeric id in base64 (17–20 digits: `M`, `N` or `O` first),
 * a dot, a 6-character timestamp, a dot, the 27–38-character HMAC. Found without the word "discord" near it.
 */
const DISCORD_TOKEN = /(?<![A-Za-z0-9_.-])[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_.-])/g;

function maskHighEntropy(text: string): string {
  if (!BASE64_HINT.test(text)) return text;
  return text.replace(DISCORD_TOKEN, REDACTED).replace(BASE64_RUN, (run, offset: number, whole: string) => {
    const before = whole.slice(Math.max(0, offset - 8), offset).toLowerCase();
    if (/(?:sha\d{0,3}|md5|digest|integrity)[-:= ]{1,2}$/.test(before) || /^(?:sha\d{1,3}|md5)-/i.test(run)) return run; // a hash named as such
    if (/^pk_(?:live|test)_/.test(run) || NAMED_PUBLIC.test(whole.slice(Math.max(0, offset - 64), offset))) return run; // public by name
    // An SSH public key (`ssh-ed25519 AAAAC3Nz…`, an authorized_keys line): public by nature.
    if (/^AAAA[A-Za-z0-9+/]/.test(run) && /(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d{3}|sk-ssh-ed25519@openssh\.com) $/.test(whole.slice(Math.max(0, offset - 40), offset))) return run;
    // A URL's path names what it points at (a document, a commit, an object): kept, but for a random segment after
    // one that says a credential follows (`/token/…`, `/keys/…`); the URL rules masked user-info, hooks and queries.
    if ((run.includes('/') || whole[offset - 1] === '/') && inUrl(whole, offset)) {
      const segs = run.split('/');
      return segs.map((seg, i) => (seg.length >= 20 && SECRET_PATH_WORD.test(i > 0 ? (segs[i - 1] ?? '') : whole.slice(Math.max(0, offset - 32), offset)) && looksRandom(seg) ? REDACTED : seg)).join('/');
    }
    return looksRandom(run) ? REDACTED : run;
  });
}

// ---- where the rules run ---------------------------------------------------------------------------------------

/**
 * The rule families after gitleaks' rules, each with the words that must occur for it to find anything (any case):
 * a family runs only on the lines around its words, and an ordinary output holds few of them.
 */
const OWN = 1;
const AUTH = 2;
const URL = 4;
const NETRC = 8;
const TOOLS = 16;
const KEYS = 32;
const CHINESE = 64;
const ENTROPY = 128;
const FAMILY_WORDS: readonly (readonly [string, number])[] = [
  ...['sk-', 'vcp_', 'vci_', 'vca_', 'vcr_', 'vck_', 'dckr_', 'ntn_', 'gsk_', 'figd_', 'figo_', 'figu_', 'cfk_', 'cfut_', 'cfat_', 'tskey-', '-us', 'ltai', 'sts.', 'cais'].map((w) => [w, OWN] as const),
  ...['eyj', 'authorization', 'bearer', 'basic'].map((w) => [w, AUTH] as const),
  ['://', URL],
  ...['passw', 'account'].map((w) => [w, NETRC] as const),
  // Every flag TOOL_FLAGS, USER_THEN_PASSWORD, USER_COLON_PASSWORD and OPENSSL_PASS take holds one of these.
  ...['-p', '-a', '-w', '-u', 'pass:'].map((w) => [w, TOOLS] as const),
  // KEY_HINT's words (redis-cli's `AUTH` password is a tool flag too).
  ...['pass', 'pw', 'secret', 'token', 'key', 'credential', 'signature', 'cookie'].map((w) => [w, KEYS] as const),
  ['auth', KEYS | TOOLS],
  // Not a family: a key block or a public block starts here (see maskSecrets).
  ['-----begin', 0],
];
/** The first characters of the Chinese keys ({@link CHINESE_KEY_HINT}), and the markers of set-aside values. */
const CHINESE_FIRST = '密口秘私令\ufdd0\ufdd1';
/** The shortest run {@link BASE64_RUN} weighs. */
const MIN_RUN = 24;

/** The masker's tables: gitleaks' rules compiled, the one scanner over all their keywords and the families' words. */
export interface MaskerTables {
  /** gitleaks' rules, generated from its configuration (see vendor-rules.ts); their patterns compiled on first use. */
  upstream: VendorRules;
  /** gitleaks' keywords first (their numbers are the rules'), then the families' words. */
  scanner: TriggerScanner;
  /** Per word of {@link scanner}, the families it brings in (bits; 0 for gitleaks' keywords). */
  wordFamilies: readonly number[];
  /** The word number of `-----begin`. */
  beginWord: number;
}

/**
 * Builds the masker's tables (the rules compiled, the scanner's automaton: ~10 ms). Deterministic: what
 * {@link maskerTables} builds once.
 */
export function buildMaskerTables(): MaskerTables {
  const upstream = createVendorRules(VENDOR_RULES);
  const scanner = createTriggerScanner([...upstream.keywords, ...FAMILY_WORDS.map(([w]) => w)], MIN_RUN, CHINESE_FIRST);
  const familiesOf = new Map<string, number>();
  for (const [w, bits] of FAMILY_WORDS) familiesOf.set(w, (familiesOf.get(w) ?? 0) | bits);
  const wordFamilies = scanner.words.map((w) => familiesOf.get(w) ?? 0);
  return { upstream, scanner, wordFamilies, beginWord: scanner.words.lastIndexOf('-----begin') };
}

let tables: MaskerTables | undefined;
/**
 * The masker's tables, built on the first mask, not when the module loads: a cold start (a function that never
 * masks, or has not masked yet) does not pay for them.
 */
export function maskerTables(): MaskerTables {
  return (tables ??= buildMaskerTables());
}

/** How far a value over several lines (a YAML block, a quoted value) may reach below its key. */
const MULTI_LINE_REACH = 4096;
/** Lines above a `.netrc` password that may hold its `machine` and `login`. */
const NETRC_LINES_ABOVE = 3;

/**
 * The lines of a text, found once (the offsets of its newlines), for the parts {@link maskAroundWords} masks: a part is
 * made of whole lines, a command continued by a backslash at a line's end is one part. Each question costs a binary
 * search; a block of continued lines is walked once.
 */
class Lines {
  /** For a line, the last line of the block of continued lines it is in (-1: not known yet). */
  private readonly blockEnd: Int32Array;
  /** `newlines`: the offsets of the text's newlines, ascending (the scanner's pass found them). */
  constructor(
    private readonly text: string,
    private readonly newlines: readonly number[],
  ) {
    this.blockEnd = new Int32Array(this.newlines.length + 1).fill(-1);
  }

  /** The number of the line that holds offset `p`. */
  lineOf(p: number): number {
    let lo = 0;
    let hi = this.newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.newlines[mid] ?? 0) < p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  start(line: number): number {
    return line === 0 ? 0 : (this.newlines[line - 1] ?? -1) + 1;
  }

  end(line: number): number {
    return this.newlines[line] ?? this.text.length;
  }

  /** True when line `line` ends with a backslash, so that the next line goes on with it. */
  continued(line: number): boolean {
    const nl = this.newlines[line];
    if (nl === undefined) return false;
    const c = this.text.charCodeAt(nl - 1);
    return c === 92 || (c === 13 && this.text.charCodeAt(nl - 2) === 92);
  }

  /** The last line of the command line `line` is in (on past each backslash at a line's end). */
  lastOfBlock(line: number): number {
    let k = line;
    const walked: number[] = [];
    while ((this.blockEnd[k] ?? -1) === -1 && this.continued(k)) {
      walked.push(k);
      k++;
    }
    const last = (this.blockEnd[k] ?? -1) === -1 ? k : (this.blockEnd[k] ?? k);
    this.blockEnd[k] = last;
    for (const w of walked) this.blockEnd[w] = last;
    return last;
  }
}

/** A key whose value goes on below its line: a YAML block (`password: |`) or a quote the line does not close. */
const OPENS_MULTI_LINE = /(?:[:=：])[ \t]{0,8}(?:[|>][-+]?[ \t]{0,8}\r?$|["'][^"'\n]{0,512}$)/;

function maskFamilies(segment: string, families: number): string {
  let s = segment;
  if (families & OWN) s = maskOwnTokens(s);
  if (families & AUTH) s = maskAuthorization(s);
  if (families & URL) s = maskUrls(s);
  if (families & NETRC) s = maskNetrc(s);
  if (families & TOOLS) s = maskToolFlags(s);
  if (families & KEYS && KEY_HINT.test(s)) {
    s = maskSecretFlags(s);
    if (s.includes('\n')) s = maskMultiLineValues(s);
    s = maskAssignments(s);
  }
  if (families & CHINESE && CHINESE_KEY_HINT.test(s)) s = maskChineseAssignments(s);
  if (families & ENTROPY) s = maskHighEntropy(s);
  return s;
}

/**
 * The rule families run on the parts of `text` around their words (see {@link FAMILY_WORDS}): each word's line (with
 * what {@link partStart} and {@link partEnd} add), overlapping parts merged, each part masked by the families whose
 * words it holds. The rest of the text is not looked at again.
 */
function maskAroundWords(text: string, found: ScanResult, { scanner, wordFamilies }: MaskerTables): string {
  const starts: number[] = [];
  const ends: number[] = [];
  const families: number[] = [];
  for (let i = 0; i < found.starts.length; i++) {
    const f = wordFamilies[found.words[i] ?? 0] ?? 0;
    if (f === 0) continue;
    const at = found.starts[i] ?? 0;
    starts.push(at);
    ends.push(at + (scanner.words[found.words[i] ?? 0]?.length ?? 0));
    families.push(f);
  }
  for (let i = 0; i < found.runs.length; i += 2) {
    starts.push(found.runs[i] ?? 0);
    ends.push(found.runs[i + 1] ?? 0);
    families.push(ENTROPY);
  }
  for (const at of found.wide) {
    starts.push(at);
    ends.push(at + 2);
    families.push(CHINESE);
  }
  if (starts.length === 0) return text;
  const order = starts.map((_, i) => i).sort((x, y) => (starts[x] ?? 0) - (starts[y] ?? 0));
  // The parts, as [start, end, families] triples, ascending and apart, each of whole lines: a word's line, the lines
  // above a `.netrc` password, the lines of a continued command, the lines of a value that goes on below its key.
  const lines = new Lines(text, found.newlines);
  const parts: number[] = [];
  for (const i of order) {
    const at = starts[i] ?? 0;
    const f = families[i] ?? 0;
    const line = lines.lineOf(at);
    let end = lines.end(lines.lastOfBlock(lines.lineOf(Math.max(at, (ends[i] ?? at) - 1))));
    if (f & KEYS && lines.end(line) - at <= 512 && OPENS_MULTI_LINE.test(text.slice(at, lines.end(line)))) {
      end = Math.max(end, lines.end(lines.lineOf(Math.min(text.length, at + MULTI_LINE_REACH))));
    }
    let first = f & NETRC ? Math.max(0, line - NETRC_LINES_ABOVE) : line;
    let last = parts.length - 3;
    if (last >= 0 && lines.start(first) >= (parts[last] ?? 0)) {
      // Within the part before (or after it): no need to look above.
      if (lines.start(first) <= (parts[last + 1] ?? 0)) {
        parts[last + 1] = Math.max(parts[last + 1] ?? 0, end);
        parts[last + 2] = (parts[last + 2] ?? 0) | f;
        continue;
      }
    }
    if (f & TOOLS) while (first > 0 && lines.continued(first - 1) && lines.start(first) > (last >= 0 ? (parts[last + 1] ?? 0) : -1)) first--;
    let start = lines.start(first);
    let merged = f;
    while (last >= 0 && start <= (parts[last + 1] ?? 0)) {
      start = Math.min(start, parts[last] ?? 0);
      end = Math.max(end, parts[last + 1] ?? 0);
      merged |= parts[last + 2] ?? 0;
      parts.length = last;
      last -= 3;
    }
    parts.push(start, end, merged);
  }
  // The text itself when no part changed (most texts): no copy of it is made, and the caller's `=== text` is one test.
  let out = '';
  let done = 0;
  for (let i = 0; i < parts.length; i += 3) {
    const start = parts[i] ?? 0;
    const end = parts[i + 1] ?? 0;
    const part = text.slice(start, end);
    const masked = maskFamilies(part, parts[i + 2] ?? 0);
    if (masked === part) continue;
    out += text.slice(done, start) + masked;
    done = end;
  }
  return done === 0 ? text : out + text.slice(done);
}

/**
 * Masks every secret in `text` (see the module comment for the rules). Made for a whole output, once: one pass finds
 * gitleaks' keywords, the families' words and the long token runs; gitleaks' rules are tried where their keywords are,
 * the other rules run on the lines around their words only. Idempotent, and linear in the length.
 * @example maskSecrets('mysql -uroot -phunter2 -e "select 1"') // 'mysql -uroot -p<redacted> -e "select 1"'
 * @example maskSecrets('PGPASSWORD=s3cr3t psql -h db') // 'PGPASSWORD=<redacted> psql -h db'
 */
export function maskSecrets(text: string): string {
  if (text === '') return text;
  return maskScanned(text, maskerTables().scanner.scan(text));
}

/**
 * {@link maskSecrets} and, in its one pass over the text, which lines hold one of `lineWords` (ASCII, any case) and
 * whether the text holds a control character ({@link TriggerScanner.scanLines}): the error-line reading's own
 * questions about the same characters (its error stems). Those answers describe the text given, so they are returned
 * only when the masking left it as it was (`lines` undefined otherwise: the caller reads the masked text itself).
 * `lineWords` is one list for the life of the process (the scanner made for it is kept; another list makes another).
 * @example maskSecretsAndScan('E: disk full\nok', ['full']).lines?.lineWords // Uint8Array [1, 0]
 */
export function maskSecretsAndScan(text: string, lineWords: readonly string[]): { masked: string; lines?: LineScanResult } {
  if (lineScanner?.lineWords !== lineWords) {
    const t = maskerTables();
    lineScanner = { lineWords, scanner: createTriggerScanner(t.scanner.words, MIN_RUN, CHINESE_FIRST, lineWords) };
  }
  const found = lineScanner.scanner.scanLines(text);
  const masked = text === '' ? text : maskScanned(text, found);
  return masked === text ? { masked: text, lines: found } : { masked };
}
/** The masker's scanner with the line words of {@link maskSecretsAndScan} (its words those of {@link maskerTables}'). */
let lineScanner: { lineWords: readonly string[]; scanner: TriggerScanner } | undefined;

/** {@link maskSecrets} of a text that is not empty, given the scanner's answer on it. */
function maskScanned(text: string, first: ScanResult): string {
  const t = maskerTables();
  const keep: string[] = [];
  let s = text;
  let found = first;
  if (found.wide.length > 0 && (s.includes(PROTECT_OPEN) || s.includes(PROTECT_CLOSE))) {
    s = s.replace(/[\ufdd0\ufdd1]/g, '\ufffd');
    found = t.scanner.scan(s);
  }
  if (found.words.includes(t.beginWord)) {
    const before = s;
    if (s.includes('PRIVATE KEY')) s = maskPrivateKeys(s);
    s = setAsidePublicBlocks(s, keep);
    if (s !== before) found = t.scanner.scan(s);
  }
  const vendor = t.upstream.findAt(s, found.starts, found.words);
  if (vendor.secrets.length > 0 || vendor.allowed.length > 0) {
    s = applyVendorFindings(s, vendor, keep);
    found = t.scanner.scan(s);
  }
  s = maskAroundWords(s, found, t);
  return keep.length === 0 ? s : s.replace(PROTECTED, (m, n: string) => keep[Number(n)] ?? m);
}

/**
 * The version of these rules. A stored summary records the version its texts were masked with (`masking` in
 * summary.json) and is recomputed when the rules change, so a summary computed before a rule existed is never served.
 */
export const MASKING_VERSION = 'secrets/4';

/** C0 and C1 control characters except tab and newline (NUL, BEL, ESC, DEL, CR…). */
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/**
 * Bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the marks
 * (U+200E, U+200F, U+061C). Shown raw they reorder what follows (`\u202Egnp.exe` displays as `exe.png`).
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/**
 * Bidirectional controls written as visible escapes (`\u202e` → the six characters `\u202e`), so that a report or a
 * Markdown file shows them instead of obeying them.
 * @example showBidiControls('\u202egnp.exe') // '\\u202egnp.exe'
 */
export function showBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text fit to be shown: control characters other than tab and newline removed, bidirectional controls written as
 * visible escapes, secrets masked.
 * @example displayText('ok\u0007 password=x\u0000') // 'ok password=<redacted>'
 */
export function displayText(text: string): string {
  return maskSecrets(showBidiControls(text.replace(CONTROL_CHARS, '')));
}

/**
 * A deep copy of a JSON-like value with every string (values and object keys) passed through {@link displayText}.
 * Strings seen before are looked up, not masked again (the ids of a summary appear in several lists).
 * @param known strings whose {@link displayText} the caller has already (each mapped to it): looked up too.
 * @example maskDeep({ groups: [{ title: 'mysql -uroot -phunter2' }] }) // { groups: [{ title: 'mysql -uroot -p<redacted>' }] }
 */
export function maskDeep<T>(value: T, known?: ReadonlyMap<string, string>): T {
  const seen = new Map<string, string>();
  const text = (s: string): string => {
    let out = seen.get(s) ?? known?.get(s);
    if (out === undefined) {
      out = displayText(s);
      seen.set(s, out);
    }
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[text(k)] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
