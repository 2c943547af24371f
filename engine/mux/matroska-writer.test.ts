import { describe, expect, it } from "vitest";
import { MatroskaClusterWriter, matroskaHeader, vintSize } from "./matroska-writer.js";

describe("EBML sizes", () => {
  it("uses the shortest variable-size integer, never the all-ones 'unknown' value", () => {
    expect(vintSize(0)).toEqual(Buffer.from([0x80]));
    expect(vintSize(126)).toEqual(Buffer.from([0xfe]));
    expect(vintSize(127)).toEqual(Buffer.from([0x40, 0x7f])); // 0xff would mean "unknown"
    expect(vintSize(300)).toEqual(Buffer.from([0x41, 0x2c]));
    expect(vintSize(2 ** 21)).toEqual(Buffer.from([0x10, 0x20, 0x00, 0x00]));
  });
});

describe("MatroskaClusterWriter", () => {
  const data = Buffer.from([1, 2, 3]);
  it("closes a cluster at a video keyframe and keeps presentation times as signed offsets", () => {
    const w = new MatroskaClusterWriter();
    expect(w.block(1, 80, true, data, true)).toEqual([]);
    expect(w.block(1, 240, false, data, false)).toEqual([]);
    expect(w.block(1, 160, false, data, false)).toEqual([]);
    expect(w.block(2, 57, true, data, false)).toEqual([]); // audio before the cluster's time: offset -23
    const cluster = Buffer.concat(w.block(1, 1080, true, data, true));
    expect(cluster.readUInt32BE(0)).toBe(0x1f43b675);
    // Cluster Timestamp element: E7, size 1, value 80.
    expect(cluster.subarray(cluster.indexOf(0xe7), cluster.indexOf(0xe7) + 3)).toEqual(Buffer.from([0xe7, 0x81, 80]));
    const blocks: { track: number; offset: number; key: boolean }[] = [];
    for (let p = cluster.indexOf(0xa3); p >= 0 && p < cluster.length; ) {
      const size = cluster[p + 1]! & 0x7f;
      blocks.push({ track: cluster[p + 2]! & 0x7f, offset: cluster.readInt16BE(p + 3), key: (cluster[p + 5]! & 0x80) !== 0 });
      p += 2 + size;
    }
    expect(blocks).toEqual([
      { track: 1, offset: 0, key: true },
      { track: 1, offset: 160, key: false },
      { track: 1, offset: 80, key: false },
      { track: 2, offset: -23, key: true },
    ]);
    expect(w.flush().length).toBeGreaterThan(0); // the keyframe's cluster
    expect(w.flush()).toEqual([]);
  });

  it("starts a new cluster when a block is too far from the cluster's time for a 16-bit offset, or too late", () => {
    const w = new MatroskaClusterWriter(500);
    w.block(2, 0, true, data, false);
    expect(w.block(2, 400, true, data, false)).toEqual([]);
    expect(w.block(2, 600, true, data, false).length).toBeGreaterThan(0); // > 500 ms
    expect(w.block(2, 600 + 40_000, true, data, false).length).toBeGreaterThan(0); // > 32767 ms
    // A bogus composition time far below 0 never throws (ingest must not stop): clamped to the lowest offset.
    const cluster = Buffer.concat([...w.block(1, -8_000_000, true, data, true), ...w.flush()]);
    expect(cluster.readInt16BE(cluster.lastIndexOf(0xa3) + 3)).toBe(-32768);
  });

  it("writes an EBML header and a Segment of unknown size", () => {
    const h = matroskaHeader([{ number: 1, kind: "video", codecId: "V_MPEGH/ISO/HEVC", codecPrivate: Buffer.from([1]), width: 320, height: 240 }]);
    expect(h.readUInt32BE(0)).toBe(0x1a45dfa3);
    const seg = h.indexOf(Buffer.from([0x18, 0x53, 0x80, 0x67]));
    expect(h.subarray(seg + 4, seg + 12)).toEqual(Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(h.includes(Buffer.from("V_MPEGH/ISO/HEVC"))).toBe(true);
  });
});
