/**
 * The collector as a process of its own, for the kill tests: `tsx child-collect.ts <payload JSON> <context JSON>`
 * with the environment of the run. It collects (the suite's runtime: production code, small multipart threshold) and
 * prints the result; the test SIGKILLs it wherever it chooses.
 */
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import type { FcContext } from '../../lib/triggers';
import { suiteRuntime } from './collector';

const [payload = '{}', context = '{}'] = process.argv.slice(2);
const rt = suiteRuntime(JSON.parse(context) as FcContext, process.env);
runCollect(parseCollectRequest(JSON.parse(payload)), rt).then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
