import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteCatalog } from "../catalog/sqlite-catalog.js";
import { emptyCallbackTemplate } from "./callback-schema.js";
import { CallbackStore, hostOf, MAX_CALLBACK_RULES, MAX_CALLBACK_TEMPLATES } from "./callback-store.js";
import type { CallbackTemplateInput } from "./types.js";

const code = (c: string) => expect.objectContaining({ code: c });
const NOW = 1_700_000_000_000;
const file = () => join(mkdtempSync(join(tmpdir(), "callbacks-")), "catalog.sqlite");

const catalogs: SqliteCatalog[] = [];
function open(path = ":memory:"): { catalog: SqliteCatalog; store: CallbackStore } {
  const catalog = new SqliteCatalog(path);
  catalogs.push(catalog);
  return { catalog, store: new CallbackStore(catalog.database) };
}
afterEach(async () => {
  for (const c of catalogs.splice(0)) await c.close();
});

function tpl(name: string, fields: Partial<CallbackTemplateInput> = {}): CallbackTemplateInput {
  return { ...emptyCallbackTemplate(), TemplateName: name, RecordNotifyUrl: `http://hooks.example/${name}`, CallbackKey: `key-${name}`, ...fields };
}

describe("CallbackStore: templates", () => {
  it("creates, reads, lists, modifies (merged) and deletes", () => {
    const { store } = open();
    const a = store.createTemplate(tpl("a"), NOW);
    const b = store.createTemplate(tpl("b", { RecordStatusNotifyUrl: "http://hooks.example/status" }), NOW);
    expect(a.TemplateId).toBeGreaterThan(0);
    expect(b.TemplateId).not.toBe(a.TemplateId);
    expect(store.template(a.TemplateId)).toEqual(a);
    expect(store.listTemplates()).toEqual([a, b]);
    const m = store.modifyTemplate(b.TemplateId, { Description: "new", RecordNotifyUrl: "" }, NOW + 1);
    expect(m).toEqual({ ...b, Description: "new", RecordNotifyUrl: "" });
    expect(store.template(b.TemplateId)).toEqual(m);
    store.deleteTemplate(a.TemplateId);
    expect(store.findTemplate(a.TemplateId)).toBeUndefined();
    expect(store.listTemplates()).toEqual([m]);
  });

  it("FailedOperation.NotFound for an unknown id", () => {
    const { store } = open();
    expect(() => store.template(99)).toThrow(code("FailedOperation.NotFound"));
    expect(() => store.modifyTemplate(99, { Description: "x" }, NOW)).toThrow(code("FailedOperation.NotFound"));
    expect(() => store.deleteTemplate(99)).toThrow(code("FailedOperation.NotFound"));
  });

  it("MissingParameter when a modify would clear the last notify URL (nothing stored)", () => {
    const { store } = open();
    const a = store.createTemplate(tpl("a"), NOW);
    expect(() => store.modifyTemplate(a.TemplateId, { RecordNotifyUrl: "" }, NOW)).toThrow(code("MissingParameter"));
    expect(store.template(a.TemplateId)).toEqual(a);
  });

  it(`InternalError.ConfOutLimit past ${MAX_CALLBACK_TEMPLATES} templates`, () => {
    const { store } = open();
    for (let i = 0; i < MAX_CALLBACK_TEMPLATES; i++) store.createTemplate(tpl(`t${i}`), NOW);
    expect(() => store.createTemplate(tpl("over"), NOW)).toThrow(code("InternalError.ConfOutLimit"));
    expect(store.listTemplates()).toHaveLength(MAX_CALLBACK_TEMPLATES);
  });

  it("FailedOperation.ConfInUsed when a rule binds the template", () => {
    const { store } = open();
    const a = store.createTemplate(tpl("a"), NOW);
    store.createRule({ DomainName: "d.com", AppName: "", TemplateId: a.TemplateId }, NOW);
    expect(() => store.deleteTemplate(a.TemplateId)).toThrow(code("FailedOperation.ConfInUsed"));
    store.deleteRule({ DomainName: "d.com", AppName: "" });
    store.deleteTemplate(a.TemplateId);
  });
});

