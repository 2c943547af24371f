import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FolderStore } from "./folder-store.js";

const temp = (name: string) => mkdtempSync(join(tmpdir(), `${name}-`));

async function text(read: Promise<{ body: NodeJS.ReadableStream }>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of (await read).body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("FolderStore", () => {
  it("stores a copy under its key, with the MD5 ETag, reads whole and ranges, deletes", async () => {
    const store = new FolderStore(temp("store"));
    const src = join(temp("src"), "a.flv");
    await writeFile(src, "0123456789");
    const key = store.keyFor("d.com/live/s/a.flv");
    expect(key).toBe("d.com/live/s/a.flv");
    const stored = await store.putFile(key, src, { contentType: "video/x-flv" });
    expect(stored).toEqual({ key, size: 10, etag: `"${createHash("md5").update("0123456789").digest("hex")}"`, storageClass: "STANDARD" });
    expect(await store.head(key)).toMatchObject({ key, size: 10, storageClass: "STANDARD" });
    expect(await text(store.read(key))).toBe("0123456789");
    const part = await store.read(key, { start: 2, end: 4 });
    expect(part.contentLength).toBe(3);
    expect(part.size).toBe(10);
    expect(await text(Promise.resolve(part))).toBe("234");
    await store.deleteKeys([key, "d.com/live/s/missing.flv"]);
    expect(await store.head(key)).toBeNull();
    await expect(store.read(key)).rejects.toMatchObject({ code: "STORAGE_NOT_FOUND" });
  });

  it("refuses keys that leave the folder or name hidden files, and has no cold class", async () => {
    const store = new FolderStore(temp("store"));
    for (const bad of ["../x.flv", "a//b.flv", "a/.hidden.flv", "", "a/./b.flv"]) expect(() => store.keyFor(bad), bad).toThrow(expect.objectContaining({ code: "STORAGE_BAD_KEY" }));
    const src = join(temp("src"), "a.flv");
    await writeFile(src, "x");
    await expect(store.putFile("a.flv", src, { contentType: "video/x-flv", storageClass: "cold" })).rejects.toMatchObject({ code: "STORAGE_NO_COLD_CLASS" });
  });

  it("removes temporary files of interrupted uploads older than a date, and probes", async () => {
    const root = temp("store");
    const store = new FolderStore(root);
    await mkdir(join(root, "d/live/s"), { recursive: true });
    const old = join(root, "d/live/s/.upload-crashed");
    await writeFile(old, "half");
    await utimes(old, new Date(1000), new Date(1000));
    await writeFile(join(root, "d/live/s/.upload-now"), "in progress");
    expect(await store.abortStaleUploads(new Date(Date.now() - 60_000))).toBe(1);
    await expect(stat(old)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(join(root, "d/live/s/.upload-now"), "utf8")).toBe("in progress");
    await store.probe();
    const blocked = join(temp("blocked"), "file");
    await writeFile(blocked, "not a folder");
    await expect(new FolderStore(blocked).probe()).rejects.toMatchObject({ code: "STORAGE_UNREACHABLE" });
  });
});
