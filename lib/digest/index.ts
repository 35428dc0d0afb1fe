/**
 * The fleet digest: across runs, which causes are new, recurring, regressed or gone, which instances are broken or
 * flaky, how each command's failure rate moves, and what changed since the last digest. Read from the warehouse
 * (history.ts, bounded memory), classified (classify.ts), written as `digests/<date>/digest.json`, `digest.md` and
 * a self-contained `digest.html` (render.ts), and notified (new and regressed causes, newly broken instances) once
 * per item through the archive notifications' webhook.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../archive/store';
import { InputError, isAlreadyExists } from '../errors';
import { rejectUnknownFields, requireObject } from '../payload';
import { isTimerTriggerEvent, parseJson } from '../triggers';
import type { Deadline } from '../deadline';
import type { Logger } from '../log';
import { postWebhook, type NotifyConfig, type NotifyOutcome } from '../summary/notify';
import { classify, type CauseState, type Classification, type DigestCause, type DigestInstance } from './classify';
import { readHistory } from './history';
import { DIGEST_FORMAT, type Digest, type DigestChanges } from './document';
import { renderDigestHtml, renderDigestMarkdown, digestHeadline } from './render';

export { DIGEST_FORMAT, type Digest, type DigestChanges } from './document';

export const DIGESTS_PREFIX = 'digests';
const DAY = 86_400_000;

export interface DigestDeps {
  store: ObjectStore;
  logger: Logger;
  /** The invocation's time budget: the compaction after the digest stops between partitions when it nears. */
  deadline?: Deadline;
  now?: () => Date;
  notify?: NotifyConfig | undefined;
  fetch?: typeof fetch;
}

export interface DigestRequest {
  /** Days in the window (ending now). @default 7 */
  days?: number;
  /** Days of history before the window that first-seen, regressed and gone look back over. @default 30 */
  historyDays?: number;
}

export interface DigestResult {
  digest: Digest;
  keys: { json: string; markdown: string; html: string };
  notification?: NotifyOutcome & { items: number };
}

export const digestKeys = (date: string) => ({
  json: `${DIGESTS_PREFIX}/${date}/digest.json`,
  markdown: `${DIGESTS_PREFIX}/${date}/digest.md`,
  html: `${DIGESTS_PREFIX}/${date}/digest.html`,
});

/** The latest digest stored for a date before `date`, if any (a digest of the same date is being replaced). */
async function previousDigest(store: ObjectStore, date: string, logger: Logger): Promise<Digest | undefined> {
  let latest: string | undefined;
  for await (const o of store.list(`${DIGESTS_PREFIX}/`)) {
    const m = /^digests\/(\d{4}-\d{2}-\d{2})\/digest\.json$/.exec(o.key);
    if (m?.[1] && m[1] < date && (!latest || m[1] > latest)) latest = m[1];
  }
  if (!latest) return undefined;
  const body = await store.get(digestKeys(latest).json);
  try {
    const parsed = body ? (JSON.parse(body.toString('utf8')) as Digest) : undefined;
    return parsed?.format === DIGEST_FORMAT ? parsed : undefined;
  } catch {
    logger.warn('the previous digest is not valid JSON; comparing with nothing', { date: latest });
    return undefined;
  }
}

const instanceId = (i: { command: string; resourceId: string }) => `${i.command}\u0000${i.resourceId}`;

function changesSince(current: Classification, previous: Digest | undefined): DigestChanges {
  const before = new Map<string, CauseState>((previous?.causes ?? []).map((c) => [c.key, c.state]));
  const wasBroken = new Set((previous?.broken ?? []).map(instanceId));
  const isBroken = new Set(current.broken.map(instanceId));
  const keysOf = (list: DigestCause[]) => list.map((c) => c.key);
  return {
    since: previous?.date ?? null,
    newCauses: keysOf(current.causes.filter((c) => c.state === 'new' && !before.has(c.key))),
    regressedCauses: keysOf(current.causes.filter((c) => c.state === 'regressed' && before.get(c.key) !== 'regressed')),
    goneCauses: keysOf(current.causes.filter((c) => c.state === 'gone' && before.has(c.key) && before.get(c.key) !== 'gone')),
    newlyBroken: current.broken.filter((i) => !wasBroken.has(instanceId(i))).map(({ command, resourceId }) => ({ command, resourceId })),
    recovered: (previous?.broken ?? []).filter((i) => !isBroken.has(instanceId(i))).map(({ command, resourceId }) => ({ command, resourceId })),
    commands: current.commands.flatMap((c) => (c.change !== null && Math.abs(c.change) >= 5 ? [{ command: c.command, rate: c.rate, previousRate: c.previousRate, change: c.change }] : [])),
  };
}

