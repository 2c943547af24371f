/**
 * AWS SDK failures → StorageError with a stable code and a message that says what to fix.
 * Messages are ours, not the store's, for anything about credentials (a store's text may quote
 * the access key or the string it signed); the S3 error name and HTTP status are appended.
 */
import { errorMessage, StorageError } from "../../engine/errors.js";
import type { StorageErrorCode } from "./types.js";

/** Node and undici error codes of a store that cannot be reached (or went away mid-request). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);
const NETWORK_NAMES = new Set(["TimeoutError", "RequestTimeout", "NetworkingError"]);
const AUTH_NAMES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "InvalidToken",
  "ExpiredToken",
  "TokenRefreshRequired",
  "InvalidSecurity",
  "CredentialsProviderError",
  "AuthorizationHeaderMalformed",
  "Forbidden",
]);
const CLOCK_NAMES = new Set(["RequestTimeTooSkewed", "RequestExpired"]);
const NOT_FOUND_NAMES = new Set(["NoSuchKey", "NotFound", "NoSuchUpload"]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  errno?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** What an operation was doing, for the message. */
export interface StorageErrorContext {
  /** "s3://bucket/prefix" */
  store: string;
  /** "http://127.0.0.1:9000" or "AWS S3 (us-east-1)" */
  endpoint: string;
  /** "PutObject photos/a.flv", "probe" */
  operation: string;
}

/** The error's own or any cause's network code (the SDK wraps Node's errors). */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as SdkErrorShape).cause, depth++) {
    const shape = e as SdkErrorShape;
    for (const c of [shape.code, shape.errno]) if (typeof c === "string" && NETWORK_CODES.has(c)) return c;
    if (e instanceof AggregateError) for (const inner of e.errors) if (networkCode(inner)) return networkCode(inner);
  }
  return undefined;
}

export function toStorageError(err: unknown, ctx: StorageErrorContext): StorageError {
  if (err instanceof StorageError) return err;
  const shape = (err && typeof err === "object" ? err : {}) as SdkErrorShape;
  const name = shape.name ?? shape.Code ?? "Error";
  const status = shape.$metadata?.httpStatusCode;
  const where = `${ctx.store}: ${ctx.operation}`;
  const tag = status === undefined ? name : `${name}, HTTP ${status}`;
  const make = (code: StorageErrorCode, text: string) => new StorageError(code, `${where}: ${text} (${tag})`, { cause: err });

  if (name === "AbortError") return make("STORAGE_ABORTED", "aborted");
  const net = networkCode(err);
  if (net !== undefined || (NETWORK_NAMES.has(name) && status === undefined)) {
    return make("STORAGE_UNREACHABLE", `cannot reach the endpoint ${ctx.endpoint} (${net ?? name}): is the store running, the host and port right?`);
  }
  if (CLOCK_NAMES.has(name)) return make("STORAGE_CLOCK_SKEW", "the store refused our request time: this machine's clock and the store's differ (check NTP)");
  if (name === "NoSuchBucket") return make("STORAGE_NO_BUCKET", `the bucket does not exist at ${ctx.endpoint} (create it, or fix the bucket name or region)`);
  if (AUTH_NAMES.has(name) || status === 403) {
    return make(
      "STORAGE_AUTH",
      name === "CredentialsProviderError"
        ? "no credentials: set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the target's credentials"
        : "the store refused our credentials or they may not do this (check the access key, the secret and the bucket's permissions)",
    );
  }
  if (name === "InvalidStorageClass") return make("STORAGE_BAD_STORAGE_CLASS", "the store does not offer this storage class (see the target's storageClass / coldStorageClass)");
  if (name === "InvalidRange" || status === 416) return make("STORAGE_BAD_RANGE", "the range starts past the end of the object");
  if (NOT_FOUND_NAMES.has(name) || status === 404) return make("STORAGE_NOT_FOUND", "no such object");
  const detail = errorMessage(err).slice(0, 200);
  return make("STORAGE_FAILED", detail === "" || detail === name ? "the store failed the request" : detail);
}
