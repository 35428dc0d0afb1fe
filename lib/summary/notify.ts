/**
 * Failure notifications (off unless `NOTIFY_WEBHOOK_URL` is set): the headline and the top causes, posted once
 * per archive to a webhook as plain JSON or as a DingTalk robot Markdown message.
 *
 * Once per archive: the `_notified.json` marker is written with forbid-overwrite BEFORE sending, so of two
 * concurrent or repeated summaries exactly one sends; the cost is at-most-once delivery (a failed send is
 * logged and not retried). Delivery problems never fail the summary.
 *
 * What is sent: counts, the cause signatures (normalised, secrets masked), the first resource id of each cause
 * and where the report is. Never outputs, never credentials; the webhook URL (which may hold a token) is logged
 * only masked.
 */
import { createHmac } from 'node:crypto';
import { notifiedKey, type ArchiveRef } from '../archive/layout';
import type { ObjectStore } from '../archive/store';
import type { NotifyConfig } from '../config';
import { isAlreadyExists } from '../errors';
import type { Logger } from '../log';
import { formatCount, formatPercent, groupLabel, headline, mdCode, mdText, subjectLine } from './render/markdown';
import type { Summary } from './summary';

export type { NotifyConfig } from '../config';

/** Causes included in a notification. */
export const NOTIFY_TOP_GROUPS = 5;

/**
 * A URL safe to log: scheme, host and the first path segment; the rest of the path and the query are masked
 * (webhook URLs carry their token in either).
 * @example maskUrl('https://oapi.dingtalk.com/robot/send?access_token=abc') // 'https://oapi.dingtalk.com/robot/…?…'
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    const segments = u.pathname.split('/').filter(Boolean);
    const path = segments.length === 0 ? '/' : `/${segments[0]}${segments.length > 1 ? '/…' : ''}`;
    return `${u.protocol}//${u.host}${path}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Whether a summary crosses the thresholds (there is always at least one failure). */
export function shouldNotify(summary: Summary, config: Pick<NotifyConfig, 'minFailures' | 'minFailureRatio'>): boolean {
  return summary.failures > 0 && summary.failures >= config.minFailures && summary.failureRatio >= config.minFailureRatio;
}

/** The JSON notification body. */
export function notificationBody(summary: Summary): Record<string, unknown> {
  return {
    event: 'execution-archive.failures',
    source: summary.source,
    regionId: summary.regionId,
    id: summary.id,
    subject: summary.subject,
    headline: headline(summary),
    total: summary.total,
    failures: summary.failures,
    failureRatio: summary.failureRatio,
    unfinished: summary.unfinished,
    causes: summary.groups.length,
    topGroups: summary.groups.slice(0, NOTIFY_TOP_GROUPS).map((g) => ({
      count: g.count,
      share: g.share,
      status: g.status,
      errorCode: g.errorCode,
      exitCode: g.exitCode,
      title: g.title,
      signature: g.signature,
      exampleId: g.example.id,
    })),
    retryCount: summary.retry.count,
    links: { report: summary.links.report, summary: summary.links.summary, retry: summary.links.retry },
    generatedAt: summary.generatedAt,
  };
}

/** The DingTalk robot Markdown message (`msgtype: markdown`). */
export function dingtalkBody(summary: Summary): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  const lines = [`### ${mdText(subjectLine(summary))}`, '', `**${mdText(headline(summary))}**`, ''];
  summary.groups.slice(0, NOTIFY_TOP_GROUPS).forEach((g, i) => {
    lines.push(`${i + 1}. **${formatCount(g.count)}** × ${mdText(groupLabel(g))} (${formatPercent(g.share)}): ${g.title || g.signature ? mdCode(g.title || g.signature) : 'no error text'}`);
  });
  if (summary.groups.length > NOTIFY_TOP_GROUPS) lines.push('', `…and ${formatCount(summary.groups.length - NOTIFY_TOP_GROUPS)} more causes`);
  lines.push('', `Retry: ${formatCount(summary.retry.count)} resources · Report: ${mdText(summary.links.report)}`);
  return {
    msgtype: 'markdown',
    markdown: { title: `execution-archive: ${formatCount(summary.failures)} failed in ${summary.id}`, text: lines.join('\n') },
  };
}

/** Adds DingTalk's `timestamp` and `sign` query parameters (HMAC-SHA256 of `timestamp\nsecret`). */
export function signDingtalkUrl(url: string, secret: string, nowMs: number): string {
  const sign = createHmac('sha256', secret).update(`${nowMs}\n${secret}`).digest('base64');
  const u = new URL(url);
  u.searchParams.set('timestamp', String(nowMs));
  u.searchParams.set('sign', sign);
  return u.toString();
}