/**
 * Notifies the new and regressed causes and the newly broken instances that were not notified before: each item has
 * a marker under `digests/_notified/` written with forbid-overwrite before sending (as the archive notifications'
 * `_notified.json`: at most once, however many digests run), and one message lists those whose marker this run wrote.
 */
async function notifyDigest(deps: DigestDeps, digest: Digest, now: () => Date): Promise<(NotifyOutcome & { items: number }) | undefined> {
  const config = deps.notify;
  if (!config) return undefined;
  const byKey = new Map(digest.causes.map((c) => [c.key, c]));
  const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
  const candidates: { marker: string; line: string; item: unknown }[] = [
    ...digest.changes.newCauses.map((k) => ({ marker: `new-${k}`, cause: byKey.get(k) })),
    ...digest.changes.regressedCauses.map((k) => ({ marker: `regressed-${k}-${byKey.get(k)?.runId ?? ''}`, cause: byKey.get(k) })),
  ].flatMap(({ marker, cause }) => (cause ? [{ marker, line: `${cause.state}: ${cause.title || cause.status} (${cause.instances} instance-runs, ${cause.commands.join(', ')})`, item: { kind: cause.state, key: cause.key, title: cause.title, commands: cause.commands, instances: cause.instances } }] : []));
  const brokenBy = new Map<string, DigestInstance>(digest.broken.map((i) => [instanceId(i), i]));
  for (const b of digest.changes.newlyBroken) {
    const i = brokenBy.get(instanceId(b));
    if (i) candidates.push({ marker: `broken-${hash(instanceId(b))}-${digest.date}`, line: `broken: ${i.resourceId} failed all ${i.runs} runs of ${i.command}`, item: { kind: 'broken', command: i.command, resourceId: i.resourceId, runs: i.runs, causes: i.causes } });
  }
  const fresh: typeof candidates = [];
  for (const c of candidates) {
    try {
      await deps.store.put(`${DIGESTS_PREFIX}/_notified/${c.marker}.json`, JSON.stringify({ at: now().toISOString(), digest: digest.date }), { forbidOverwrite: true, contentType: 'application/json' });
      fresh.push(c);
    } catch (err) {
      if (!isAlreadyExists(err)) deps.logger.error('could not write a digest notification marker; not notifying it', { marker: c.marker, err });
    }
  }
  if (fresh.length === 0) return { sent: false, reason: 'already-notified', items: 0 };
  const shown = fresh.slice(0, 20);
  const more = fresh.length > shown.length ? `\n…and ${fresh.length - shown.length} more` : '';
  const body =
    config.format === 'dingtalk'
      ? { msgtype: 'markdown', markdown: { title: `execution-archive digest ${digest.date}`, text: `### Digest ${digest.date}\n\n**${digest.headline}**\n\n${shown.map((c) => `- ${c.line}`).join('\n')}${more}\n\nDigest: ${digest.links.html}` } }
      : { event: 'execution-archive.digest', date: digest.date, headline: digest.headline, items: fresh.map((c) => c.item), links: digest.links };
  const outcome = await postWebhook({ config, body, logger: deps.logger, now, fetch: deps.fetch });
  return { ...outcome, items: fresh.length };
}

/**
 * Computes the digest of the window ending now and stores digest.json, digest.md and digest.html under
 * `digests/<date>/` (digest.json last), then notifies when configured.
 * @example const { digest } = await runDigest({ store, logger }, { days: 7 });
 */
