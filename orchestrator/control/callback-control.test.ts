import { afterEach, describe, expect, it } from "vitest";
import { CallbackPolicy } from "../callbacks/callback-policy.js";
import { emptyCallbackTemplate } from "../callbacks/callback-schema.js";
import { CallbackTargets } from "../callbacks/callback-targets.js";
import type { CallbackTemplateInput } from "../callbacks/types.js";
import { SqliteCatalog } from "../catalog/sqlite-catalog.js";
import { CallbackControl, KEY_MASK, MAX_CALLBACK_RULES, MAX_CALLBACK_TEMPLATES } from "./callback-control.js";

const code = (c: string) => expect.objectContaining({ code: c });
const NOW = 1_700_000_000_000;

const catalogs: SqliteCatalog[] = [];
/** The service listens on a public address (loopback receivers refused), and denies one LAN subnet and one domain. */
const policy = new CallbackPolicy({ allow: [], deny: ["10.66.0.0/16", "*.internal.example"], serviceOnLoopback: false });
function open(): { catalog: SqliteCatalog; control: CallbackControl; kicks: () => number; clock: { ms: number } } {
  const catalog = new SqliteCatalog(":memory:");
  catalogs.push(catalog);
  let kicks = 0;
  const clock = { ms: NOW };
  return { catalog, control: new CallbackControl(catalog, policy, () => kicks++, () => clock.ms), kicks: () => kicks, clock };
}
afterEach(async () => {
  for (const c of catalogs.splice(0)) await c.close();
});

function tpl(name: string, fields: Partial<CallbackTemplateInput> = {}): CallbackTemplateInput {
  return { ...emptyCallbackTemplate(), TemplateName: name, RecordNotifyUrl: `http://hooks.example/${name}`, CallbackKey: `key-${name}`, ...fields };
}

describe("CallbackControl: templates", () => {
  it("creates, reads, lists, modifies (merged) and deletes", async () => {
    const { control } = open();
    const a = await control.createTemplate(tpl("a"));
    const b = await control.createTemplate(tpl("b", { RecordStatusNotifyUrl: "http://hooks.example/status" }));
    expect(a.TemplateId).toBeGreaterThan(0);
    expect(b.TemplateId).not.toBe(a.TemplateId);
    expect((await control.describeTemplate(a.TemplateId)).Template).toEqual({ TemplateId: a.TemplateId, ...tpl("a"), CallbackKey: KEY_MASK });
    expect((await control.describeTemplates()).Templates.map((t) => t.TemplateId)).toEqual([a.TemplateId, b.TemplateId]);
    await control.modifyTemplate(b.TemplateId, { Description: "new", RecordNotifyUrl: "" });
    const m = (await control.describeTemplate(b.TemplateId)).Template;
    expect(m).toEqual({ TemplateId: b.TemplateId, ...tpl("b", { RecordStatusNotifyUrl: "http://hooks.example/status" }), Description: "new", RecordNotifyUrl: "", CallbackKey: KEY_MASK });
    await control.deleteTemplate(a.TemplateId);
    expect((await control.describeTemplates()).Templates).toEqual([m]);
  });

  it("never answers the CallbackKey; a Modify sending the mask back keeps the key", async () => {
    const { catalog, control } = open();
    const a = await control.createTemplate(tpl("a"));
    const none = await control.createTemplate(tpl("b", { CallbackKey: "" }));
    expect((await control.describeTemplate(a.TemplateId)).Template.CallbackKey).toBe(KEY_MASK);
    expect((await control.describeTemplates()).Templates.map((t) => t.CallbackKey)).toEqual([KEY_MASK, ""]);
    expect(JSON.stringify(await control.describeTemplates())).not.toContain("key-a");
    await control.modifyTemplate(a.TemplateId, { ...(await control.describeTemplate(a.TemplateId)).Template, Description: "read, changed, written back" });
    expect((await catalog.getCallbackTemplate(a.TemplateId))?.CallbackKey).toBe("key-a");
    await control.modifyTemplate(a.TemplateId, { CallbackKey: "new-key-1" });
    expect((await catalog.getCallbackTemplate(a.TemplateId))?.CallbackKey).toBe("new-key-1");
    expect((await catalog.getCallbackTemplate(none.TemplateId))?.CallbackKey).toBe("");
  });

  it("FailedOperation.NotFound for an unknown id", async () => {
    const { control } = open();
    await expect(control.describeTemplate(99)).rejects.toThrow(code("FailedOperation.NotFound"));
    await expect(control.modifyTemplate(99, { Description: "x" })).rejects.toThrow(code("FailedOperation.NotFound"));
    await expect(control.deleteTemplate(99)).rejects.toThrow(code("FailedOperation.NotFound"));
  });

  it("MissingParameter when a modify would clear the last notify URL (nothing stored)", async () => {
    const { control } = open();
    const a = await control.createTemplate(tpl("a"));
    await expect(control.modifyTemplate(a.TemplateId, { RecordNotifyUrl: "" })).rejects.toThrow(code("MissingParameter"));
    expect((await control.describeTemplate(a.TemplateId)).Template.RecordNotifyUrl).toBe("http://hooks.example/a");
  });

  it(`InternalError.ConfOutLimit past ${MAX_CALLBACK_TEMPLATES} templates`, async () => {
    const { control } = open();
    for (let i = 0; i < MAX_CALLBACK_TEMPLATES; i++) await control.createTemplate(tpl(`t${i}`));
    await expect(control.createTemplate(tpl("over"))).rejects.toThrow(code("InternalError.ConfOutLimit"));
    expect((await control.describeTemplates()).Templates).toHaveLength(MAX_CALLBACK_TEMPLATES);
  });

  it("FailedOperation.ConfInUsed when a rule binds the template", async () => {
    const { control } = open();
    const a = await control.createTemplate(tpl("a"));
    await control.createRule({ DomainName: "d.com", AppName: "", TemplateId: a.TemplateId });
    await expect(control.deleteTemplate(a.TemplateId)).rejects.toThrow(code("FailedOperation.ConfInUsed"));
    await control.deleteRule({ DomainName: "d.com", AppName: "" });
    await control.deleteTemplate(a.TemplateId);
  });
});

