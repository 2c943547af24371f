import { describe, expect, it } from "vitest";
import { parseFlv } from "../flv/flv-format.js";
import { TagType } from "../flv/types.js";
import { decodeAmf0, encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { FlvMuxer, metadataFields } from "./flv-muxer.js";

describe("FlvMuxer", () => {
  it("writes header, onMetaData, config at 0, rebased media, and patches the duration", () => {
    const publisherMeta = Buffer.concat([
      encodeAmf0("@setDataFrame", "onMetaData"),
      encodeEcmaArray({ width: 640, height: 360, duration: 99, encoder: "x" }),
    ]);
    const mux = new FlvMuxer(true, true, metadataFields(publisherMeta));
    const config = { type: TagType.Video, timestamp: 5000, data: Buffer.from([0x17, 0, 0, 0, 0, 1]) };
    const chunks = [...mux.begin([config])];
    for (let t = 6000; t <= 8000; t += 40) {
      chunks.push(...mux.write({ type: TagType.Video, timestamp: t, data: Buffer.from([t === 6000 ? 0x17 : 0x27, 1, 0, 0, 0]) }, true));
    }
    chunks.push(...mux.write({ type: TagType.Audio, timestamp: 5990, data: Buffer.from([0xaf, 1]) }, true));
    const file = Buffer.concat(chunks);
    const patch = mux.finish();
    patch.bytes.copy(file, patch.offset);

    const parsed = parseFlv(file);
    const meta = decodeAmf0(parsed.tags[0]!.data);
    expect(meta[0]).toBe("onMetaData");
    expect(meta[1]).toMatchObject({ width: 640, height: 360, encoder: "x", duration: 2.04 });
    expect(parsed.tags[1]).toMatchObject({ type: 9, timestamp: 0 });
    expect(parsed.tags[2]).toMatchObject({ type: 9, timestamp: 0 });
    expect(parsed.tags[3]!.timestamp).toBe(40);
    expect(parsed.tags.at(-1)!.timestamp).toBe(0); // earlier than the base: clamped and counted
    expect(mux.clampedTimestamps).toBe(1);
    expect(mux.bytesWritten).toBe(file.length);
  });

  it("ignores unreadable publisher metadata instead of failing", () => {
    expect(metadataFields(Buffer.from([2, 0, 10, 1, 2]))).toEqual({});
  });
});
