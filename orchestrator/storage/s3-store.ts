/**
 * ObjectStore over one S3-compatible target (bucket + prefix), with the AWS SDK v3.
 *
 * - putFile: `@aws-sdk/lib-storage` Upload: one PutObject up to `partSizeBytes`, multipart
 *   above (at most `partConcurrency` parts in flight, so memory is bounded by their product);
 *   a failed or aborted multipart upload is aborted, and any left by a crash are found by
 *   abortStaleUploads. Then HeadObject verifies the size (and the ETag the upload answered).
 * - deleteKeys: DeleteObjects in batches of at most 1000 (S3's limit per request).
 * - probe: put, get, delete a probe object through the same paths, so a probe that passes means
 *   uploads, reads and deletes will too; it also measures the clock offset the SDK sees.
 * Every failure is a StorageError (codes in types.ts, messages from s3-errors.ts).
 */
import { randomUUID } from "node:crypto";
import { createReadStream, type ReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { errorMessage, StorageError } from "../../engine/errors.js";
import { keyPathProblem, objectKey, quoteKey } from "./object-key.js";
import { createS3Client, type S3ClientOptions } from "./s3-client.js";
import { toStorageError } from "./s3-errors.js";
import { describeTarget, type S3Target } from "./storage-url.js";
import type { ObjectRange, ObjectRead, ObjectStore, PutFileOptions, StoredObject } from "./types.js";

const MiB = 1024 * 1024;
/** S3: every part but the last is at least 5 MiB. */
export const MIN_PART_BYTES = 5 * MiB;
/** S3: at most 10,000 parts per upload; larger files get larger parts. */
const MAX_PARTS = 10_000;
/** S3: DeleteObjects takes at most 1,000 keys. */
const MAX_DELETE_BATCH = 1_000;
const DEFAULT_PART_BYTES = 8 * MiB;
const DEFAULT_PART_CONCURRENCY = 4;
/**
 * S3 refuses requests signed more than 15 minutes off its clock. The SDK corrects its own
 * signing time from the store's Date header, so our requests still work; the probe reports the
 * skew anyway, because whatever signs with the local clock alone (other tools, a fresh client's
 * first request) fails.
 */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export interface S3StoreOptions extends S3ClientOptions {
  /** Multipart part size; files up to it go in one PutObject. Default 8 MiB; at least 5 MiB. */
  partSizeBytes?: number;
  /** Parts uploaded at once per file. Default 4. */
  partConcurrency?: number;
  /**
   * Keys per DeleteObjects request, 1-1000. Default 1000 (S3's limit); stores may be set lower
   * (Swift's `max_multi_delete_objects`, Ceph RGW's `rgw_delete_multi_obj_max_num`).
   */
  deleteBatchSize?: number;
}

export class S3Store implements ObjectStore {
  readonly description: string;
  readonly target: S3Target;
  private readonly client: S3Client;
  private readonly endpoint: string;
  private readonly partBytes: number;
  private readonly partConcurrency: number;
  private readonly deleteBatchSize: number;
  private closed = false;

  get hasColdClass(): boolean {
    return this.target.coldStorageClass !== "";
  }

  constructor(target: S3Target, options: S3StoreOptions = {}) {
    const partBytes = options.partSizeBytes ?? DEFAULT_PART_BYTES;
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES) {
      throw new StorageError("STORAGE_FAILED", `part size must be an integer of at least ${MIN_PART_BYTES} bytes (S3's minimum part)`);
    }
    const concurrency = options.partConcurrency ?? DEFAULT_PART_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new StorageError("STORAGE_FAILED", "part concurrency must be an integer of at least 1");
    const deleteBatchSize = options.deleteBatchSize ?? MAX_DELETE_BATCH;
    if (!Number.isSafeInteger(deleteBatchSize) || deleteBatchSize < 1 || deleteBatchSize > MAX_DELETE_BATCH) {
      throw new StorageError("STORAGE_FAILED", `the delete batch size must be an integer from 1 to ${MAX_DELETE_BATCH}`);
    }
    this.target = target;
    this.description = describeTarget(target);
    this.endpoint = target.endpoint ?? `AWS S3 (${target.region})`;
    this.partBytes = partBytes;
    this.partConcurrency = concurrency;
    this.deleteBatchSize = deleteBatchSize;
    this.client = createS3Client(target, options);
  }

  keyFor(relative: string): string {
    return objectKey(this.target.prefix, relative);
  }

  async putFile(key: string, localPath: string, opts: PutFileOptions): Promise<StoredObject> {
    this.checkOpen();
    this.checkKey(key);
    const storageClass = this.storageClassFor(opts.storageClass ?? "normal");
    const operation = `upload ${key}`;
    let size: number;
    try {
      size = (await stat(localPath)).size;
    } catch (err) {
      throw new StorageError("STORAGE_LOCAL_READ_FAILED", `${this.description}: ${operation}: cannot read ${localPath}: ${errorMessage(err)}`, { cause: err });
    }
    if (opts.signal?.aborted) throw new StorageError("STORAGE_ABORTED", `${this.description}: ${operation}: aborted`);

    // Read exactly the bytes stat saw, so the part count lib-storage expects holds.
    const body: ReadStream | Buffer = size === 0 ? Buffer.alloc(0) : createReadStream(localPath, { start: 0, end: size - 1 });
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.target.bucket,
        Key: key,
        Body: body,
        ContentLength: size,
        ContentType: opts.contentType,
        ...(storageClass === "" ? {} : { StorageClass: storageClass as StorageClass }),
      },
      partSize: Math.max(this.partBytes, Math.ceil(size / MAX_PARTS / MiB) * MiB),
      queueSize: this.partConcurrency,
      leavePartsOnError: false,
      abortController: controller,
    });
    let uploadedEtag: string | undefined;
    try {
      uploadedEtag = (await upload.done()).ETag;
    } catch (err) {
      const fsError = err as NodeJS.ErrnoException;
      if (fsError.path === localPath) {
        throw new StorageError("STORAGE_LOCAL_READ_FAILED", `${this.description}: ${operation}: reading ${localPath} failed: ${errorMessage(err)}`, { cause: err });
      }
      throw this.fail(err, operation);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      if (body instanceof Readable) body.destroy();
    }

    const stored = await this.head(key);
    if (stored === null) throw new StorageError("STORAGE_VERIFY_FAILED", `${this.description}: ${operation}: the object is missing right after its upload`);
    if (stored.size !== size) {
      throw new StorageError("STORAGE_VERIFY_FAILED", `${this.description}: ${operation}: the object holds ${stored.size} bytes, the file ${size}`);
    }
    if (uploadedEtag !== undefined && unquote(uploadedEtag) !== unquote(stored.etag)) {
      throw new StorageError("STORAGE_VERIFY_FAILED", `${this.description}: ${operation}: the object's ETag is not the one its upload answered (overwritten meanwhile?)`);
    }
    return stored;
  }

  async head(key: string): Promise<StoredObject | null> {
    this.checkOpen();
    this.checkKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.target.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, etag: out.ETag ?? "", storageClass: out.StorageClass ?? "STANDARD" };
    } catch (err) {
      const mapped = this.fail(err, `HeadObject ${key}`);
      if (mapped.code === "STORAGE_NOT_FOUND") return null;
      throw mapped;
    }
  }

  async read(key: string, range?: ObjectRange): Promise<ObjectRead> {
    this.checkOpen();
    this.checkKey(key);
    if (range !== undefined && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
      throw new StorageError("STORAGE_BAD_RANGE", `${this.description}: GetObject ${key}: a range needs 0 <= start <= end (got ${range.start}-${range.end})`);
    }
    const operation = `GetObject ${key}`;
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.target.bucket, Key: key, ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }) }),
      );
      if (!(out.Body instanceof Readable)) throw new StorageError("STORAGE_FAILED", `${this.description}: ${operation}: the SDK returned no Node stream`);
      const contentLength = out.ContentLength ?? 0;
      // "bytes 0-99/1234": the total is after the slash; without Content-Range the body is the whole object.
      const total = out.ContentRange === undefined ? contentLength : Number(out.ContentRange.split("/")[1]);
      return {
        body: out.Body,
        size: Number.isSafeInteger(total) ? total : contentLength,
        contentLength,
        etag: out.ETag ?? "",
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (err) {
      throw this.fail(err, operation);
    }
  }

  async deleteKeys(keys: string[]): Promise<void> {
    this.checkOpen();
    const unique = [...new Set(keys)];
    for (const key of unique) this.checkKey(key);
    for (let i = 0; i < unique.length; i += this.deleteBatchSize) {
      await this.deleteBatch(unique.slice(i, i + this.deleteBatchSize));
    }
  }

  async abortStaleUploads(olderThan: Date): Promise<number> {
    this.checkOpen();
    const prefix = this.target.prefix === "" ? undefined : `${this.target.prefix}/`;
    const stale: { key: string; uploadId: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.target.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        for (const u of page.Uploads ?? []) {
          // An upload without a start time cannot be judged stale: it is left alone.
          if (u.Key !== undefined && u.UploadId !== undefined && u.Initiated !== undefined && u.Initiated < olderThan) {
            stale.push({ key: u.Key, uploadId: u.UploadId });
          }
        }
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
        if (keyMarker === undefined && uploadIdMarker === undefined) break;
      }
    } catch (err) {
      throw this.fail(err, "ListMultipartUploads");
    }
    let aborted = 0;
    for (const { key, uploadId } of stale) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.target.bucket, Key: key, UploadId: uploadId }));
        aborted++;
      } catch (err) {
        const mapped = this.fail(err, `AbortMultipartUpload ${key}`);
        if (mapped.code !== "STORAGE_NOT_FOUND") throw mapped; // gone meanwhile: fine
      }
    }
    return aborted;
  }

  async probe(): Promise<void> {
    this.checkOpen();
    // Hidden name: keyFor never returns it, so it cannot collide with a recording.
    const name = `.recorder-probe-${randomUUID()}`;
    const key = this.target.prefix === "" ? name : `${this.target.prefix}/${name}`;
    const content = Buffer.from(`live-recorder storage probe ${new Date().toISOString()}\n`);
    const storageClass = this.target.storageClass;
    let written = false;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.target.bucket,
          Key: key,
          Body: content,
          ContentType: "text/plain",
          ...(storageClass === "" ? {} : { StorageClass: storageClass as StorageClass }),
        }),
      );
      written = true;
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.target.bucket, Key: key }));
      const back = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
      if (!back.equals(content)) {
        throw new StorageError("STORAGE_VERIFY_FAILED", `${this.description}: probe: the probe object read back differs from what was written`);
      }
      await this.deleteBatch([key]);
      written = false;
    } catch (err) {
      throw this.fail(err, "probe");
    } finally {
      if (written) await this.deleteBatch([key]).catch(() => {});
    }
    const offset = this.client.config.systemClockOffset;
    if (Math.abs(offset) > MAX_CLOCK_SKEW_MS) {
      const seconds = Math.round(Math.abs(offset) / 1000);
      throw new StorageError(
        "STORAGE_CLOCK_SKEW",
        `${this.description}: probe: this machine's clock is ${seconds} s ${offset > 0 ? "behind" : "ahead of"} the store's (more than S3 allows): set the time right (NTP)`,
      );
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }

  private async deleteBatch(keys: string[]): Promise<void> {
    let errors: { Key?: string; Code?: string }[];
    try {
      const out = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.target.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      );
      errors = out.Errors ?? [];
    } catch (err) {
      throw this.fail(err, `DeleteObjects (${keys.length} keys)`);
    }
    // S3 reports a missing key as deleted; some stores answer NoSuchKey for it.
    const failed = errors.filter((e) => e.Code !== "NoSuchKey");
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new StorageError(
        "STORAGE_DELETE_FAILED",
        `${this.description}: DeleteObjects: ${failed.length} of ${keys.length} objects not deleted (first: ${first.Key ?? "?"}: ${first.Code ?? "?"})`,
      );
    }
  }

  private storageClassFor(mode: "normal" | "cold"): string {
    if (mode === "normal") return this.target.storageClass;
    if (this.target.coldStorageClass === "") {
      throw new StorageError("STORAGE_NO_COLD_CLASS", `${this.description}: StorageMode cold asked, but the target has no coldStorageClass`);
    }
    return this.target.coldStorageClass;
  }

  private checkKey(key: string): void {
    const problem = keyPathProblem(key);
    if (problem !== undefined) throw new StorageError("STORAGE_BAD_KEY", `${this.description}: the key ${quoteKey(key)} ${problem}`);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError("STORAGE_CLOSED", `${this.description}: the store is closed`);
  }

  private fail(err: unknown, operation: string): StorageError {
    return toStorageError(err, { store: this.description, endpoint: this.endpoint, operation });
  }
}

/** Stores disagree on quoting ETags in some answers; compare without. */
function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, "");
}
