/**
 * The gateway part of a POP RPC call: who is calling (AccessKey, STS token), is the request fresh (Timestamp,
 * SignatureNonce) and is it signed (HMAC-SHA1, protocols §1.4). Everything here is product-independent.
 */
import type { DemoKey } from '../credentials';
import { findKey } from '../credentials';
import { parseIsoUtc } from '../datasets/time';
import { Errors } from './errors';
import { computeSignature, signaturesEqual, stringToSign } from './signature';

/**
 * Remembers the nonces seen per AccessKey until their Timestamp leaves the accepted window (after that the Timestamp
 * check rejects a replay anyway). Bounded: at most `capacity` nonces per key; beyond that the oldest are forgotten.
 */
export class NonceStore {
  private readonly byKey = new Map<string, Map<string, number>>();
  constructor(private readonly capacity = 100_000) {}

  /** Records the nonce; false when it was already used within its window. */
  use(accessKeyId: string, nonce: string, expiresAt: number, now: number): boolean {
    let seen = this.byKey.get(accessKeyId);
    if (!seen) {
      seen = new Map();
      this.byKey.set(accessKeyId, seen);
    }
    const exp = seen.get(nonce);
    if (exp !== undefined && exp > now) return false;
    // Entries are inserted in (roughly) expiry order: drop expired ones from the front.
    for (const [n, e] of seen) {
      if (e > now || seen.size === 0) break;
      seen.delete(n);
    }
    seen.delete(nonce);
    seen.set(nonce, expiresAt);
    while (seen.size > this.capacity) {
      const oldest = seen.keys().next();
      if (oldest.done) break;
      seen.delete(oldest.value);
    }
    return true;
  }

  size(accessKeyId: string): number {
    return this.byKey.get(accessKeyId)?.size ?? 0;
  }
}

export interface AuthOptions {
  keys: readonly DemoKey[];
  now: number;
  skewMs: number;
  nonces: NonceStore;
}

/**
 * Checks a request's common parameters in the order a POP gateway does: Timestamp, AccessKeyId, SecurityToken,
 * signature, nonce. The nonce is recorded only for correctly signed requests, so a forged request cannot burn a
 * legitimate client's nonce. Returns the caller's key; throws {@link RpcError}s.
 */
export function authenticate(method: string, params: Readonly<Record<string, string>>, o: AuthOptions): DemoKey {
  const ts = params.Timestamp;
  if (!ts) throw Errors.missingParameter('Timestamp');
  const tsMs = parseIsoUtc(ts);
  if (tsMs === undefined) throw Errors.illegalTimestamp(`Expected UTC yyyy-MM-ddTHH:mm:ssZ, got "${ts}".`);
  if (Math.abs(o.now - tsMs) > o.skewMs) {
    throw Errors.illegalTimestamp(`It must be within ${Math.round(o.skewMs / 60_000)} minutes of the server time.`);
  }
  const accessKeyId = params.AccessKeyId;
  if (!accessKeyId) throw Errors.missingParameter('AccessKeyId');
  const key = findKey(accessKeyId, o.keys);
  if (!key) throw Errors.accessKeyNotFound();
  if (accessKeyId.startsWith('STS.') || key.securityToken !== undefined) {
    const token = params.SecurityToken;
    if (!token) throw Errors.tokenMalformed();
    if (token !== key.securityToken) throw Errors.tokenMismatch();
  }
  const sigMethod = params.SignatureMethod;
  if (!sigMethod) throw Errors.missingParameter('SignatureMethod');
  if (sigMethod !== 'HMAC-SHA1') throw Errors.incompleteSignature(`SignatureMethod "${sigMethod}" is not supported.`);
  const sigVersion = params.SignatureVersion;
  if (!sigVersion) throw Errors.missingParameter('SignatureVersion');
  if (sigVersion !== '1.0') throw Errors.incompleteSignature(`SignatureVersion "${sigVersion}" is not supported.`);
  const nonce = params.SignatureNonce;
  if (!nonce) throw Errors.missingParameter('SignatureNonce');
  const signature = params.Signature;
  if (!signature) throw Errors.missingParameter('Signature');
  const expected = computeSignature(key.accessKeySecret, method, params);
  if (!signaturesEqual(signature, expected)) throw Errors.signatureMismatch(stringToSign(method, params));
  if (!o.nonces.use(accessKeyId, nonce, tsMs + o.skewMs, o.now)) throw Errors.nonceUsed();
  return key;
}
