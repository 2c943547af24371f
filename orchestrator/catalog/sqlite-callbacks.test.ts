import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hostOf } from "../callbacks/types.js";
import { SqliteCatalog } from "./sqlite-catalog.js";

const NOW = 1_700_000_000_000;
const file = () => join(mkdtempSync(join(tmpdir(), "callbacks-")), "catalog.sqlite");

const catalogs: SqliteCatalog[] = [];
function open(path = ":memory:"): SqliteCatalog {
  const catalog = new SqliteCatalog(path);
  catalogs.push(catalog);
  return catalog;
}
afterEach(async () => {
  for (const c of catalogs.splice(0)) await c.close();
});

const event = (url: string, n = 1) => ({
  url,
  callbackKey: "secret-key",
  eventType: 100,
  body: { event_type: 100, file_id: `f${n}`, sign: "stale", t: 1 },
  fileId: `f${n}`,
});

describe("SqliteCatalog: callback outbox", () => {
  it("enqueue is durable: close the database, reopen the file, the event is still due", async () => {
    const path = file();
    const first = open(path);
    const id = await first.enqueueCallback(event("http://a.example/cb"), NOW);
    await first.close();
    const due = await open(path).dueCallbacks(NOW, 10);
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({ id, url: "http://a.example/cb", callbackKey: "secret-key", status: "pending", attempts: 0, fileId: "f1" });
    expect(due[0]!.body).toEqual({ event_type: 100, file_id: "f1" }); // sign / t are never stored
  });

  it("due: only pending rows whose time has come, oldest first; exclusions and per-host cap", async () => {
    const c = open();
    const a1 = await c.enqueueCallback(event("http://a.example/1"), NOW);
    const a2 = await c.enqueueCallback(event("http://a.example/2"), NOW + 1);
    const a3 = await c.enqueueCallback(event("http://A.example/3"), NOW + 2);
    const b1 = await c.enqueueCallback(event("http://b.example:8080/1"), NOW + 3);
    const later = await c.enqueueCallback(event("http://c.example/1"), NOW + 60_000);
    const ids = async (...args: Parameters<SqliteCatalog["dueCallbacks"]>) => (await c.dueCallbacks(...args)).map((r) => r.id);
    expect(await ids(NOW + 10, 10)).toEqual([a1, a2, a3, b1]);
    expect(await ids(NOW + 10, 2)).toEqual([a1, a2]);
    expect(await ids(NOW + 10, 10, { perHost: 1 })).toEqual([a1, b1]);
    expect(await ids(NOW + 10, 10, { excludeIds: [a1, b1] })).toEqual([a2, a3]);
    expect(await ids(NOW + 10, 10, { excludeHosts: ["a.example"] })).toEqual([b1]);
    expect(await ids(NOW + 60_000, 10)).toContain(later);
    expect(hostOf("http://A.example:80/x")).toBe("a.example");
    expect(hostOf("http://b.example:8080/1")).toBe("b.example:8080");
    expect(hostOf("nonsense")).toBe("");
  });

  it("a failed attempt is counted and fails the row at maxAttempts; a delivery counts the success", async () => {
    const c = open();
    const id = await c.enqueueCallback(event("http://a.example/cb"), NOW);
    expect(await c.markCallbackFailed(id, "HTTP 500", NOW + 100, 3)).toEqual({ attempts: 1, status: "pending" });
    expect(await c.dueCallbacks(NOW + 99, 10)).toHaveLength(0);
    expect(await c.dueCallbacks(NOW + 100, 10)).toHaveLength(1);
    expect(await c.markCallbackFailed(id, "HTTP 502", NOW + 200, 3)).toEqual({ attempts: 2, status: "pending" });
    expect(await c.markCallbackFailed(id, "x".repeat(2000), NOW + 300, 3)).toEqual({ attempts: 3, status: "failed" });
    expect((await c.getCallback(id))!.lastError.length).toBeLessThanOrEqual(503);
    expect(await c.dueCallbacks(NOW + 10_000, 10)).toHaveLength(0);
    expect(await c.markCallbackFailed(id, "late", NOW, 3)).toBeUndefined(); // not pending any more
    expect(await c.markCallbackDelivered(id, NOW)).toBeUndefined();

    const ok = await c.enqueueCallback(event("http://a.example/cb", 2), NOW);
    await c.markCallbackFailed(ok, "HTTP 500", NOW, 3);
    expect(await c.markCallbackDelivered(ok, NOW + 5)).toBe(2);
    expect(await c.getCallback(ok)).toMatchObject({ status: "delivered", attempts: 2, deliveredMs: NOW + 5, lastError: "HTTP 500" });
  });

  it("lists pages newest first without the key; counts; retry", async () => {
    const c = open();
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push(await c.enqueueCallback(event("http://a.example/cb", n), NOW + n));
    await c.markCallbackDelivered(ids[0]!, NOW + 10);
    await c.markCallbackFailed(ids[1]!, "HTTP 404", NOW, 1);
    expect(await c.callbackCounts()).toEqual({ pending: 1, delivered: 1, failed: 1 });

    const all = await c.listCallbacks({ offset: 0, limit: 2 });
    expect(all.totalCount).toBe(3);
    expect(all.rows.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect((await c.listCallbacks({ offset: 2, limit: 2 })).rows.map((r) => r.id)).toEqual([ids[0]]);
    const failed = await c.listCallbacks({ status: "failed", offset: 0, limit: 20 });
    expect(failed).toMatchObject({ totalCount: 1, rows: [{ id: ids[1], status: "failed", attempts: 1, lastError: "HTTP 404" }] });
    for (const r of [...all.rows, ...failed.rows, (await c.getCallback(ids[0]!))!]) {
      expect(r).not.toHaveProperty("callbackKey");
      expect(JSON.stringify(r)).not.toContain("secret-key");
    }

    expect(await c.retryCallback(ids[1]!, NOW + 500)).toMatchObject({ status: "pending", attempts: 0, nextAttemptMs: NOW + 500 });
    expect((await c.dueCallbacks(NOW + 500, 10)).map((r) => r.id)).toContain(ids[1]);
    await c.markCallbackFailed(ids[2]!, "HTTP 500", NOW + 60_000, 5);
    expect(await c.retryCallback(ids[2]!, NOW + 1)).toMatchObject({ status: "pending", attempts: 1, nextAttemptMs: NOW + 1 });
    expect(await c.retryCallback(ids[0]!, NOW)).toBe("delivered");
    expect(await c.retryCallback(999, NOW)).toBe("not-found");
    expect(await c.callbackCounts()).toEqual({ pending: 2, delivered: 1, failed: 0 });
  });
});
