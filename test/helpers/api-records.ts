/**
 * The API's records as ground truth for tests: read with raw pop-core, independently of lib/ (so a bug in the
 * collector's paginator cannot hide in both sides of a comparison), an odd page size by default.
 */
import RPCClient from '@alicloud/pop-core';
import { DEMO_KEY } from '@execution-archive/local-cloud/credentials';

export interface ApiRecordsOptions {
  /** MaxResults per page. @default 37 (OOS) / 13 (ECS) */
  pageSize?: number;
  /** ECS IncludeHistory. @default false */
  includeHistory?: boolean;
  /** @default cn-hangzhou */
  regionId?: string;
}

export async function apiRecords(rpcUrl: string, source: 'oos' | 'ecs', id: string, options: ApiRecordsOptions = {}): Promise<unknown[]> {
  const client = new RPCClient({
    endpoint: rpcUrl,
    apiVersion: source === 'oos' ? '2019-06-01' : '2014-05-26',
    accessKeyId: DEMO_KEY.accessKeyId,
    accessKeySecret: DEMO_KEY.accessKeySecret,
  });
  const regionId = options.regionId ?? 'cn-hangzhou';
  const out: unknown[] = [];
  let token: string | undefined;
  do {
    const next = token ? { NextToken: token } : {};
    if (source === 'oos') {
      const page = await client.request<{ NextToken?: string; ResourceExecutionStatus: unknown[] }>(
        'ListResourceExecutionStatus',
        { RegionId: regionId, ExecutionId: id, MaxResults: options.pageSize ?? 37, ...next },
        { method: 'POST' },
      );
      out.push(...page.ResourceExecutionStatus);
      token = page.NextToken || undefined;
    } else {
      const page = await client.request<{ Invocation: { NextToken?: string; InvocationResults: { InvocationResult: unknown[] } } }>(
        'DescribeInvocationResults',
        {
          RegionId: regionId,
          InvokeId: id,
          MaxResults: options.pageSize ?? 13,
          ContentEncoding: 'PlainText',
          IncludeHistory: options.includeHistory ?? false,
          ...next,
        },
        { method: 'POST' },
      );
      out.push(...page.Invocation.InvocationResults.InvocationResult);
      token = page.Invocation.NextToken || undefined;
    }
  } while (token);
  // Through JSON once more, so records compare like the archive's parsed lines (no json-bigint objects).
  return JSON.parse(JSON.stringify(out)) as unknown[];
}

/**
 * The API's description of one Cloud Assistant invocation (DescribeInvocations by InvokeId, raw pop-core), as the
 * archive's parsed line compares with it, and the size of the answer's JSON.
 */
export async function apiInvocation(rpcUrl: string, invokeId: string, regionId = 'cn-hangzhou'): Promise<{ invocation: unknown; bodyBytes: number }> {
  const client = new RPCClient({ endpoint: rpcUrl, apiVersion: '2014-05-26', accessKeyId: DEMO_KEY.accessKeyId, accessKeySecret: DEMO_KEY.accessKeySecret });
  const page = await client.request<{ Invocations: { Invocation: Array<{ InvokeId?: string }> } }>(
    'DescribeInvocations',
    { RegionId: regionId, InvokeId: invokeId, ContentEncoding: 'PlainText', MaxResults: 50 },
    { method: 'POST' },
  );
  const text = JSON.stringify(page);
  return { invocation: JSON.parse(JSON.stringify(page.Invocations.Invocation.find((i) => i.InvokeId === invokeId) ?? null)) as unknown, bodyBytes: Buffer.byteLength(text) };
}
