import { describe, expect, it } from "vitest";
import { encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { isOnMetaData, readOnMetaData, stripSetDataFrame } from "./on-metadata.js";

const amfString = (s: string) => Buffer.concat([Buffer.from([2, 0, s.length]), Buffer.from(s)]);

describe("onMetaData detection", () => {
  it("recognises onMetaData with and without @setDataFrame and strips the latter", () => {
    const body = Buffer.concat([amfString("onMetaData"), Buffer.from([8, 0, 0, 0, 0, 0, 0, 9])]);
    const rtmp = Buffer.concat([amfString("@setDataFrame"), body]);
    expect(isOnMetaData(body)).toBe(true);
    expect(isOnMetaData(rtmp)).toBe(true);
    expect(stripSetDataFrame(rtmp).equals(body)).toBe(true);
    expect(isOnMetaData(amfString("onCuePoint"))).toBe(false);
  });
});

describe("readOnMetaData", () => {
  const meta = (obj: Record<string, unknown>, rtmp = true) =>
    Buffer.concat([rtmp ? encodeAmf0("@setDataFrame", "onMetaData") : encodeAmf0("onMetaData"), encodeEcmaArray(obj as never)]);

  it("parses the stream's fields, leaving out the per-file ones", () => {
    const m = readOnMetaData(meta({ width: 639.6, height: 360, duration: 99, filesize: 1, encoder: "x", videocodecid: 7 }))!;
    expect(m.fields).toEqual({ width: 639.6, height: 360, encoder: "x", videocodecid: 7 });
    expect(m).toMatchObject({ width: 640, height: 360, announces: { video: true, audio: false } });
    expect(readOnMetaData(meta({ audiocodecid: 10 }, false))).toEqual({ fields: { audiocodecid: 10 }, announces: { video: false, audio: true } });
  });

  it("is undefined for other script tags and never throws on bad values", () => {
    expect(readOnMetaData(Buffer.concat([encodeAmf0("onCuePoint"), encodeEcmaArray({ videocodecid: 7 })]))).toBeUndefined();
    // Truncated values: empty fields, the track names still read from the bytes.
    const cut = meta({ videocodecid: 7, audiocodecid: 10, title: "a long enough title" });
    expect(readOnMetaData(cut.subarray(0, cut.length - 8))).toEqual({ fields: {}, announces: { video: true, audio: true } });
    expect(readOnMetaData(Buffer.from([2, 0, 10, ...Buffer.from("onMetaData"), 0x10]))).toEqual({ fields: {}, announces: { video: false, audio: false } });
  });

  it("keeps publisher metadata plain data (no __proto__ field)", () => {
    const body = Buffer.concat([encodeAmf0("onMetaData"), Buffer.from([3, 0, 9]), Buffer.from("__proto__"), encodeAmf0({ polluted: true } as never), Buffer.from([0, 0, 9])]);
    const m = readOnMetaData(body)!;
    expect(Object.getPrototypeOf(m.fields)).toBe(Object.prototype);
    expect(Object.keys(m.fields)).toEqual([]);
  });
});
