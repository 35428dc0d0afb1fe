/**
 * sweep: FC 3.0 handler for the timer trigger (payload: the trigger's JSON string) and for direct invocations with
 * the same JSON object. Lists recently finished OOS executions and Cloud Assistant invocations, and dispatches
 * `collect` for those without a complete archive (see lib/sweep).
 */
import { runSweep, sweepDeps } from '../../lib/sweep';
import { invokerFor } from '../../lib/cloud/invoke';
import { createRuntime } from '../../lib/runtime';
import { decodeEvent, type FcContext } from '../../lib/triggers';

export const handler = async (event: Buffer, context: FcContext) => {
  const rt = createRuntime(context, { logFields: { fn: 'sweep' } });
  const invoker = invokerFor(rt);
  // An empty direct invocation means "all defaults".
  const payload = Buffer.isBuffer(event) && event.toString('utf8').trim() === '' ? {} : decodeEvent(event);
  return runSweep(payload, sweepDeps(rt, invoker));
};
