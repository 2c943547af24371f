import { describe, expect, it } from "vitest";
import { flattenedQueryToObject } from "../control/input.js";
import { isValidDomainName, parseCreateRule, parseDeleteRule } from "./rule-schema.js";

const POST = { fromQuery: false };
const GET = { fromQuery: true };
const code = (c: string) => expect.objectContaining({ code: c });
const q = (s: string) => flattenedQueryToObject(new URLSearchParams(s));

describe("isValidDomainName", () => {
  it("accepts host names and IPv4 addresses", () => {
    for (const d of ["push.example.com", "localhost", "a-b.c0", "127.0.0.1", "255.255.255.255", `${"a".repeat(63)}.com`, "1.example"]) {
      expect(isValidDomainName(d)).toBe(true);
    }
  });

  it("refuses everything else", () => {
    for (const d of [
      "",
      ".",
      "a..b",
      "-a.com",
      "a-.com",
      "a_b.com",
      "example.com.",
      "a/b",
      `${"a".repeat(64)}.com`,
      `${"a.".repeat(126)}ab`,
      "256.1.1.1",
      "1.2.3",
      "01.2.3.4",
      "[::1]",
    ]) {
      expect(isValidDomainName(d)).toBe(false);
    }
  });
});

describe("parseCreateRule", () => {
  it("fills AppName / StreamName with the wildcard and lowercases the domain", () => {
    expect(parseCreateRule({ DomainName: "Push.Example.COM", TemplateId: 3 }, POST)).toEqual({
      DomainName: "push.example.com",
      AppName: "",
      StreamName: "",
      TemplateId: 3,
    });
  });

  it("reads a GET query", () => {
    expect(parseCreateRule(q("DomainName=push.example.com&TemplateId=3&AppName=live&StreamName=cam1"), GET)).toEqual({
      DomainName: "push.example.com",
      AppName: "live",
      StreamName: "cam1",
      TemplateId: 3,
    });
  });

  it("accepts explicit empty AppName / StreamName as wildcards", () => {
    expect(parseCreateRule({ DomainName: "d.com", TemplateId: 1, AppName: "", StreamName: "" }, POST)).toMatchObject({
      AppName: "",
      StreamName: "",
    });
  });

  it("MissingParameter without DomainName", () => {
    expect(() => parseCreateRule({ TemplateId: 3 }, POST)).toThrow(code("MissingParameter"));
  });

  it("MissingParameter without TemplateId", () => {
    expect(() => parseCreateRule({ DomainName: "d.com" }, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameter.DomainFormatError for a malformed domain", () => {
    for (const d of ["", "a b.com", "../etc", "a_b.com", "x".repeat(300), "256.0.0.1"]) {
      expect(() => parseCreateRule({ DomainName: d, TemplateId: 3 }, POST)).toThrow(code("InvalidParameter.DomainFormatError"));
    }
  });

  it("InvalidParameter for a DomainName that is not a String", () => {
    expect(() => parseCreateRule({ DomainName: 5, TemplateId: 3 }, POST)).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameterValue for TemplateId 0 or negative", () => {
    expect(() => parseCreateRule({ DomainName: "d.com", TemplateId: 0 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseCreateRule({ DomainName: "d.com", TemplateId: -1 }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameter for TemplateId as a JSON string", () => {
    expect(() => parseCreateRule({ DomainName: "d.com", TemplateId: "3" }, POST)).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameterValue for an AppName that is not a safe folder name", () => {
    for (const app of ["..", ".", "a/b", "a b", "caf\u00e9", "x".repeat(129)]) {
      expect(() => parseCreateRule({ DomainName: "d.com", TemplateId: 1, AppName: app }, POST)).toThrow(code("InvalidParameterValue"));
    }
  });

  it("InvalidParameterValue for a StreamName that is not a safe folder name", () => {
    for (const stream of ["..", "a\\b", "a\0b", "x".repeat(129)]) {
      expect(() => parseCreateRule({ DomainName: "d.com", TemplateId: 1, StreamName: stream }, POST)).toThrow(code("InvalidParameterValue"));
    }
  });

  it("UnknownParameter for other fields", () => {
    expect(() => parseCreateRule({ DomainName: "d.com", TemplateId: 1, Priority: 0 }, POST)).toThrow(code("UnknownParameter"));
  });

  it("InvalidParameter when the body is not an object", () => {
    expect(() => parseCreateRule(null, POST)).toThrow(code("InvalidParameter"));
  });
});

describe("parseDeleteRule", () => {
  it("defaults AppName / StreamName to the exact empty string", () => {
    expect(parseDeleteRule({ DomainName: "D.com" }, POST)).toEqual({ DomainName: "d.com", AppName: "", StreamName: "" });
    expect(parseDeleteRule(q("DomainName=d.com&AppName=live&StreamName="), GET)).toEqual({
      DomainName: "d.com",
      AppName: "live",
      StreamName: "",
    });
  });

  it("MissingParameter without DomainName", () => {
    expect(() => parseDeleteRule({ AppName: "live" }, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameter.DomainFormatError for a malformed domain", () => {
    expect(() => parseDeleteRule({ DomainName: "bad domain" }, POST)).toThrow(code("InvalidParameter.DomainFormatError"));
  });

  it("InvalidParameterValue for unsafe names", () => {
    expect(() => parseDeleteRule({ DomainName: "d.com", StreamName: "../x" }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("UnknownParameter for TemplateId (not part of the key)", () => {
    expect(() => parseDeleteRule({ DomainName: "d.com", TemplateId: 1 }, POST)).toThrow(code("UnknownParameter"));
  });
});