describe("CallbackStore: rules", () => {
  it("creates (Beijing times), lists, refuses duplicates and unknown templates, deletes exactly", () => {
    const { store } = open();
    const a = store.createTemplate(tpl("a"), NOW);
    const rule = store.createRule({ DomainName: "d.com", AppName: "live", TemplateId: a.TemplateId }, NOW);
    // 2023-11-14 22:13:20 UTC = 2023-11-15 06:13:20 UTC+8
    expect(rule).toEqual({ DomainName: "d.com", AppName: "live", TemplateId: a.TemplateId, CreateTime: "2023-11-15 06:13:20", UpdateTime: "2023-11-15 06:13:20" });
    expect(() => store.createRule({ DomainName: "d.com", AppName: "live", TemplateId: a.TemplateId }, NOW)).toThrow(
      code("FailedOperation.RuleAlreadyExist"),
    );
    expect(() => store.createRule({ DomainName: "e.com", AppName: "", TemplateId: 999 }, NOW)).toThrow(code("InvalidParameter.ConfNotFound"));
    store.createRule({ DomainName: "d.com", AppName: "", TemplateId: a.TemplateId }, NOW + 1000);
    expect(store.listRules().map((r) => [r.DomainName, r.AppName])).toEqual([
      ["d.com", "live"],
      ["d.com", ""],
    ]);
    expect(() => store.deleteRule({ DomainName: "d.com", AppName: "other" })).toThrow(code("FailedOperation.NotFound"));
    store.deleteRule({ DomainName: "d.com", AppName: "" });
    expect(store.listRules().map((r) => r.AppName)).toEqual(["live"]);
  });

  it(`LimitExceeded past ${MAX_CALLBACK_RULES} rules`, () => {
    const { store } = open();
    const a = store.createTemplate(tpl("a"), NOW);
    for (let i = 0; i < MAX_CALLBACK_RULES; i++) store.createRule({ DomainName: `d${i}.com`, AppName: "", TemplateId: a.TemplateId }, NOW);
    expect(() => store.createRule({ DomainName: "over.com", AppName: "", TemplateId: a.TemplateId }, NOW)).toThrow(code("LimitExceeded"));
  });

  it("resolve: (domain, app) beats (domain, ''), then the fallback; a rule without record URLs sends nothing", () => {
    const catalog = new SqliteCatalog(":memory:");
    catalogs.push(catalog);
    const fallback = { recordNotifyUrl: "http://fallback.example/cb", callbackKey: "fk" };
    const store = new CallbackStore(catalog.database, { fallback });
    const any = store.createTemplate(tpl("any", { RecordStatusNotifyUrl: "http://hooks.example/any-status" }), NOW);
    const exact = store.createTemplate(tpl("exact"), NOW);
    const silent = store.createTemplate(tpl("silent", { RecordNotifyUrl: "", StreamBeginNotifyUrl: "http://hooks.example/begin" }), NOW);
    store.createRule({ DomainName: "d.com", AppName: "", TemplateId: any.TemplateId }, NOW);
    store.createRule({ DomainName: "d.com", AppName: "live", TemplateId: exact.TemplateId }, NOW);
    store.createRule({ DomainName: "quiet.com", AppName: "", TemplateId: silent.TemplateId }, NOW);

    expect(store.resolve("d.com", "live")).toEqual({ recordNotifyUrl: "http://hooks.example/exact", callbackKey: "key-exact" });
    expect(store.resolve("D.COM", "other")).toEqual({
      recordNotifyUrl: "http://hooks.example/any",
      recordStatusNotifyUrl: "http://hooks.example/any-status",
      callbackKey: "key-any",
    });
    expect(store.resolve("e.com", "live")).toEqual(fallback);
    expect(store.resolve("quiet.com", "live")).toBeUndefined();
    expect(open().store.resolve("e.com", "live")).toBeUndefined(); // no rule, no fallback
  });
});

