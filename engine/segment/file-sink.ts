/**
 * The I/O edge for one output file: buffered writes to an in-progress path,
 * an optional in-place patch at close, then a no-clobber move into place.
 * A file appears under its final name only once it is complete.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { link, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { StorageError, errorMessage } from "../errors.js";

export interface Patch {
  offset: number;
  bytes: Buffer;
}

/** How often buffered writes reach the disk, and how much may wait before they go at once. */
const FLUSH_MS = 100;
const FLUSH_BYTES = 256 * 1024;

export class FileSink {
  private readonly flushTimer: NodeJS.Timeout;
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  private closed: Promise<number> | undefined;

  /** @param onError told once, at the first write failure (a full disk, a lost mount). */
  constructor(
    readonly path: string,
    onError?: (err: StorageError) => void,
  ) {
    // 'wx': never truncate an existing file (an earlier in-progress file is evidence to recover, not to overwrite).
    this.stream = createWriteStream(path, { flags: "wx", highWaterMark: 256 * 1024 });
    // Writes are corked and handed over together every FLUSH_MS: one writev instead of one write
    // per tag (the largest item of the server's CPU profile); a crash loses at most that much more.
    this.stream.cork();
    this.flushTimer = setInterval(() => this.flush(), FLUSH_MS);
    this.flushTimer.unref();
    this.stream.on("error", (err: NodeJS.ErrnoException) => {
      if (this.failure) return;
      this.failure = err;
      onError?.(new StorageError(err.code === "ENOSPC" ? "DISK_FULL" : "WRITE_FAILED", `writing ${this.path} failed: ${errorMessage(err)}`, { cause: err, fatal: true }));
    });
  }

  /** Bytes handed over but not yet written: a slow disk shows up here. */
  get queuedBytes(): number {
    return this.stream.writableLength;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** Queues bytes; the buffers are kept until written. */
  write(chunks: readonly Buffer[]): void {
    if (this.failure || this.closed) return;
    for (const c of chunks) this.stream.write(c);
    if (this.stream.writableLength >= FLUSH_BYTES) this.flush();
  }

  /** Hands what is corked to the disk in one writev, then corks again. */
  private flush(): void {
    if (this.stream.writableCorked) {
      this.stream.uncork();
      this.stream.cork();
    }
  }

  /** Flushes, closes and applies the patch. Resolves with the file size. Idempotent. */
  close(patch?: Patch): Promise<number> {
    this.closed ??= this.doClose(patch);
    return this.closed;
  }

  private async doClose(patch?: Patch): Promise<number> {
    clearInterval(this.flushTimer);
    while (this.stream.writableCorked) this.stream.uncork();
    await new Promise<void>((resolve) => {
      if (this.stream.closed) return resolve();
      this.stream.once("close", () => resolve());
      this.stream.end();
    });
    if (this.failure) {
      throw new StorageError("WRITE_FAILED", `writing ${this.path} failed: ${errorMessage(this.failure)}`, { cause: this.failure });
    }
    const fh = await open(this.path, "r+");
    try {
      if (patch && patch.offset >= 0) await fh.write(patch.bytes, 0, patch.bytes.length, patch.offset);
      await fh.sync();
      return (await fh.stat()).size;
    } finally {
      await fh.close();
    }
  }
}

/**
 * Moves `src` to `dir/base.ext`, or `dir/base_1.ext`, `_2`... if taken.
 * link + unlink: atomic, and never replaces a file another recording made.
 * Returns the final path.
 */
export async function moveIntoPlace(src: string, dir: string, base: string, ext: string): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const dest = join(dir, `${base}${n === 0 ? "" : `_${n}`}.${ext}`);
    try {
      await link(src, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw new StorageError("RENAME_FAILED", `moving ${src} into place failed: ${errorMessage(err)}`, { cause: err });
    }
    await unlink(src);
    return dest;
  }
  throw new StorageError("RENAME_FAILED", `no free name for ${base}.${ext} in ${dir}`);
}
