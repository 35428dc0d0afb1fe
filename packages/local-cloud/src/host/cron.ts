/**
 * FC timer schedules: 6-field cron expressions with seconds (`sec min hour day-of-month month day-of-week`), in UTC,
 * and `@every <n>{s|m|h}`. Fields accept `*`, `?`, numbers, `a-b`, `a,b`, `*\/n` and `a/n`; months and days of
 * week also take `JAN`…`DEC` and `SUN`…`SAT` (0 and 7 are Sunday). `CRON_TZ=` prefixes are rejected.
 */

/** A parsed schedule. */
export interface Schedule {
  /** The next fire time strictly after `afterMs` (epoch ms), or `undefined` when there is none within ~5 years. */
  next(afterMs: number): number | undefined;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function field(text: string, min: number, max: number, names: string[] = [], nameBase = 0): Set<number> {
  const out = new Set<number>();
  const value = (s: string): number => {
    const i = names.indexOf(s.toUpperCase());
    const n = i >= 0 ? i + nameBase : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`cron value ${JSON.stringify(s)} is outside ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m?.[1]) throw new Error(`bad cron field ${JSON.stringify(text)}`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new Error(`bad cron step in ${JSON.stringify(text)}`);
    let lo: number;
    let hi: number;
    if (m[1] === '*' || m[1] === '?') {
      lo = min;
      hi = max;
    } else if (m[1].includes('-')) {
      const [a = '', b = ''] = m[1].split('-');
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(m[1]);
      hi = m[2] === undefined ? lo : max;
    }
    if (lo > hi) throw new Error(`bad cron range in ${JSON.stringify(text)}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/**
 * Parses an FC timer expression.
 * @throws Error for anything that is not 6 fields or `@every`.
 * @example parseSchedule('0 0/30 * * * *').next(Date.parse('2026-01-01T00:10:00Z')) // 2026-01-01T00:30:00Z
 */
export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  const every = /^@every\s+(\d+)(s|m|h)$/.exec(text);
  if (every) {
    const ms = Number(every[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[every[2] as 's' | 'm' | 'h'];
    if (ms <= 0) throw new Error(`bad @every interval in ${JSON.stringify(expression)}`);
    return { next: (after) => Math.floor(after / ms) * ms + ms };
  }
  if (text.startsWith('CRON_TZ=')) throw new Error('CRON_TZ is not supported by the local host; write the expression in UTC');
  const parts = text.split(/\s+/);
  if (parts.length !== 6) throw new Error(`an FC cron expression has 6 fields (with seconds), got ${parts.length}: ${JSON.stringify(expression)}`);
  const [sec = '', min = '', hour = '', dom = '', mon = '', dow = ''] = parts;
  const seconds = [...field(sec, 0, 59)].sort((a, b) => a - b);
  const minutes = field(min, 0, 59);
  const hours = field(hour, 0, 23);
  const doms = field(dom, 1, 31);
  const months = field(mon, 1, 12, MONTHS, 1);
  const dows = field(dow, 0, 7, DAYS, 0);
  if (dows.has(7)) dows.add(0);
  const domAny = dom === '*' || dom === '?';
  const dowAny = dow === '*' || dow === '?';
  const dayMatches = (d: Date): boolean => {
    const a = doms.has(d.getUTCDate());
    const b = dows.has(d.getUTCDay());
    if (domAny && dowAny) return true;
    if (domAny) return b;
    if (dowAny) return a;
    return a || b;
  };
  return {
    next(afterMs) {
      const start = Math.floor(afterMs / 1000) * 1000 + 1000;
      let minute = Math.floor(start / 60_000) * 60_000;
      const limit = minute + 5 * 366 * 86_400_000;
      while (minute < limit) {
        const d = new Date(minute);
        if (!months.has(d.getUTCMonth() + 1) || !dayMatches(d)) {
          minute = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
          continue;
        }
        if (!hours.has(d.getUTCHours())) {
          minute = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
          continue;
        }
        if (minutes.has(d.getUTCMinutes())) {
          for (const s of seconds) {
            const t = minute + s * 1000;
            if (t >= start) return t;
          }
        }
        minute += 60_000;
      }
      return undefined;
    },
  };
}
