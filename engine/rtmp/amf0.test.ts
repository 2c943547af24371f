import { describe, expect, it } from "vitest";
import { ParseError } from "../errors.js";
import { AMF0_MAX_VALUES, type Amf0Value, decodeAmf0, encodeAmf0, encodeEcmaArray } from "./amf0.js";

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return (err as ParseError).code;
  }
  return "OK";
}

function nested(depth: number): Amf0Value {
  let v: Amf0Value = { leaf: true };
  for (let i = 1; i < depth; i++) v = { child: v };
  return v;
}

describe("AMF0 encoding", () => {
  it("uses the spec byte layouts", () => {
    expect(encodeAmf0("ab")).toEqual(Buffer.from([0x02, 0x00, 0x02, 0x61, 0x62]));
    expect(encodeAmf0(1)).toEqual(Buffer.from([0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]));
    expect(encodeAmf0(true, false)).toEqual(Buffer.from([0x01, 0x01, 0x01, 0x00]));
    expect(encodeAmf0(null, undefined)).toEqual(Buffer.from([0x05, 0x06]));
    expect(encodeAmf0({ a: null })).toEqual(Buffer.from([0x03, 0x00, 0x01, 0x61, 0x05, 0x00, 0x00, 0x09]));
    expect(encodeAmf0([null])).toEqual(Buffer.from([0x0a, 0, 0, 0, 1, 0x05]));
    expect(encodeEcmaArray({ a: null })).toEqual(Buffer.from([0x08, 0, 0, 0, 1, 0x00, 0x01, 0x61, 0x05, 0x00, 0x00, 0x09]));
    const date = encodeAmf0(new Date(0));
    expect(date.length).toBe(11);
    expect(date[0]).toBe(0x0b);
  });

  it("switches to a long string above 65535 bytes", () => {
    const s = "x".repeat(70_000);
    const enc = encodeAmf0(s);
    expect(enc[0]).toBe(0x0c);
    expect(enc.readUInt32BE(1)).toBe(70_000);
    expect(decodeAmf0(enc)).toEqual([s]);
    expect(encodeAmf0("y".repeat(65_535))[0]).toBe(0x02);
  });
});

describe("AMF0 round trips", () => {
  it("round-trips every supported type", () => {
    const values: Amf0Value[] = [
      "connect",
      1,
      -0.5,
      Number.MAX_SAFE_INTEGER,
      true,
      false,
      null,
      undefined,
      "",
      "héllo ✓",
      { app: "live", tcUrl: "rtmp://h/live", n: 3, nested: { a: [1, "two", null, { b: false }] }, "": "empty key" },
      [],
      [1, [2, [3]]],
      new Date(1_700_000_000_000),
    ];
    expect(decodeAmf0(encodeAmf0(...values))).toEqual(values);
  });

  it("keeps NaN and infinities", () => {
    const [a, b] = decodeAmf0(encodeAmf0(Number.NaN, Number.NEGATIVE_INFINITY));
    expect(a).toBeNaN();
    expect(b).toBe(Number.NEGATIVE_INFINITY);
  });

  it("decodes ECMA arrays to objects (onMetaData)", () => {
    const meta = { duration: 0, width: 320, height: 240, videocodecid: 7, encoder: "Lavf58" };
    const buf = Buffer.concat([encodeAmf0("@setDataFrame", "onMetaData"), encodeEcmaArray(meta)]);
    expect(decodeAmf0(buf)).toEqual(["@setDataFrame", "onMetaData", meta]);
  });

  it("tolerates a wrong ECMA count and a missing terminator at the end", () => {
    const good = encodeEcmaArray({ a: 1, b: 2 });
    const wrongCount = Buffer.from(good);
    wrongCount.writeUInt32BE(0, 1);
    expect(decodeAmf0(wrongCount)).toEqual([{ a: 1, b: 2 }]);
    const noEnd = good.subarray(0, good.length - 3);
    expect(decodeAmf0(noEnd)).toEqual([{ a: 1, b: 2 }]);
  });

  it("does not let a __proto__ key change the prototype", () => {
    const buf = Buffer.from([0x03, 0x00, 0x09, ...Buffer.from("__proto__"), 0x03, 0x00, 0x01, 0x78, 0x01, 0x01, 0, 0, 9, 0, 0, 9]);
    const [obj] = decodeAmf0(buf) as [Record<string, unknown>];
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
  });

  it("skips a stray top-level object-end marker", () => {
    expect(decodeAmf0(Buffer.from([0x05, 0x09, 0x06]))).toEqual([null, undefined]);
  });
});

