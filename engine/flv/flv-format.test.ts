import { describe, expect, it } from "vitest";
import { encodeFlvHeader, encodeTag, parseFlv } from "./flv-format.js";
import { TagType } from "./types.js";

function file(...tags: [number, number, Buffer][]): Buffer {
  return Buffer.concat([encodeFlvHeader(true, true), ...tags.flatMap(([t, ts, d]) => encodeTag(t, ts, d))]);
}

describe("FLV framing", () => {
  it("round-trips tags, including timestamps above 24 bits", () => {
    const a = Buffer.from([0xaf, 0x01, 1, 2, 3]);
    const v = Buffer.from([0x17, 0x01, 0, 0, 0x21, 9]);
    const parsed = parseFlv(file([TagType.Audio, 0, a], [TagType.Video, 0x12345678, v]));
    expect(parsed.hasAudio && parsed.hasVideo).toBe(true);
    expect(parsed.truncated).toBe(false);
    expect(parsed.tags.map((t) => [t.type, t.timestamp, t.data.toString("hex")])).toEqual([
      [8, 0, a.toString("hex")],
      [9, 0x12345678, v.toString("hex")],
    ]);
  });

  it("stops at the last whole tag of a torn file and reports the valid length", () => {
    const whole = file([TagType.Audio, 10, Buffer.alloc(20, 1)], [TagType.Audio, 20, Buffer.alloc(20, 2)]);
    for (let cut = whole.length - 1; cut > whole.length - 35; cut--) {
      const parsed = parseFlv(whole.subarray(0, cut));
      expect(parsed.tags).toHaveLength(1);
      expect(parsed.truncated).toBe(true);
      expect(parsed.validLength).toBe(13 + 11 + 20 + 4);
    }
  });

  it("rejects a non-FLV buffer with a typed error", () => {
    expect(() => parseFlv(Buffer.from("GIF89a........"))).toThrow(expect.objectContaining({ code: "FLV_BAD_HEADER" }));
  });
});