/** What {@link notifyFailures} did. */
export type NotifyOutcome =
  | { sent: true; status: number }
  | { sent: false; reason: 'below-threshold' | 'already-notified' | 'delivery-failed'; status?: number; error?: string };

/** Everything {@link notifyFailures} needs. */
export interface NotifyInput {
  store: ObjectStore;
  ref: ArchiveRef;
  summary: Summary;
  config: NotifyConfig;
  logger: Logger;
  now: () => Date;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Notifies once per archive when the summary crosses the thresholds. Never throws for delivery problems (they
 * are logged); store errors other than "marker exists" are logged too and skip the send.
 * @example const outcome = await notifyFailures({ store, ref, summary, config, logger, now: () => new Date() });
 */
export async function notifyFailures(input: NotifyInput): Promise<NotifyOutcome> {
  const { store, ref, summary, config, logger } = input;
  const target = maskUrl(config.webhookUrl);
  if (!shouldNotify(summary, config)) {
    logger.debug('notification not needed', { failures: summary.failures, failureRatio: summary.failureRatio });
    return { sent: false, reason: 'below-threshold' };
  }
  const key = notifiedKey(ref);
  const marker = { at: input.now().toISOString(), target, format: config.format, failures: summary.failures, manifestFinishedAt: summary.manifest.finishedAt };
  try {
    await store.put(key, JSON.stringify(marker), { forbidOverwrite: true, contentType: 'application/json' });
  } catch (err) {
    if (isAlreadyExists(err)) {
      logger.info('notification already sent for this archive', { key });
      return { sent: false, reason: 'already-notified' };
    }
    logger.error('could not write the notification marker; not notifying', { key, err });
    return { sent: false, reason: 'delivery-failed', error: (err as Error).message };
  }

  const outcome = await postWebhook({ config, body: config.format === 'dingtalk' ? dingtalkBody(summary) : notificationBody(summary), logger, now: input.now, fetch: input.fetch });
  if (outcome.sent) logger.info('notification sent', { target, format: config.format, failures: summary.failures });
  return outcome;
}

/**
 * POSTs one message to the configured webhook (`body`: generic JSON, or a DingTalk robot message when the format
 * is `dingtalk`, signed when a secret is set). Never throws: a refused or failed delivery is logged and returned.
 * Used by the archive notifications above and by the digest (lib/digest).
 */
export async function postWebhook(input: {
  config: NotifyConfig;
  body: unknown;
  logger: Logger;
  now: () => Date;
  fetch?: typeof fetch | undefined;
}): Promise<NotifyOutcome> {
  const { config, body, logger } = input;
  const target = maskUrl(config.webhookUrl);
  const url = config.format === 'dingtalk' && config.dingtalkSecret ? signDingtalkUrl(config.webhookUrl, config.dingtalkSecret, input.now().getTime()) : config.webhookUrl;
  const doFetch = input.fetch ?? globalThis.fetch;
  try {
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.timeoutMs ?? 5000),
      redirect: 'error',
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      logger.warn('the notification webhook answered with an error', { target, status: res.status });
      return { sent: false, reason: 'delivery-failed', status: res.status };
    }
    if (config.format === 'dingtalk') {
      // DingTalk answers 200 with {"errcode":310000,"errmsg":"..."} when it refuses a message.
      const answer = (await res.text().catch(() => '')).slice(0, 4096);
      const errcode = /"errcode"\s*:\s*(-?\d+)/.exec(answer)?.[1];
      if (errcode !== undefined && errcode !== '0') {
        const errmsg = /"errmsg"\s*:\s*"([^"]{0,200})/.exec(answer)?.[1] ?? '';
        logger.warn('DingTalk refused the notification', { target, errcode: Number(errcode), errmsg });
        return { sent: false, reason: 'delivery-failed', status: res.status, error: `errcode ${errcode}: ${errmsg}` };
      }
    } else {
      await res.body?.cancel().catch(() => undefined);
    }
    return { sent: true, status: res.status };
  } catch (err) {
    // Log the message and code only: undici's error may carry the request URL (with its token) in its cause.
    const e = err as Error & { cause?: { code?: string } };
    const error = `${e.name}: ${e.message.split(config.webhookUrl).join(target)}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
    logger.warn('the notification could not be delivered', { target, error });
    return { sent: false, reason: 'delivery-failed', error };
  }
}
