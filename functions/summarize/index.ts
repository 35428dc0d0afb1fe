/**
 * summarize: FC 3.0 handler. Direct/async invocation `{"source","regionId","id"[,"force"]}` → summary result;
 * HTTP trigger `GET /summary?source=&regionId=&id=[&format=json|html|md]` → summary.json, report.html or summary.md.
 */
import { createRuntime } from '../../lib/runtime';
import { handleSummarizeEvent } from '../../lib/summary/http';
import { summarizeDeps } from '../../lib/summary/invocation';
import { decodeEvent, type FcContext } from '../../lib/triggers';

export const handler = async (event: Buffer, context: FcContext) => {
  const rt = createRuntime(context, { logFields: { fn: 'summarize' } });
  return handleSummarizeEvent(decodeEvent(event), summarizeDeps(rt), context.requestId);
};
