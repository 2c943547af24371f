import { spawn } from "node:child_process";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { FlvTag } from "../flv/types.js";
import { type Amf0Value, decodeAmf0, encodeAmf0, encodeEcmaArray } from "./amf0.js";
import { ChunkReader, ChunkWriter, type RtmpMessage } from "./chunk-stream.js";
import { ClientHandshake } from "./handshake.js";
import { RtmpPublisher, RtmpPublishRefusedError } from "./rtmp-publisher.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import { type PublishRequest, type PublishSession, RtmpServer, type RtmpServerOptions } from "./rtmp-server.js";

const servers: RtmpServer[] = [];
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Harness {
  server: RtmpServer;
  port: number;
  logs: string[];
  requests: PublishRequest[];
  sessions: PublishSession[];
  tags: Map<PublishSession, FlvTag[]>;
  ends: Map<PublishSession, { reason: string; at: number }>;
}

/** Server on an ephemeral port that accepts every publish and records everything. */
async function startServer(options: RtmpServerOptions = {}, accept = true): Promise<Harness> {
  const logs: string[] = [];
  const server = new RtmpServer({
    logger: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`) },
    ...options,
  });
  servers.push(server);
  const h: Harness = { server, port: 0, logs, requests: [], sessions: [], tags: new Map(), ends: new Map() };
  if (accept) {
    server.on("publish", (req) => {
      h.requests.push(req);
      const s = req.accept();
      h.sessions.push(s);
      const list: FlvTag[] = [];
      h.tags.set(s, list);
      s.on("tag", (t) => list.push(t));
      s.on("end", (reason) => h.ends.set(s, { reason, at: Date.now() }));
    });
  }
  h.port = await server.listen(0, "127.0.0.1");
  expect(server.port).toBe(h.port);
  return h;
}


async function publisher(port: number, path = "live/s1"): Promise<RtmpPublisher> {
  const p = await RtmpPublisher.connect(`rtmp://127.0.0.1:${port}/${path}`, { timeoutMs: 3000 });
  cleanups.push(() => p.close());
  return p;
}

function media(count: number, seed: number): FlvTag[] {
  const tags: FlvTag[] = [];
  let x = seed;
  for (let i = 0; i < count; i++) {
    const video = i % 3 !== 0;
    const len = video ? 1 + ((i * 7919) % 9000) : 1 + ((i * 31) % 400);
    const data = Buffer.allocUnsafe(len);
    for (let j = 0; j < len; j++) {
      x = (x * 1103515245 + 12345) >>> 0;
      data[j] = x >>> 24;
    }
    tags.push({ type: video ? 9 : 8, timestamp: i * 20, data });
  }
  return tags;
}

/** Compact form for comparisons: deep-equality on large Buffers is slow. */
function summary(t: FlvTag): string {
  return `${t.type}@${t.timestamp}:${t.data.toString("base64")}`;
}

/** A hand-driven RTMP client for what RtmpPublisher would never send. */
class RawClient {
  readonly socket: net.Socket;
  readonly messages: RtmpMessage[] = [];
  readonly closed: Promise<number>;
  readonly handshaken: Promise<void>;
  private readonly writer = new ChunkWriter();
  private readonly reader = new ChunkReader((m) => this.messages.push(m));

  constructor(port: number, handshake = true) {
    const started = Date.now();
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve(Date.now() - started)));
    cleanups.push(() => this.socket.destroy());
    const hs = new ClientHandshake();
    let done = !handshake;
    this.handshaken = new Promise((resolve) => {
      this.socket.on("connect", () => {
        if (handshake) this.socket.write(hs.start());
        else resolve();
      });
      this.socket.on("data", (data: Buffer) => {
        let rest: Buffer | undefined = data;
        if (!done) {
          const step = hs.push(data);
          if (!step.done) return;
          done = true;
          this.socket.write(step.reply!);
          rest = step.rest;
          resolve();
        }
        if (rest) this.reader.push(rest);
      });
    });
  }

  command(streamId: number, ...values: Amf0Value[]): void {
    this.socket.write(this.writer.encode(3, { typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) }));
  }

  async commandReply(name: string, txn?: number): Promise<Amf0Value[]> {
    let found: Amf0Value[] | undefined;
    await waitFor(() => {
      found = this.messages
        .filter((m) => m.typeId === 20)
        .map((m) => decodeAmf0(m.payload))
        .find((v) => v[0] === name && (txn === undefined || v[1] === txn));
      return found !== undefined;
    }, { what: name });
    return found!;
  }
}

