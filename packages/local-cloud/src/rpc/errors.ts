/**
 * POP error responses: `{RequestId, HostId, Code, Message, Recommend}` with the HTTP status of the documented tables
 * (protocols §2). Handlers throw {@link RpcError}; the server turns it into the body.
 */

/** A POP API error: HTTP status, `Code` and `Message` exactly as the real service sends them. */
export class RpcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** The product an error is attributed to (for `HostId` and the `Recommend` link). */
export type Product = 'Oos' | 'Ecs';

/** The documented JSON error body. */
export interface ErrorBody {
  RequestId: string;
  HostId: string;
  Code: string;
  Message: string;
  Recommend: string;
}

export function errorBody(err: RpcError, requestId: string, hostId: string, product: Product): ErrorBody {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=${product}&requestId=${requestId}`,
  };
}

/** Factories for the errors the emulator answers with; messages follow the real services' wording. */
export const Errors = {
  missingParameter: (name: string) =>
    new RpcError(
      400,
      'MissingParameter',
      `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    ),
  invalidParameter: (name: string, detail?: string) =>
    new RpcError(
      400,
      'InvalidParameter',
      `The specified value of parameter "${name}" is not valid.${detail ? ` ${detail}` : ''}`,
    ),
  noSuchVersion: () => new RpcError(400, 'NoSuchVersion', 'The specified version does not exist.'),
  invalidAction: () =>
    new RpcError(400, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.'),
  accessKeyNotFound: () =>
    new RpcError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'),
  signatureMismatch: (stringToSign: string) =>
    new RpcError(
      403,
      'SignatureDoesNotMatch',
      `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
    ),
  incompleteSignature: (detail: string) =>
    new RpcError(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. ${detail}`),
  tokenMalformed: () => new RpcError(400, 'InvalidSecurityToken.Malformed', 'The security token you provided is malformed.'),
  tokenMismatch: () =>
    new RpcError(400, 'InvalidSecurityToken.Mismatch', 'The security token you provided does not match the AccessKeyId.'),
  illegalTimestamp: (detail: string) =>
    new RpcError(
      400,
      'IllegalTimestamp',
      `The input parameter "Timestamp" that is mandatory for processing this request is not supplied or is invalid. ${detail}`,
    ),
  /** The POP gateway's answer to a Timestamp / x-acs-date outside the 15-minute window (V1 and V3 alike). */
  timestampExpired: () => new RpcError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'),
  nonceUsed: () => new RpcError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'),
  // The POP common error table publishes UnsupportedHTTPMethod with HTTP 403 (not 405).
  unsupportedMethod: () =>
    new RpcError(403, 'UnsupportedHTTPMethod', 'This http method is not supported; use GET or POST.'),
  notFoundPath: () => new RpcError(404, 'InvalidUri', 'POP RPC APIs are served at "/".'),
  throttling: () => new RpcError(400, 'Throttling.User', 'Request was denied due to user flow control.'),
  /** `IncludeHistory=true` without `InvokeId` (see the DescribeInvocationResults handler). */
  includeHistoryNeedsInvokeId: () =>
    new RpcError(400, 'MissingParameter', 'The input parameter "InvokeId" that is mandatory for processing this request is not supplied. IncludeHistory=true needs InvokeId.'),
  internalError: () =>
    new RpcError(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.'),
  serviceUnavailable: () =>
    new RpcError(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.'),
  // OOS
  executionNotFound: () => new RpcError(404, 'EntityNotExists.Execution', 'The specified execution does not exist.'),
  // ECS
  regionNotFound: () => new RpcError(404, 'InvalidRegionId.NotFound', 'The RegionId provided does not exist in our records.'),
  ecsMaxResults: () =>
    new RpcError(400, 'InvalidParameter.MaxResults', 'The specified parameter MaxResults is not valid.'),
  ecsNextToken: () => new RpcError(400, 'InvalidParameter.NextToken', 'The specified parameter NextToken is not valid.'),
  ecsPageNumber: () => new RpcError(400, 'InvalidParam.PageNumber', 'The specified parameter is invalid.'),
  ecsPageSize: () => new RpcError(400, 'InvalidParam.PageSize', 'The specified parameter is invalid.'),
};