describe("CallbackStore: outbox", () => {
  const event = (url: string, n = 1) => ({
    url,
    callbackKey: "secret-key",
    eventType: 100,
    body: { event_type: 100, file_id: `f${n}`, sign: "stale", t: 1 },
    fileId: `f${n}`,
  });

  it("enqueue is durable: close the database, reopen the file, the event is still due", async () => {
    const path = file();
    const first = open(path);
    const id = first.store.enqueue(event("http://a.example/cb"), NOW);
    await first.catalog.close();
    const second = open(path);
    const due = second.store.due(NOW, 10);
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({ id, url: "http://a.example/cb", callbackKey: "secret-key", status: "pending", attempts: 0, fileId: "f1" });
    expect(due[0]!.body).toEqual({ event_type: 100, file_id: "f1" }); // sign / t are never stored
  });

  it("due: only pending rows whose time has come, oldest first; exclusions and per-host cap", () => {
    const { store } = open();
    const a1 = store.enqueue(event("http://a.example/1"), NOW);
    const a2 = store.enqueue(event("http://a.example/2"), NOW + 1);
    const a3 = store.enqueue(event("http://A.example/3"), NOW + 2);
    const b1 = store.enqueue(event("http://b.example:8080/1"), NOW + 3);
    const later = store.enqueue(event("http://c.example/1"), NOW + 60_000);
    expect(store.due(NOW + 10, 10).map((r) => r.id)).toEqual([a1, a2, a3, b1]);
    expect(store.due(NOW + 10, 2).map((r) => r.id)).toEqual([a1, a2]);
    expect(store.due(NOW + 10, 10, { perHost: 1 }).map((r) => r.id)).toEqual([a1, b1]);
    expect(store.due(NOW + 10, 10, { excludeIds: [a1, b1] }).map((r) => r.id)).toEqual([a2, a3]);
    expect(store.due(NOW + 10, 10, { excludeHosts: ["a.example"] }).map((r) => r.id)).toEqual([b1]);
    expect(store.due(NOW + 60_000, 10).map((r) => r.id)).toContain(later);
    expect(hostOf("http://A.example:80/x")).toBe("a.example");
    expect(hostOf("http://b.example:8080/1")).toBe("b.example:8080");
    expect(hostOf("nonsense")).toBe("");
  });

  it("markFailedAttempt counts attempts and fails the row at maxAttempts; markDelivered counts the success", () => {
    const { store } = open();
    const id = store.enqueue(event("http://a.example/cb"), NOW);
    expect(store.markFailedAttempt(id, "HTTP 500", NOW + 100, 3)).toEqual({ attempts: 1, status: "pending" });
    expect(store.due(NOW + 99, 10)).toHaveLength(0);
    expect(store.due(NOW + 100, 10)).toHaveLength(1);
    expect(store.markFailedAttempt(id, "HTTP 502", NOW + 200, 3)).toEqual({ attempts: 2, status: "pending" });
    expect(store.markFailedAttempt(id, "x".repeat(2000), NOW + 300, 3)).toEqual({ attempts: 3, status: "failed" });
    expect(store.get(id)!.lastError.length).toBeLessThanOrEqual(503);
    expect(store.due(NOW + 10_000, 10)).toHaveLength(0);
    expect(store.markFailedAttempt(id, "late", NOW, 3)).toBeUndefined(); // not pending any more
    expect(store.markDelivered(id, NOW)).toBeUndefined();

    const ok = store.enqueue(event("http://a.example/cb", 2), NOW);
    store.markFailedAttempt(ok, "HTTP 500", NOW, 3);
    expect(store.markDelivered(ok, NOW + 5)).toBe(2);
    expect(store.get(ok)).toMatchObject({ status: "delivered", attempts: 2, deliveredMs: NOW + 5, lastError: "HTTP 500" });
  });

  it("list pages newest first without the key; counts; retry", () => {
    const { store } = open();
    const ids = [1, 2, 3].map((n) => store.enqueue(event("http://a.example/cb", n), NOW + n));
    store.markDelivered(ids[0]!, NOW + 10);
    store.markFailedAttempt(ids[1]!, "HTTP 404", NOW, 1);
    expect(store.counts()).toEqual({ pending: 1, delivered: 1, failed: 1 });

    const all = store.list({ offset: 0, limit: 2 });
    expect(all.totalCount).toBe(3);
    expect(all.rows.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(store.list({ offset: 2, limit: 2 }).rows.map((r) => r.id)).toEqual([ids[0]]);
    const failed = store.list({ status: "failed", offset: 0, limit: 20 });
    expect(failed).toMatchObject({ totalCount: 1, rows: [{ id: ids[1], status: "failed", attempts: 1, lastError: "HTTP 404" }] });
    for (const r of [...all.rows, ...failed.rows, store.get(ids[0]!)!]) {
      expect(r).not.toHaveProperty("callbackKey");
      expect(JSON.stringify(r)).not.toContain("secret-key");
    }

    expect(store.retry(ids[1]!, NOW + 500)).toMatchObject({ status: "pending", attempts: 0, nextAttemptMs: NOW + 500 });
    expect(store.due(NOW + 500, 10).map((r) => r.id)).toContain(ids[1]);
    store.markFailedAttempt(ids[2]!, "HTTP 500", NOW + 60_000, 5);
    expect(store.retry(ids[2]!, NOW + 1)).toMatchObject({ status: "pending", attempts: 1, nextAttemptMs: NOW + 1 });
    expect(() => store.retry(ids[0]!, NOW)).toThrow(code("UnsupportedOperation"));
    expect(() => store.retry(999, NOW)).toThrow(code("FailedOperation.NotFound"));
    expect(store.counts()).toEqual({ pending: 2, delivered: 1, failed: 0 });
  });
});
