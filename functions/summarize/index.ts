/**
 * summarize: FC 3.0 handler. Direct/async invocation `{"source","regionId","id"[,"force"]}` → summary result;
 * HTTP trigger `GET /summary?source=&regionId=&id=[&format=json|html|md]` → summary.json, report.html or summary.md.
 */
import { openStore } from '../../lib/archive/open';
import { resolveCredentials } from '../../lib/cloud/credentials';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/log';
import { handleSummarizeEvent } from '../../lib/summary/http';
import { readNotifyConfig } from '../../lib/summary/notify';
import { decodeEvent, type FcContext } from '../../lib/triggers';

const config = loadConfig();
const notify = readNotifyConfig();

export const handler = async (event: Buffer, context: FcContext) => {
  const logger = createLogger({ level: config.logLevel, fields: { requestId: context.requestId, fn: 'summarize' } });
  const credentials = resolveCredentials({ context, logger });
  const store = openStore(config.archiveUrl, {
    credentials: () => credentials.get(),
    regionId: config.regionId,
    ossEndpoint: config.ossEndpoint,
    logger,
  });
  return handleSummarizeEvent(decodeEvent(event), { store, logger, notify }, context.requestId);
};