describe("AMF0 hostile input", () => {
  it("reports truncation at every cut point", () => {
    const full = encodeAmf0("onStatus", 0, null, { level: "error", code: "X", list: [1, 2, new Date(5)] });
    const boundaries = new Set<number>();
    let off = 0;
    for (const v of ["onStatus", 0, null] as Amf0Value[]) {
      off += encodeAmf0(v).length;
      boundaries.add(off);
    }
    for (let cut = 1; cut < full.length; cut++) {
      const code = codeOf(() => decodeAmf0(full.subarray(0, cut)));
      expect(code).toBe(boundaries.has(cut) ? "OK" : "AMF_TRUNCATED");
    }
  });

  it("accepts 32 levels of nesting and refuses 33", () => {
    expect(decodeAmf0(encodeAmf0(nested(32)))).toEqual([nested(32)]);
    expect(codeOf(() => decodeAmf0(encodeAmf0(nested(33))))).toBe("AMF_TOO_DEEP");
    // Same with bare markers: 33 nested strict arrays.
    const arrays = Buffer.alloc(33 * 5);
    for (let i = 0; i < 33; i++) arrays.set([0x0a, 0, 0, 0, 1], i * 5);
    expect(codeOf(() => decodeAmf0(arrays))).toBe("AMF_TOO_DEEP");
  });

  it("limits the total number of values", () => {
    const ok = encodeAmf0(new Array<Amf0Value>(AMF0_MAX_VALUES - 1).fill(null));
    expect((decodeAmf0(ok)[0] as Amf0Value[]).length).toBe(AMF0_MAX_VALUES - 1);
    const tooMany = encodeAmf0(new Array<Amf0Value>(AMF0_MAX_VALUES).fill(null));
    expect(codeOf(() => decodeAmf0(tooMany))).toBe("AMF_TOO_LARGE");
    expect(codeOf(() => decodeAmf0(Buffer.alloc(AMF0_MAX_VALUES + 1, 0x05)))).toBe("AMF_TOO_LARGE");
  });

  it("refuses huge declared lengths without allocating", () => {
    expect(codeOf(() => decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05])))).toBe("AMF_TOO_LARGE");
    expect(codeOf(() => decodeAmf0(Buffer.from([0x0a, 0x00, 0x00, 0x10, 0x00, 0x05])))).toBe("AMF_TRUNCATED");
    expect(codeOf(() => decodeAmf0(Buffer.from([0x0c, 0xff, 0xff, 0xff, 0xff, 0x41])))).toBe("AMF_TRUNCATED");
    expect(codeOf(() => decodeAmf0(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff])))).toBe("AMF_TRUNCATED");
  });

  it("refuses references, typed objects and AMF3 with AMF_UNSUPPORTED", () => {
    expect(codeOf(() => decodeAmf0(Buffer.from([0x07, 0x00, 0x01])))).toBe("AMF_UNSUPPORTED");
    expect(codeOf(() => decodeAmf0(Buffer.from([0x10, 0x00, 0x01, 0x41])))).toBe("AMF_UNSUPPORTED");
    expect(codeOf(() => decodeAmf0(Buffer.from([0x11, 0x01])))).toBe("AMF_UNSUPPORTED");
    expect(codeOf(() => decodeAmf0(Buffer.from([0x42])))).toBe("AMF_BAD_MARKER");
  });

  it("survives 2,000 random mutations with only ParseError", () => {
    const rand = mulberry32(0xa3f0);
    const seeds = [
      encodeAmf0("connect", 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live", fpad: false, audioCodecs: 3575 }),
      encodeAmf0("_result", 4, null, 1),
      Buffer.concat([encodeAmf0("@setDataFrame", "onMetaData"), encodeEcmaArray({ width: 1280, encoder: "obs", stereo: true })]),
      encodeAmf0([1, [2, [3, { d: new Date(9) }]], "x".repeat(300)]),
    ];
    const codes = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const seed = seeds[i % seeds.length]!;
      const buf = Buffer.from(seed);
      const mutations = 1 + Math.floor(rand() * 4);
      let data = buf;
      for (let m = 0; m < mutations; m++) {
        const r = rand();
        const at = Math.floor(rand() * data.length);
        if (r < 0.5) data[at] = Math.floor(rand() * 256);
        else if (r < 0.7) data = data.subarray(0, at);
        else if (r < 0.85) data = Buffer.concat([data.subarray(0, at), Buffer.from([Math.floor(rand() * 256)]), data.subarray(at)]);
        else data = Buffer.concat([data, data.subarray(at)]);
      }
      const code = codeOf(() => decodeAmf0(data));
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.get("OK")).toBeGreaterThan(0);
    expect(codes.get("AMF_TRUNCATED")).toBeGreaterThan(0);
  });
});
