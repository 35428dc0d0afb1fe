/**
 * collect: FC 3.0 handler. Direct/async invocation `{"source":"oos","regionId","executionId"}` or
 * `{"source":"ecs","regionId","invokeId","includeHistory"?}` (+ `"force"`) → the collect result; HTTP trigger
 * `POST /collect` with the same JSON body → the result as JSON (200 complete, 202 checkpointed, 4xx bad input).
 */
import { handleCollectEvent } from '../../lib/collect';
import { invokerFor } from '../../lib/cloud/invoke';
import { createRuntime, logColdStart } from '../../lib/runtime';
import { decodeEvent, type FcContext } from '../../lib/triggers';

// The runtime settings s.yaml gives collect (NODE_OPTIONS, MALLOC_ARENA_MAX) as they reached this process.
logColdStart('collect');

export const handler = async (event: Buffer, context: FcContext) => {
  const rt = createRuntime(context, { logFields: { fn: 'collect' } });
  const invoker = invokerFor(rt);
  return handleCollectEvent(decodeEvent(event), rt, { invoker });
};
