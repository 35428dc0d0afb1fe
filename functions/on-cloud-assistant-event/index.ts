/**
 * on-cloud-assistant-event: FC 3.0 handler for the EventBridge trigger on `ecs:CloudAssistant:TaskCompleted`
 * (source `acs.ecs`; one CloudEvents object, or an array in batch mode). Dispatches `collect` once per finished
 * invocation; foreign or malformed events are reported as rejected, never thrown (see lib/events).
 */
import { handleCloudAssistantEvents, eventConsumerDeps } from '../../lib/events';
import { invokerFor } from '../../lib/cloud/invoke';
import { createRuntime } from '../../lib/runtime';
import { decodeEvent, type FcContext } from '../../lib/triggers';

export const handler = async (event: Buffer, context: FcContext) => {
  const rt = createRuntime(context, { logFields: { fn: 'on-cloud-assistant-event' } });
  const invoker = invokerFor(rt);
  return handleCloudAssistantEvents(decodeEvent(event), eventConsumerDeps(rt, invoker));
};
