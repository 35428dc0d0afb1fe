/**
 * The gateway part of a POP RPC call: who is calling (AccessKey, STS token), is the request fresh (Timestamp,
 * SignatureNonce) and is it signed, with either signature the official SDKs send: V1 (HMAC-SHA1 over the parameters,
 * protocols §1.4; pop-core, and openapi-core with `signatureAlgorithm: 'v2'`) or V3 (`ACS3-HMAC-SHA256` in the
 * Authorization header, the default of `@alicloud/openapi-core` and the generated product SDKs). Everything here is
 * product-independent.
 */
import { Acs3Error, verifyAcs3, type Acs3Failure, type Acs3Request } from '../acs3';
import type { DemoKey } from '../credentials';
import { findKey } from '../credentials';
import { parseIsoUtc } from '../datasets/time';
import type { NonceStore } from '../nonces';
import { Errors, RpcError } from './errors';
import { computeSignature, signaturesEqual, stringToSign } from './signature';

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
  if (Math.abs(o.now - tsMs) > o.skewMs) throw Errors.timestampExpired();
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

/**
 * The POP gateway's answers to a refused V3 signature, with the codes of the common error table where it has one:
 * - a payload hash that does not match the body is SignatureDoesNotMatch: the gateway hashes the body it received,
 *   so its canonical request differs from the client's;
 * - the missing or malformed pieces are the V1 codes for the same piece (MissingParameter, IllegalTimestamp,
 *   IncompleteSignature), naming the header instead of the parameter.
 */
function v3Error(e: Acs3Error): RpcError {
  const map: Record<Acs3Failure, () => RpcError> = {
    authorization: () => Errors.incompleteSignature(e.message),
    'access-key': () => Errors.accessKeyNotFound(),
    'token-missing': () => Errors.tokenMalformed(),
    'token-mismatch': () => Errors.tokenMismatch(),
    'date-missing': () => Errors.missingParameter('x-acs-date'),
    'date-malformed': () => new RpcError(400, 'IllegalTimestamp', `The input header "x-acs-date" is invalid. ${e.message}`),
    'date-expired': () => Errors.timestampExpired(),
    'signed-headers': () => Errors.incompleteSignature(e.message),
    'payload-hash': () =>
      new RpcError(403, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. ${e.message}`),
    signature: () =>
      new RpcError(403, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. server string to sign is:${e.stringToSign ?? ''}`),
    'nonce-missing': () => Errors.missingParameter('x-acs-signature-nonce'),
    'nonce-used': () => Errors.nonceUsed(),
  };
  return map[e.reason]();
}

/** Checks a V3 (`ACS3-HMAC-SHA256`) request; returns the caller's key; throws {@link RpcError}s. */
export function authenticateV3(r: Acs3Request, o: AuthOptions): DemoKey {
  try {
    return verifyAcs3(r, { keys: o.keys, now: o.now, skewMs: o.skewMs, nonces: o.nonces });
  } catch (e) {
    if (e instanceof Acs3Error) throw v3Error(e);
    throw e;
  }
}
