/**
 * The one place an S3Client is built for a target, so every user (the store, `recorder doctor`,
 * test helpers) talks to a store the same way:
 * - the target's checksum mode: "when_required" turns off the SDK's default CRC checksums and
 *   aws-chunked bodies, which Swift (and older Ceph RGW / MinIO) answer with 501 NotImplemented;
 * - DeleteObjects carries a Content-MD5 header: SDK >= 3.729 sends only a CRC32 checksum, and
 *   Swift's s3api refuses the request without Content-MD5 (AWS accepts either);
 * - a connect timeout, so an endpoint that drops packets fails in seconds, not minutes.
 */
import { createHash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import type { S3Target } from "./storage-url.js";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3ClientOptions {
  /** Omitted: the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: S3Credentials;
  /** Connecting longer than this fails the attempt. Default 5 s. */
  connectTimeoutMs?: number;
  /** A connection idle this long (no byte either way) fails the attempt. Default 60 s. */
  idleTimeoutMs?: number;
  /** Attempts per request, the first included (the SDK retries throttling, 5xx and network errors). Default 3. */
  maxAttempts?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 3;

export function createS3Client(target: S3Target, options: S3ClientOptions = {}): S3Client {
  const checksum = target.checksums === "when_required" ? "WHEN_REQUIRED" : "WHEN_SUPPORTED";
  const client = new S3Client({
    region: target.region,
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
    forcePathStyle: target.forcePathStyle,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      socketTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    },
  });
  // Adds Content-MD5 (base64 MD5 of the body) to DeleteObjects requests that lack it.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const body = request.body;
      if (context.commandName === "DeleteObjectsCommand" && request.headers && (typeof body === "string" || body instanceof Uint8Array)) {
        const present = Object.keys(request.headers).some((h) => h.toLowerCase() === "content-md5");
        if (!present) request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
      }
      return next(args);
    },
    { step: "build", name: "contentMd5ForDeleteObjects" },
  );
  return client;
}
