import { existsSync } from "node:fs";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3Server, startS3Server } from "./s3-server.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startS3Server (Swift with the S3 API)", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  }, 60_000);
  afterAll(() => s3?.stop());

  it("answers S3 requests signed with its credentials, and createBucket makes a bucket it lists", async () => {
    await s3.createBucket("helper-check");
    await s3.createBucket("helper-check"); // again: fine
    // A plain SDK client, not the product's factory: the server speaks S3 to anyone.
    const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials });
    try {
      const out = await client.send(new ListBucketsCommand({}));
      expect(out.Buckets?.map((b) => b.Name)).toContain("helper-check");
    } finally {
      client.destroy();
    }
  });

  it("stop() ends exactly its own processes and removes its folder", async () => {
    expect(s3.pids.length).toBe(5); // memcached + proxy, object, container, account
    for (const pid of s3.pids) expect(alive(pid)).toBe(true);
    expect(existsSync(s3.dir)).toBe(true);
    await s3.stop();
    await s3.stop(); // idempotent
    for (const pid of s3.pids) expect(alive(pid)).toBe(false);
    expect(existsSync(s3.dir)).toBe(false);
  });

  it("fails loudly, naming the Debian packages, when Swift's Python is not there", async () => {
    await expect(startS3Server({ python: "/nonexistent/python3" })).rejects.toThrow(/not installed.*apt-get install .*python3-swift/s);
  });
});
