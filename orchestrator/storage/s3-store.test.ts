// S3Store against a real S3 server (OpenStack Swift's S3 API, see scripts/test-support/s3-server.ts).
// Uploaded bytes are read back through Swift's own API too, so the check does not rest on our code
// or the AWS SDK alone.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { StorageError } from "../../engine/errors.js";
import { type S3Server, startS3Server } from "../../scripts/test-support/s3-server.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import { createS3Client } from "./s3-client.js";
import { MIN_PART_BYTES, S3Store, type S3StoreOptions } from "./s3-store.js";
import type { S3Target } from "./storage-url.js";

const BUCKET = "recordings";
const PREFIX = "live/rec";
const PART = MIN_PART_BYTES; // 5 MiB: small tests, still multipart

const md5 = (data: Buffer) => createHash("md5").update(data).digest("hex");

/** S3's ETag of a multipart upload: MD5 of the parts' binary MD5s, "-", the part count. */
function multipartEtag(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let at = 0; at < data.length; at += partSize) digests.push(createHash("md5").update(data.subarray(at, at + partSize)).digest());
  return `${md5(Buffer.concat(digests))}-${digests.length}`;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function storageError(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return err as StorageError;
  }
  throw new Error("resolved, expected a StorageError");
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("S3Store against Swift's S3 API", () => {
  let s3: S3Server;
  let dir: string;
  let store: S3Store;
  const stores: S3Store[] = [];
  const open = (target: S3Target, options: S3StoreOptions = {}) => {
    const s = new S3Store(target, { credentials: s3.credentials, partSizeBytes: PART, ...options });
    stores.push(s);
    return s;
  };
  const file = (name: string, data: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    dir = mkdtempSync(join(tmpdir(), "s3-store-test-"));
    store = open(s3.target(BUCKET, PREFIX));
  }, 60_000);
  afterAll(async () => {
    for (const s of stores) s.close();
    await s3?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("describes itself without credentials and builds keys under its prefix", () => {
    expect(store.description).toBe("s3://recordings/live/rec");
    expect(store.keyFor("example.com/live/cam1/cam1_2026.flv")).toBe("live/rec/example.com/live/cam1/cam1_2026.flv");
    expect(open(s3.target(BUCKET)).keyFor("a/b.ts")).toBe("a/b.ts");
  });

  it.each(["", "../x", "a/../b", "a//b", "/a", "a/", ".recording/x.flv", "a/.hidden", "a\\b", "a\u0000b", "x".repeat(1100)])(
    "keyFor refuses %j (STORAGE_BAD_KEY)",
    (relative) => {
      expect(() => store.keyFor(relative)).toThrow(expect.objectContaining({ code: "STORAGE_BAD_KEY" }));
    },
  );

  it("puts a small file in one request, verifies it, and reads it back whole and by range", async () => {
    const data = randomBytes(100_000);
    const key = store.keyFor("small/a.flv");
    const stored = await store.putFile(key, file("a.flv", data), { contentType: "video/x-flv" });
    expect(stored).toEqual({ key, size: data.length, etag: `"${md5(data)}"`, storageClass: "STANDARD" });
    expect(await store.head(key)).toEqual(stored);
    expect(md5((await s3.readNative(BUCKET, key))!)).toBe(md5(data));

    const whole = await store.read(key);
    expect(whole.size).toBe(data.length);
    expect(whole.contentLength).toBe(data.length);
    expect(whole.etag).toBe(`"${md5(data)}"`);
    expect(whole.lastModified.getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect((await readAll(whole.body)).equals(data)).toBe(true);

    const part = await store.read(key, { start: 1000, end: 1999 });
    expect(part.size).toBe(data.length);
    expect(part.contentLength).toBe(1000);
    expect((await readAll(part.body)).equals(data.subarray(1000, 2000))).toBe(true);
  });

  it("puts a 12 MiB file as a multipart upload (5 MiB parts) with S3's multipart ETag; a range across a part boundary reads right", async () => {
    const data = randomBytes(12 * 1024 * 1024);
    const key = store.keyFor("big/b.mp4");
    const stored = await store.putFile(key, file("b.mp4", data), { contentType: "video/mp4" });
    expect(stored.size).toBe(data.length);
    expect(stored.etag).toBe(`"${multipartEtag(data, PART)}"`);
    expect(md5((await s3.readNative(BUCKET, key))!)).toBe(md5(data));

    expect(md5(await readAll((await store.read(key)).body))).toBe(md5(data));
    const range = { start: PART - 10, end: PART + 10 };
    const read = await store.read(key, range);
    expect(read.contentLength).toBe(21);
    expect(read.size).toBe(data.length);
    expect((await readAll(read.body)).equals(data.subarray(range.start, range.end + 1))).toBe(true);

    // No multipart upload is left behind.
    const client = createS3Client(store.target, { credentials: s3.credentials });
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${PREFIX}/` }));
    client.destroy();
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it("puts an empty file", async () => {
    const key = store.keyFor("empty.aac");
    const stored = await store.putFile(key, file("empty.aac", Buffer.alloc(0)), { contentType: "audio/aac" });
    expect(stored.size).toBe(0);
    expect((await s3.readNative(BUCKET, key))!.length).toBe(0);
  });

  it("refuses what it cannot do with typed errors", async () => {
    const key = store.keyFor("small/a.flv");
    expect((await storageError(store.read(store.keyFor("missing.flv")))).code).toBe("STORAGE_NOT_FOUND");
    expect(await store.head(store.keyFor("missing.flv"))).toBeNull();
    expect((await storageError(store.read(key, { start: 5, end: 4 }))).code).toBe("STORAGE_BAD_RANGE");
    expect((await storageError(store.read(key, { start: 10_000_000, end: 10_000_001 }))).code).toBe("STORAGE_BAD_RANGE");
    expect((await storageError(store.putFile(key, join(dir, "nope.flv"), { contentType: "video/x-flv" }))).code).toBe("STORAGE_LOCAL_READ_FAILED");
    const cold = await storageError(store.putFile(key, file("c.flv", Buffer.from("x")), { contentType: "video/x-flv", storageClass: "cold" }));
    expect(cold.code).toBe("STORAGE_NO_COLD_CLASS");
    expect((await storageError(store.putFile("live/rec/../x", file("d.flv", Buffer.from("x")), { contentType: "video/x-flv" }))).code).toBe("STORAGE_BAD_KEY");
    expect((await storageError(store.deleteKeys([key, "a//b"]))).code).toBe("STORAGE_BAD_KEY");
    expect(await store.head(key)).not.toBeNull(); // nothing was deleted
  });

  it("a storage class the store does not offer is refused (Swift knows only STANDARD)", async () => {
    const glacier = open({ ...s3.target(BUCKET, PREFIX), coldStorageClass: "GLACIER" });
    const err = await storageError(glacier.putFile(glacier.keyFor("g.flv"), file("g.flv", Buffer.from("x")), { contentType: "video/x-flv", storageClass: "cold" }));
    expect(err.code).toBe("STORAGE_BAD_STORAGE_CLASS");
  });

  it("an aborted upload rejects with STORAGE_ABORTED and leaves neither object nor multipart upload", async () => {
    const slow = open(s3.target(BUCKET, PREFIX), { partConcurrency: 1 });
    const key = slow.keyFor("aborted/x.flv");
    const path = file("x.flv", randomBytes(30 * 1024 * 1024));
    const client = createS3Client(store.target, { credentials: s3.credentials });
    const pending = async () => (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }))).Uploads ?? [];
    try {
      const controller = new AbortController();
      const upload = slow.putFile(key, path, { contentType: "video/x-flv", signal: controller.signal });
      upload.catch(() => {});
      await waitFor(async () => (await pending()).length > 0, { what: "the multipart upload has started" });
      controller.abort();
      expect((await storageError(upload)).code).toBe("STORAGE_ABORTED");
      await waitFor(async () => (await pending()).length === 0, { what: "the multipart upload is aborted" });
      expect(await slow.head(key)).toBeNull();
    } finally {
      client.destroy();
    }
  });

  it("deleteKeys deletes in batches (each one), missing keys and duplicates are fine", async () => {
    // Batches of 2 here: 1000 keys (S3's limit, the default) take Swift about 10 s.
    const batched = open(s3.target(BUCKET, PREFIX), { deleteBatchSize: 2 });
    const keep = store.keyFor("del/keep.ts");
    const [a, b, c] = ["a", "b", "c"].map((n) => store.keyFor(`del/${n}.ts`)) as [string, string, string];
    for (const key of [keep, a, b, c]) await store.putFile(key, file("seg.ts", randomBytes(1000)), { contentType: "video/mp2t" });
    await batched.deleteKeys([]);
    await batched.deleteKeys([a, store.keyFor("del/missing-1.ts"), a, b, store.keyFor("del/missing-2.ts"), c]);
    for (const key of [a, b, c]) {
      expect(await store.head(key)).toBeNull();
      expect(await s3.readNative(BUCKET, key)).toBeNull();
    }
    expect(await store.head(keep)).not.toBeNull();
    await store.deleteKeys([keep, store.keyFor("del/missing-3.ts")]);
    expect(await store.head(keep)).toBeNull();
  });

  it("abortStaleUploads aborts uploads under its prefix started before the time given, and only those", async () => {
    const client = createS3Client(store.target, { credentials: s3.credentials });
    const list = async (prefix: string) => (await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix }))).Uploads ?? [];
    try {
      await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: store.keyFor("crash/left.flv") }));
      await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "other/left.flv" }));
      expect(await store.abortStaleUploads(new Date(Date.now() - 3_600_000))).toBe(0);
      expect(await list(`${PREFIX}/crash/`)).toHaveLength(1);
      expect(await store.abortStaleUploads(new Date(Date.now() + 60_000))).toBe(1);
      expect(await list(`${PREFIX}/`)).toEqual([]);
      expect(await list("other/")).toHaveLength(1); // another prefix's upload is not ours
    } finally {
      client.destroy();
    }
  });

  it("probe passes on a working target", async () => {
    await store.probe();
    await open(s3.target(BUCKET)).probe();
  });

  it("probe diagnoses wrong credentials (STORAGE_AUTH) without echoing them", async () => {
    const wrong = new S3Store(s3.target(BUCKET, PREFIX), { credentials: { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: "wrong-secret-x9" } });
    stores.push(wrong);
    const err = await storageError(wrong.probe());
    expect(err.code).toBe("STORAGE_AUTH");
    expect(err.message).toMatch(/refused our credentials/);
    expect(err.message).not.toContain("wrong-secret-x9");
    const unknown = new S3Store(s3.target(BUCKET, PREFIX), { credentials: { accessKeyId: "nobody:none", secretAccessKey: "x" } });
    stores.push(unknown);
    expect((await storageError(unknown.probe())).code).toBe("STORAGE_AUTH");
  });

  it("probe diagnoses a missing bucket (STORAGE_NO_BUCKET)", async () => {
    const err = await storageError(open(s3.target("no-such-bucket", PREFIX)).probe());
    expect(err.code).toBe("STORAGE_NO_BUCKET");
    expect(err.message).toMatch(/s3:\/\/no-such-bucket\/live\/rec: probe: the bucket does not exist/);
  });

  it("probe diagnoses an unreachable endpoint (STORAGE_UNREACHABLE)", async () => {
    const port = await closedPort();
    const target = { ...s3.target(BUCKET, PREFIX), endpoint: `http://127.0.0.1:${port}` };
    const err = await storageError(open(target).probe());
    expect(err.code).toBe("STORAGE_UNREACHABLE");
    expect(err.message).toContain(`cannot reach the endpoint http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it("probe diagnoses clock skew (STORAGE_CLOCK_SKEW) when this machine's clock is an hour ahead", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000);
    const err = await storageError(open(s3.target(BUCKET, PREFIX)).probe());
    expect(err.code).toBe("STORAGE_CLOCK_SKEW");
    expect(err.message).toMatch(/clock is 3[56]\d\d s ahead of the store's/);
  });

  it("after close() every call is refused", async () => {
    const s = open(s3.target(BUCKET, PREFIX));
    s.close();
    s.close();
    expect((await storageError(s.head(s.keyFor("a.flv")))).code).toBe("STORAGE_CLOSED");
  });
});
