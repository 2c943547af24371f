import { describe, expect, it } from "vitest";
import { ApiError } from "./api-error.js";
import { fieldError, flattenedQueryToObject, Input, MAX_QUERY_KEYS, showValue } from "./input.js";

const POST = { fromQuery: false };
const GET = { fromQuery: true };
const code = (c: string) => expect.objectContaining({ code: c });
const q = (s: string) => flattenedQueryToObject(new URLSearchParams(s));

describe("flattenedQueryToObject", () => {
  it("rebuilds nested structs from dotted keys, leaves stay strings", () => {
    expect(q("TemplateName=a&Mp4Param.Enable=1&Mp4Param.RecordInterval=60")).toEqual({
      TemplateName: "a",
      Mp4Param: { Enable: "1", RecordInterval: "60" },
    });
  });

  it("rebuilds lists from indexed keys, including lists of structs", () => {
    expect(q("Field.0=a&Field.1=b")).toEqual({ Field: ["a", "b"] });
    expect(q("Field.1=b&Field.0=a")).toEqual({ Field: ["a", "b"] });
    expect(q("L.0.Name=x&L.1.Name=y")).toEqual({ L: [{ Name: "x" }, { Name: "y" }] });
  });

  it("returns an empty object for an empty query", () => {
    expect(q("")).toEqual({});
  });

  it("refuses more than 3 nesting levels", () => {
    expect(q("A.B.C=1")).toEqual({ A: { B: { C: "1" } } });
    expect(() => q("A.B.C.D=1")).toThrow(code("InvalidParameter"));
  });

  it("refuses more than 200 keys", () => {
    const ok = new URLSearchParams();
    for (let i = 0; i < MAX_QUERY_KEYS; i++) ok.append(`K${i}`, "v");
    expect(Object.keys(flattenedQueryToObject(ok))).toHaveLength(MAX_QUERY_KEYS);
    ok.append("One", "more");
    expect(() => flattenedQueryToObject(ok)).toThrow(code("InvalidParameter"));
  });

  it("refuses keys outside [A-Za-z0-9_.]", () => {
    for (const key of ["a-b", "a[0]", "a b", "caf\u00e9", "", "a/b"]) {
      expect(() => flattenedQueryToObject(new URLSearchParams([[key, "1"]]))).toThrow(code("InvalidParameter"));
    }
  });

  it("refuses empty key parts", () => {
    for (const key of [".A", "A.", "A..B"]) expect(() => q(`${key}=1`)).toThrow(code("InvalidParameter"));
  });

  it("refuses __proto__, constructor and prototype anywhere in a key, and pollutes nothing", () => {
    for (const key of ["__proto__", "__proto__.polluted", "Mp4Param.__proto__", "constructor.prototype.polluted", "constructor", "A.prototype"]) {
      expect(() => q(`${key}=1`)).toThrow(code("InvalidParameter"));
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("builds objects without a prototype", () => {
    const obj = q("Mp4Param.Enable=1");
    expect(Object.getPrototypeOf(obj)).toBeNull();
    expect(Object.getPrototypeOf(obj["Mp4Param"])).toBeNull();
  });

  it("refuses a repeated key", () => {
    expect(() => q("TemplateName=a&TemplateName=b")).toThrow(code("InvalidParameter"));
  });

  it("refuses a key used both as a value and as a struct, in either order", () => {
    expect(() => q("A=1&A.B=2")).toThrow(code("InvalidParameter"));
    expect(() => q("A.B=2&A=1")).toThrow(code("InvalidParameter"));
  });

  it("refuses list indices with gaps, leading zeros, mixed with names, or at the top level", () => {
    expect(() => q("F.0=a&F.2=b")).toThrow(code("InvalidParameter"));
    expect(() => q("F.1=a")).toThrow(code("InvalidParameter"));
    expect(() => q("F.00=a")).toThrow(code("InvalidParameter"));
    expect(() => q("F.0=a&F.Name=b")).toThrow(code("InvalidParameter"));
    expect(() => q("0=a")).toThrow(code("InvalidParameter"));
  });
});

describe("Input", () => {
  it("refuses a body that is not an object", () => {
    for (const body of [null, undefined, [], "x", 1, true]) {
      expect(() => new Input(body, POST)).toThrow(code("InvalidParameter"));
    }
  });

  it("throws ApiError whose code is the cloud code", () => {
    let err: unknown;
    try {
      new Input({}, POST).string("X", { required: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "MissingParameter", apiCode: "MissingParameter" });
    expect((err as Error).message).toContain("X");
  });

  describe("string", () => {
    it("MissingParameter when a required field is absent or null", () => {
      expect(() => new Input({}, POST).string("Name", { required: true })).toThrow(code("MissingParameter"));
      expect(() => new Input({ Name: null }, POST).string("Name", { required: true })).toThrow(code("MissingParameter"));
    });

    it("returns the value, the default, or undefined", () => {
      const input = new Input({ Name: "abc" }, POST);
      expect(input.string("Name")).toBe("abc");
      expect(input.string("Other", { default: "d" })).toBe("d");
      expect(input.string("Other")).toBeUndefined();
    });

    it("InvalidParameter for a number, a boolean, an object or a list", () => {
      for (const v of [1, true, { a: 1 }, ["a"]]) {
        expect(() => new Input({ Name: v }, POST).string("Name")).toThrow(code("InvalidParameter"));
      }
      expect(() => new Input(q("Name.A=1"), GET).string("Name")).toThrow(code("InvalidParameter"));
    });

    it("InvalidParameterValue above maxLength (code points) and below minLength", () => {
      expect(() => new Input({ Name: "abcd" }, POST).string("Name", { maxLength: 3 })).toThrow(code("InvalidParameterValue"));
      expect(new Input({ Name: "\u{20000}\u{20001}\u{20002}" }, POST).string("Name", { maxLength: 3 })).toHaveLength(6);
      expect(() => new Input({ Name: "" }, POST).string("Name", { minLength: 1 })).toThrow(code("InvalidParameterValue"));
    });

    it("InvalidParameterValue when the pattern does not match", () => {
      expect(() => new Input({ Name: "a/b" }, POST).string("Name", { pattern: /^[a-z]+$/ })).toThrow(code("InvalidParameterValue"));
    });

    it("names the field and quotes the bad value cut to 64 characters", () => {
      const long = "y".repeat(1000);
      try {
        new Input({ S: { Name: long } }, POST).object("S")!.string("Name", { maxLength: 10 });
        expect.unreachable();
      } catch (e) {
        const msg = (e as Error).message;
        expect(msg).toContain("S.Name");
        expect(msg).toContain("0 to 10");
        expect(msg).toContain(`"${"y".repeat(64)}..."`);
        expect(msg).not.toContain("y".repeat(65));
      }
    });
  });

  describe("integer", () => {
    it("InvalidParameter for a JSON string, a fraction, NaN, Infinity, an unsafe integer, an object", () => {
      for (const v of ["60", 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, { a: 1 }, true]) {
        expect(() => new Input({ N: v }, POST).integer("N")).toThrow(code("InvalidParameter"));
      }
    });

    it("accepts decimal strings in query mode only, and nothing looser", () => {
      expect(new Input({ N: "60" }, GET).integer("N")).toBe(60);
      expect(new Input({ N: "-5" }, GET).integer("N")).toBe(-5);
      for (const v of ["6e1", "1.0", " 60", "60 ", "", "0x10", "+1", "99999999999999999999"]) {
        expect(() => new Input({ N: v }, GET).integer("N")).toThrow(code("InvalidParameter"));
      }
    });

    it("InvalidParameterValue out of [min, max]", () => {
      const input = new Input({ N: 59 }, POST);
      expect(() => input.integer("N", { min: 60, max: 43200 })).toThrow(code("InvalidParameterValue"));
      expect(() => new Input({ N: 43201 }, POST).integer("N", { min: 60, max: 43200 })).toThrow(code("InvalidParameterValue"));
      expect(new Input({ N: 60 }, POST).integer("N", { min: 60, max: 43200 })).toBe(60);
    });

    it("fills the default, normalises -0, and MissingParameter when required", () => {
      expect(new Input({}, POST).integer("N", { default: 1800 })).toBe(1800);
      expect(Object.is(new Input({ N: -0 }, POST).integer("N"), 0)).toBe(true);
      expect(() => new Input({}, POST).integer("N", { required: true })).toThrow(code("MissingParameter"));
    });
  });

  describe("integerEnum", () => {
    it("InvalidParameterValue for a value outside the set, InvalidParameter for a wrong type", () => {
      expect(() => new Input({ E: 2 }, POST).integerEnum("E", [0, 1] as const)).toThrow(code("InvalidParameterValue"));
      expect(() => new Input({ E: "1" }, POST).integerEnum("E", [0, 1] as const)).toThrow(code("InvalidParameter"));
      expect(new Input({ E: "1" }, GET).integerEnum("E", [0, 1] as const)).toBe(1);
      expect(new Input({}, GET).integerEnum("E", [0, 1] as const, { default: 0 })).toBe(0);
    });
  });

  describe("boolean", () => {
    it("accepts only JSON booleans in POST mode", () => {
      expect(new Input({ B: true }, POST).boolean("B")).toBe(true);
      for (const v of ["true", "false", 1, 0, "1"]) {
        expect(() => new Input({ B: v }, POST).boolean("B")).toThrow(code("InvalidParameter"));
      }
    });

    it('accepts "true" / "false" / "1" / "0" in query mode, nothing else', () => {
      expect(new Input(q("A=true&B=1&C=false&D=0"), GET).boolean("A")).toBe(true);
      const input = new Input(q("A=true&B=1&C=false&D=0"), GET);
      expect([input.boolean("A"), input.boolean("B"), input.boolean("C"), input.boolean("D")]).toEqual([true, true, false, false]);
      for (const v of ["yes", "TRUE", "", "2"]) {
        expect(() => new Input({ B: v }, GET).boolean("B")).toThrow(code("InvalidParameter"));
      }
    });
  });

  describe("object", () => {
    it("InvalidParameter when a struct field is not an object", () => {
      for (const v of ["x", 1, ["a"]]) expect(() => new Input({ S: v }, POST).object("S")).toThrow(code("InvalidParameter"));
    });

    it("returns undefined when absent and a reader with prefixed messages when given", () => {
      expect(new Input({}, POST).object("S")).toBeUndefined();
      expect(() => new Input({}, POST).object("S", { required: true })).toThrow(code("MissingParameter"));
      const inner = new Input({ S: { N: "x" } }, POST).object("S")!;
      expect(() => inner.integer("N")).toThrow(/S\.N/);
    });
  });

  describe("rejectUnknown", () => {
    it("UnknownParameter for an unknown top-level or nested field", () => {
      expect(() => new Input({ A: 1, Bogus: 2 }, POST).rejectUnknown(["A"])).toThrow(code("UnknownParameter"));
      const nested = new Input({ S: { Bogus: 1 } }, POST).object("S")!;
      expect(() => nested.rejectUnknown(["N"])).toThrow(/S\.Bogus/);
      expect(() => nested.rejectUnknown(["N"])).toThrow(code("UnknownParameter"));
      expect(() => new Input({ A: 1 }, POST).rejectUnknown(["A"])).not.toThrow();
    });

    it("treats a JSON __proto__ key as an unknown field", () => {
      expect(() => new Input(JSON.parse('{"__proto__":{"x":1}}'), POST).rejectUnknown(["A"])).toThrow(code("UnknownParameter"));
    });
  });
});

describe("messages", () => {
  it("showValue quotes strings, cuts long values and names structured ones", () => {
    expect(showValue("ab")).toBe('"ab"');
    expect(showValue({})).toBe("an object");
    expect(showValue([])).toBe("an array");
    expect(showValue(null)).toBe("null");
    expect(fieldError("InvalidParameterValue", "F", "must be x", 3).message).toBe("F must be x; got 3");
  });
});

describe("range messages", () => {
  it("states only the bounds that exist", () => {
    expect(() => new Input({ N: -1 }, POST).integer("N", { min: 0 })).toThrow("N must be an integer of at least 0; got -1");
    expect(() => new Input({ N: 9 }, POST).integer("N", { max: 5 })).toThrow("N must be an integer of at most 5; got 9");
    expect(() => new Input({ N: 9 }, GET).integer("N", { min: 0, max: 5 })).toThrow("N must be an integer from 0 to 5; got 9");
  });
});
