export interface StoredObject { key: string; size: number; etag: string; storageClass: string }
export interface ObjectRange { start: number; end: number } // inclusive, like HTTP Range
export interface ObjectRead { body: import("node:stream").Readable; size: number; contentLength: number; etag: string; lastModified: Date }
export interface ObjectStore {
  /** For logs and the catalog: "s3://bucket/prefix" (no credentials). */
  readonly description: string;
  /** Full object key for a path under the target's prefix ("<prefix>/<relative>"). Refuses relative paths with "..", empty or hidden components (StorageError code STORAGE_BAD_KEY). */
  keyFor(relative: string): string;
  /** Uploads a local file (multipart above a threshold, bounded part concurrency), then verifies it (HeadObject size equals the file size; ETag recorded). */
  putFile(key: string, localPath: string, opts: { contentType: string; storageClass?: "normal" | "cold"; signal?: AbortSignal }): Promise<StoredObject>;
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
  close(): void;
}