describe("CallbackControl: the callbacks policy", () => {
  it("refuses notify URLs the policy denies without a lookup (InvalidParameterValue, nothing stored); names wait for send time", async () => {
    const { control } = open();
    const refused = {
      RecordNotifyUrl: "http://169.254.169.254/latest/meta-data/",
      RecordStatusNotifyUrl: "http://[::ffff:169.254.169.254]/",
      StreamBeginNotifyUrl: "http://100.100.100.200/latest/meta-data/",
      SnapshotNotifyUrl: "http://127.0.0.1:6379/",
      StreamEndNotifyUrl: "http://10.66.1.2/cb",
      PushExceptionNotifyUrl: "https://hooks.internal.example/cb",
    };
    for (const [field, url] of Object.entries(refused)) {
      await expect(control.createTemplate(tpl("t", { RecordNotifyUrl: "http://hooks.example/ok", [field]: url })), field).rejects.toThrow(
        expect.objectContaining({ code: "InvalidParameterValue", message: expect.stringContaining(`${field} is refused by the callbacks policy`) }),
      );
    }
    await expect(control.createTemplate(tpl("m", { RecordNotifyUrl: "http://169.254.169.254/" }))).rejects.toThrow(/169\.254\.169\.254 is cloud metadata/);
    expect((await control.describeTemplates()).Templates).toEqual([]);

    const ok = await control.createTemplate(tpl("ok", { RecordNotifyUrl: "http://10.1.2.3:9000/cb", RecordStatusNotifyUrl: "http://localhost:9000/status" }));
    await expect(control.modifyTemplate(ok.TemplateId, { RecordNotifyUrl: "http://169.254.169.254/" })).rejects.toThrow(code("InvalidParameterValue"));
    expect((await control.describeTemplate(ok.TemplateId)).Template.RecordNotifyUrl).toBe("http://10.1.2.3:9000/cb");
    await control.modifyTemplate(ok.TemplateId, { Description: "a change that leaves the URLs alone" });
  });
});

