/**
 * Hostile input end to end: while a good publisher records stream "good",
 * raw sockets throw at the real service's RTMP port slowloris handshakes,
 * absurd chunk sizes and message lengths, AMF nesting bombs, 1,200 seeded
 * mutated publish sessions, hostile names, a quadratic-regex app name, a
 * peer that never reads and onMetaData the FLV muxer cannot write again. The service (in this process) must not crash,
 * refused sockets must be closed by the server, the good stream must record
 * every frame, and memory must stay bounded. All of it comes from 127.0.0.1 at
 * once, so the per-address admission limits are lifted here: they have their own
 * test (ingest-admission.e2e.test.ts).
 *
 * Mutations are seeded: FUZZ_SEED=0x... replays the same sessions.
 */
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFlv } from "../engine/flv/flv-format.js";
import { type FlvTag, TagType } from "../engine/flv/types.js";
import { type Amf0Value, decodeAmf0, encodeAmf0, encodeEcmaArray } from "../engine/rtmp/amf0.js";
import { ChunkReader, ChunkWriter, type RtmpMessage } from "../engine/rtmp/chunk-stream.js";
import { ClientHandshake } from "../engine/rtmp/handshake.js";
import { RtmpPublisher } from "../engine/rtmp/rtmp-publisher.js";
import { FIXTURES } from "../fixtures/fixtures.js";
import { videoFrameHashes } from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { callOk, type Harness, listFiles, startService } from "./test-support/harness.js";
import { Rng } from "../scripts/test-support/seeded-random.js";
import { sleep, waitFor } from "../scripts/test-support/wait-for.js";

const SEED = (process.env["FUZZ_SEED"] ? Number(process.env["FUZZ_SEED"]) : 0x5eed1e55) >>> 0;
const SEED_HEX = `0x${SEED.toString(16)}`;
const FUZZ_SESSIONS = 1200;
const FUZZ_CONCURRENCY = 48;
/** Every n-th mutated session publishes to "fuzzall", recorded to every format (ffmpeg). */
const FUZZ_ALL_EVERY = 50;
const SLOWLORIS_SOCKETS = 16;
const HELD_SOCKETS = 100;
/** The RtmpServer default; the service does not make it configurable. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
const MiB = 1024 * 1024;
const OFF = { Enable: 0 as const, RecordInterval: 1800 };
const ON = { Enable: 1 as const, RecordInterval: 1800 };
/** Pushes no rule matches (the fuzz sessions) record FLV only: no ffmpeg per push. */
const FLV_ONLY = { FlvParam: ON, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF };
const SAFE_NAME = /^[A-Za-z0-9._~-]{1,128}$/;

// ---------------------------------------------------------------------------
// Seeded PRNG



