import { describe, expect, it } from "vitest";
import { flattenedQueryToObject } from "../control/input.js";
import {
  emptyCallbackTemplate,
  notifyUrlProblem,
  parseCallbackTemplateId,
  parseCreateCallbackRule,
  parseCreateCallbackTemplate,
  parseDeleteCallbackRule,
  parseDescribeCallbackDeliveries,
  parseModifyCallbackTemplate,
  parseNoFields,
  parseRetryCallbackDelivery,
  toCallbackDeliveryInfo,
} from "./callback-schema.js";

const POST = { fromQuery: false };
const GET = { fromQuery: true };
const code = (c: string) => expect.objectContaining({ code: c });
const q = (s: string) => flattenedQueryToObject(new URLSearchParams(s));
const URL_OK = "https://hooks.example.com/live/record?x=1";
const create = (body: Record<string, unknown>) => parseCreateCallbackTemplate({ TemplateName: "t", RecordNotifyUrl: URL_OK, ...body }, POST);

describe("parseCreateCallbackTemplate", () => {
  it("fills defaults around the given fields", () => {
    expect(create({ CallbackKey: "k3y" })).toEqual({ ...emptyCallbackTemplate(), TemplateName: "t", RecordNotifyUrl: URL_OK, CallbackKey: "k3y" });
  });

  it("reads every SDK field, from JSON and from a GET query", () => {
    const all = {
      TemplateName: "录制回调_1-a",
      Description: "any text, even spaces!",
      StreamBeginNotifyUrl: "http://a.example/1",
      StreamEndNotifyUrl: "http://a.example/2",
      RecordNotifyUrl: "http://a.example/3",
      RecordStatusNotifyUrl: "http://a.example/4",
      SnapshotNotifyUrl: "http://a.example/5",
      PornCensorshipNotifyUrl: "http://a.example/6",
      StreamMixNotifyUrl: "http://a.example/7",
      PushExceptionNotifyUrl: "http://a.example/8",
      AudioAuditNotifyUrl: "http://a.example/9",
      RecordExceptionNotifyUrl: "https://127.0.0.1:8443/10",
      CallbackKey: "abcDEF123!@#",
      RecordExceptionLevels: ["error", "info", "error"],
    };
    const expected = { ...all, RecordExceptionLevels: ["error", "info"] };
    expect(parseCreateCallbackTemplate(all, POST)).toEqual(expected);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(all)) {
      if (!Array.isArray(v)) query.append(k, v);
      else for (const [i, x] of v.entries()) query.append(`${k}.${i}`, x);
    }
    expect(parseCreateCallbackTemplate(flattenedQueryToObject(query), GET)).toEqual(expected);
  });

  it("MissingParameter without TemplateName, or without any notify URL", () => {
    expect(() => parseCreateCallbackTemplate({ RecordNotifyUrl: URL_OK }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCreateCallbackTemplate({ TemplateName: "t" }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCreateCallbackTemplate({ TemplateName: "t", RecordNotifyUrl: "" }, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameterValue for a bad TemplateName", () => {
    for (const name of ["", "a b", "a/b", "x".repeat(31), "emoji😀"]) {
      expect(() => create({ TemplateName: name })).toThrow(code("InvalidParameterValue"));
    }
    expect(create({ TemplateName: "x".repeat(30) }).TemplateName).toHaveLength(30);
  });

  it("InvalidParameterValue for a Description over 100 characters", () => {
    expect(create({ Description: "描".repeat(100) }).Description).toHaveLength(100);
    expect(() => create({ Description: "d".repeat(101) })).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue for a bad notify URL, on every URL field", () => {
    const bad = [
      "ftp://a.example/x",
      "not a url",
      "/relative/path",
      "javascript:alert(1)",
      "http://user:pw@a.example/",
      "http://a.example/with space",
      "http://a.example/\n",
      `https://a.example/${"p".repeat(512)}`,
    ];
    for (const field of ["RecordNotifyUrl", "RecordStatusNotifyUrl", "StreamBeginNotifyUrl", "AudioAuditNotifyUrl"]) {
      for (const url of bad) expect(() => create({ [field]: url })).toThrow(code("InvalidParameterValue"));
    }
    const longest = `https://a.example/${"p".repeat(512 - 18)}`;
    expect(longest).toHaveLength(512);
    expect(create({ RecordNotifyUrl: longest }).RecordNotifyUrl).toBe(longest);
  });

  it("InvalidParameter for a URL that is not a String", () => {
    expect(() => create({ RecordNotifyUrl: 5 })).toThrow(code("InvalidParameter"));
  });

  it("CallbackKey: at most 64 visible ASCII characters", () => {
    expect(create({ CallbackKey: "k".repeat(64) }).CallbackKey).toHaveLength(64);
    expect(create({ CallbackKey: "" }).CallbackKey).toBe("");
    expect(() => create({ CallbackKey: "k".repeat(65) })).toThrow(code("InvalidParameterValue"));
    expect(() => create({ CallbackKey: "has space" })).toThrow(code("InvalidParameterValue"));
    expect(() => create({ CallbackKey: "ключ" })).toThrow(code("InvalidParameterValue"));
    expect(() => create({ CallbackKey: 123 })).toThrow(code("InvalidParameter"));
  });

  it("RecordExceptionLevels: an array of known levels", () => {
    expect(() => create({ RecordExceptionLevels: "error" })).toThrow(code("InvalidParameter"));
    expect(() => create({ RecordExceptionLevels: [1] })).toThrow(code("InvalidParameter"));
    expect(() => create({ RecordExceptionLevels: ["fatal"] })).toThrow(code("InvalidParameterValue"));
  });

  it("UnknownParameter for a field the action does not define", () => {
    expect(() => create({ TemplateId: 1 })).toThrow(code("UnknownParameter"));
    expect(() => create({ Callbackkey: "x" })).toThrow(code("UnknownParameter"));
  });
});

describe("parseModifyCallbackTemplate", () => {
  it("returns only the given fields", () => {
    expect(parseModifyCallbackTemplate({ TemplateId: 7, RecordNotifyUrl: "", CallbackKey: "new" }, POST)).toEqual({
      TemplateId: 7,
      patch: { RecordNotifyUrl: "", CallbackKey: "new" },
    });
    expect(parseModifyCallbackTemplate(q("TemplateId=7&TemplateName=n2"), GET)).toEqual({ TemplateId: 7, patch: { TemplateName: "n2" } });
  });

  it("codes: MissingParameter / InvalidParameter / InvalidParameterValue / UnknownParameter", () => {
    expect(() => parseModifyCallbackTemplate({ RecordNotifyUrl: URL_OK }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseModifyCallbackTemplate({ TemplateId: "7" }, POST)).toThrow(code("InvalidParameter"));
    expect(() => parseModifyCallbackTemplate({ TemplateId: 0 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseModifyCallbackTemplate({ TemplateId: 7, TemplateName: "" }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseModifyCallbackTemplate({ TemplateId: 7, RecordNotifyUrl: "gopher://x" }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseModifyCallbackTemplate({ TemplateId: 7, IsDelayLive: 1 }, POST)).toThrow(code("UnknownParameter"));
  });
});

describe("TemplateId / no-field actions", () => {
  it("parseCallbackTemplateId", () => {
    expect(parseCallbackTemplateId({ TemplateId: 3 }, POST)).toBe(3);
    expect(parseCallbackTemplateId(q("TemplateId=3"), GET)).toBe(3);
    expect(() => parseCallbackTemplateId({}, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCallbackTemplateId({ TemplateId: 1.5 }, POST)).toThrow(code("InvalidParameter"));
    expect(() => parseCallbackTemplateId({ TemplateId: -1 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseCallbackTemplateId({ TemplateId: 3, X: 1 }, POST)).toThrow(code("UnknownParameter"));
  });

  it("parseNoFields", () => {
    expect(() => parseNoFields({}, POST)).not.toThrow();
    expect(() => parseNoFields({ TemplateId: 1 }, POST)).toThrow(code("UnknownParameter"));
    expect(() => parseNoFields([], POST)).toThrow(code("InvalidParameter"));
  });
});

describe("callback rules", () => {
  it("parseCreateCallbackRule: lowercased domain, '' app allowed", () => {
    expect(parseCreateCallbackRule({ DomainName: "Push.Example.com", AppName: "", TemplateId: 2 }, POST)).toEqual({
      DomainName: "push.example.com",
      AppName: "",
      TemplateId: 2,
    });
    expect(parseCreateCallbackRule(q("DomainName=push.example.com&AppName=live&TemplateId=2"), GET)).toEqual({
      DomainName: "push.example.com",
      AppName: "live",
      TemplateId: 2,
    });
  });

  it("parseCreateCallbackRule codes", () => {
    expect(() => parseCreateCallbackRule({ AppName: "live", TemplateId: 2 }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCreateCallbackRule({ DomainName: "d.com", TemplateId: 2 }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCreateCallbackRule({ DomainName: "d.com", AppName: "live" }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCreateCallbackRule({ DomainName: "bad_domain", AppName: "live", TemplateId: 2 }, POST)).toThrow(
      code("InvalidParameter.DomainFormatError"),
    );
    expect(() => parseCreateCallbackRule({ DomainName: "d.com", AppName: "../x", TemplateId: 2 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseCreateCallbackRule({ DomainName: "d.com", AppName: "live", TemplateId: 0 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseCreateCallbackRule({ DomainName: "d.com", AppName: "live", TemplateId: 2, StreamName: "s" }, POST)).toThrow(
      code("UnknownParameter"),
    );
  });

  it("parseDeleteCallbackRule: exact DomainName + AppName", () => {
    expect(parseDeleteCallbackRule({ DomainName: "D.com", AppName: "" }, POST)).toEqual({ DomainName: "d.com", AppName: "" });
    expect(() => parseDeleteCallbackRule({ DomainName: "d.com" }, POST)).toThrow(code("MissingParameter"));
    expect(() => parseDeleteCallbackRule({ DomainName: "a b", AppName: "" }, POST)).toThrow(code("InvalidParameter.DomainFormatError"));
    expect(() => parseDeleteCallbackRule({ DomainName: "d.com", AppName: "", TemplateId: 1 }, POST)).toThrow(code("UnknownParameter"));
  });
});

describe("deliveries (our actions)", () => {
  it("parseDescribeCallbackDeliveries: defaults and ranges", () => {
    expect(parseDescribeCallbackDeliveries({}, POST)).toEqual({ offset: 0, limit: 20 });
    expect(parseDescribeCallbackDeliveries(q("Status=failed&Offset=40&Limit=100"), GET)).toEqual({ status: "failed", offset: 40, limit: 100 });
    expect(() => parseDescribeCallbackDeliveries({ Status: "done" }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeCallbackDeliveries({ Status: 1 }, POST)).toThrow(code("InvalidParameter"));
    expect(() => parseDescribeCallbackDeliveries({ Offset: -1 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeCallbackDeliveries({ Limit: 0 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeCallbackDeliveries({ Limit: 101 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeCallbackDeliveries({ Page: 1 }, POST)).toThrow(code("UnknownParameter"));
  });

  it("parseRetryCallbackDelivery", () => {
    expect(parseRetryCallbackDelivery({ DeliveryId: 9 }, POST)).toBe(9);
    expect(parseRetryCallbackDelivery(q("DeliveryId=9"), GET)).toBe(9);
    expect(() => parseRetryCallbackDelivery({}, POST)).toThrow(code("MissingParameter"));
    expect(() => parseRetryCallbackDelivery({ DeliveryId: "9" }, POST)).toThrow(code("InvalidParameter"));
    expect(() => parseRetryCallbackDelivery({ DeliveryId: 0 }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("toCallbackDeliveryInfo: PascalCase, Unix seconds, no key", () => {
    const info = toCallbackDeliveryInfo({
      id: 4,
      url: URL_OK,
      eventType: 100,
      body: { event_type: 100 },
      fileId: "f1",
      status: "pending",
      attempts: 2,
      nextAttemptMs: 1_700_000_060_500,
      lastError: "HTTP 500",
      createdMs: 1_700_000_000_999,
      deliveredMs: 0,
    });
    expect(info).toEqual({
      DeliveryId: 4,
      Url: URL_OK,
      EventType: 100,
      FileId: "f1",
      Status: "pending",
      Attempts: 2,
      LastError: "HTTP 500",
      NextAttemptTime: 1_700_000_060,
      CreateTime: 1_700_000_000,
      DeliveredTime: 0,
      Body: { event_type: 100 },
    });
  });
});

describe("notifyUrlProblem", () => {
  it("accepts http(s) URLs with a host, ports, paths and queries", () => {
    for (const u of ["http://a.example", "https://a.example:8443/p?q=1#f", "http://127.0.0.1:9000/cb", "http://[::1]:80/x"]) {
      expect(notifyUrlProblem(u)).toBeUndefined();
    }
  });
});
