/**
 * Finding the invoke id of a TaskCompleted event that does not carry one: DescribeInvocations filtered by the
 * event's instance and command (every page; the API lists newest first), then the invocation whose entry for that
 * instance finished exactly at the event's `finishTime`, else the newest one created at or before it.
 */
import { describeInvocations, type Invocation } from '../cloud/ecs';
import type { RpcClient } from '../cloud/rpc';

/** One candidate invocation of an (instance, command) pair. */
export interface InvocationCandidate {
  invokeId: string;
  creationMs: number;
  /** `FinishTime` of the instance's entry, epoch ms (NaN when absent). */
  instanceFinishMs: number;
}

/** Lists the invocations of a command on an instance (all pages). */
export async function listCandidates(client: RpcClient, instanceId: string, commandId: string): Promise<InvocationCandidate[]> {
  const out: InvocationCandidate[] = [];
  for await (const page of describeInvocations(client, { InstanceId: instanceId, CommandId: commandId })) {
    for (const inv of page.records) {
      const c = candidateOf(inv, instanceId);
      if (c) out.push(c);
    }
  }
  return out;
}

function candidateOf(inv: Invocation, instanceId: string): InvocationCandidate | undefined {
  if (typeof inv.InvokeId !== 'string' || inv.InvokeId === '') return undefined;
  const entry = inv.InvokeInstances?.InvokeInstance?.find((i) => i.InstanceId === instanceId);
  return {
    invokeId: inv.InvokeId,
    creationMs: typeof inv.CreationTime === 'string' ? Date.parse(inv.CreationTime) : NaN,
    instanceFinishMs: typeof entry?.FinishTime === 'string' && entry.FinishTime !== '' ? Date.parse(entry.FinishTime) : NaN,
  };
}

/**
 * Picks the invocation an event belongs to. Times are compared at whole seconds (the API prints seconds).
 * @returns the invoke id, or `undefined` when no candidate fits.
 */
export function pickInvocation(candidates: readonly InvocationCandidate[], finishTimeMs: number): string | undefined {
  const sec = (ms: number) => Math.floor(ms / 1000);
  const exact = candidates.find((c) => Number.isFinite(c.instanceFinishMs) && sec(c.instanceFinishMs) === sec(finishTimeMs));
  if (exact) return exact.invokeId;
  let best: InvocationCandidate | undefined;
  for (const c of candidates) {
    if (!Number.isFinite(c.creationMs) || sec(c.creationMs) > sec(finishTimeMs)) continue;
    if (!best || c.creationMs > best.creationMs) best = c;
  }
  return best?.invokeId;
}
