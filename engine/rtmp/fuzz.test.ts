/**
 * Hostile input, unit level: seeded, reproducible mutation fuzzing of every
 * parser the RTMP ingest runs on bytes from the network, and of the FLV parser.
 *
 *   handshakes   -> ServerHandshake (then the chunk reader, as the server does)
 *   chunk streams -> ChunkReader, whose messages go on to decodeAmf0 / describeFrame /
 *                   readOnMetaData exactly as the server and the recorder use them
 *   FLV files    -> parseFlv, then every tag as above
 *   tag bodies   -> describeFrame/describeTag/describeVideo/describeAudio, decodeAmf0, readOnMetaData
 *
 * Every case must end in success or a typed error (ParseError/IngestError),
 * never another exception; each case is timed, the whole file has a time
 * budget, and memory held for absurd declared lengths is measured.
 *
 * Each case draws from its own PRNG seeded by (FUZZ_SEED, suite, case index), so
 * a failure message names everything needed to replay it:
 *   FUZZ_SEED=0x1dea5eed npx vitest run engine/rtmp/fuzz.test.ts
 * (FUZZ_SCALE=n multiplies the number of cases for a longer hunt).
 */
import { readFileSync } from "node:fs";
import type net from "node:net";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { IngestError, ParseError } from "../errors.js";
import { encodeFlvHeader, encodeTag, MAX_TAG_DATA_SIZE, parseFlv } from "../flv/flv-format.js";
import { describeFrame } from "../flv/frame.js";
import { isOnMetaData, readOnMetaData, stripSetDataFrame } from "../flv/on-metadata.js";
import { describeAudio, describeTag, describeVideo } from "../flv/tag-info.js";
import { type FlvTag, TagType } from "../flv/types.js";
import { FlvMuxer } from "../mux/flv-muxer.js";
import { AMF0_MAX_DEPTH, AMF0_MAX_UTF8_GROWTH, AMF0_MAX_VALUES, type Amf0Value, Amf0Marker, decodeAmf0, encodeAmf0, encodeEcmaArray } from "./amf0.js";
import { ChunkReader, ChunkWriter, type RtmpMessage } from "./chunk-stream.js";
import { ClientHandshake, ServerHandshake } from "./handshake.js";
import { RtmpPublisher } from "./rtmp-publisher.js";
import { RtmpServer, type RtmpServerOptions } from "./rtmp-server.js";
import { ChunkStreamId, HANDSHAKE_PACKET_SIZE, MessageType, u32Payload } from "./protocol.js";
import { Rng } from "../../scripts/test-support/seeded-random.js";
import { commandOf, rawSocket } from "../../scripts/test-support/rtmp-raw-socket.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";

const SEED = (process.env["FUZZ_SEED"] ? Number(process.env["FUZZ_SEED"]) : 0x1dea5eed) >>> 0;
const SEED_HEX = `0x${SEED.toString(16)}`;
/** FUZZ_SCALE=10 runs ten times as many cases (the time budget scales with it). */
const SCALE = Math.max(1, Number(process.env["FUZZ_SCALE"] ?? 1) || 1);
const CASES = { handshake: 2000 * SCALE, chunks: 4000 * SCALE, flv: 2000 * SCALE, tags: 2000 * SCALE } as const;
const TOTAL_CASES = Object.values(CASES).reduce((a, b) => a + b, 0);
/** The whole file (all suites) must finish within this. */
const FILE_BUDGET_MS = 20_000 * SCALE;
/** A single case taking longer than this counts as a (near) hang. */
const CASE_BUDGET_MS = 1000;
/** ChunkReader defaults (the server uses them). */
const MiB = 1024 * 1024;
const DEFAULT_MAX_MESSAGE = 8 * MiB;
const DEFAULT_MAX_BUFFERED = 32 * MiB;

const fileStarted = performance.now();

// ---------------------------------------------------------------------------
// PRNG and case bookkeeping


