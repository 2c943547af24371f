/**
 * Contracts of storage/: where finished recordings go when they leave the local disk.
 * An ObjectStore is one bucket + prefix of an S3-compatible store (storage-url.ts parses its
 * URL, s3-store.ts implements it) or a folder (folder-store.ts). Every failure is a
 * StorageError (engine/errors.ts) whose `code` is one of StorageErrorCode; no message ever
 * holds a credential.
 */
import type { Readable } from "node:stream";

export interface StoredObject {
  key: string;
  size: number;
  /** As S3 gives it, quotes included: `"<md5 hex>"`, or `"<md5 of the parts' md5s>-<parts>"` for a multipart upload. */
  etag: string;
  /** As the store reports it ("STANDARD" when it reports none, as S3 does for STANDARD). */
  storageClass: string;
}

/** Inclusive byte offsets, like an HTTP Range. */
export interface ObjectRange {
  start: number;
  end: number;
}

export interface ObjectRead {
  /** The bytes asked for; the caller must consume or destroy it. */
  body: Readable;
  /** Size of the whole object. */
  size: number;
  /** Bytes in `body` (the range's length for a ranged read). */
  contentLength: number;
  etag: string;
  lastModified: Date;
}

export interface PutFileOptions {
  contentType: string;
  /** The template's StorageMode; "cold" on a target without a cold class is refused (STORAGE_NO_COLD_CLASS). Default "normal". */
  storageClass?: "normal" | "cold";
  /** Aborting rejects with STORAGE_ABORTED and aborts the multipart upload. */
  signal?: AbortSignal;
}

export interface ObjectStore {
  /** For logs and the catalog: "s3://bucket/prefix" (no credentials). */
  readonly description: string;
  /** Whether StorageMode "cold" has a storage class here (templates asking for it are refused otherwise). */
  readonly hasColdClass: boolean;
  /** Full object key for a path under the target's prefix ("<prefix>/<relative>"). Refuses relative paths with "..", empty or hidden components (StorageError code STORAGE_BAD_KEY). */
  keyFor(relative: string): string;
  /** Uploads a local file (multipart above a threshold, bounded part concurrency), then verifies it (HeadObject size equals the file size; ETag recorded). */
  putFile(key: string, localPath: string, opts: PutFileOptions): Promise<StoredObject>;
  /** null when the object does not exist. */
  head(key: string): Promise<StoredObject | null>;
  /** Streams the object or a range of it. Throws StorageError code STORAGE_NOT_FOUND when absent. */
  read(key: string, range?: ObjectRange): Promise<ObjectRead>;
  /** Deletes objects (missing ones are fine); batches of ≤1000 with DeleteObjects (Content-MD5 middleware for Swift) */
  deleteKeys(keys: string[]): Promise<void>;
  /** Aborts multipart uploads under the prefix started before `olderThan` (crash leftovers); returns how many. */
  abortStaleUploads(olderThan: Date): Promise<number>;
  /** put, get, delete of a probe object; throws a StorageError whose message diagnoses: wrong credentials, missing bucket, unreachable endpoint, clock skew. */
  probe(): Promise<void>;
  /** Idempotent; later calls throw STORAGE_CLOSED. */
  close(): void;
}

/** The `code` of every StorageError storage/ throws. */
export type StorageErrorCode =
  /** A key or relative path with "..", ".", empty or hidden components, control characters, or too long. */
  | "STORAGE_BAD_KEY"
  /** Writing to a folder destination failed. */
  | "STORAGE_WRITE_FAILED"
  /** A range that is not 0 <= start <= end, or starts past the object's end. */
  | "STORAGE_BAD_RANGE"
  /** Connection refused, DNS failure, timeout, reset: the endpoint cannot be reached. */
  | "STORAGE_UNREACHABLE"
  /** Credentials missing, unknown or wrong, or not allowed to do this. */
  | "STORAGE_AUTH"
  /** The bucket does not exist. */
  | "STORAGE_NO_BUCKET"
  /** This machine's clock and the store's differ by more than signatures allow. */
  | "STORAGE_CLOCK_SKEW"
  | "STORAGE_NOT_FOUND"
  /** After an upload, the object is not what was sent (size or ETag differ). */
  | "STORAGE_VERIFY_FAILED"
  /** "cold" asked of a target without a cold storage class. */
  | "STORAGE_NO_COLD_CLASS"
  /** The store refused the storage class. */
  | "STORAGE_BAD_STORAGE_CLASS"
  /** The caller's signal aborted the operation. */
  | "STORAGE_ABORTED"
  /** Some objects of a DeleteObjects batch were not deleted. */
  | "STORAGE_DELETE_FAILED"
  /** The local file to upload cannot be read. */
  | "STORAGE_LOCAL_READ_FAILED"
  | "STORAGE_CLOSED"
  /** Anything else the store answered (the S3 error name and HTTP status are in the message). */
  | "STORAGE_FAILED";
