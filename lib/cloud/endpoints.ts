/**
 * Where the OOS and ECS RPC APIs live. One rule for every region (the documented public endpoint), overridable per
 * service (ALIBABA_CLOUD_OOS_ENDPOINT / _ECS_ENDPOINT, read by lib/config.ts) so the local emulator, a VPC endpoint or a
 * proxy can be used instead.
 */
import { ConfigError } from '../errors';
import { REGION_ID } from '../ids';

/** The RPC services this project calls. */
export type Service = 'oos' | 'ecs';

/** The POP API version each service is called with. */
export const API_VERSIONS: Readonly<Record<Service, string>> = Object.freeze({ oos: '2019-06-01', ecs: '2014-05-26' });

/**
 * The documented public endpoint of `service` in `regionId`: `https://oos.<region>.aliyuncs.com` /
 * `https://ecs.<region>.aliyuncs.com`.
 *
 * Decision: ECS uses the documented `ecs.<region>.aliyuncs.com` form for every region, including cn-hangzhou. The V2
 * Go SDK maps cn-hangzhou to `ecs-cn-hangzhou.aliyuncs.com`, but that mapping is an SDK table, not the endpoint page;
 * the documented host serves cn-hangzhou too, and one rule for all regions is easier to reason about. Use
 * `ALIBABA_CLOUD_ECS_ENDPOINT` for a VPC endpoint (`https://ecs-vpc.<region>.aliyuncs.com`) or the central one.
 *
 * @throws ConfigError when `regionId` is not a region id.
 * @example defaultEndpoint('oos', 'cn-hangzhou') // 'https://oos.cn-hangzhou.aliyuncs.com'
 */
export function defaultEndpoint(service: Service, regionId: string): string {
  if (!REGION_ID.test(regionId)) {
    throw new ConfigError(`region id ${JSON.stringify(regionId)} is not a valid Alibaba Cloud region id (e.g. cn-hangzhou)`);
  }
  return `https://${service}.${regionId}.aliyuncs.com`;
}

/**
 * Checks and normalises an endpoint URL: `http:` or `https:`, a host, no user info, query or fragment; a trailing
 * `/` is removed (pop-core appends `/` itself). A path prefix is kept (a proxy or an emulator mounted under a path).
 *
 * @param name what to call the value in the error message (the environment variable's name).
 * @throws ConfigError naming `name` when the URL is malformed.
 * @example normalizeEndpoint('http://127.0.0.1:9000/', 'X') // 'http://127.0.0.1:9000'
 */
export function normalizeEndpoint(value: string, name: string): string {
  const raw = value.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a full URL such as https://host[:port], got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must use http:// or https://, got ${JSON.stringify(url.protocol)}`);
  }
  if (!url.hostname) throw new ConfigError(`${name} has no host`);
  if (url.username || url.password) throw new ConfigError(`${name} must not carry user info`);
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    throw new ConfigError(`${name} must not carry a query string or fragment`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
