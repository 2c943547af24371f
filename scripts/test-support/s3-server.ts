/**
 * A real S3 server for tests: Debian's OpenStack Swift with its S3 API, started by
 * scripts/services/swift-s3.mjs in a temp folder on free loopback ports. One per test file:
 *
 *   let s3: S3Server;
 *   beforeAll(async () => { s3 = await startS3Server(); await s3.createBucket("rec"); }, 60_000);
 *   afterAll(() => s3?.stop());
 *
 * Start-up takes about 6 s (four Python servers). When Swift is not installed, startS3Server
 * rejects with a message saying which Debian packages to install (.ci/run installs them): a test
 * that needs S3 fails, it is never skipped.
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
