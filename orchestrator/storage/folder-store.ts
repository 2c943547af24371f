/**
 * A folder as the recording destination (`storage.url` = "file:///mnt/archive/recordings"):
 * for a network mount (NFS, SMB) or a second disk. Same contract as an object
 * store: keys are paths under the folder, an upload is a copy to a hidden
 * temporary name, fsynced, then renamed (so a reader never sees half a file,
 * and a crash leaves only a temporary file that `abortStaleUploads` removes),
 * the ETag is the MD5 of the bytes, as S3 gives for single-part objects.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StorageError, errorMessage } from "../../engine/errors.js";
import { objectKey } from "./object-key.js";
import type { ObjectRange, ObjectRead, ObjectStore, StoredObject } from "./types.js";

/** Temporary names of uploads in progress: hidden, so they are never served or listed as objects. */
const TEMP_PREFIX = ".upload-";
const STORAGE_CLASS = "STANDARD";

export class FolderStore implements ObjectStore {
  readonly description: string;
  /** A folder has one class of storage. */
  readonly hasColdClass = false;
  private readonly root: string;

  constructor(folder: string) {
    this.root = resolve(folder);
    this.description = `file://${this.root}`;
  }

  keyFor(relative: string): string {
    return objectKey("", relative);
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new StorageError("STORAGE_BAD_KEY", `object key ${JSON.stringify(key)} leaves the folder`);
    return path;
  }

  async putFile(key: string, localPath: string, opts: { contentType: string; storageClass?: "normal" | "cold"; signal?: AbortSignal }): Promise<StoredObject> {
    if (opts.storageClass === "cold") throw new StorageError("STORAGE_NO_COLD_CLASS", `${this.description} has no cold storage class`);
    const target = this.pathOf(key);
    const temp = join(dirname(target), `${TEMP_PREFIX}${randomUUID()}`);
    const md5 = createHash("md5");
    let size = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(createReadStream(localPath), hashing, createWriteStream(temp, { flags: "wx" }), ...(opts.signal ? [{ signal: opts.signal }] : []));
      const handle = await open(temp, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const written = (await stat(temp)).size;
      if (written !== size) throw new StorageError("STORAGE_VERIFY_FAILED", `${key}: ${written} bytes stored, ${size} read`);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      if (err instanceof StorageError) throw err;
      throw new StorageError("STORAGE_WRITE_FAILED", `cannot store ${key} in ${this.description}: ${errorMessage(err)}`, { cause: err });
    }
    return { key, size, etag: `"${md5.digest("hex")}"`, storageClass: STORAGE_CLASS };
  }

  /** Its ETag is made of size and time, as `read` gives it: hashing on every look would read whole files (over NFS, too). */
  async head(key: string): Promise<StoredObject | null> {
    const st = await stat(this.pathOf(key)).catch(() => null);
    if (st === null || !st.isFile()) return null;
    return { key, size: st.size, etag: cheapTag(st.size, st.mtimeMs), storageClass: STORAGE_CLASS };
  }

  async read(key: string, range?: ObjectRange): Promise<ObjectRead> {
    const path = this.pathOf(key);
    const st = await stat(path).catch(() => null);
    if (st === null || !st.isFile()) throw new StorageError("STORAGE_NOT_FOUND", `no object ${key} in ${this.description}`);
    const body = createReadStream(path, range ? { start: range.start, end: range.end } : {});
    const contentLength = range ? range.end - range.start + 1 : st.size;
    return { body, size: st.size, contentLength, etag: cheapTag(st.size, st.mtimeMs), lastModified: st.mtime };
  }

  /** Folders left empty go too (objects have no folders: none should linger). */
  async deleteKeys(keys: string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.pathOf(key);
      await rm(path, { force: true });
      folders.add(dirname(path));
    }
    for (let folder of folders) {
      while (folder.startsWith(this.root + sep) && (await rmdir(folder).then(() => true, () => false))) folder = dirname(folder);
    }
  }

  async abortStaleUploads(olderThan: Date): Promise<number> {
    let removed = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.startsWith(TEMP_PREFIX) && (await stat(p)).mtime < olderThan) {
          await rm(p, { force: true });
          removed++;
        }
      }
    };
    await walk(this.root);
    return removed;
  }

  async probe(): Promise<void> {
    const probe = join(this.root, `${TEMP_PREFIX}probe-${randomUUID()}`);
    try {
      await mkdir(this.root, { recursive: true });
      await writeFile(probe, "probe");
      if ((await readFile(probe, "utf8")) !== "probe") throw new Error("the probe read back differs");
      await rm(probe);
    } catch (err) {
      throw new StorageError("STORAGE_UNREACHABLE", `cannot write to ${this.description}: ${errorMessage(err)}`, { cause: err });
    }
  }

  close(): void {}
}

/** An entity tag from size and modification time (the MD5 one comes with putFile only). */
function cheapTag(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}