/** The PRNG of one case: independent of every other case, so one case replays alone. */
function caseRng(suite: number, index: number): Rng {
  let h = (SEED ^ Math.imul(suite + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  return new Rng(h >>> 0);
}


function u32be(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function isTyped(err: unknown): err is ParseError | IngestError {
  return err instanceof ParseError || err instanceof IngestError;
}

/** Outcome histogram and failure list of one suite. */
class Tally {
  readonly codes = new Map<string, number>();
  readonly failures: string[] = [];
  slowest = 0;

  constructor(readonly suite: string) {}

  /** Runs one case; `fn` returns "OK" or throws. Untyped exceptions and slow cases are failures. */
  run(index: number, detail: () => string, fn: () => string | undefined): void {
    const t0 = performance.now();
    let code: string;
    try {
      code = fn() ?? "OK";
    } catch (err) {
      if (isTyped(err)) code = err.code;
      else {
        code = "UNTYPED";
        this.fail(index, `${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} (${detail()})`);
      }
    }
    const ms = performance.now() - t0;
    this.slowest = Math.max(this.slowest, ms);
    if (ms > CASE_BUDGET_MS) this.fail(index, `took ${ms.toFixed(0)} ms (${detail()})`);
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }

  fail(index: number, message: string): void {
    if (this.failures.length < 20) this.failures.push(`[FUZZ_SEED=${SEED_HEX} suite=${this.suite} case=${index}] ${message}`);
  }

  get total(): number {
    let n = 0;
    for (const v of this.codes.values()) n += v;
    return n;
  }

  summary(): string {
    return [...this.codes.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
  }
}

/** An invariant violated inside a case (reported like an untyped exception). */
class InvariantError extends Error {
  override name = "InvariantError";
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new InvariantError(message);
}

// ---------------------------------------------------------------------------
// Inputs: a real publish session and real tags

function fixtureTags(): { all: FlvTag[]; media: FlvTag[]; flv: Buffer } {
  const flv = readFileSync(FIXTURES["av-h264-aac-3s"].path);
  const all = parseFlv(flv).tags;
  return { all, media: all.filter((t) => t.type !== TagType.Script), flv };
}

const FIX = fixtureTags();

const ON_METADATA_BODY = Buffer.concat([
  encodeAmf0("@setDataFrame", "onMetaData"),
  encodeEcmaArray({
    duration: 0,
    width: 640,
    height: 360,
    videocodecid: 7,
    audiocodecid: 10,
    framerate: 25,
    encoder: "Lavf58.24.100",
    stereo: true,
    nested: { a: [1, "two", null, new Date(0)], b: { c: undefined } },
  }),
]);

/** Where a message's first chunk header sits in the session bytes, for header field overrides. */
interface HeaderRef {
  offset: number;
  /** Basic header size: 1, 2 or 3 bytes. */
  basic: number;
  typeId: number;
  /** Offset of the payload's first byte (first chunk). */
  payload: number;
}

interface Session {
  /** Chunk stream bytes after the handshake. */
  chunks: Buffer;
  headers: HeaderRef[];
}

/**
 * What a real encoder sends after the handshake (connect ... publish, metadata,
 * media, FCUnpublish), written by ChunkWriter: chunked at 128 bytes until the
 * Set Chunk Size, 4096 after. Media: the first `mediaTags` tags of the fixture
 * (codec configs, a keyframe, audio), plus one tag with an extended timestamp
 * and tags on 2- and 3-byte chunk stream ids.
 */
function buildSession(streamName: string, mediaTags: number): Session {
  const w = new ChunkWriter();
  const parts: Buffer[] = [];
  const headers: HeaderRef[] = [];
  let offset = 0;
  const put = (csid: number, typeId: number, streamId: number, timestamp: number, payload: Buffer): void => {
    const out = w.encode(csid, { typeId, streamId, timestamp, payload });
    const basic = csid <= 63 ? 1 : csid <= 319 ? 2 : 3;
    const ext = timestamp >>> 0 >= 0xffffff ? 4 : 0;
    headers.push({ offset, basic, typeId, payload: offset + basic + 11 + ext });
    parts.push(out);
    offset += out.length;
  };
  const cmd = (csid: number, streamId: number, ...values: Parameters<typeof encodeAmf0>): void =>
    put(csid, MessageType.CommandAmf0, streamId, 0, encodeAmf0(...values));

  cmd(ChunkStreamId.Command, 0, "connect", 1, {
    app: "live",
    type: "nonprivate",
    flashVer: "FMLE/3.0 (compatible; fuzz)",
    tcUrl: "rtmp://127.0.0.1:1935/live",
    fpad: false,
    capabilities: 15,
    audioCodecs: 3575,
    videoCodecs: 252,
    videoFunction: 1,
    objectEncoding: 0,
  });
  put(ChunkStreamId.ProtocolControl, MessageType.WindowAckSize, 0, 0, u32Payload(2_500_000));
  put(ChunkStreamId.ProtocolControl, MessageType.SetChunkSize, 0, 0, u32Payload(4096));
  w.setChunkSize(4096);
  cmd(ChunkStreamId.Command, 0, "releaseStream", 2, null, streamName);
  cmd(ChunkStreamId.Command, 0, "FCPublish", 3, null, streamName);
  cmd(ChunkStreamId.Command, 0, "createStream", 4, null);
  cmd(ChunkStreamId.StreamCommand, 1, "publish", 5, null, streamName, "live");
  put(ChunkStreamId.Data, MessageType.DataAmf0, 1, 0, ON_METADATA_BODY);
  for (const tag of FIX.media.slice(0, mediaTags)) {
    put(tag.type === TagType.Video ? ChunkStreamId.Video : ChunkStreamId.Audio, tag.type, 1, tag.timestamp, tag.data);
  }
  const ping = Buffer.from([0, 6, 0, 0, 0x12, 0x34]);
  put(ChunkStreamId.ProtocolControl, MessageType.UserControl, 0, 0, ping);
  const audio = FIX.media.find((t) => t.type === TagType.Audio)!;
  put(ChunkStreamId.Audio, TagType.Audio, 1, 0x1000000, audio.data); // extended timestamp
  put(100, TagType.Audio, 1, 0x1000010, audio.data); // 2-byte csid
  put(1000, TagType.Video, 1, 0x1000020, FIX.media[0]!.data); // 3-byte csid
  put(ChunkStreamId.Command, MessageType.CommandAmf3, 0, 0, Buffer.concat([Buffer.from([0]), encodeAmf0("FCUnpublish", 6, null, streamName)]));
  cmd(ChunkStreamId.Command, 0, "deleteStream", 7, null, 1);
  return { chunks: Buffer.concat(parts), headers };
}

// ---------------------------------------------------------------------------
// Mutations

const INTERESTING_U32 = [0, 1, 2, 127, 128, 129, 0xff, 0xffff, 0xffffff, 0x1000000, 8 * MiB, 8 * MiB + 1, 16 * MiB, 16 * MiB + 1, 0x7fffffff, 0x80000000, 0xffffffff];
const INTERESTING_U24 = [0, 1, 2, 127, 128, 129, 4095, 4096, 4097, 0x7fffff, 0x800000, 0xfffffe, 0xffffff];
const TYPE_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19, 20, 22, 23, 0xff];

/** Generic byte-level mutations; returns a new buffer (the input is not modified). */
function mutateBytes(rng: Rng, input: Buffer, count: number, log: string[]): Buffer {
  let data = Buffer.from(input);
  for (let m = 0; m < count; m++) {
    const at = data.length === 0 ? 0 : rng.int(data.length);
    const r = rng.int(9);
    if (r === 0 && data.length > 0) {
      data[at] = data[at]! ^ (1 << rng.int(8));
      log.push(`flip@${at}`);
    } else if (r === 1 && data.length > 0) {
      data[at] = rng.int(256);
      log.push(`set@${at}`);
    } else if (r === 2 && data.length > 0) {
      data[at] = rng.pick([0, 0xff, 0x7f, 0x80, 0x3f, 0xc0]);
      log.push(`edge@${at}`);
    } else if (r === 3) {
      const n = rng.range(1, 32);
      data = Buffer.concat([data.subarray(0, at), rng.bytes(n), data.subarray(at)]);
      log.push(`insert${n}@${at}`);
    } else if (r === 4) {
      const n = rng.range(1, 64);
      data = Buffer.concat([data.subarray(0, at), data.subarray(at + n)]);
      log.push(`delete${n}@${at}`);
    } else if (r === 5) {
      data = data.subarray(0, at);
      log.push(`truncate@${at}`);
    } else if (r === 6 && data.length > 0) {
      const from = rng.int(data.length);
      const n = rng.range(1, 256);
      data = Buffer.concat([data.subarray(0, at), data.subarray(from, from + n), data.subarray(at)]);
      log.push(`dup${n}:${from}@${at}`);
    } else if (r === 7 && data.length >= 4) {
      const p = rng.int(data.length - 3);
      data.writeUInt32BE(rng.pick(INTERESTING_U32), p);
      log.push(`u32@${p}`);
    } else if (data.length >= 3) {
      const p = rng.int(data.length - 2);
      data.writeUIntBE(rng.pick(INTERESTING_U24), p, 3);
      log.push(`u24@${p}`);
    }
  }
  return data;
}

/** RTMP-aware mutations: overrides of chunk header fields and control message values. */
function mutateHeaders(rng: Rng, data: Buffer, headers: readonly HeaderRef[], count: number, log: string[]): void {
  for (let m = 0; m < count; m++) {
    const h = rng.pick(headers);
    const mh = h.offset + h.basic; // message header
    if (mh + 11 > data.length) continue;
    switch (rng.int(7)) {
      case 0: {
        const v = rng.chance(0.5) ? rng.pick([0xffffff, 0xfffffe, 8 * MiB, 8 * MiB + 1, 0x7fffff]) : rng.int(0x1000000);
        data.writeUIntBE(v, mh + 3, 3);
        log.push(`length=${v}@${h.offset}`);
        break;
      }
      case 1: {
        // Turn any message into a Set Chunk Size with an absurd (or tiny) value.
        data[mh + 6] = MessageType.SetChunkSize;
        if (h.payload + 4 <= data.length) data.writeUInt32BE(rng.pick(INTERESTING_U32), h.payload);
        log.push(`chunksize@${h.offset}`);
        break;
      }
      case 2: {
        // New fmt / csid in the basic header (0 and 1 switch to the 2- and 3-byte forms).
        data[h.offset] = (rng.int(4) << 6) | rng.pick([0, 1, 2, 3, 4, 5, 6, 8, 63, rng.int(64)]);
        log.push(`basic=0x${data[h.offset]!.toString(16)}@${h.offset}`);
        break;
      }
      case 3:
        data[mh + 6] = rng.pick(TYPE_IDS);
        log.push(`type=${data[mh + 6]}@${h.offset}`);
        break;
      case 4:
        data.writeUIntBE(0xffffff, mh, 3); // extended timestamp marker without the 4 extra bytes
        log.push(`exttsmarker@${h.offset}`);
        break;
      case 5:
        data.writeUInt32LE(rng.pick(INTERESTING_U32), mh + 7);
        log.push(`streamid@${h.offset}`);
        break;
      default: {
        // Abort (type 2) naming a random chunk stream, or a window/bandwidth with absurd values.
        data[mh + 6] = rng.pick([MessageType.Abort, MessageType.WindowAckSize, MessageType.SetPeerBandwidth, MessageType.Acknowledgement]);
        if (h.payload + 4 <= data.length) data.writeUInt32BE(rng.pick(INTERESTING_U32), h.payload);
        log.push(`control=${data[mh + 6]}@${h.offset}`);
      }
    }
  }
}

/** Feeds `data` in random pieces (sometimes byte by byte). */
function feed(rng: Rng, data: Buffer, push: (b: Buffer) => void): void {
  const mode = rng.int(10);
  let pos = 0;
  while (pos < data.length) {
    const n = mode === 0 ? 1 : mode < 4 ? rng.range(1, 64) : mode < 8 ? rng.range(1, 4096) : data.length;
    push(data.subarray(pos, pos + n));
    pos += n;
  }
}

function mustNotThrow<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new InvariantError(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

/**
 * decodeAmf0 on bytes from the network; what it returns must encode again
 * (the server echoes names, the FLV muxer re-encodes onMetaData) into about
 * as many bytes as it came from.
 */
function decodeChecked(bytes: Buffer): Amf0Value[] {
  const values = decodeAmf0(bytes);
  const again = mustNotThrow("encodeAmf0(decodeAmf0(x))", () => encodeAmf0(...values));
  check(again.length <= bytes.length + AMF0_MAX_UTF8_GROWTH + 1024, `${bytes.length} AMF0 bytes re-encode to ${again.length}`);
  return values;
}

/**
 * What the server and the recorder do with a message, minus I/O: decode
 * commands, check control payloads, describe media, read metadata. Throws
 * only what the server's onMessage throws (typed errors).
 */
function consume(msg: RtmpMessage): void {
  check(msg.payload.length <= DEFAULT_MAX_MESSAGE, `message of ${msg.payload.length} bytes delivered`);
  switch (msg.typeId) {
    case MessageType.CommandAmf0:
      decodeChecked(msg.payload);
      return;
    case MessageType.CommandAmf3:
      decodeChecked(msg.payload.subarray(1));
      return;
    case MessageType.WindowAckSize:
      if (msg.payload.length < 4) throw new ParseError("RTMP_BAD_CONTROL", "Window Acknowledgement Size payload too short");
      return;
    case MessageType.UserControl:
      if (msg.payload.length < 2) throw new ParseError("RTMP_BAD_CONTROL", "User Control message too short");
      return;
    case MessageType.Audio:
    case MessageType.Video:
    case MessageType.DataAmf0:
      inspectTag({ type: msg.typeId as TagType, timestamp: msg.timestamp, data: msg.payload });
      return;
    default:
      return;
  }
}

/**
 * Everything the engine reads from a tag. describe*, isOnMetaData,
 * stripSetDataFrame and readOnMetaData must never throw (their callers do not
 * catch); decodeAmf0 may throw ParseError (rethrown).
 */
function inspectTag(tag: FlvTag): void {
  const info = mustNotThrow("describeTag", () => describeTag(tag));
  const frame = mustNotThrow("describeFrame", () => describeFrame(tag));
  check(frame.kind === info.kind && frame.track === info.track, "describeFrame disagrees with describeTag");
  if (tag.type === TagType.Video) {
    const v = mustNotThrow("describeVideo", () => describeVideo(tag.data));
    check(v.kind === info.kind && Number.isInteger(v.cts) && Math.abs(v.cts) <= 0x800000, `describeVideo gave ${JSON.stringify(v)}`);
  } else if (tag.type === TagType.Audio) {
    mustNotThrow("describeAudio", () => describeAudio(tag.data));
  } else {
    const meta = mustNotThrow("isOnMetaData", () => isOnMetaData(tag.data));
    check(meta === (info.kind === "metadata"), "isOnMetaData disagrees with describeTag");
    const body = mustNotThrow("stripSetDataFrame", () => stripSetDataFrame(tag.data));
    const parsed = mustNotThrow("readOnMetaData", () => readOnMetaData(tag.data));
    check((parsed !== undefined) === meta, "readOnMetaData disagrees with isOnMetaData");
    const fields = parsed?.fields ?? {};
    check(typeof fields === "object" && fields !== null, "readOnMetaData returned non-object fields");
    // Every FLV file the recorder opens starts with these fields re-encoded.
    mustNotThrow("FlvMuxer.begin(readOnMetaData(x).fields)", () => new FlvMuxer(true, true, fields).begin([]));
    decodeChecked(body);
  }
}

// ---------------------------------------------------------------------------
// Memory

type Gc = () => void;

/** A real GC when possible (--expose-gc, or the flag set at run time); undefined otherwise. */
function findGc(): Gc | undefined {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === "function") return existing;
  try {
    v8.setFlagsFromString("--expose-gc");
    const found = runInNewContext("gc") as unknown;
    if (typeof found === "function") return found as Gc;
  } catch {
    // no GC control: the bounds below are generous enough without it
  }
  return undefined;
}

const exposedGc = findGc();
const gc: Gc = exposedGc ?? (() => {});

function heldBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const startHeld = heldBytes();

// ---------------------------------------------------------------------------

describe(`fuzz (seed ${SEED_HEX}, ${TOTAL_CASES} mutated cases)`, () => {
  const session = buildSession("cam1", 24);
  const tallies: Tally[] = [];

  it("the unmutated inputs are valid (so mutations start from real traffic)", () => {
    const messages: RtmpMessage[] = [];
    const reader = new ChunkReader((m) => {
      consume(m);
      messages.push(m);
    });
    reader.push(session.chunks);
    expect(messages.length).toBe(session.headers.length);
    expect(reader.chunkSize).toBe(4096);
    const first = decodeAmf0(messages[0]!.payload);
    expect(first.slice(0, 2)).toEqual(["connect", 1]);
    expect(messages.filter((m) => m.typeId === TagType.Video || m.typeId === TagType.Audio).length).toBe(24 + 3);
    expect(readOnMetaData(stripSetDataFrame(ON_METADATA_BODY))?.fields).toMatchObject({ width: 640, height: 360 });
    expect(FIX.media.length).toBeGreaterThan(100);
  });

  it(`handshakes: ${CASES.handshake} mutated C0+C1+C2 (+ chunk bytes) fed to ServerHandshake (seed ${SEED_HEX})`, () => {
    const tally = new Tally("handshake");
    tallies.push(tally);
    const tail = session.chunks.subarray(0, 600);
    for (let i = 0; i < CASES.handshake; i++) {
      const rng = caseRng(1, i);
      const log: string[] = [];
      const client = new ClientHandshake(() => rng.int(2 ** 32));
      const c0c1 = client.start();
      const c2 = rng.bytes(HANDSHAKE_PACKET_SIZE);
      let input: Buffer = Buffer.concat([c0c1, c2, rng.chance(0.5) ? tail : Buffer.alloc(0)]);
      const r = rng.int(4);
      if (r === 0) {
        input[0] = rng.int(256);
        log.push(`version=${input[0]}`);
      } else if (r === 1) {
        input = input.subarray(0, rng.int(input.length));
        log.push(`truncate@${input.length}`);
      } else {
        input = mutateBytes(rng, input, rng.range(1, 4), log);
      }
      tally.run(i, () => log.join(","), () => {
        const hs = new ServerHandshake(() => 0);
        const replies: Buffer[] = [];
        const after: Buffer[] = [];
        const reader = new ChunkReader(consume);
        let done = false;
        feed(rng, input, (piece) => {
          if (done) {
            after.push(piece);
            reader.push(piece);
            return;
          }
          const step = hs.push(piece);
          if (step.reply) replies.push(step.reply);
          if (step.done) {
            done = true;
            if (step.rest) {
              after.push(step.rest);
              reader.push(step.rest);
            }
          }
        });
        // Refused exactly when C0 is not version 3; otherwise done exactly when 3073 bytes arrived.
        check(input.length === 0 || input[0] === 3, `version ${input[0]} accepted`);
        check(done === input.length >= 1 + 2 * HANDSHAKE_PACKET_SIZE, `done=${done} after ${input.length} bytes`);
        const reply = Buffer.concat(replies);
        if (input.length >= 1 + HANDSHAKE_PACKET_SIZE) {
          check(reply.length === 1 + 2 * HANDSHAKE_PACKET_SIZE && reply[0] === 3, `reply of ${reply.length} bytes`);
          check(reply.subarray(1 + HANDSHAKE_PACKET_SIZE).equals(input.subarray(1, 1 + HANDSHAKE_PACKET_SIZE)), "S2 does not echo C1");
        } else {
          check(reply.length === 0, "replied before C1 was complete");
        }
        if (done) check(Buffer.concat(after).equals(input.subarray(1 + 2 * HANDSHAKE_PACKET_SIZE)), "bytes after C2 lost or changed");
        return undefined;
      });
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(CASES.handshake);
    expect(tally.codes.get("RTMP_BAD_HANDSHAKE") ?? 0).toBeGreaterThan(100);
    expect(tally.codes.get("OK") ?? 0).toBeGreaterThan(100);
  });

  it(`chunk streams: ${CASES.chunks} mutated publish sessions fed to ChunkReader and on to AMF0/tag parsing (seed ${SEED_HEX})`, () => {
    const tally = new Tally("chunks");
    tallies.push(tally);
    let delivered = 0;
    for (let i = 0; i < CASES.chunks; i++) {
      const rng = caseRng(2, i);
      const log: string[] = [];
      const data = mutateBytes(rng, session.chunks, rng.int(4), log);
      if (log.length === 0 || rng.chance(0.5)) mutateHeaders(rng, data, session.headers, rng.range(1, 3), log);
      // A quarter of the cases run with small limits, so the limits themselves get hit.
      const small = rng.chance(0.25);
      const maxBuffered = small ? 64 * 1024 : DEFAULT_MAX_BUFFERED;
      const reader = new ChunkReader(
        (m) => {
          delivered++;
          consume(m);
        },
        small ? { maxMessageLength: 32 * 1024, maxBufferedBytes: maxBuffered, maxChunkStreams: 4, maxChunkSize: 1024 } : {},
      );
      tally.run(i, () => log.join(","), () => {
        try {
          feed(rng, data, (piece) => {
            reader.push(piece);
            check(reader.bufferedBytes <= maxBuffered, `${reader.bufferedBytes} bytes buffered`);
          });
        } catch (err) {
          // A dead reader holds nothing and keeps refusing with the same error.
          check(reader.bufferedBytes === 0, `${reader.bufferedBytes} bytes held after an error`);
          let again: unknown;
          try {
            reader.push(Buffer.from([0x03]));
          } catch (e) {
            again = e;
          }
          check(again === err, "a failed reader accepted more input");
          throw err;
        }
        return undefined;
      });
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(CASES.chunks);
    expect(delivered).toBeGreaterThan(CASES.chunks * 5);
    for (const code of ["OK", "RTMP_BAD_CHUNK", "RTMP_CHUNK_SIZE", "RTMP_MESSAGE_TOO_LARGE", "AMF_TRUNCATED"]) {
      expect(tally.codes.get(code) ?? 0, `${code} in ${tally.summary()}`).toBeGreaterThan(0);
    }
  });

  it(`FLV files: ${CASES.flv} mutated files fed to parseFlv, every tag on to tag-info/AMF0/readOnMetaData (seed ${SEED_HEX})`, () => {
    const tally = new Tally("flv");
    tallies.push(tally);
    // A whole (small) file: our metadata, the fixture's first tags, a torn last tag.
    const tags: FlvTag[] = [{ type: TagType.Script, timestamp: 0, data: stripSetDataFrame(ON_METADATA_BODY) }, ...FIX.media.slice(0, 40)];
    const base = Buffer.concat([encodeFlvHeader(true, true), ...tags.flatMap((t) => encodeTag(t.type, t.timestamp, t.data))]);
    const tagStarts: number[] = [];
    for (let p = 13, k = 0; k < tags.length; k++) {
      tagStarts.push(p);
      p += 11 + tags[k]!.data.length + 4;
    }
    for (let i = 0; i < CASES.flv; i++) {
      const rng = caseRng(3, i);
      const log: string[] = [];
      let data: Buffer = rng.chance(0.1) ? Buffer.from(FIX.flv.subarray(0, rng.range(0, 20_000))) : Buffer.from(base);
      const fields = rng.range(0, 2);
      for (let f = 0; f < fields; f++) {
        const at = rng.pick(tagStarts);
        if (at + 11 > data.length) continue;
        const r = rng.int(4);
        if (r === 0) data.writeUIntBE(rng.pick([0, 1, 0xffffff, 0x7fffff, rng.int(0x1000000)]), at + 1, 3);
        else if (r === 1) data[at] = rng.int(256);
        else if (r === 2) data.writeUInt32BE(rng.pick(INTERESTING_U32), 5); // header size
        else data[at + 7] = 0xff; // timestamp extended
        log.push(`field${r}@${at}`);
      }
      data = mutateBytes(rng, data, rng.range(fields === 0 ? 1 : 0, 4), log);
      tally.run(i, () => log.join(","), () => {
        const parsed = parseFlv(data);
        check(parsed.validLength <= data.length && parsed.truncated === parsed.validLength < data.length, "bad validLength");
        for (const tag of parsed.tags) {
          const start = tag.data.byteOffset - data.byteOffset;
          check(tag.data.buffer === data.buffer && start >= 0 && start + tag.data.length <= data.length, "tag data outside the file");
          check(tag.data.length <= MAX_TAG_DATA_SIZE && tag.timestamp >= 0 && tag.timestamp <= 0xffffffff, "tag out of range");
          // What parsing gave, writing gives back.
          const again = parseFlv(Buffer.concat([encodeFlvHeader(true, true), ...encodeTag(tag.type, tag.timestamp, tag.data)])).tags[0]!;
          check(again.type === tag.type && again.timestamp === tag.timestamp && again.data.equals(tag.data), "tag does not round-trip");
        }
        let amfError: unknown;
        for (const tag of parsed.tags) {
          try {
            inspectTag(tag);
          } catch (err) {
            if (!isTyped(err)) throw err;
            amfError ??= err;
          }
        }
        if (amfError) throw amfError;
        return undefined;
      });
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(CASES.flv);
    expect(tally.codes.get("OK") ?? 0).toBeGreaterThan(100);
    expect(tally.codes.get("FLV_BAD_HEADER") ?? 0).toBeGreaterThan(0);
  });

  it(`tag bodies: ${CASES.tags} mutated video/audio/script bodies fed to tag-info, AMF0 and readOnMetaData (seed ${SEED_HEX})`, () => {
    const tally = new Tally("tags");
    tallies.push(tally);
    const scripts: FlvTag[] = [
      { type: TagType.Script, timestamp: 0, data: ON_METADATA_BODY },
      { type: TagType.Script, timestamp: 0, data: stripSetDataFrame(ON_METADATA_BODY) },
      ...FIX.all.filter((t) => t.type === TagType.Script),
    ];
    // Enhanced RTMP headers too: hvc1/av01 video, Opus audio.
    const enhanced: FlvTag[] = [
      { type: TagType.Video, timestamp: 0, data: Buffer.concat([Buffer.from([0x90]), Buffer.from("hvc1"), FIX.media[0]!.data.subarray(5)]) },
      { type: TagType.Video, timestamp: 0, data: Buffer.concat([Buffer.from([0x91]), Buffer.from("av01"), Buffer.alloc(40, 1)]) },
      { type: TagType.Audio, timestamp: 0, data: Buffer.concat([Buffer.from([0x91]), Buffer.from("Opus"), Buffer.alloc(20, 2)]) },
    ];
    const pool = [...FIX.media.slice(0, 60), ...scripts, ...scripts, ...enhanced];
    for (let i = 0; i < CASES.tags; i++) {
      const rng = caseRng(4, i);
      const log: string[] = [];
      const src = rng.pick(pool);
      let data = mutateBytes(rng, src.data, rng.range(1, 4), log);
      if (rng.chance(0.2)) data = data.subarray(0, rng.int(9)); // the short bodies headers are read from
      const type = rng.chance(0.1) ? rng.pick([TagType.Audio, TagType.Video, TagType.Script]) : src.type;
      tally.run(i, () => `type ${type} from a ${src.type} tag of ${src.data.length} bytes: ${log.join(",")}`, () => {
        inspectTag({ type, timestamp: 0, data });
        return undefined;
      });
    }
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(CASES.tags);
  });

  it("AMF0 bombs: 10,000-deep nesting, huge declared counts and lengths are refused at once", () => {
    const deep = (open: number[], depth: number): Buffer => {
      const parts = [encodeAmf0("connect", 1)];
      for (let i = 0; i < depth; i++) parts.push(Buffer.from(open));
      return Buffer.concat(parts);
    };
    const cases: Array<[string, Buffer, string]> = [
      ["objects 10,000 deep", deep([Amf0Marker.Object, 0, 1, 0x61], 10_000), "AMF_TOO_DEEP"],
      ["ECMA arrays 10,000 deep", deep([Amf0Marker.EcmaArray, 0, 0, 0, 1, 0, 1, 0x61], 10_000), "AMF_TOO_DEEP"],
      ["strict arrays 10,000 deep", deep([Amf0Marker.StrictArray, 0, 0, 0, 1], 10_000), "AMF_TOO_DEEP"],
      ["mixed 10,000 deep", deep([Amf0Marker.StrictArray, 0, 0, 0, 1, Amf0Marker.Object, 0, 1, 0x62], 5000), "AMF_TOO_DEEP"],
      [`${AMF0_MAX_DEPTH + 1} levels`, deep([Amf0Marker.StrictArray, 0, 0, 0, 1], AMF0_MAX_DEPTH + 1), "AMF_TOO_DEEP"],
      ["strict array of 2^32-1", Buffer.from([Amf0Marker.StrictArray, 0xff, 0xff, 0xff, 0xff, 5]), "AMF_TOO_LARGE"],
      ["strict array of 10,000 declared, 1 present", Buffer.from([Amf0Marker.StrictArray, ...u32be(AMF0_MAX_VALUES), 5]), "AMF_TRUNCATED"],
      ["ECMA array declaring 2^32-1", Buffer.from([Amf0Marker.EcmaArray, 0xff, 0xff, 0xff, 0xff, 0, 1, 0x61, 5]), "AMF_TRUNCATED"],
      ["long string of 2^32-1", Buffer.from([Amf0Marker.LongString, 0xff, 0xff, 0xff, 0xff, 0x41]), "AMF_TRUNCATED"],
      ["XML document of 2^32-1", Buffer.from([Amf0Marker.XmlDocument, 0xff, 0xff, 0xff, 0xff]), "AMF_TRUNCATED"],
      ["string of 65535, 1 present", Buffer.from([Amf0Marker.String, 0xff, 0xff, 0x41]), "AMF_TRUNCATED"],
      ["100,000 nulls", Buffer.alloc(100_000, Amf0Marker.Null), "AMF_TOO_LARGE"],
      ["strict array of 20,000 nulls", Buffer.concat([Buffer.from([Amf0Marker.StrictArray, ...u32be(20_000)]), Buffer.alloc(20_000, Amf0Marker.Null)]), "AMF_TOO_LARGE"],
      ["object of 20,000 empty-named keys", Buffer.concat([Buffer.from([Amf0Marker.Object]), Buffer.alloc(60_000).fill(Buffer.from([0, 0, Amf0Marker.Null]))]), "AMF_TOO_LARGE"],
    ];
    for (const [what, bytes, code] of cases) {
      const t0 = performance.now();
      let got = "OK";
      try {
        decodeAmf0(bytes);
      } catch (err) {
        expect(isTyped(err), `${what}: ${String(err)}`).toBe(true);
        got = (err as ParseError).code;
      }
      expect(got, what).toBe(code);
      expect(performance.now() - t0, what).toBeLessThan(100);
      // The same bytes as onMetaData: readOnMetaData swallows it, tag-info does not care.
      expect(readOnMetaData(bytes)?.fields ?? {}).toEqual({});
    }
  });

  it("onMetaData the FLV muxer cannot write again (invalid UTF-8 that grows 3x) is refused by the decoder, not thrown at file open", () => {
    const ecma = (...props: Buffer[]): Buffer => Buffer.concat([encodeAmf0("onMetaData"), Buffer.from([Amf0Marker.EcmaArray, 0, 0, 0, props.length]), ...props, Buffer.from([0, 0, Amf0Marker.ObjectEnd])]);
    const prop = (key: Buffer, value: Buffer): Buffer => Buffer.concat([Buffer.from([key.length >> 8, key.length & 0xff]), key, value]);
    const longString = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from([Amf0Marker.LongString, ...u32be(bytes.length)]), bytes]);
    const cases: Array<[string, Buffer, string]> = [
      // Before the fix: RangeError "property name longer than 65535 bytes" from FlvMuxer.begin.
      ["a 30,000-byte key of 0xff", ecma(prop(Buffer.alloc(30_000, 0xff), encodeAmf0(1))), "AMF_BAD_UTF8"],
      // Before the fix: ParseError FLV_TAG_TOO_LARGE (18 MiB) from FlvMuxer.begin.
      ["a 6 MiB value of 0xff", ecma(prop(Buffer.from("title"), longString(Buffer.alloc(6 * MiB, 0xff)))), "AMF_BAD_UTF8"],
      ["four 12,000-byte values of 0xfe", ecma(...[0, 1, 2, 3].map((k) => prop(Buffer.from(`t${k}`), Buffer.concat([Buffer.from([Amf0Marker.String, 0x2e, 0xe0]), Buffer.alloc(12_000, 0xfe)])))), "AMF_BAD_UTF8"],
      // Still decoded as before: a Latin-1 title (a few invalid bytes), a 60,000-byte valid key.
      ["a Latin-1 title", ecma(prop(Buffer.from("title"), Buffer.concat([Buffer.from([Amf0Marker.String, 0, 6]), Buffer.from("Caf\xe9 \xfc", "latin1")]))), "OK"],
      ["a 60,000-byte ASCII key", ecma(prop(Buffer.alloc(60_000, 0x61), encodeAmf0(true))), "OK"],
    ];
    for (const [what, body, code] of cases) {
      let got = "OK";
      try {
        decodeChecked(body);
      } catch (err) {
        expect(isTyped(err), `${what}: ${String(err)}`).toBe(true);
        got = (err as ParseError).code;
      }
      expect(got, what).toBe(code);
      const fields = readOnMetaData(body)?.fields ?? {};
      expect(Object.keys(fields).length, what).toBe(code === "OK" ? 1 : 0);
      const opening = Buffer.concat(new FlvMuxer(true, true, fields).begin([]));
      expect(parseFlv(opening).tags.length, what).toBe(1);
    }
  });

  it("absurd declared lengths and chunk sizes: refused before allocating, or memory follows bytes received", () => {
    const w = new ChunkWriter();
    const fmt0 = (csid: number, length: number, typeId = 9): Buffer => {
      const b = Buffer.alloc(12);
      b[0] = csid;
      b.writeUIntBE(length, 4, 3);
      b[7] = typeId;
      b.writeUInt32LE(1, 8);
      return b;
    };
    const refused = (options: ConstructorParameters<typeof ChunkReader>[1], bytes: Buffer): string => {
      try {
        new ChunkReader(consume, options).push(bytes);
      } catch (err) {
        expect(isTyped(err)).toBe(true);
        return (err as IngestError).code;
      }
      return "OK";
    };
    const setChunkSize = (n: number): Buffer => w.encode(2, { typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: u32Payload(n) });
    expect(refused({}, setChunkSize(0x7fffffff))).toBe("RTMP_CHUNK_SIZE");
    expect(refused({}, setChunkSize(0x80000000))).toBe("RTMP_CHUNK_SIZE");
    expect(refused({}, setChunkSize(0))).toBe("RTMP_CHUNK_SIZE");
    expect(refused({}, fmt0(6, 0xffffff))).toBe("RTMP_MESSAGE_TOO_LARGE"); // 16 MiB - 1
    expect(refused({}, fmt0(6, 8 * MiB + 1))).toBe("RTMP_MESSAGE_TOO_LARGE");
    expect(refused({ maxMessageLength: 0x7fffffff }, Buffer.concat([fmt0(6, 0xffffff), Buffer.alloc(128)]))).toBe("OK");

    // Hundreds of connections' worth of readers, each with 61 chunk streams that
    // declare the largest accepted message (8 MiB) and send one 128-byte chunk.
    const before = heldBytes();
    const readers: ChunkReader[] = [];
    let fed = 0;
    for (let r = 0; r < 200; r++) {
      const reader = new ChunkReader(consume);
      for (let csid = 3; csid <= 63; csid++) {
        const bytes = Buffer.concat([fmt0(csid, 8 * MiB), Buffer.alloc(128, csid)]);
        reader.push(bytes);
        fed += bytes.length;
      }
      expect(reader.bufferedBytes).toBe(61 * 128);
      readers.push(reader);
    }
    // One reader with the spec's largest chunk size, filling a declared 8 MiB message slowly.
    const big = new ChunkReader(consume, { maxChunkSize: 0x7fffffff });
    big.push(setChunkSize(0x7fffffff));
    big.push(fmt0(4, 8 * MiB));
    for (let k = 0; k < 256; k++) big.push(Buffer.alloc(4096, k));
    fed += 256 * 4096;
    expect(big.bufferedBytes).toBe(MiB);
    readers.push(big);
    const held = heldBytes() - before;
    // Before the fix each of those streams reserved 64 KiB: 200 * 61 * 64 KiB = 763 MiB.
    console.log(`absurd lengths: fed ${(fed / MiB).toFixed(1)} MiB, held ${(held / MiB).toFixed(1)} MiB (${exposedGc ? "after gc" : "no gc exposed"})`);
    expect(held).toBeLessThan(fed * 6 + 8 * MiB);
    expect(readers.length).toBe(201);
  });

  it(`stays within its time and memory budget (${FILE_BUDGET_MS / 1000} s for the file)`, () => {
    const elapsed = performance.now() - fileStarted;
    const grown = heldBytes() - startHeld;
    for (const t of tallies) console.log(`fuzz ${t.suite} (seed ${SEED_HEX}): ${t.total} cases, slowest ${t.slowest.toFixed(1)} ms: ${t.summary()}`);
    console.log(`fuzz: ${TOTAL_CASES} cases in ${(elapsed / 1000).toFixed(1)} s; held memory grew ${(grown / MiB).toFixed(1)} MiB`);
    expect(tallies.reduce((n, t) => n + t.total, 0)).toBe(TOTAL_CASES);
    expect(elapsed).toBeLessThan(FILE_BUDGET_MS);
    expect(grown).toBeLessThan(64 * MiB);
  });
});

// ---------------------------------------------------------------------------
// The same limits on a live RtmpServer, with short timeouts

/** A socket that completes the client handshake (optionally) and then does what it is told. */
describe("RtmpServer under slowloris, regex bombs and peers that never read", () => {
  const servers: RtmpServer[] = [];
  const logs: string[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  async function server(options: RtmpServerOptions = {}): Promise<number> {
    const s = new RtmpServer({
      handshakeTimeoutMs: 300,
      publishTimeoutMs: 800,
      logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
      ...options,
    });
    s.on("publish", (req) => req.accept());
    servers.push(s);
    return s.listen(0, "127.0.0.1");
  }

  it("times out a handshake slowloris, and a client that completes it but trickles its commands", async () => {
    const port = await server();
    const trickle = (socket: net.Socket, bytes: Buffer): NodeJS.Timeout => {
      let i = 0;
      return setInterval(() => {
        if (i < bytes.length && !socket.destroyed) socket.write(bytes.subarray(i, ++i));
      }, 40);
    };
    const hsSlow = await rawSocket(port, false);
    const t1 = trickle(hsSlow.socket, Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
    const cmdSlow = await rawSocket(port, true);
    const t2 = trickle(cmdSlow.socket, commandOf("connect", 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live" }));
    const [a, b] = await Promise.all([hsSlow.closed, cmdSlow.closed]);
    clearInterval(t1);
    clearInterval(t2);
    expect(a).toBeGreaterThanOrEqual(250);
    expect(a).toBeLessThan(800);
    // The idle timeout (30 s) never fires on it: the publish deadline does.
    expect(b).toBeGreaterThanOrEqual(750);
    expect(b).toBeLessThan(2000);
    expect(logs.some((l) => l.includes("no publish started in 800 ms"))).toBe(true);
  });

  it("lets a publisher that started publishing run past the publish deadline", async () => {
    const port = await server();
    const pub = await RtmpPublisher.connect(`rtmp://127.0.0.1:${port}/live/steady`);
    await new Promise((r) => setTimeout(r, 1200));
    expect(pub.closed).toBe(false);
    pub.sendTag(FIX.media[0]!);
    await pub.close();
  });

  // 60,000: the longest that fits the 64 KiB a connection may send before publishing.
  it("answers connect with a 60,000-slash app name at once (no quadratic regex)", async () => {
    const port = await server();
    const c = await rawSocket(port, true);
    const t0 = Date.now();
    c.socket.write(commandOf("connect", 1, { app: `${"/".repeat(60_000)}x`, tcUrl: "rtmp://127.0.0.1/live" }));
    await waitFor(() => c.replies().some((m) => m.typeId === MessageType.CommandAmf0 && decodeAmf0(m.payload)[0] === "_result"), {
      timeoutMs: 2000,
      intervalMs: 5,
      what: "connect _result",
    });
    expect(Date.now() - t0).toBeLessThan(500); // /\/+$/ took ~4 s here
    c.socket.destroy();
  });

  it("closes a peer that leaves more than 1 MiB of replies unread", async () => {
    // No publish deadline here: on a busy machine it fired before the replies piled up, closing for the wrong reason.
    const port = await server({ publishTimeoutMs: 60_000 });
    const c = await rawSocket(port, true);
    c.socket.pause();
    c.socket.write(commandOf("connect", 1, { app: "live", tcUrl: "rtmp://127.0.0.1/live" }));
    let closed = false;
    void c.closed.then(() => {
      closed = true;
    });
    const overflowed = () => logs.some((l) => l.includes("RTMP_PEER_NOT_READING"));
    // Each FCPublish is echoed back (~60 KB). How much of that the kernel's socket buffers absorb
    // varies (the reader's receive buffer may grow to tcp_rmem's maximum, 32 MiB on some hosts),
    // so send until the server gives up, up to ~150 MB, instead of a fixed 24 MB.
    const name = "n".repeat(60_000);
    for (let i = 0; i < 2500 && !overflowed() && !closed; i++) {
      c.socket.write(commandOf("FCPublish", 10 + i, null, name));
      if (c.socket.writableNeedDrain) await Promise.race([new Promise((r) => c.socket.once("drain", r)), c.closed, new Promise((r) => setTimeout(r, 500))]);
    }
    await waitFor(overflowed, { timeoutMs: 30_000, what: "RTMP_PEER_NOT_READING logged" });
    // Reading again lets the client see the close the server has already done.
    c.socket.resume();
    await waitFor(() => closed, { what: "the client to see the close" });
    c.socket.destroy();
  });
});