describe("RtmpServer with RtmpPublisher", () => {
  it("delivers every tag unchanged and in order, and ends within 1 s of close()", async () => {
    const h = await startServer();
    const pub = await publisher(h.port, "live/s1?a=b&c=d");
    await waitFor(() => h.sessions.length === 1);
    const req = h.requests[0]!;
    expect({ domain: req.domain, app: req.app, stream: req.stream, query: req.query, tcUrl: req.tcUrl }).toEqual({
      domain: "127.0.0.1",
      app: "live",
      stream: "s1",
      query: "a=b&c=d",
      tcUrl: `rtmp://127.0.0.1:${h.port}/live`,
    });
    expect(req.remoteAddress).toContain("127.0.0.1");
    expect(req.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const meta = Buffer.concat([encodeAmf0("onMetaData"), encodeEcmaArray({ width: 320, height: 240 })]);
    const sent: FlvTag[] = [
      { type: 18, timestamp: 0, data: meta },
      ...media(300, 7),
      { type: 9, timestamp: 0xfffffe, data: Buffer.alloc(5000, 1) },
      { type: 8, timestamp: 0xffffff, data: Buffer.alloc(10, 2) },
      { type: 9, timestamp: 0x12345678, data: Buffer.alloc(9000, 3) },
      { type: 18, timestamp: 0x12345678, data: encodeAmf0("onCuePoint", { name: "x" }) },
    ];
    for (const t of sent) if (!pub.sendTag(t)) await pub.drain();
    const got = h.tags.get(h.sessions[0]!)!;
    await waitFor(() => got.length === sent.length, { what: "all tags" });
    // onMetaData goes out as @setDataFrame + onMetaData, as real encoders send it.
    const expected = sent.map((t, i) => (i === 0 ? { ...t, data: Buffer.concat([encodeAmf0("@setDataFrame"), meta]) } : t));
    expect(got.map(summary)).toEqual(expected.map(summary));
    expect(decodeAmf0(got[0]!.data).slice(0, 2)).toEqual(["@setDataFrame", "onMetaData"]);

    const closedAt = Date.now();
    await pub.close();
    await waitFor(() => h.ends.size === 1, { what: "end" });
    const end = h.ends.get(h.sessions[0]!)!;
    expect(end.at - closedAt).toBeLessThan(1000);
    expect(end.reason).toBe("FCUnpublish");
    expect(h.sessions[0]!.ended).toBe(true);
    expect(h.server.publishing).toEqual([]);
  });

  it("refuses a second concurrent publish of the same stream while the first keeps going", async () => {
    const h = await startServer();
    const first = await publisher(h.port, "live/dup");
    first.sendTag({ type: 8, timestamp: 0, data: Buffer.from([0xaf, 0x00, 0x12, 0x10]) });
    let err: unknown;
    try {
      await publisher(h.port, "live/dup?other=1");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RtmpPublishRefusedError);
    expect((err as RtmpPublishRefusedError).code).toBe("RTMP_PUBLISH_REFUSED");
    expect((err as RtmpPublishRefusedError).status).toEqual({
      level: "error",
      code: "NetStream.Publish.BadName",
      description: "stream is already publishing",
    });
    expect(h.requests.length).toBe(1);
    // Another stream name on the same app is fine.
    await publisher(h.port, "live/other");
    first.sendTag({ type: 9, timestamp: 40, data: Buffer.from([0x17, 0x01]) });
    const got = h.tags.get(h.sessions[0]!)!;
    await waitFor(() => got.length === 2);
    expect(h.sessions[0]!.ended).toBe(false);
  });

  it("treats a re-publish after the end as a brand-new session", async () => {
    const h = await startServer();
    const a = await publisher(h.port, "live/again");
    await a.close();
    await waitFor(() => h.ends.size === 1);
    const b = await publisher(h.port, "live/again");
    b.sendTag({ type: 8, timestamp: 5, data: Buffer.from([1]) });
    await waitFor(() => h.tags.get(h.sessions[1]!)?.length === 1);
    expect(h.sessions[1]).not.toBe(h.sessions[0]);
    expect(h.sessions[1]!.sessionId).not.toBe(h.sessions[0]!.sessionId);
    expect(h.tags.get(h.sessions[0]!)).toEqual([]);
  });

  it("lets an end listener accept the same stream again right away", async () => {
    const h = await startServer();
    const a = await publisher(h.port, "live/handover");
    await waitFor(() => h.sessions.length === 1);
    let publishingAtEnd: string[] | undefined;
    h.sessions[0]!.on("end", () => {
      publishingAtEnd = h.server.publishing;
    });
    h.sessions[0]!.close();
    await waitFor(() => a.closed, { what: "kicked publisher to be closed" });
    expect(h.ends.get(h.sessions[0]!)!.reason).toBe("closed by server");
    expect(publishingAtEnd).toEqual([]);
    h.sessions[0]!.close(); // idempotent
    await publisher(h.port, "live/handover");
    expect(h.sessions.length).toBe(2);
  });

  it("sends the listener's rejection, and rejects when nobody accepts", async () => {
    const h = await startServer({}, false);
    const off = (req: PublishRequest): void => req.reject("NetStream.Publish.Unauthorized", "bad key");
    h.server.on("publish", off);
    await expect(publisher(h.port, "live/x")).rejects.toMatchObject({
      code: "RTMP_PUBLISH_REFUSED",
      status: { code: "NetStream.Publish.Unauthorized", description: "bad key" },
    });
    h.server.off("publish", off);
    await expect(publisher(h.port, "live/x")).rejects.toMatchObject({
      status: { code: "NetStream.Publish.Rejected" },
    });
    expect(h.server.publishing).toEqual([]);
  });

  it("survives a throwing publish listener and refuses late decisions", async () => {
    const h = await startServer({}, false);
    let late: PublishRequest | undefined;
    h.server.on("publish", (req) => {
      late = req;
      throw new Error("listener bug");
    });
    await expect(publisher(h.port, "live/x")).rejects.toMatchObject({ status: { code: "NetStream.Publish.Rejected" } });
    expect(() => late!.accept()).toThrow(/synchronously/);
    expect(h.logs.some((l) => l.startsWith("warn") && l.includes("listener bug"))).toBe(true);
  });

  it("ends the publish on an idle timeout", async () => {
    const h = await startServer({ idleTimeoutMs: 300 });
    const pub = await publisher(h.port, "live/idle");
    const start = Date.now();
    await waitFor(() => h.ends.size === 1, { what: "idle end" });
    expect(h.ends.get(h.sessions[0]!)!.reason).toBe("idle timeout");
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    await waitFor(() => pub.closed);
  });

  it("close() ends live publishes, destroys sockets and is idempotent", async () => {
    const h = await startServer();
    const pub = await publisher(h.port, "live/c");
    await Promise.all([h.server.close(), h.server.close()]);
    expect(h.ends.get(h.sessions[0]!)!.reason).toBe("server closed");
    await waitFor(() => pub.closed);
    await expect(RtmpPublisher.connect(`rtmp://127.0.0.1:${h.port}/live/c`, { timeoutMs: 1000 })).rejects.toMatchObject({
      code: "RTMP_CONNECT_FAILED",
    });
  });
});

describe("RtmpPublisher", () => {
  it("refuses URLs it cannot publish to", async () => {
    for (const url of ["http://h/live/s", "rtmp://h/live", "rtmp://h/", "not a url"]) {
      await expect(RtmpPublisher.connect(url)).rejects.toMatchObject({ code: "RTMP_BAD_URL" });
    }
  });

  it("times out against a server that never answers the handshake", async () => {
    const silent = net.createServer((socket) => {
      socket.resume(); // read and drop, so the client's close is seen
      cleanups.push(() => socket.destroy());
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => silent.close(resolve)));
    const port = (silent.address() as net.AddressInfo).port;
    const start = Date.now();
    await expect(RtmpPublisher.connect(`rtmp://127.0.0.1:${port}/live/s`, { timeoutMs: 200 })).rejects.toMatchObject({
      code: "RTMP_TIMEOUT",
    });
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it("passes nested paths and queries on to the server", async () => {
    const h = await startServer();
    const pub = await publisher(h.port, "app/sub/name?x=1");
    expect(pub.publishName).toBe("sub/name?x=1");
    const req = h.requests[0]!;
    expect([req.app, req.stream, req.query, req.tcUrl]).toEqual(["app", "sub/name", "x=1", `rtmp://127.0.0.1:${h.port}/app`]);
  });
});

describe("RtmpServer robustness", () => {
  it("closes sockets sending garbage without disturbing another publisher", async () => {
    const h = await startServer();
    const pub = await publisher(h.port, "live/steady");
    const sent = media(60, 3);
    for (const t of sent.slice(0, 30)) pub.sendTag(t);

    const badVersion = new RawClient(h.port, false);
    await badVersion.handshaken;
    badVersion.socket.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const badChunks = new RawClient(h.port);
    await badChunks.handshaken;
    badChunks.socket.write(Buffer.from([0xc5, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00]));
    const badAmf = new RawClient(h.port);
    await badAmf.handshaken;
    badAmf.socket.write(new ChunkWriter().encode(3, { typeId: 20, streamId: 0, timestamp: 0, payload: Buffer.from([0x02, 0x00, 0x10, 0x41]) }));
    const oversized = new RawClient(h.port);
    await oversized.handshaken;
    oversized.socket.write(Buffer.from([0x06, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]));
    await Promise.all([badVersion.closed, badChunks.closed, badAmf.closed, oversized.closed]);

    for (const t of sent.slice(30)) pub.sendTag(t);
    const got = h.tags.get(h.sessions[0]!)!;
    await waitFor(() => got.length === sent.length);
    expect(got.map(summary)).toEqual(sent.map(summary));
    expect(h.sessions[0]!.ended).toBe(false);
    for (const code of ["RTMP_BAD_HANDSHAKE", "RTMP_BAD_CHUNK", "AMF_TRUNCATED", "RTMP_MESSAGE_TOO_LARGE"]) {
      expect(h.logs.some((l) => l.startsWith("warn") && l.includes(code))).toBe(true);
    }
  });

  it("closes a socket that never completes the handshake", async () => {
    const h = await startServer({ handshakeTimeoutMs: 200 });
    const silent = new RawClient(h.port, false);
    const partial = new RawClient(h.port, false);
    await partial.handshaken;
    partial.socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(100)]));
    const [a, b] = await Promise.all([silent.closed, partial.closed]);
    for (const elapsed of [a, b]) {
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(2000);
    }
  });

  it("refuses play with NetStream.Play.Failed and closes", async () => {
    const h = await startServer();
    const c = new RawClient(h.port);
    await c.handshaken;
    c.command(0, "connect", 1, { app: "live", tcUrl: "not a url" });
    const result = await c.commandReply("_result");
    expect(result[3]).toMatchObject({ code: "NetConnection.Connect.Success" });
    expect(c.messages.slice(0, 3).map((m) => m.typeId)).toEqual([5, 6, 1]);
    c.command(0, "createStream", 2, null);
    expect((await c.commandReply("_result", 2))[3]).toBe(1);
    c.command(1, "play", 0, null, "s1");
    const status = await c.commandReply("onStatus");
    expect(status[3]).toMatchObject({ level: "error", code: "NetStream.Play.Failed" });
    await c.closed;
  });

  it("falls back to localhost for a bad tcUrl and acknowledges the peer's window", async () => {
    const h = await startServer();
    const c = new RawClient(h.port);
    await c.handshaken;
    const w = new ChunkWriter();
    c.socket.write(w.encode(2, { typeId: 5, streamId: 0, timestamp: 0, payload: Buffer.from([0, 0, 0x10, 0]) }));
    c.command(0, "connect", 1, { app: "live?token=abc", tcUrl: "::garbage::" });
    await c.commandReply("_result");
    c.command(0, "createStream", 2, null);
    c.command(1, "publish", 3, null, "cam?x=1", "live");
    await c.commandReply("onStatus");
    const req = h.requests[0]!;
    expect([req.domain, req.app, req.stream, req.query, req.tcUrl]).toEqual(["localhost", "live", "cam", "token=abc&x=1", "::garbage::"]);
    c.socket.write(w.encode(4, { typeId: 8, streamId: 1, timestamp: 0, payload: Buffer.alloc(5000) }));
    await waitFor(() => c.messages.some((m) => m.typeId === 3), { what: "acknowledgement" });
    const ack = c.messages.find((m) => m.typeId === 3)!;
    expect(ack.payload.readUInt32BE(0)).toBeGreaterThanOrEqual(4096);
    c.command(1, "deleteStream", 4, null, 1);
    await waitFor(() => h.ends.size === 1);
    expect(h.ends.get(h.sessions[0]!)!.reason).toBe("deleteStream");
  });
});