describe("CallbackControl: rules", () => {
  it("creates (Beijing times), lists, refuses duplicates and unknown templates, deletes exactly", async () => {
    const { control, clock } = open();
    const a = await control.createTemplate(tpl("a"));
    await control.createRule({ DomainName: "d.com", AppName: "live", TemplateId: a.TemplateId });
    // 2023-11-14 22:13:20 UTC = 2023-11-15 06:13:20 UTC+8
    expect((await control.describeRules()).Rules).toEqual([
      { DomainName: "d.com", AppName: "live", TemplateId: a.TemplateId, CreateTime: "2023-11-15 06:13:20", UpdateTime: "2023-11-15 06:13:20" },
    ]);
    await expect(control.createRule({ DomainName: "d.com", AppName: "live", TemplateId: a.TemplateId })).rejects.toThrow(code("FailedOperation.RuleAlreadyExist"));
    await expect(control.createRule({ DomainName: "e.com", AppName: "", TemplateId: 999 })).rejects.toThrow(code("InvalidParameter.ConfNotFound"));
    clock.ms += 1000;
    await control.createRule({ DomainName: "d.com", AppName: "", TemplateId: a.TemplateId });
    expect((await control.describeRules()).Rules.map((r) => [r.DomainName, r.AppName])).toEqual([
      ["d.com", "live"],
      ["d.com", ""],
    ]);
    await expect(control.deleteRule({ DomainName: "d.com", AppName: "other" })).rejects.toThrow(code("FailedOperation.NotFound"));
    await control.deleteRule({ DomainName: "d.com", AppName: "" });
    expect((await control.describeRules()).Rules.map((r) => r.AppName)).toEqual(["live"]);
  });

  it(`LimitExceeded past ${MAX_CALLBACK_RULES} rules`, async () => {
    const { control } = open();
    const a = await control.createTemplate(tpl("a"));
    for (let i = 0; i < MAX_CALLBACK_RULES; i++) await control.createRule({ DomainName: `d${i}.com`, AppName: "", TemplateId: a.TemplateId });
    await expect(control.createRule({ DomainName: "over.com", AppName: "", TemplateId: a.TemplateId })).rejects.toThrow(code("LimitExceeded"));
  });

  it("targets: (domain, app) beats (domain, ''), then the fallback; a rule without record URLs sends nothing", async () => {
    const { catalog, control } = open();
    const fallback = { recordNotifyUrl: "http://fallback.example/cb", callbackKey: "fk" };
    const targets = new CallbackTargets(catalog, fallback);
    const any = await control.createTemplate(tpl("any", { RecordStatusNotifyUrl: "http://hooks.example/any-status" }));
    const exact = await control.createTemplate(tpl("exact"));
    const silent = await control.createTemplate(tpl("silent", { RecordNotifyUrl: "", StreamBeginNotifyUrl: "http://hooks.example/begin" }));
    await control.createRule({ DomainName: "d.com", AppName: "", TemplateId: any.TemplateId });
    await control.createRule({ DomainName: "d.com", AppName: "live", TemplateId: exact.TemplateId });
    await control.createRule({ DomainName: "quiet.com", AppName: "", TemplateId: silent.TemplateId });

    expect(await targets.resolve("d.com", "live")).toEqual({ recordNotifyUrl: "http://hooks.example/exact", callbackKey: "key-exact" });
    expect(await targets.resolve("D.COM", "other")).toEqual({
      recordNotifyUrl: "http://hooks.example/any",
      recordStatusNotifyUrl: "http://hooks.example/any-status",
      callbackKey: "key-any",
    });
    expect(await targets.resolve("e.com", "live")).toEqual(fallback);
    expect(await targets.resolve("quiet.com", "live")).toBeUndefined();
    expect(await new CallbackTargets(catalog, undefined).resolve("e.com", "live")).toBeUndefined(); // no rule, no fallback
  });
});

describe("CallbackControl: deliveries", () => {
  it("describes the outbox with counts, retries a failed delivery (and wakes the dispatcher), refuses delivered and unknown ones", async () => {
    const { catalog, control, kicks } = open();
    const event = (n: number) => ({ url: "http://a.example/cb", callbackKey: "secret-key", eventType: 100, body: { event_type: 100, file_id: `f${n}` }, fileId: `f${n}` });
    const ids = [];
    for (const n of [1, 2]) ids.push(await catalog.enqueueCallback(event(n), NOW));
    await catalog.markCallbackDelivered(ids[0]!, NOW);
    await catalog.markCallbackFailed(ids[1]!, "HTTP 500", NOW, 1);
    const described = await control.describeDeliveries({ offset: 0, limit: 20 });
    expect(described.TotalCount).toBe(2);
    expect(described.Counts).toEqual({ pending: 0, delivered: 1, failed: 1 });
    expect(JSON.stringify(described)).not.toContain("secret-key");
    await control.retryDelivery(ids[1]!);
    expect(kicks()).toBe(1);
    expect(await catalog.getCallback(ids[1]!)).toMatchObject({ status: "pending", attempts: 0 });
    await expect(control.retryDelivery(ids[0]!)).rejects.toThrow(code("UnsupportedOperation"));
    await expect(control.retryDelivery(999)).rejects.toThrow(code("FailedOperation.NotFound"));
    expect(kicks()).toBe(1);
  });
});