function caseSeed(index: number): number {
  const h = Math.imul((SEED ^ 0x2545f491) >>> 0, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  return h >>> 0;
}

// ---------------------------------------------------------------------------
// A raw RTMP client: does exactly what it is told

interface RawOptions {
  /** Do the (valid) client handshake first. */
  handshake?: boolean;
  /** Read what the server sends (false: pause after the handshake, never read). */
  read?: boolean;
}

class RawClient {
  readonly socket: net.Socket;
  readonly started = Date.now();
  readonly messages: RtmpMessage[] = [];
  /** Milliseconds from connect to close. */
  readonly closed: Promise<number>;
  readonly handshaken: Promise<void>;
  readonly writer = new ChunkWriter();
  bytesIn = 0;
  isClosed = false;
  private readonly reader = new ChunkReader((m) => this.messages.push(m), { maxMessageLength: 16 * MiB - 1 });
  private readerDead = false;

  constructor(port: number, opts: RawOptions = {}) {
    const handshake = opts.handshake ?? true;
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      this.socket.on("close", () => {
        this.isClosed = true;
        resolve(Date.now() - this.started);
      }),
    );
    const hs = new ClientHandshake();
    let done = !handshake;
    this.handshaken = new Promise((resolve, reject) => {
      this.socket.on("close", () => reject(new Error("closed before the handshake completed")));
      this.socket.on("connect", () => {
        if (handshake) this.socket.write(hs.start());
        else resolve();
      });
      this.socket.on("data", (data: Buffer) => {
        this.bytesIn += data.length;
        let rest: Buffer | undefined = data;
        if (!done) {
          const step = hs.push(data);
          if (!step.done) return;
          done = true;
          this.socket.write(step.reply!);
          rest = step.rest;
          if (opts.read === false) this.socket.pause();
          resolve();
        }
        if (rest && !this.readerDead) {
          try {
            this.reader.push(rest);
          } catch {
            this.readerDead = true;
          }
        }
      });
    });
    this.handshaken.catch(() => {});
  }

  write(buf: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  command(csid: number, streamId: number, ...values: Amf0Value[]): void {
    this.write(this.writer.encode(csid, { typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) }));
  }

  /** AMF0 commands received so far, decoded. */
  commands(): Amf0Value[][] {
    const out: Amf0Value[][] = [];
    for (const m of this.messages) {
      if (m.typeId !== 20) continue;
      try {
        out.push(decodeAmf0(m.payload));
      } catch {
        // not ours to judge here
      }
    }
    return out;
  }

  statusCodes(): string[] {
    return this.commands()
      .filter((v) => v[0] === "onStatus")
      .map((v) => {
        const info = v[3];
        return typeof info === "object" && info !== null && !Array.isArray(info) && !(info instanceof Date) && typeof info["code"] === "string" ? info["code"] : "";
      });
  }

  /** Resolves with ms until the server closed the socket, or "open" after `timeoutMs` (then destroys it). */
  async closedWithin(timeoutMs: number): Promise<number | "open"> {
    const r = await Promise.race([this.closed, sleep(timeoutMs).then(() => "open" as const)]);
    if (r === "open") this.socket.destroy();
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------
// Session bytes and their mutations

const FIXTURE_MEDIA: FlvTag[] = parseFlv(readFileSync(FIXTURES["av-h264-aac-3s"].path)).tags.filter((t) => t.type !== TagType.Script);

interface HeaderRef {
  offset: number;
  basic: number;
  payload: number;
}

/** A publisher's whole session after the handshake, as ChunkWriter writes it. */
function publishSession(tcUrl: string, app: string, stream: string, mediaTags: number): { bytes: Buffer; headers: HeaderRef[] } {
  const w = new ChunkWriter();
  const parts: Buffer[] = [];
  const headers: HeaderRef[] = [];
  let offset = 0;
  const put = (csid: number, typeId: number, streamId: number, timestamp: number, payload: Buffer): void => {
    const out = w.encode(csid, { typeId, streamId, timestamp, payload });
    headers.push({ offset, basic: 1, payload: offset + 12 + (timestamp >= 0xffffff ? 4 : 0) });
    parts.push(out);
    offset += out.length;
  };
  const cmd = (csid: number, streamId: number, ...values: Amf0Value[]): void => put(csid, 20, streamId, 0, encodeAmf0(...values));
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  cmd(3, 0, "connect", 1, { app, type: "nonprivate", flashVer: "FMLE/3.0 (compatible; hostile)", tcUrl });
  put(2, 1, 0, 0, u32(4096));
  w.setChunkSize(4096);
  cmd(3, 0, "releaseStream", 2, null, stream);
  cmd(3, 0, "FCPublish", 3, null, stream);
  cmd(3, 0, "createStream", 4, null);
  cmd(8, 1, "publish", 5, null, stream, "live");
  put(5, 18, 1, 0, Buffer.concat([encodeAmf0("@setDataFrame", "onMetaData"), encodeEcmaArray({ width: 640, height: 360, videocodecid: 7, audiocodecid: 10 })]));
  for (const tag of FIXTURE_MEDIA.slice(0, mediaTags)) put(tag.type === TagType.Video ? 6 : 4, tag.type, 1, tag.timestamp, tag.data);
  put(2, 4, 0, 0, Buffer.from([0, 6, 0, 0, 0, 1])); // ping request
  cmd(3, 0, "FCUnpublish", 6, null, stream);
  cmd(3, 0, "deleteStream", 7, null, 1);
  return { bytes: Buffer.concat(parts), headers };
}

const INTERESTING_U32 = [0, 1, 128, 0xffffff, 8 * MiB, 8 * MiB + 1, 16 * MiB, 16 * MiB + 1, 0x7fffffff, 0x80000000, 0xffffffff];

function mutate(rng: Rng, input: Buffer, headers: readonly HeaderRef[]): Buffer {
  let data = Buffer.from(input);
  const count = rng.range(1, 4);
  for (let m = 0; m < count; m++) {
    const at = data.length === 0 ? 0 : rng.int(data.length);
    const h = rng.pick(headers);
    const mh = h.offset + h.basic;
    switch (rng.int(10)) {
      case 0:
        if (data.length > 0) data[at] = data[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        if (data.length > 0) data[at] = rng.int(256);
        break;
      case 2:
        data = Buffer.concat([data.subarray(0, at), rng.bytes(rng.range(1, 32)), data.subarray(at)]);
        break;
      case 3:
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + rng.range(1, 64))]);
        break;
      case 4:
        data = data.subarray(0, at);
        break;
      case 5: // absurd message length
        if (mh + 7 <= data.length) data.writeUIntBE(rng.pick([0xffffff, 8 * MiB, 8 * MiB + 1, rng.int(0x1000000)]), mh + 3, 3);
        break;
      case 6: // any message becomes a Set Chunk Size with an absurd value
        if (h.payload + 4 <= data.length) {
          data[mh + 6] = 1;
          data.writeUInt32BE(rng.pick(INTERESTING_U32), h.payload);
        }
        break;
      case 7: // new fmt / chunk stream id
        if (h.offset < data.length) data[h.offset] = (rng.int(4) << 6) | rng.pick([0, 1, 2, 3, 5, 63, rng.int(64)]);
        break;
      case 8: // message type
        if (mh + 7 <= data.length) data[mh + 6] = rng.pick([1, 2, 3, 4, 5, 6, 8, 9, 15, 17, 18, 20, 22, rng.int(256)]);
        break;
      default: // duplicate a slice elsewhere
        if (data.length > 0) {
          const from = rng.int(data.length);
          data = Buffer.concat([data.subarray(0, at), data.subarray(from, from + rng.range(1, 512)), data.subarray(at)]);
        }
    }
  }
  return data;
}