export async function runDigest(deps: DigestDeps, request: DigestRequest = {}): Promise<DigestResult> {
  const now = deps.now ?? (() => new Date());
  const days = request.days ?? 7;
  const historyDays = request.historyDays ?? 30;
  const at = now();
  const windowTo = at.getTime();
  const windowFrom = windowTo - days * DAY;
  const historyFrom = windowFrom - Math.max(days, historyDays) * DAY;
  const date = at.toISOString().slice(0, 10);
  const started = Date.now();

  const history = await readHistory(deps.store, { historyFrom, windowFrom, windowTo });
  const classification = classify(history, { windowFrom, windowTo });
  const keys = digestKeys(date);
  const previous = await previousDigest(deps.store, date, deps.logger);
  const digest: Digest = {
    format: DIGEST_FORMAT,
    date,
    generatedAt: at.toISOString(),
    window: { from: new Date(windowFrom).toISOString(), to: new Date(windowTo).toISOString(), days },
    historyFrom: new Date(historyFrom).toISOString(),
    headline: '',
    changes: changesSince(classification, previous),
    ...classification,
    links: { json: deps.store.locate(keys.json), markdown: deps.store.locate(keys.markdown), html: deps.store.locate(keys.html) },
  };
  digest.headline = digestHeadline(digest);
  await Promise.all([
    deps.store.put(keys.markdown, renderDigestMarkdown(digest), { contentType: 'text/markdown; charset=utf-8' }),
    deps.store.put(keys.html, renderDigestHtml(digest), { contentType: 'text/html; charset=utf-8' }),
  ]);
  await deps.store.put(keys.json, JSON.stringify(digest, null, 2), { contentType: 'application/json; charset=utf-8' });
  deps.logger.info('digest written', { date, runs: digest.runs, causes: history.causes.size, broken: digest.brokenCount, flaky: digest.flakyCount, ms: Date.now() - started });
  const result: DigestResult = { digest, keys };
  const notification = await notifyDigest(deps, digest, now);
  if (notification) result.notification = notification;
  return result;
}

/**
 * What the digest function's timer does after the digest: compact the warehouse's closed days (lib/warehouse/compact.ts).
 * `false` turns it off; `closedAfterHours` is how long after its end a day counts as closed.
 */
export type CompactRequest = false | { closedAfterHours?: number };

/** The digest function's payload (`{"days"?, "historyDays"?, "compact"?, "closedAfterHours"?}`; a timer's configured string, or a direct invocation). */
export const DIGEST_LIMITS = { maxDays: 90, maxHistoryDays: 366, maxClosedAfterHours: 24 * 30 } as const;

/**
 * Parses a decoded FC event: a timer trigger event (its `payload` string is JSON, or blank for the defaults) or a
 * direct invocation's JSON object. The digest's clock is the timer's `triggerTime` when there is one.
 * @throws InputError `InvalidPayload` naming the field.
 * @example parseDigestPayload({ triggerTime: '2026-12-07T01:00:00Z', triggerName: 'daily', payload: '{"days":7}' })
 */
export function parseDigestPayload(event: unknown): DigestRequest & { at?: Date; compact?: CompactRequest } {
  let body: unknown = event;
  let at: Date | undefined;
  if (isTimerTriggerEvent(event)) {
    const t = Date.parse(event.triggerTime);
    if (!Number.isFinite(t)) throw new InputError('InvalidPayload', `the timer event's triggerTime ${JSON.stringify(event.triggerTime)} is not a timestamp`);
    at = new Date(t);
    const text = event.payload;
    if (text !== undefined && typeof text !== 'string') throw new InputError('InvalidPayload', 'the timer event\'s "payload" must be a string (the trigger\'s configured payload)');
    body = text === undefined || text.trim() === '' ? {} : parseJson(text, 'the timer trigger payload');
  }
  const v = requireObject(body ?? {}, 'the digest payload', '{"days":7,"historyDays":30}');
  rejectUnknownFields(v, ['days', 'historyDays', 'compact', 'closedAfterHours'], 'the digest payload');
  const int = (key: 'days' | 'historyDays', max: number): number | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > max) throw new InputError('InvalidPayload', `"${key}" must be a whole number of days from 1 to ${max}, got ${JSON.stringify(x)}`);
    return x;
  };
  const request: DigestRequest & { at?: Date; compact?: CompactRequest } = {};
  const days = int('days', DIGEST_LIMITS.maxDays);
  const historyDays = int('historyDays', DIGEST_LIMITS.maxHistoryDays);
  if (days !== undefined) request.days = days;
  if (historyDays !== undefined) request.historyDays = historyDays;
  if (v.compact !== undefined && typeof v.compact !== 'boolean') throw new InputError('InvalidPayload', `"compact" must be true or false, got ${JSON.stringify(v.compact)}`);
  const closed = v.closedAfterHours;
  if (closed !== undefined && (typeof closed !== 'number' || !Number.isFinite(closed) || closed < 0 || closed > DIGEST_LIMITS.maxClosedAfterHours)) {
    throw new InputError('InvalidPayload', `"closedAfterHours" must be a number of hours from 0 to ${DIGEST_LIMITS.maxClosedAfterHours}, got ${JSON.stringify(closed)}`);
  }
  if (v.compact === false) request.compact = false;
  else if (closed !== undefined) request.compact = { closedAfterHours: closed };
  if (at) request.at = at;
  return request;
}