describe("RtmpServer with ffmpeg", () => {
  it("receives a real ffmpeg publish", async () => {
    const ffmpeg = process.env["FFMPEG_PATH"] ?? (await import("@ffmpeg-installer/ffmpeg")).default.path;
    const h = await startServer();
    const args = [
      "-nostdin",
      "-hide_banner",
      "-loglevel",
      "error",
      "-re",
      "-f",
      "lavfi",
      "-i",
      "testsrc=size=320x240:rate=25",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=440:sample_rate=44100",
      "-t",
      "3",
      "-c:v",
      "libx264",
      "-g",
      "50",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-f",
      "flv",
      `rtmp://127.0.0.1:${h.port}/live/cam1?k=v`,
    ];
    const child = spawn(ffmpeg, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const killer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, 30_000);
    cleanups.push(() => {
      clearTimeout(killer);
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const exitedAt = Date.now();
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);

    await waitFor(() => h.ends.size === 1, { what: "end after ffmpeg exit" });
    const session = h.sessions[0]!;
    expect(h.ends.get(session)!.at - exitedAt).toBeLessThan(1000);
    const req = h.requests[0]!;
    expect([req.app, req.stream, req.query, req.domain]).toEqual(["live", "cam1", "k=v", "127.0.0.1"]);

    const tags = h.tags.get(session)!;
    const data = tags.filter((t) => t.type === 18).map((t) => decodeAmf0(t.data));
    expect(data.some((v) => v[0] === "@setDataFrame" && v[1] === "onMetaData")).toBe(true);
    const video = tags.filter((t) => t.type === 9);
    const audio = tags.filter((t) => t.type === 8);
    expect([video[0]!.data[0], video[0]!.data[1]]).toEqual([0x17, 0x00]);
    expect([audio[0]!.data[0], audio[0]!.data[1]]).toEqual([0xaf, 0x00]);
    const frames = video.filter((t) => t.data[1] === 0x01);
    expect(frames.length).toBeGreaterThanOrEqual(70);
    expect(frames.length).toBeLessThanOrEqual(80);
    expect(audio.length).toBeGreaterThan(100);
    const ts = video.map((t) => t.timestamp);
    expect(ts[ts.length - 1]).toBeGreaterThan(2800);
  });
});
