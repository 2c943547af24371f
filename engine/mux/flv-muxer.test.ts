import { describe, expect, it } from "vitest";
import { parseFlv } from "../flv/flv-format.js";
import { describeFrame } from "../flv/frame.js";
import { readOnMetaData } from "../flv/on-metadata.js";
import { TagType } from "../flv/types.js";
import { decodeAmf0, encodeAmf0, encodeEcmaArray } from "../rtmp/amf0.js";
import { FlvMuxer } from "./flv-muxer.js";

describe("FlvMuxer", () => {
  it("writes header, onMetaData, config at 0, rebased media, and patches the duration", () => {
    const publisherMeta = Buffer.concat([
      encodeAmf0("@setDataFrame", "onMetaData"),
      encodeEcmaArray({ width: 640, height: 360, duration: 99, encoder: "x" }),
    ]);
    const mux = new FlvMuxer(true, true, readOnMetaData(publisherMeta)!.fields);
    const config = describeFrame({ type: TagType.Video, timestamp: 5000, data: Buffer.from([0x17, 0, 0, 0, 0, 1]) });
    const chunks = [...mux.begin([config])];
    for (let t = 6000; t <= 8000; t += 40) {
      chunks.push(...mux.write(describeFrame({ type: TagType.Video, timestamp: t, data: Buffer.from([t === 6000 ? 0x17 : 0x27, 1, 0, 0, 0]) })));
    }
    chunks.push(...mux.write(describeFrame({ type: TagType.Audio, timestamp: 5990, data: Buffer.from([0xaf, 1]) })));
    const end = mux.end();
    expect(end.bytes).toEqual([]);
    const file = Buffer.concat(chunks);
    const patch = end.patch!;
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

  it("writes config and script frames before the first media frame at 0, without starting the clock", () => {
    const mux = new FlvMuxer(false, true, {});
    const cue = describeFrame({ type: TagType.Script, timestamp: 3000, data: encodeAmf0("onCuePoint", 1) });
    const parsed = parseFlv(Buffer.concat([...mux.begin([]), ...mux.write(cue)]));
    expect(parsed.tags.map((t) => [t.type, t.timestamp])).toEqual([[TagType.Script, 0], [TagType.Script, 0]]);
    expect(mux.durationMs).toBe(0);
  });
});
