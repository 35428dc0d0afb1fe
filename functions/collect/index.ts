/**
 * collect: FC 3.0 handler. Direct/async invocation `{"source":"oos","regionId","executionId"}` or
 * `{"source":"ecs","regionId","invokeId","includeHistory"?}` (+ `"force"`) → the collect result; HTTP trigger
 * `POST /collect` with the same JSON body → the result as JSON (200 complete, 202 checkpointed, 4xx bad input).
 */
import { handleCollectEvent } from '../../lib/collect';
import { createFunctionInvoker } from '../../lib/cloud/invoke';
import { createRuntime } from '../../lib/runtime';
import { decodeEvent, type FcContext } from '../../lib/triggers';

export const handler = async (event: Buffer, context: FcContext) => {
  const startedAt = Date.now();
  const rt = createRuntime(context, { startedAt, logFields: { fn: 'collect' } });
  const invoker = createFunctionInvoker({
    accountId: context.accountId ?? rt.env.FC_ACCOUNT_ID ?? '',
    regionId: rt.config.regionId,
    credentials: () => rt.credentials.get(),
    endpoint: rt.config.fcEndpoint,
  });
  return handleCollectEvent(decodeEvent(event), rt, { invoker });
};
