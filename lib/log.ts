/**
 * Structured JSON-lines logging. One line per event: `{"time","level","msg","requestId",...fields}`.
 * Fields whose name looks like a secret are redacted wherever they sit in the object; what "looks like a secret" is
 * the masker's rule too (lib/secret-key.ts), so a log line and a summary never disagree on a name.
 */
import { isSecretKey } from './secret-key';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  fields?: LogFields;
  /** Where lines go; defaults to stdout (FC ships stdout to SLS). */
  write?: (line: string) => void;
  now?: () => Date;
}


/** Deep-copies `value` for logging: secrets redacted, errors flattened with their cause chain, bigints stringified. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (value instanceof Error) {
    const out: LogFields = { name: value.name, message: value.message };
    for (const [k, v] of Object.entries(value)) {
      if (k === 'entry' || k === 'url' || k === 'data') continue; // pop-core attaches signed URLs
      out[k] = isSecretKey(k) ? '[redacted]' : redact(v, depth + 1);
    }
    if (value.cause !== undefined) out.cause = redact(value.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object') {
    const out: LogFields = {};
    for (const [k, v] of Object.entries(value as LogFields)) {
      out[k] = isSecretKey(k) && v !== undefined && typeof v !== 'number' && typeof v !== 'boolean' ? '[redacted]' : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const base = options.fields ?? {};
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    const line = { time: now().toISOString(), level, msg, ...(redact(base) as LogFields), ...(redact(fields ?? {}) as LogFields) };
    write(JSON.stringify(line));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ write: () => undefined });
