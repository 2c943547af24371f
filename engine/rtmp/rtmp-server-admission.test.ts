/**
 * The server's admission and memory limits with real sockets: floods come from
 * 127.0.0.2, the publisher that must get through from 127.0.0.1 (both loopback
 * on Linux).
 */
import { afterEach, describe, expect, it } from "vitest";
import { commandOf, type RawSocket, rawSocket } from "../../scripts/test-support/rtmp-raw-socket.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import { ChunkWriter } from "./chunk-stream.js";
import { MessageType } from "./protocol.js";
import { RtmpPublisher } from "./rtmp-publisher.js";
import { RtmpServer, type RtmpServerOptions } from "./rtmp-server.js";

const FLOOD = "127.0.0.2";
const servers: RtmpServer[] = [];
const sockets: RawSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: RtmpServerOptions, tags: number[] = []): Promise<{ server: RtmpServer; port: number; logs: string[] }> {
  const logs: string[] = [];
  const server = new RtmpServer({ logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) }, ...options });
  servers.push(server);
  server.on("publish", (req) => req.accept().on("tag", (t) => tags.push(t.data.length)));
  return { server, port: await server.listen(0, "127.0.0.1"), logs };
}

async function open(port: number, handshake: boolean, from: string): Promise<RawSocket> {
  const s = await rawSocket(port, handshake, from);
  sockets.push(s);
  return s;
}

/** Resolves true if the server closed the socket within `ms`. */
const closedWithin = (s: RawSocket, ms: number): Promise<boolean> =>
  Promise.race([s.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

async function publishes(port: number, stream: string): Promise<boolean> {
  const p = await RtmpPublisher.connect(`rtmp://127.0.0.1:${port}/live/${stream}`, { timeoutMs: 3000 });
  const ok = !p.closed;
  await p.close();
  return ok;
}

/** The first chunk of a video message declaring `declared` bytes, carrying `sent` of them (chunk size must allow it). */
function partialVideo(declared: number, sent: number, csid = 4): Buffer {
  const head = Buffer.from([csid, 0, 0, 0, 0, 0, 0, MessageType.Video, 1, 0, 0, 0]);
  head.writeUIntBE(declared, 4, 3);
  return Buffer.concat([head, Buffer.alloc(sent, 7)]);
}

const setChunkSize = (n: number): Buffer => new ChunkWriter().encode(2, { typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload: Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]) });

describe("RtmpServer admission", () => {
  it("caps connections that have not published per source; other sources still publish", async () => {
    const { server, port } = await start({ maxPendingPerSource: 3, connectsPerSecondPerSource: 0 });
    const held = await Promise.all([0, 1, 2].map(() => open(port, false, FLOOD)));
    await waitFor(() => server.connectionCounts.pending === 3, { what: "three pending" });
    const fourth = await open(port, false, FLOOD);
    expect(await closedWithin(fourth, 1000)).toBe(true);
    for (const s of held) expect(await closedWithin(s, 0)).toBe(false);
    expect(await publishes(port, "a")).toBe(true);
  });

  it("rate-limits new connections per source (a burst of ten seconds' worth)", async () => {
    const { port } = await start({ connectsPerSecondPerSource: 1, maxPendingPerSource: 100 });
    const burst = await Promise.all(Array.from({ length: 10 }, () => open(port, false, FLOOD)));
    const over = await open(port, false, FLOOD);
    expect(await closedWithin(over, 1000)).toBe(true);
    for (const s of burst) expect(await closedWithin(s, 0)).toBe(false);
    expect(await publishes(port, "b")).toBe(true);
  });

  it("when every slot is taken, a publisher from another source takes a flooding source's oldest pending slot", async () => {
    const { server, port } = await start({ maxConnections: 6, maxPendingPerSource: 6, connectsPerSecondPerSource: 0 });
    const flood: RawSocket[] = [];
    for (let i = 0; i < 6; i++) flood.push(await open(port, false, FLOOD));
    await waitFor(() => server.connectionCounts.open === 6, { what: "six open" });
    expect(await publishes(port, "c")).toBe(true);
    expect(await closedWithin(flood[0]!, 1000)).toBe(true);
    for (const s of flood.slice(1)) expect(await closedWithin(s, 0)).toBe(false);
  });

  it("refuses a command larger than the pre-publish limit, but takes large media once publishing", async () => {
    const tags: number[] = [];
    const { port } = await start({ bufferBytesBeforePublish: 4096 }, tags);
    const big = await open(port, true, FLOOD);
    big.socket.write(commandOf("connect", 1, { app: "x".repeat(5000), tcUrl: "rtmp://127.0.0.1/live" }));
    expect(await closedWithin(big, 1000)).toBe(true);
    const p = await RtmpPublisher.connect(`rtmp://127.0.0.1:${port}/live/d`, { timeoutMs: 3000 });
    p.sendTag({ type: 9, timestamp: 0, data: Buffer.alloc(300_000, 1) });
    await waitFor(() => tags.length === 1, { what: "the 300 kB tag" });
    expect(tags).toEqual([300_000]);
    await p.close();
  });

  it("shares one budget between connections not yet publishing: the biggest holder goes, small ones stay", async () => {
    const KiB = 1024;
    const { server, port } = await start({ bufferBytesBeforePublish: 64 * KiB, bufferBudgetBeforePublish: 100 * KiB });
    const hog = await open(port, true, FLOOD);
    // Messages one byte short of their declared length: each buffer is allocated at that length.
    hog.socket.write(Buffer.concat([setChunkSize(64 * KiB), partialVideo(60 * KiB + 1, 60 * KiB)]));
    const other = await open(port, true, "127.0.0.3");
    other.socket.write(Buffer.concat([setChunkSize(64 * KiB), partialVideo(30 * KiB + 1, 30 * KiB)]));
    expect(await closedWithin(hog, 300)).toBe(false);
    // 90 KiB held: 20 more for a third connection push the hog out.
    const third = await open(port, true, "127.0.0.4");
    third.socket.write(Buffer.concat([setChunkSize(64 * KiB), partialVideo(20 * KiB + 1, 20 * KiB)]));
    expect(await closedWithin(hog, 1000)).toBe(true);
    expect(await closedWithin(other, 200)).toBe(false);
    expect(await closedWithin(third, 0)).toBe(false);
    // One over the per-connection limit is refused on its own.
    const greedy = await open(port, true, "127.0.0.5");
    greedy.socket.write(Buffer.concat([setChunkSize(128 * KiB), partialVideo(100 * KiB, 1)]));
    expect(await closedWithin(greedy, 1000)).toBe(true);
    expect(await publishes(port, "e")).toBe(true);
    await waitFor(() => server.connectionCounts.open === 2, { what: "the closed ones forgotten" });
  });
});
