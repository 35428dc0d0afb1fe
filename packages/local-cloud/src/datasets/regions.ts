/**
 * The regions the local cloud knows, with the id prefixes Alibaba Cloud really uses there
 * (instance ids `i-bp1…` in Hangzhou, `i-uf6…` in Shanghai; Cloud Assistant ids `t-hz…`, `c-hz…`).
 */
export interface RegionInfo {
  regionId: string;
  /** Three characters after `i-` in ECS instance ids of this region. */
  instancePrefix: string;
  /** Short region code used in Cloud Assistant ids (`t-hz…`, `c-hz…`). */
  short: string;
}

export const REGIONS: readonly RegionInfo[] = [
  { regionId: 'cn-hangzhou', instancePrefix: 'bp1', short: 'hz' },
  { regionId: 'cn-shanghai', instancePrefix: 'uf6', short: 'sh' },
  { regionId: 'cn-beijing', instancePrefix: '2ze', short: 'bj' },
  { regionId: 'cn-shenzhen', instancePrefix: 'wz9', short: 'sz' },
  { regionId: 'cn-qingdao', instancePrefix: 'm5e', short: 'qd' },
  { regionId: 'cn-zhangjiakou', instancePrefix: '8vb', short: 'zb' },
  { regionId: 'cn-hongkong', instancePrefix: 'j6c', short: 'hk' },
  { regionId: 'ap-southeast-1', instancePrefix: 't4n', short: 'sg' },
  { regionId: 'ap-northeast-1', instancePrefix: '6we', short: 'jp' },
  { regionId: 'us-west-1', instancePrefix: 'rj9', short: 'us' },
  { regionId: 'us-east-1', instancePrefix: '0xi', short: 'ue' },
  { regionId: 'eu-central-1', instancePrefix: 'gw8', short: 'eu' },
];

const BY_ID = new Map(REGIONS.map((r) => [r.regionId, r]));

/** The region ids the emulator accepts; anything else is `InvalidRegionId.NotFound` (ECS) / `InvalidParameter` (OOS). */
export const KNOWN_REGION_IDS: readonly string[] = REGIONS.map((r) => r.regionId);

export function regionInfo(regionId: string): RegionInfo | undefined {
  return BY_ID.get(regionId);
}

/** Like {@link regionInfo} but throws: for dataset builders, whose callers must pass a known region. */
export function requireRegion(regionId: string): RegionInfo {
  const info = BY_ID.get(regionId);
  if (!info) throw new Error(`unknown region ${JSON.stringify(regionId)}; known: ${KNOWN_REGION_IDS.join(', ')}`);
  return info;
}
