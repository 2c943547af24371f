import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonBody } from "./json-body.js";

const nested = (n: number) => Buffer.from(`${"[".repeat(n)}${"]".repeat(n)}`);

describe("parseJsonBody", () => {
  it("parses JSON bodies, {} when empty", () => {
    expect(parseJsonBody(Buffer.from('{"TemplateName":"a","FlvParam":{"Enable":1}}'))).toEqual({ TemplateName: "a", FlvParam: { Enable: 1 } });
    expect(parseJsonBody(Buffer.alloc(0))).toEqual({});
  });

  it("refuses nesting past MAX_JSON_DEPTH before parsing, and malformed JSON", () => {
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1))).toThrow(expect.objectContaining({ apiCode: "InvalidParameter", message: expect.stringMatching(/nests deeper/) }));
    expect(() => parseJsonBody(nested(500_000))).toThrow(/nests deeper/);
    expect(() => parseJsonBody(Buffer.from("{not json"))).toThrow(/not valid JSON/);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const s = JSON.stringify({ Description: `${"[{".repeat(100)} \\" ${"[".repeat(100)}` });
    expect(nestsDeeperThan(Buffer.from(s), 2)).toBe(false);
    expect(nestsDeeperThan(Buffer.from('{"a":{"b":{"c":1}}}'), 2)).toBe(true);
  });
});
