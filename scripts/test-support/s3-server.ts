/**
 * A real S3 server for tests: Debian's OpenStack Swift with its S3 API, started by
 * scripts/services/swift-s3.mjs in a temp folder on free loopback ports. One per test file:
 *
 *   let s3: S3Server;
 *   beforeAll(async () => { s3 = await startS3Server(); await s3.createBucket("rec"); }, 60_000);
 *   afterAll(() => s3?.stop());
 *
 * Start-up takes 4 s on two idle cores (about 7 s of CPU: four Python servers), longer on a busy
 * machine. When Swift is not installed, startS3Server rejects with a message saying which Debian
 * packages to install (.ci/run installs them): a test that needs S3 fails, it is never skipped.
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { createS3Client, type S3Credentials } from "../../orchestrator/storage/s3-client.js";
import { parseStorageUrl, type S3Target } from "../../orchestrator/storage/storage-url.js";
import { startSwiftS3 } from "../services/swift-s3.mjs";

export interface S3Server {
  /** `http://127.0.0.1:<port>` (path-style addressing). */
  endpoint: string;
  region: string;
  credentials: S3Credentials;
  /** Its temp folder: config, data and logs (log/<server>.log). Removed by stop(). */
  dir: string;
  /** The PIDs started (memcached and the four Swift servers). */
  pids: number[];
  startupMs: number;
  /** A storage URL for `bucket`/`prefix` on this server, with the settings Swift needs. */
  url(bucket: string, prefix?: string): string;
  /** The parsed `url(bucket, prefix)`. */
  target(bucket: string, prefix?: string): S3Target;
  /** Creates a bucket (an existing one of ours is fine). */
  createBucket(bucket: string): Promise<void>;
  /**
   * An object's bytes through Swift's own API (tempauth + GET /v1/AUTH_test/<bucket>/<key>):
   * an independent reader, neither S3 nor the AWS SDK. null when it does not exist.
   */
  readNative(bucket: string, key: string): Promise<Buffer | null>;
  /** Stops exactly this server's processes and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** `python`: an interpreter that can import swift (default Debian's /usr/bin/python3). */
export async function startS3Server(options: { python?: string } = {}): Promise<S3Server> {
  const swift = await startSwiftS3(options);
  const credentials: S3Credentials = { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey };
  const url = (bucket: string, prefix = "") =>
    // Swift needs checksums=when_required (see ../shared/notes/s3-and-postgres.md) and knows only STANDARD.
    `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}?endpoint=${swift.endpoint}&region=${swift.region}&forcePathStyle=true&checksums=when_required`;
  const target = (bucket: string, prefix = "") => parseStorageUrl(url(bucket, prefix), "test");
  return {
    endpoint: swift.endpoint,
    region: swift.region,
    credentials,
    dir: swift.dir,
    pids: swift.pids,
    startupMs: swift.startupMs,
    url,
    target,
    createBucket: (bucket) => createBucket(target(bucket), credentials),
    readNative: (bucket, key) => readNative(swift.endpoint, credentials, bucket, key),
    stop: swift.stop,
  };
}

/** Creates the target's bucket; one that exists and is ours already is fine. */
export async function createBucket(target: S3Target, credentials: S3Credentials): Promise<void> {
  const client = createS3Client(target, { credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: target.bucket }));
  } catch (err) {
    if ((err as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw err;
  } finally {
    client.destroy();
  }
}

async function readNative(endpoint: string, credentials: S3Credentials, bucket: string, key: string): Promise<Buffer | null> {
  // tempauth: the S3 access key "account:user" is the Swift user, the secret its key.
  const auth = await fetch(`${endpoint}/auth/v1.0`, { headers: { "x-auth-user": credentials.accessKeyId, "x-auth-key": credentials.secretAccessKey } });
  await auth.arrayBuffer();
  const storageUrl = auth.headers.get("x-storage-url");
  const token = auth.headers.get("x-auth-token");
  if (!auth.ok || storageUrl === null || token === null) throw new Error(`Swift tempauth failed: HTTP ${auth.status}`);
  const path = [bucket, ...key.split("/")].map(encodeURIComponent).join("/");
  const res = await fetch(`${storageUrl}/${path}`, { headers: { "x-auth-token": token } });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`Swift GET ${bucket}/${key}: HTTP ${res.status}`);
  return body;
}
