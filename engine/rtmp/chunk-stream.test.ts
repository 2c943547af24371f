import { afterEach, describe, expect, it, vi } from "vitest";
import { IngestError, ParseError } from "../errors.js";
import { SharedBufferBudget } from "./buffer-budget.js";
import { ChunkReader, type ChunkReaderOptions, ChunkWriter, type RtmpMessage } from "./chunk-stream.js";

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

function collect(options?: ChunkReaderOptions): { reader: ChunkReader; messages: RtmpMessage[] } {
  const messages: RtmpMessage[] = [];
  return { reader: new ChunkReader((m) => messages.push(m), options), messages };
}

function bytes(n: number, seed = 1): Buffer {
  const rand = mulberry32(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Compact form for comparisons: deep-equality on Buffers is slow. */
function sig(messages: RtmpMessage[]): string[] {
  return messages.map((m) => `${m.typeId}/${m.streamId}@${m.timestamp}:${m.payload.toString("base64")}`);
}

function msg(typeId: number, timestamp: number, payload: Buffer, streamId = 1): RtmpMessage {
  return { typeId, streamId, timestamp, payload };
}

function u24(n: number): number[] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function u32be(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** fmt 0 chunk header for csid < 64. */
function fmt0(csid: number, ts: number, length: number, typeId: number, streamId: number): number[] {
  const ext = ts >= 0xffffff;
  return [
    csid,
    ...u24(ext ? 0xffffff : ts),
    ...u24(length),
    typeId,
    streamId & 0xff,
    (streamId >> 8) & 0xff,
    (streamId >> 16) & 0xff,
    streamId >>> 24,
    ...(ext ? u32be(ts) : []),
  ];
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err instanceof ParseError || err instanceof IngestError).toBe(true);
    return (err as ParseError).code;
  }
  return "OK";
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("ChunkWriter", () => {
  it("writes a fmt 0 chunk then fmt 3 continuations (§5.3.2.2)", () => {
    const w = new ChunkWriter();
    const payload = bytes(307);
    const out = w.encode(4, msg(9, 1000, payload, 1));
    expect([...out.subarray(0, 12)]).toEqual(fmt0(4, 1000, 307, 9, 1));
    expect(out[12 + 128]).toBe(0xc4);
    expect(out[12 + 128 + 1 + 128]).toBe(0xc4);
    expect(out.length).toBe(12 + 307 + 2);
  });

  it("encodes 1-, 2- and 3-byte basic headers", () => {
    const w = new ChunkWriter();
    const p = Buffer.from([1]);
    expect([...w.encode(63, msg(8, 0, p)).subarray(0, 1)]).toEqual([63]);
    expect([...w.encode(64, msg(8, 0, p)).subarray(0, 2)]).toEqual([0, 0]);
    expect([...w.encode(319, msg(8, 0, p)).subarray(0, 2)]).toEqual([0, 255]);
    expect([...w.encode(320, msg(8, 0, p)).subarray(0, 3)]).toEqual([1, 0, 1]);
    expect([...w.encode(65599, msg(8, 0, p)).subarray(0, 3)]).toEqual([1, 255, 255]);
    expect(() => w.encode(1, msg(8, 0, p))).toThrow(RangeError);
    expect(() => w.encode(65600, msg(8, 0, p))).toThrow(RangeError);
  });

  it("repeats the extended timestamp on continuation chunks", () => {
    const w = new ChunkWriter();
    const out = w.encode(6, msg(9, 0x01000000, bytes(200), 1));
    expect(out.readUIntBE(1, 3)).toBe(0xffffff);
    expect(out.readUInt32BE(12)).toBe(0x01000000);
    const cont = 16 + 128;
    expect(out[cont]).toBe(0xc6);
    expect(out.readUInt32BE(cont + 1)).toBe(0x01000000);
    expect(out.length).toBe(16 + 200 + 5);
  });
});

describe("ChunkReader reassembly", () => {
  const sample: Array<[number, RtmpMessage]> = [
    [3, msg(20, 0, bytes(190, 2), 0)],
    [4, msg(8, 0, bytes(7, 3))],
    [6, msg(9, 40, bytes(5000, 4))],
    [5, msg(18, 40, Buffer.alloc(0))],
    [70, msg(9, 0xfffffe, bytes(129, 5))],
    [400, msg(8, 0xffffff, bytes(128, 6))],
    [65599, msg(8, 0xfffffffe, bytes(300, 7), 0x01020304)],
  ];

  function stream(chunkSize = 128): Buffer {
    const w = new ChunkWriter();
    w.setChunkSize(chunkSize);
    return Buffer.concat(sample.map(([csid, m]) => w.encode(csid, m)));
  }

  it("round-trips through the writer", () => {
    const { reader, messages } = collect();
    reader.push(stream());
    expect(messages).toEqual(sample.map(([, m]) => m));
    expect(reader.bufferedBytes).toBe(0);
  });

  it("handles one byte at a time", () => {
    const { reader, messages } = collect();
    const all = stream();
    for (let i = 0; i < all.length; i++) reader.push(all.subarray(i, i + 1));
    expect(messages).toEqual(sample.map(([, m]) => m));
  });

  it("handles every two-piece split and random splits", () => {
    const all = stream();
    const expected = sig(sample.map(([, m]) => m));
    for (let cut = 0; cut <= all.length; cut++) {
      const { reader, messages } = collect();
      reader.push(all.subarray(0, cut));
      reader.push(all.subarray(cut));
      expect(sig(messages)).toEqual(expected);
    }
    const rand = mulberry32(99);
    for (let round = 0; round < 50; round++) {
      const { reader, messages } = collect();
      let pos = 0;
      while (pos < all.length) {
        const n = 1 + Math.floor(rand() * 40);
        reader.push(all.subarray(pos, pos + n));
        pos += n;
      }
      expect(sig(messages)).toEqual(expected);
    }
  });

  it("hands out a fresh payload per message, independent of the input buffer", () => {
    const { reader, messages } = collect();
    const input = new ChunkWriter().encode(4, msg(8, 0, Buffer.from([1, 2, 3])));
    reader.push(input);
    input.fill(0);
    reader.push(new ChunkWriter().encode(4, msg(8, 0, Buffer.from([4, 5, 6]))));
    expect([...messages[0]!.payload]).toEqual([1, 2, 3]);
    expect([...messages[1]!.payload]).toEqual([4, 5, 6]);
    expect(messages[0]!.payload.buffer === input.buffer && messages[0]!.payload.byteOffset === input.byteOffset + 12).toBe(false);
  });

  it("interleaves chunks of messages on different chunk streams", () => {
    const a = bytes(200, 10);
    const v = bytes(200, 11);
    const raw = Buffer.from([
      ...fmt0(4, 10, 200, 8, 1),
      ...a.subarray(0, 128),
      ...fmt0(6, 20, 200, 9, 1),
      ...v.subarray(0, 128),
      0xc4,
      ...a.subarray(128),
      0xc6,
      ...v.subarray(128),
    ]);
    const { reader, messages } = collect();
    reader.push(raw);
    expect(messages).toEqual([msg(8, 10, a), msg(9, 20, v)]);
  });
});

describe("ChunkReader headers", () => {
  it("accumulates fmt 1/2/3 deltas per chunk stream (§5.3.2.1)", () => {
    const p = Buffer.from([1, 2, 3, 4]);
    const raw = Buffer.from([
      ...fmt0(3, 1000, 4, 8, 1),
      ...p,
      0x80 | 3, // fmt 2: delta 20
      ...u24(20),
      ...p,
      0xc0 | 3, // fmt 3: same delta
      ...p,
      0x40 | 3, // fmt 1: delta 33, new length/type
      ...u24(33),
      ...u24(2),
      9,
      7,
      8,
      0xc0 | 3, // fmt 3: delta 33 again, length 2
      5,
      6,
    ]);
    const { reader, messages } = collect();
    reader.push(raw);
    expect(messages.map((m) => [m.typeId, m.timestamp, m.streamId, m.payload.length])).toEqual([
      [8, 1000, 1, 4],
      [8, 1020, 1, 4],
      [8, 1040, 1, 4],
      [9, 1073, 1, 2],
      [9, 1106, 1, 2],
    ]);
  });

  it("uses the fmt 0 timestamp as the delta of a following fmt 3 (§5.3.1.2.4)", () => {
    const raw = Buffer.from([...fmt0(4, 40, 1, 8, 1), 0xaa, 0xc4, 0xbb]);
    const { reader, messages } = collect();
    reader.push(raw);
    expect(messages.map((m) => m.timestamp)).toEqual([40, 80]);
  });

  it("reads extended timestamps on fmt 0 and on fmt 3 continuations", () => {
    const payload = bytes(300, 20);
    const ts = 0x12345678;
    const raw = Buffer.from([
      ...fmt0(6, ts, 300, 9, 1),
      ...payload.subarray(0, 128),
      0xc6,
      ...u32be(ts),
      ...payload.subarray(128, 256),
      0xc6,
      ...u32be(ts),
      ...payload.subarray(256),
    ]);
    for (const step of [raw.length, 1, 5]) {
      const { reader, messages } = collect();
      for (let i = 0; i < raw.length; i += step) reader.push(raw.subarray(i, i + step));
      expect(messages).toEqual([msg(9, ts, payload)]);
    }
  });

  it("reads an extended delta on fmt 1/2 and on a fmt 3 that starts a message", () => {
    const raw = Buffer.from([
      ...fmt0(4, 0xfffffff0, 1, 8, 1),
      1,
      0x80 | 4, // fmt 2 with extended delta 0x01000000
      ...u24(0xffffff),
      ...u32be(0x01000000),
      2,
      0xc0 | 4, // fmt 3 new message: extended delta repeated
      ...u32be(0x01000000),
      3,
      0x80 | 4, // fmt 2, small delta: extended flag clears
      ...u24(0x20),
      4,
      0xc0 | 4,
      5,
    ]);
    const { reader, messages } = collect();
    reader.push(raw);
    expect(messages.map((m) => m.timestamp)).toEqual([
      0xfffffff0,
      (0xfffffff0 + 0x01000000) >>> 0,
      (0xfffffff0 + 0x02000000) >>> 0,
      (0xfffffff0 + 0x02000020) >>> 0,
      (0xfffffff0 + 0x02000040) >>> 0,
    ]);
    expect(messages.map((m) => m.payload[0])).toEqual([1, 2, 3, 4, 5]);
  });

  it("wraps timestamps at 2^32", () => {
    const raw = Buffer.from([...fmt0(4, 0xfffffff0, 1, 8, 1), 1, 0x80 | 4, ...u24(0x20), 2]);
    const { reader, messages } = collect();
    reader.push(raw);
    expect(messages.map((m) => m.timestamp)).toEqual([0xfffffff0, 0x10]);
  });

  it("decodes 2- and 3-byte basic headers (csid = 64 + b1 + b2 * 256)", () => {
    const body = [...u24(0), ...u24(1), 8, 1, 0, 0, 0, 0x55];
    const raw = Buffer.from([0x00, 0x00, ...body, 0x00, 0xff, ...body, 0x01, 0x05, 0x02, ...body, 0xc1, 0x05, 0x02, 0x66]);
    const { reader, messages } = collect({ maxChunkStreams: 3 });
    reader.push(raw);
    expect(messages.length).toBe(4);
    expect(messages[3]!.payload[0]).toBe(0x66);
    // Exactly three distinct csids were seen (64, 319 and 64 + 5 + 2 * 256 = 581): a fourth is refused.
    expect(codeOf(() => reader.push(Buffer.from([0x01, 0x06, 0x02, ...body])))).toBe("RTMP_TOO_MANY_CHUNK_STREAMS");
  });

  it("round-trips 3-byte csids through the writer", () => {
    const w = new ChunkWriter();
    const { reader, messages } = collect();
    for (const csid of [320, 581, 1000, 65599]) reader.push(w.encode(csid, msg(8, csid, bytes(300, csid))));
    expect(messages.map((m) => m.timestamp)).toEqual([320, 581, 1000, 65599]);
  });

  it("applies Set Chunk Size and still delivers it", () => {
    const w = new ChunkWriter();
    const { reader, messages } = collect();
    reader.push(w.encode(2, msg(1, 0, Buffer.from(u32be(4096)), 0)));
    expect(reader.chunkSize).toBe(4096);
    w.setChunkSize(4096);
    const big = bytes(10_000, 30);
    reader.push(w.encode(6, msg(9, 0, big)));
    expect(messages.map((m) => m.typeId)).toEqual([1, 9]);
    expect(messages[1]!.payload).toEqual(big);
  });

  it("refuses bad Set Chunk Size values", () => {
    const w = new ChunkWriter();
    for (const size of [0, 0x80000000, 0x7fffffff, 16 * 1024 * 1024 + 1]) {
      const { reader } = collect();
      expect(codeOf(() => reader.push(w.encode(2, msg(1, 0, Buffer.from(u32be(size)), 0))))).toBe("RTMP_CHUNK_SIZE");
    }
    const { reader } = collect({ maxChunkSize: 0x7fffffff });
    reader.push(w.encode(2, msg(1, 0, Buffer.from(u32be(0x7fffffff)), 0)));
    expect(reader.chunkSize).toBe(0x7fffffff);
    expect(codeOf(() => collect().reader.push(w.encode(2, msg(1, 0, Buffer.from([0, 1]), 0))))).toBe("RTMP_BAD_CONTROL");
  });

  it("drops the partial message of a chunk stream on Abort", () => {
    const w = new ChunkWriter();
    const first = w.encode(6, msg(9, 0, bytes(300, 40)));
    const { reader, messages } = collect();
    reader.push(first.subarray(0, 12 + 128)); // first chunk only
    expect(reader.bufferedBytes).toBe(128);
    reader.push(w.encode(2, msg(2, 0, Buffer.from(u32be(6)), 0)));
    expect(reader.bufferedBytes).toBe(0);
    // fmt 3 now starts a new 300-byte message with the same header.
    const second = bytes(300, 41);
    reader.push(Buffer.from([0xc6, ...second.subarray(0, 128), 0xc6, ...second.subarray(128, 256), 0xc6, ...second.subarray(256)]));
    expect(messages.map((m) => m.typeId)).toEqual([2, 9]);
    expect(messages[1]!.payload).toEqual(second);
  });

  it("refuses a chunk stream that starts with fmt 2/3, and a new header mid-message", () => {
    expect(codeOf(() => collect().reader.push(Buffer.from([0xc5, 1, 2, 3])))).toBe("RTMP_BAD_CHUNK");
    expect(codeOf(() => collect().reader.push(Buffer.from([0x85, 0, 0, 1])))).toBe("RTMP_BAD_CHUNK");
    const raw = Buffer.from([...fmt0(4, 0, 200, 8, 1), ...bytes(128), ...fmt0(4, 0, 10, 8, 1)]);
    expect(codeOf(() => collect().reader.push(raw))).toBe("RTMP_BAD_CHUNK");
  });
});

describe("ChunkReader limits", () => {
  it("refuses an oversized message before allocating it", () => {
    const alloc = vi.spyOn(Buffer, "allocUnsafe");
    const { reader } = collect();
    const code = codeOf(() => reader.push(Buffer.from(fmt0(6, 0, 0xffffff, 9, 1))));
    expect(code).toBe("RTMP_MESSAGE_TOO_LARGE");
    expect(alloc.mock.calls.some(([n]) => n > 1024)).toBe(false);
    const small = collect({ maxMessageLength: 1000 });
    expect(codeOf(() => small.reader.push(Buffer.from(fmt0(6, 0, 1001, 9, 1))))).toBe("RTMP_MESSAGE_TOO_LARGE");
  });

  it("grows message buffers with the bytes received, not the declared length", () => {
    const alloc = vi.spyOn(Buffer, "allocUnsafe");
    const { reader } = collect();
    reader.push(Buffer.from([...fmt0(6, 0, 8 * 1024 * 1024, 9, 1), 1, 2, 3]));
    expect(Math.max(...alloc.mock.calls.map(([n]) => n))).toBeLessThanOrEqual(64 * 1024);
    expect(reader.bufferedBytes).toBe(3);
  });

  it("reserves message buffers from a shared budget as allocated, gives them back on completion, abort and dispose", () => {
    const budget = new SharedBufferBudget(1000);
    const { reader, messages } = collect({ reservation: budget.open(() => {}) });
    // What is allocated counts: the whole 10-byte message buffer.
    reader.push(Buffer.from([...fmt0(6, 0, 10, 9, 1), 1, 2, 3]));
    expect(budget.usedBytes).toBe(10);
    reader.push(Buffer.from([4, 5, 6, 7, 8, 9, 10]));
    expect(messages.length).toBe(1);
    expect(budget.usedBytes).toBe(0);
    // One whole 128-byte chunk of a 200-byte message, then Abort (§5.4.2) of chunk stream 7.
    reader.push(Buffer.from([...fmt0(7, 0, 200, 9, 1), ...bytes(128)]));
    expect(budget.usedBytes).toBe(200);
    reader.push(Buffer.from([...fmt0(2, 0, 4, 2, 0), ...u32be(7)]));
    expect(budget.usedBytes).toBe(0);
    reader.push(Buffer.from([...fmt0(8, 0, 2000, 9, 1), ...bytes(100)]));
    expect(budget.usedBytes).toBe(400); // 4x the bytes received, at first
    reader.dispose();
    expect(budget.usedBytes).toBe(0);
    expect(reader.bufferedBytes).toBe(0);
    const delivered = messages.length;
    reader.push(Buffer.from(bytes(28))); // ignored once disposed: would end chunk stream 8's first chunk
    expect(messages.length).toBe(delivered);
  });

  it("refuses bytes the budget cannot give; larger limits and no budget once raised", () => {
    const budget = new SharedBufferBudget(20);
    const account = budget.open(() => {});
    const { reader } = collect({ reservation: account, maxMessageLength: 64 });
    expect(codeOf(() => reader.push(Buffer.from(fmt0(6, 0, 65, 9, 1))))).toBe("RTMP_MESSAGE_TOO_LARGE");
    const second = collect({ reservation: budget.open(() => {}), maxMessageLength: 64 });
    expect(codeOf(() => second.reader.push(Buffer.from([...fmt0(6, 0, 30, 9, 1), ...bytes(21)])))).toBe("RTMP_BUFFER_BUDGET");
    const third = collect({ reservation: budget.open(() => {}), maxMessageLength: 64 });
    third.reader.setLimits({ maxMessageLength: 1000, reservation: null });
    expect(codeOf(() => third.reader.push(Buffer.from([...fmt0(6, 0, 500, 9, 1), ...bytes(128)])))).toBe("OK");
    expect(budget.usedBytes).toBe(0);
  });

  it("refuses too many chunk streams", () => {
    const w = new ChunkWriter();
    const { reader } = collect();
    for (let csid = 3; csid < 3 + 64; csid++) reader.push(w.encode(csid, msg(8, 0, Buffer.from([1]))));
    expect(codeOf(() => reader.push(w.encode(100, msg(8, 0, Buffer.from([1])))))).toBe("RTMP_TOO_MANY_CHUNK_STREAMS");
  });

  it("bounds the bytes held in incomplete messages", () => {
    const { reader } = collect({ maxBufferedBytes: 1000 });
    reader.push(Buffer.from([...fmt0(4, 0, 5000, 9, 1), ...bytes(128)]));
    reader.push(Buffer.from([...fmt0(5, 0, 5000, 9, 1), ...bytes(128)]));
    const chunks: number[] = [];
    for (let i = 0; i < 6; i++) chunks.push(0xc4, ...bytes(128));
    expect(codeOf(() => reader.push(Buffer.from(chunks)))).toBe("RTMP_BUFFER_LIMIT");
  });

  it("stays dead after an error", () => {
    const { reader, messages } = collect();
    expect(codeOf(() => reader.push(Buffer.from([0xc5, 0])))).toBe("RTMP_BAD_CHUNK");
    const good = new ChunkWriter().encode(4, msg(8, 0, Buffer.from([1])));
    expect(codeOf(() => reader.push(good))).toBe("RTMP_BAD_CHUNK");
    expect(messages).toEqual([]);
  });

  it("survives 2,000 random mutations with only ParseError/IngestError", () => {
    const rand = mulberry32(0x5eed);
    const w = new ChunkWriter();
    const base = Buffer.concat([
      w.encode(2, msg(1, 0, Buffer.from(u32be(200)), 0)),
      w.encode(3, msg(20, 0, bytes(300, 50), 0)),
      w.encode(4, msg(8, 0x1000000, bytes(250, 51))),
      Buffer.from([0x80 | 4, ...u24(23), 1]),
      w.encode(70, msg(9, 33, bytes(90, 52))),
      w.encode(400, msg(18, 0xfffffe, bytes(410, 53))),
      w.encode(2, msg(2, 0, Buffer.from(u32be(70)), 0)),
    ]);
    const codes = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      let data = Buffer.from(base);
      const mutations = 1 + Math.floor(rand() * 5);
      for (let m = 0; m < mutations; m++) {
        const r = rand();
        const at = Math.floor(rand() * data.length);
        if (r < 0.6) data[at] = Math.floor(rand() * 256);
        else if (r < 0.75) data = data.subarray(0, at);
        else if (r < 0.9) data = Buffer.concat([data.subarray(0, at), bytes(1 + Math.floor(rand() * 20), i), data.subarray(at)]);
        else data = Buffer.concat([data.subarray(at), data.subarray(0, at)]);
      }
      const { reader } = collect({ maxMessageLength: 64 * 1024, maxBufferedBytes: 256 * 1024 });
      const code = codeOf(() => {
        let pos = 0;
        while (pos < data.length) {
          const n = 1 + Math.floor(rand() * 300);
          reader.push(data.subarray(pos, pos + n));
          pos += n;
        }
      });
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.get("OK")).toBeGreaterThan(0);
    expect(codes.size).toBeGreaterThan(2);
  });
});
