/**
 * digest: FC 3.0 handler for the timer trigger (payload: the trigger's JSON string, `{"days"?,"historyDays"?}`) and
 * for direct invocations with the same JSON object. Writes digests/<date>/digest.json, digest.md and digest.html from
 * the warehouse and notifies new and regressed causes and newly broken instances (see lib/digest).
 */
import { digestDeps, handleDigestEvent } from '../../lib/digest/invocation';
import { createRuntime } from '../../lib/runtime';
import { decodeEvent, type FcContext } from '../../lib/triggers';

export const handler = async (event: Buffer, context: FcContext) => {
  const rt = createRuntime(context, { logFields: { fn: 'digest' } });
  // An empty direct invocation means "all defaults".
  const payload = Buffer.isBuffer(event) && event.toString('utf8').trim() === '' ? {} : decodeEvent(event);
  return handleDigestEvent(payload, digestDeps(rt));
};
