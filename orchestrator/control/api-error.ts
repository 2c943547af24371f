/**
 * Errors of the cloud-compatible control API. `code` is the cloud API's
 * error code string (spec §8 and the platform's common codes), sent back as
 * Response.Error.Code with HTTP 200, as the cloud does.
 */
import { RecorderError } from "../../engine/errors.js";

/** The codes this API answers with. */
export type ApiErrorCode =
  | "AuthFailure.SignatureFailure"
  | "AuthFailure.SignatureExpire"
  | "AuthFailure.SecretIdNotFound"
  | "AuthFailure.MFAFailure"
  | "AuthFailure.TokenFailure"
  | "AuthFailure.InvalidAuthorization"
  | "InvalidAction"
  | "InvalidParameter"
  | "InvalidParameterValue"
  | "InvalidParameter.InvalidVodFileName"
  | "InvalidParameter.ConfNotFound"
  | "InvalidParameter.DomainFormatError"
  | "MissingParameter"
  | "UnsupportedOperation"
  | "UnsupportedProtocol"
  | "RequestSizeLimitExceeded"
  | "FailedOperation.NotFound"
  | "FailedOperation.ConfInUsed"
  | "FailedOperation.RuleAlreadyExist"
  | "InternalError"
  | "InternalError.ConfOutLimit"
  | "InternalError.RuleNotFound"
  | "InternalError.NotFound"
  | "LimitExceeded"
  | "LimitExceeded.MaximumRunningTask"
  | "ResourceNotFound.TaskId"
  | "UnknownParameter"
  | "RequestLimitExceeded"
  | "ResourceNotFound.StreamNotAlive";

export class ApiError extends RecorderError {
  constructor(
    readonly apiCode: ApiErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(apiCode, message, options);
  }
}
