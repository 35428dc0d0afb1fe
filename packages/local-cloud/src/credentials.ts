/**
 * The local cloud's accounts. Everything the emulator serves checks signatures against these keys, exactly as the
 * real services check theirs; unknown AccessKeyIds are rejected.
 */
export interface DemoKey {
  accessKeyId: string;
  accessKeySecret: string;
  /** Present for STS keys: requests must carry exactly this token. */
  securityToken?: string;
}

export const ACCOUNT_ID = '1234567890123456';

/** The long-term demo AccessKey printed by `npm run emulator` and used by `npm start` and the tests. */
export const DEMO_KEY: DemoKey = {
  accessKeyId: 'LTAI5tLocalCloudDemo01',
  accessKeySecret: 'localCloudDemoSecret0123456789ab',
};

/** A demo STS key, as FC puts into `context.credentials` (key id starts with `STS.`). */
export const DEMO_STS_KEY: DemoKey = {
  accessKeyId: 'STS.NTLocalCloudDemoSts01',
  accessKeySecret: 'localCloudDemoStsSecret0123456789',
  securityToken: 'CAIS-local-cloud-demo-security-token/+=',
};

export const DEMO_KEYS: readonly DemoKey[] = [DEMO_KEY, DEMO_STS_KEY];

export function findKey(accessKeyId: string, keys: readonly DemoKey[] = DEMO_KEYS): DemoKey | undefined {
  return keys.find((k) => k.accessKeyId === accessKeyId);
}
