/**
 * The one rule for "this name holds a secret", shared by the log redactor (lib/log.ts: a field whose name is secret
 * is written as `[redacted]`) and the masker of what summaries show (lib/causes/secrets.ts: `KEY=VALUE`,
 * `--flag VALUE`, `"key": "value"`, `<key>value</key>`). No dependencies, so every function may load it.
 */

/** Words that end a key name and make it not a secret: `token_type`, `password_file`, `access_key_id`… */
const NOT_SECRET_LAST_WORDS = new Set([
  'file', 'files', 'path', 'dir', 'type', 'length', 'len', 'count', 'url', 'uri', 'endpoint', 'ttl', 'expiry',
  'expires', 'expiration', 'expire', 'expired', 'policy', 'policies', 'id', 'ids', 'name', 'names', 'enabled',
  'required', 'prompt', 'min', 'max', 'age', 'date', 'time', 'size', 'mode', 'env', 'header', 'field', 'param',
  'encoding', 'format', 'kind', 'method', 'version', 'nonce', 'algorithm', 'stdin', 'source', 'provider', 'store',
  'manager', 'strength', 'hint', 'reset', 'changed', 'authentication', 'location', 'ref', 'region',
]);

/** First words of error codes (`InvalidAccessKeySecret`, `MissingSecurityToken`, `IncorrectPassword`). */
const ERROR_CODE_FIRST_WORDS = new Set(['invalid', 'missing', 'expired', 'incorrect', 'bad', 'wrong', 'unknown', 'unsupported', 'no', 'empty', 'malformed', 'forbidden', 'unauthorized', 'illegal', 'duplicate', 'revoked']);
/** Last words of error codes and of names of states (`SignatureDoesNotMatch`, `TokenExpired`, `PasswordMismatch`). */
const ERROR_CODE_LAST_WORDS = new Set([
  'match', 'matched', 'mismatch', 'mismatched', 'found', 'invalid', 'expired', 'error', 'errors', 'exception', 'failed', 'failure',
  'denied', 'missing', 'incorrect', 'exists', 'exceeded', 'forbidden', 'unauthorized', 'malformed', 'rejected', 'revoked',
  'unavailable', 'unsupported', 'wrong', 'empty', 'mandatory', 'conflict', 'notfound',
]);

/**
 * Key fragments that make a key secret-looking, tested on its lower-case words joined by spaces: a fragment may start
 * inside a word (`PGPASSWORD`) but must end where a word ends (`tokenizer`, `passwordless`, `secretsmanager` and
 * `master-keying` are not secrets).
 */
const SECRET_FRAGMENTS =
  /(?:pass ?words?|passwd|pass ?phrases?|pass ?codes?|secrets?|tokens?|api ?keys?|credentials?|private ?keys?|access ?keys?|auth ?keys?|encryption ?keys?|master ?keys?|signing ?keys?|signatures?|cookies?|authorization)(?= |$)/;
/** First words of keys that name something public, not a secret (`public_key`, `publicToken`). */
const PUBLIC_FIRST_WORDS = new Set(['public', 'pub']);

/** Splits `DB_PASSWORD`, `accessKeySecret`, `client-secret` into lower-case words. */
export function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/**
 * True when a key or flag name says its value is a secret: it holds `password`, `secret`, `token`, `api key`,
 * `credential`, `authorization`… (any case, any separator), or ends in `auth` (`basic_auth`, docker's `auth`), or in
 * `pwd` or `pass` after another word (`MYSQL_PWD`, `DB_PASS`); unless its last word says it names something else
 * (`token_type`, `password_file`, `access_key_id`: an AccessKey id is not its secret), it is
 * an error code (`SignatureDoesNotMatch`, `InvalidAccessKeySecret`) or it is public (`public_key`). A dotted name is
 * judged by its last part.
 * @example isSecretKey('PGPASSWORD') // true
 * @example isSecretKey('password_file') // false
 */
export function isSecretKey(key: string): boolean {
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = judge(key);
    // Names repeat (a log's field names, an output's `KEY=` names): remembered, at most ANSWERS of them.
    if (answers.size >= ANSWERS) answers.clear();
    if (key.length <= 64) answers.set(key, answer);
  }
  return answer;
}

const ANSWERS = 4096;
const answers = new Map<string, boolean>();

function judge(key: string): boolean {
  // A dotted name is judged by its last part: `spring.datasource.password` is, `….AppWindowToken.destroySurfaces` is not.
  const w = words(key.slice(key.lastIndexOf('.') + 1));
  const last = w[w.length - 1];
  if (last === undefined || NOT_SECRET_LAST_WORDS.has(last)) return false;
  // An error code names what went wrong with a secret, never the secret: `SignatureDoesNotMatch`, `InvalidAccessKeySecret`.
  if (ERROR_CODE_FIRST_WORDS.has(w[0] ?? '') || ERROR_CODE_LAST_WORDS.has(last)) return false;
  if (PUBLIC_FIRST_WORDS.has(w[0] ?? '')) return false;
  if (SECRET_FRAGMENTS.test(w.join(' '))) return true;
  if (last === 'auth') return true; // docker's "auth": "<base64 of user:password>", basic_auth, proxy_auth
  return w.length > 1 && (last === 'pwd' || last === 'pass' || last === 'pw');
}
