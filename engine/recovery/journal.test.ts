import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal, parseJournal } from "./journal.js";

describe("Journal", () => {
  it("appends entries in order and reads them back; a torn last line is ignored", async () => {
    const dir = await mkdtemp(join(tmpdir(), "journal-"));
    try {
      const journal = new Journal(dir, "rec1");
      journal.write({ kind: "open", format: "flv", index: 0, path: "/x/rec1.0.flv", startTimestamp: 40 });
      journal.write({ kind: "done", path: "/x/rec1.0.flv" });
      await journal.close();
      await appendFile(journal.path, '{"kind":"open","form');
      expect(parseJournal(await readFile(journal.path, "utf8"))).toEqual([
        { kind: "open", format: "flv", index: 0, path: "/x/rec1.0.flv", startTimestamp: 40 },
        { kind: "done", path: "/x/rec1.0.flv" },
      ]);
      await journal.remove();
      await expect(stat(journal.path)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