// ---------------------------------------------------------------------------

/** A real GC when the flag can be set at run time (node --expose-gc equivalent). */
const gc: () => void = (() => {
  try {
    v8.setFlagsFromString("--expose-gc");
    const found = runInNewContext("gc") as unknown;
    if (typeof found === "function") return found as () => void;
  } catch {
    // no GC control: the bound is generous enough without it
  }
  return () => {};
})();

function buffersAfterGc(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

/** Longest gap between 20 ms ticks: how long anything blocked the event loop the service runs on. */
function lagMonitor(): { stop: () => number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 20);
    last = now;
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return worst;
    },
  };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

describe(`hostile input against the running service (seed ${SEED_HEX})`, () => {
  let h: Harness;
  // The service runs in this process: an uncaught exception or unhandled rejection is
  // a service crash. Collected (and raced against every wait) so the test fails at once
  // with the error itself.
  const crashes: unknown[] = [];
  let onCrash: (err: unknown) => void = () => {};
  const crashed = new Promise<never>((_, reject) => {
    onCrash = (err: unknown): void => {
      crashes.push(err);
      reject(new Error(`the service crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    };
  });
  crashed.catch(() => {});
  const orCrash = <T>(p: Promise<T>): Promise<T> => Promise.race([p, crashed]);

  beforeAll(async () => {
    process.on("uncaughtException", onCrash);
    process.on("unhandledRejection", onCrash);
    h = await startService(FLV_ONLY, (c) => {
      c.logLevel = "error"; // thousands of refused sockets: keep the log readable
      c.rtmp.maxPendingPerAddress = 100_000;
      c.rtmp.connectsPerSecondPerAddress = 0;
    });
    // "good" records FLV and MP4; "fuzzall" (every 50th mutated session) every format, so
    // garbage also reaches ffmpeg, the ADTS writer and the HLS playlist.
    const good = await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "hostile_good", FlvParam: ON, Mp4Param: ON });
    const all = await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "hostile_all", FlvParam: ON, Mp4Param: ON, HlsParam: ON, AacParam: ON });
    await callOk(h, "CreateLiveRecordRule", { DomainName: "127.0.0.1", AppName: "live", StreamName: "good", TemplateId: good["TemplateId"] });
    await callOk(h, "CreateLiveRecordRule", { DomainName: "127.0.0.1", AppName: "live", StreamName: "fuzzall", TemplateId: all["TemplateId"] });
  });

  afterAll(async () => {
    // After a crash the service may never finish stopping: do not hang the suite on it.
    await Promise.race([h?.stop(), sleep(20_000)]);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  });

  it("keeps recording a good stream, every frame, while raw sockets throw hostile bytes at the ingest", async () => {
    const port = h.service.rtmpPort;
    const t0 = Date.now();
    const rssBefore = process.memoryUsage().rss;
    const fixture = FIXTURES["av-h264-aac-20s"];
    const good = replayFlv(fixture.path, h.url("live", "good"), { speed: 1 });
    const goodDone = good.then(
      (r) => r,
      (err: unknown) => err,
    );
    await waitFor(() => h.service.livePushes().some((p) => p.stream === "good"), { what: "the good stream to start" });
    const lag = lagMonitor();
    let rssPeak = rssBefore;
    const rssTimer = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 100);

    // (a) slowloris: one byte every 500 ms, stuck in C0+C1 or, after S0+S1+S2, in C2.
    const slowloris = async (k: number): Promise<number | "open"> => {
      const c = new RawClient(port, { handshake: false });
      const afterS1 = k % 2 === 1;
      let sent = 0;
      const timer = setInterval(() => {
        const budget = afterS1 ? 1 + 1536 + 1535 : 1 + 1535; // never complete
        if (sent >= budget) return;
        if (afterS1 && sent === 0) {
          c.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, k)])); // whole C0+C1, then C2 byte by byte
          sent = 1537;
          return;
        }
        c.write(Buffer.from([sent === 0 ? 3 : k]));
        sent++;
      }, 500);
      const closedAfter = await c.closedWithin(HANDSHAKE_TIMEOUT_MS + 3000);
      clearInterval(timer);
      return closedAfter;
    };
    const slowlorisResults = Promise.all(Array.from({ length: SLOWLORIS_SOCKETS }, (_, k) => slowloris(k)));
    // ... and one that starts with the wrong version: refused at its first byte.
    const badVersion = (async () => {
      const c = new RawClient(port, { handshake: false });
      await c.handshaken;
      c.write(Buffer.from([6]));
      return c.closedWithin(2000);
    })();

    // (b) absurd chunk size and message lengths, right after a valid handshake.
    const oversized = async (bytes: Buffer): Promise<number | "open"> => {
      const c = new RawClient(port);
      await c.handshaken;
      c.write(bytes);
      return c.closedWithin(3000);
    };
    const setChunkSize = (n: number): Buffer => {
      const b = Buffer.from([0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
      b.writeUInt32BE(n >>> 0, 12);
      return b;
    };
    const header16MiB = Buffer.from([0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]); // 16 MiB - 1, the 24-bit maximum
    const oversizedResults = Promise.all([
      oversized(setChunkSize(0x7fffffff)),
      oversized(Buffer.concat([setChunkSize(0x7fffffff), header16MiB, Buffer.alloc(4096)])),
      oversized(Buffer.concat([header16MiB, Buffer.alloc(4096)])),
      oversized(Buffer.concat([setChunkSize(16 * MiB), Buffer.from([0x06, 0, 0, 0, 0x80, 0, 1, 9, 1, 0, 0, 0])])), // 8 MiB + 1
      oversized(setChunkSize(0)),
    ]);

    // (c) AMF nesting bombs in connect: objects, ECMA arrays and strict arrays 10,000 deep.
    const bomb = async (level: number[]): Promise<{ closed: number | "open"; answered: boolean }> => {
      const c = new RawClient(port);
      await c.handshaken;
      const parts = [encodeAmf0("connect", 1)];
      for (let i = 0; i < 10_000; i++) parts.push(Buffer.from(level));
      c.write(c.writer.encode(3, { typeId: 20, streamId: 0, timestamp: 0, payload: Buffer.concat(parts) }));
      const closed = await c.closedWithin(3000);
      return { closed, answered: c.commands().some((v) => v[0] === "_result") };
    };
    const bombResults = Promise.all([
      bomb([0x03, 0, 1, 0x61]),
      bomb([0x08, 0, 0, 0, 1, 0, 1, 0x61]),
      bomb([0x0a, 0, 0, 0, 1]),
    ]);

    // (b') absurd declared lengths held open: 100 sockets x 61 chunk streams, each declaring
    // an 8 MiB message (the largest accepted) and sending one 128-byte chunk.
    const held = (async () => {
      const buffersBefore = buffersAfterGc();
      const clients: RawClient[] = [];
      let sent = 0;
      await Promise.all(
        Array.from({ length: HELD_SOCKETS }, async () => {
          const c = new RawClient(port);
          clients.push(c);
          await c.handshaken;
          const parts: Buffer[] = [];
          for (let csid = 3; csid <= 63; csid++) {
            const head = Buffer.from([csid, 0, 0, 0, 0x80, 0, 0, 9, 1, 0, 0, 0]);
            parts.push(head, Buffer.alloc(128, csid));
          }
          const bytes = Buffer.concat(parts);
          sent += bytes.length;
          c.write(bytes);
        }),
      );
      await sleep(500);
      const grown = buffersAfterGc() - buffersBefore;
      const open = clients.filter((c) => !c.isClosed).length;
      for (const c of clients) c.destroy();
      return { grown, sent, open };
    })();

    // (e) hostile names: refused with NetStream.Publish.BadName, socket closed by the server.
    const badName = async (app: string, stream: string): Promise<{ codes: string[]; closed: number | "open" }> => {
      const c = new RawClient(port);
      await c.handshaken;
      c.command(3, 0, "connect", 1, { app, tcUrl: `rtmp://127.0.0.1:${port}/${app}` });
      c.command(3, 0, "createStream", 2, null);
      c.command(8, 1, "publish", 3, null, stream, "live");
      const closed = await c.closedWithin(5000);
      return { codes: c.statusCodes(), closed };
    };
    const names: Array<[string, string]> = [
      ["live", "a".repeat(1000)],
      ["live", ".."],
      ["live", "."],
      ["live", "../../../../tmp/escape"],
      ["live", "a/b"],
      ["live", "/"],
      ["live", "x\u0000y"],
      ["live", "\u0000"],
      ["live", "a\\..\\b"],
      ["live", "caf\u00e9"],
      ["..", "s1"],
      ["../..", "s2"],
      ["a/../../b", "s3"],
      ["x\u0000", "s4"],
      ["a".repeat(1000), "s5"],
    ];
    const nameResults = Promise.all(names.map(([app, stream]) => badName(app, stream)));

    // (f) an app name made for /\/+$/: 60,000 slashes then "x", the most that fits the 64 KiB allowed before publishing (the regex took ~4 s on 65,534).
    const redos = (async () => {
      const c = new RawClient(port);
      await c.handshaken;
      const sentAt = Date.now();
      c.command(3, 0, "connect", 1, { app: `${"/".repeat(60_000)}x`, tcUrl: `rtmp://127.0.0.1:${port}/live` });
      await waitFor(() => c.commands().some((v) => v[0] === "_result"), { timeoutMs: 10_000, intervalMs: 10, what: "connect _result" });
      const answeredMs = Date.now() - sentAt;
      c.destroy();
      return answeredMs;
    })();

    // (g) a peer that sends commands whose replies it never reads (~24 MB of onFCPublish echoes).
    const notReading = (async () => {
      const c = new RawClient(port, { read: false });
      await c.handshaken;
      c.command(3, 0, "connect", 1, { app: "live", tcUrl: `rtmp://127.0.0.1:${port}/live` });
      const name = "n".repeat(60_000);
      for (let i = 0; i < 400 && !c.isClosed; i++) {
        c.command(3, 0, "FCPublish", 10 + i, null, name);
        if (c.socket.writableNeedDrain) await Promise.race([new Promise((r) => c.socket.once("drain", r)), c.closed, sleep(2000)]);
      }
      await sleep(1000);
      const bytesBeforeRead = c.bytesIn;
      c.socket.resume(); // now read: a server that kept the connection would now flush ~24 MB
      const closed = await c.closedWithin(3000);
      return { closed, bytesRead: c.bytesIn - bytesBeforeRead };
    })();

    // (h) onMetaData the FLV muxer has to write again: invalid UTF-8 that triples when
    // re-encoded (a 30,000-byte key, a 6 MiB value). Before the fix the file open threw;
    // when the push ended while still probing, that became an unhandled rejection: the
    // whole service exited.
    const hostileMeta = async (stream: string, prop: Buffer, announce: boolean, frames: number) => {
      const body = Buffer.concat([
        encodeAmf0("onMetaData"),
        Buffer.from([0x08, 0, 0, 0, announce ? 2 : 1]),
        ...(announce ? [Buffer.from([0, 12]), Buffer.from("videocodecid"), encodeAmf0(7)] : []),
        prop,
        Buffer.from([0, 0, 0x09]),
      ]);
      const p = await RtmpPublisher.connect(h.url("live", stream));
      p.sendTag({ type: TagType.Script, timestamp: 0, data: body });
      for (const t of FIXTURE_MEDIA.filter((x) => x.type === TagType.Video).slice(0, frames)) {
        if (!p.sendTag(t)) await p.drain();
      }
      await p.close();
      const [stats] = await h.closed(stream, 1, 20_000);
      return { stream, errors: stats!.errors, flv: (await listFiles(h.streamDir("live", stream), "flv")).length };
    };
    const key30k = Buffer.concat([Buffer.from([0x75, 0x30]), Buffer.alloc(30_000, 0xff), encodeAmf0(1)]);
    const value6MiB = Buffer.concat([Buffer.from([0, 5]), Buffer.from("title"), Buffer.from([0x0c, 0x00, 0x60, 0, 0]), Buffer.alloc(6 * MiB, 0xff)]);
    const metaResults = Promise.all([
      hostileMeta("meta_key_probing", key30k, false, 2),
      hostileMeta("meta_value_probing", value6MiB, false, 2),
      hostileMeta("meta_key_live", key30k, true, 30),
    ]);

    // (d) 1,200 seeded mutated publish sessions, 48 at a time: valid handshake, then mutated chunks.
    const fuzz = (async () => {
      const outcome = { sessions: 0, closedByServer: 0, published: 0, noConnectReply: 0, hung: [] as number[], handshakeFailed: [] as number[] };
      let next = 0;
      const worker = async (): Promise<void> => {
        for (;;) {
          const i = next++;
          if (i >= FUZZ_SESSIONS) return;
          const rng = new Rng(caseSeed(i));
          const stream = i % FUZZ_ALL_EVERY === 0 ? "fuzzall" : `fz${i}`;
          const base = publishSession(`rtmp://127.0.0.1:${port}/live`, "live", stream, rng.range(2, 16));
          const bytes = mutate(rng, base.bytes, base.headers);
          const c = new RawClient(port);
          try {
            await c.handshaken;
          } catch {
            outcome.handshakeFailed.push(i);
            continue;
          }
          // In 1-3 writes, sometimes pausing between them.
          let pos = 0;
          while (pos < bytes.length && !c.isClosed) {
            const n = rng.chance(0.5) ? bytes.length : rng.range(1, bytes.length);
            c.write(bytes.subarray(pos, pos + n));
            pos += n;
            if (rng.chance(0.2)) await sleep(rng.range(1, 30));
          }
          if (rng.chance(0.5)) await sleep(rng.range(0, 50));
          const closedEarly = c.isClosed;
          if (!c.isClosed) c.socket.end();
          const closed = await c.closedWithin(5000);
          outcome.sessions++;
          if (closed === "open") outcome.hung.push(i);
          if (closedEarly) outcome.closedByServer++;
          if (c.statusCodes().includes("NetStream.Publish.Start")) outcome.published++;
          if (!c.commands().some((v) => v[0] === "_result")) outcome.noConnectReply++;
        }
      };
      await Promise.all(Array.from({ length: FUZZ_CONCURRENCY }, () => worker()));
      return outcome;
    })();

    const [slow, badVer, over, bombs, heldOpen, named, redosMs, quiet, fuzzed, metas] = await orCrash(
      Promise.all([
        slowlorisResults,
        badVersion,
        oversizedResults,
        bombResults,
        held,
        nameResults,
        redos,
        notReading,
        fuzz,
        metaResults,
      ]),
    );
    const attacksMs = Date.now() - t0;
    const worstLag = lag.stop();

    // The good stream is still being recorded, untouched.
    const live = h.service.livePushes().find((p) => p.stream === "good");
    expect(live, "the good push survived the attacks").toBeDefined();
    expect(live!.recordings.every((r) => r.droppedFrames === 0 && r.errors === 0)).toBe(true);

    console.log(
      [
        `hostile input (seed ${SEED_HEX}) in ${attacksMs} ms, worst event-loop stall ${worstLag.toFixed(0)} ms`,
        `  slowloris x${SLOWLORIS_SOCKETS}: closed after ${slow.join(", ")} ms; bad version closed after ${badVer} ms`,
        `  oversized: closed after ${over.join(", ")} ms; bombs: ${bombs.map((b) => `${b.closed} ms${b.answered ? " (answered!)" : ""}`).join(", ")}`,
        `  61 x 8 MiB declared on ${HELD_SOCKETS} sockets: sent ${(heldOpen.sent / MiB).toFixed(1)} MiB, buffers grew ${(heldOpen.grown / MiB).toFixed(1)} MiB, ${heldOpen.open} still open`,
        `  names: ${named.map((n) => `${n.codes.join("/") || "-"}@${n.closed}`).join(" ")}`,
        `  redos app answered in ${redosMs} ms; non-reading peer closed after ${quiet.closed} ms having read ${(quiet.bytesRead / MiB).toFixed(1)} MiB`,
        `  fuzz: ${JSON.stringify(fuzzed)}`,
        `  hostile onMetaData: ${JSON.stringify(metas)}`,
      ].join("\n"),
    );

    // (a) Closed by the server's handshake timeout, not before, not much after.
    for (const ms of slow) {
      expect(ms).not.toBe("open");
      expect(ms as number).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 200);
      expect(ms as number).toBeLessThan(HANDSHAKE_TIMEOUT_MS + 1500);
    }
    expect(badVer).not.toBe("open");
    expect(badVer as number).toBeLessThan(2000);
    // (b) Refused at once.
    for (const ms of over) expect(ms).not.toBe("open");
    // 8 MiB messages are refused before publishing (at most 64 KiB then). Earlier, held open,
    // each partial message reserved 64 KiB: 100 x 61 x 64 KiB = 381 MiB. (The measure also
    // sees everything else this process does meanwhile, hence the slack.)
    expect(heldOpen.open).toBe(0);
    expect(heldOpen.grown).toBeLessThan(64 * MiB);
    // (c) Refused without answering.
    for (const b of bombs) {
      expect(b.closed).not.toBe("open");
      expect(b.answered).toBe(false);
    }
    // (e) BadName for each, and closed.
    for (const [k, n] of named.entries()) {
      expect(n.codes, JSON.stringify(names[k]).slice(0, 80)).toContain("NetStream.Publish.BadName");
      expect(n.closed).not.toBe("open");
    }
    // (f) No quadratic regex on the event loop.
    expect(redosMs).toBeLessThan(1000);
    // (g) Closed for not reading: it never got the 24 MB it asked for.
    expect(quiet.closed).not.toBe("open");
    expect(quiet.bytesRead).toBeLessThan(16 * MiB);
    // (d) Every mutated session ended: refused, or closed when the client left.
    expect(fuzzed.handshakeFailed, `valid handshakes that failed (FUZZ_SEED=${SEED_HEX})`).toEqual([]);
    expect(fuzzed.sessions).toBe(FUZZ_SESSIONS);
    expect(fuzzed.hung, `sessions left open (FUZZ_SEED=${SEED_HEX})`).toEqual([]);
    expect(fuzzed.published).toBeGreaterThan(10);
    expect(fuzzed.closedByServer).toBeGreaterThan(10);
    expect(worstLag).toBeLessThan(2000);
    // (h) Recorded without the unwritable metadata, no error, no crash.
    for (const m of metas) expect(m).toEqual({ stream: m.stream, errors: 0, flv: 1 });

    // The good recording completes with every frame of the fixture, in FLV and MP4.
    const replayed = await orCrash(goodDone);
    if (replayed instanceof Error) throw replayed;
    const [stats] = await orCrash(h.closed("good", 1, 30_000));
    expect(stats!.droppedFrames).toBe(0);
    expect(stats!.errors).toBe(0);
    clearInterval(rssTimer);
    const dir = h.streamDir("live", "good");
    const flv = await listFiles(dir, "flv");
    const mp4 = await listFiles(dir, "mp4");
    expect(flv.length).toBe(1);
    expect(mp4.length).toBe(1);
    const expected = await videoFrameHashes(fixture.path);
    expect(expected.length).toBe(fixture.videoFrames);
    expect(await videoFrameHashes(flv)).toEqual(expected);
    expect(await videoFrameHashes(mp4)).toEqual(expected);

    // Nothing escaped the data folder or got an unsafe name.
    const recordings = join(h.dataDir, "recordings");
    for (const p of await walk(recordings)) {
      const parts = p.slice(recordings.length + 1).split("/");
      if (parts.length <= 3) for (const part of parts) expect(SAFE_NAME.test(part), p).toBe(true);
    }

    const rssAfter = process.memoryUsage().rss;
    console.log(
      `rss before ${(rssBefore / MiB).toFixed(0)} MiB, peak ${(rssPeak / MiB).toFixed(0)} MiB, after ${(rssAfter / MiB).toFixed(0)} MiB; total ${Date.now() - t0} ms`,
    );
    expect(rssPeak - rssBefore).toBeLessThan(400 * MiB);
    expect(crashes).toEqual([]);
  });
});
