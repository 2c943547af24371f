/**
 * Issue 14 items 3 and 4 against the real service (a child process, so its
 * memory is its own), on the default limits:
 * - a flood from 127.0.0.2 (1000 silent sockets, 200 that handshake and go
 *   quiet, a reconnect loop) while 15 real ffmpeg publishes from 127.0.0.1 must
 *   all be recorded (before: 12 of 15 failed);
 * - connections that have not published cannot make the service hold much
 *   memory: 16 connections each trying to buffer 32 MiB (before: +480 MB RSS),
 *   and 400 each buffering the most one may (64 KiB) against the shared budget.
 * Linux routes all of 127.0.0.0/8 to loopback, so every address is a source.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkWriter } from "../engine/rtmp/chunk-stream.js";
import { MessageType } from "../engine/rtmp/protocol.js";
import { FIXTURES } from "../fixtures/fixtures.js";
import { commandOf, type RawSocket, rawSocket } from "../scripts/test-support/rtmp-raw-socket.js";
import { sleep, waitFor } from "../scripts/test-support/wait-for.js";
import { ffmpegPush } from "./test-support/harness.js";
import { exited, serveProcess } from "./test-support/service-process.js";

const MiB = 1024 * 1024;
const KiB = 1024;
const FLOOD = "127.0.0.2";
const OFF = { Enable: 0, RecordInterval: 1800 };

let child: ChildProcess;
let rtmpPort = 0;
let httpPort = 0;
let dataDir = "";

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "recorder-admission-"));
  const config = join(dataDir, "config.json");
  // FLV only: the publishes are what is measured, not the remux jobs.
  await writeFile(config, JSON.stringify({ recordTemplate: { FlvParam: { Enable: 1, RecordInterval: 1800 }, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF } }));
  const service = await serveProcess(["--config", config, "--data-dir", dataDir, "--rtmp-port", "0", "--http-port", "0"]);
  child = service.child;
  rtmpPort = service.rtmp;
  httpPort = service.http;
});

afterAll(async () => {
  if (!child) return;
  const exit = exited(child);
  child.kill("SIGTERM");
  await exit;
});

/** Resident memory of the service, from /proc. */
function serviceRss(): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return Number(kb![1]) * 1024;
}

/** Samples the service's RSS every 50 ms until stopped; returns the peak. */
function rssPeak(): () => number {
  let peak = serviceRss();
  const timer = setInterval(() => {
    peak = Math.max(peak, serviceRss());
  }, 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, serviceRss());
  };
}

/** The ingest's connection counts, from /healthz. */
async function rtmpConnections(): Promise<{ open: number; pending: number }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
  return ((await res.json()) as { rtmpConnections: { open: number; pending: number } }).rtmpConnections;
}

async function flvFiles(): Promise<string[]> {
  const root = join(dataDir, "recordings", "127.0.0.1", "live");
  const streams = await readdir(root).catch(() => [] as string[]);
  const out: string[] = [];
  for (const s of streams) for (const f of await readdir(join(root, s))) if (f.endsWith(".flv")) out.push(`${s}/${f}`);
  return out;
}

/** Opens a raw socket, or null when the server refused it before the handshake finished. */
async function tryOpen(handshake: boolean, from: string): Promise<RawSocket | null> {
  try {
    return await rawSocket(rtmpPort, handshake, from);
  } catch {
    return null;
  }
}

const closedWithin = (s: RawSocket, ms: number): Promise<boolean> =>
  Promise.race([s.closed.then(() => true), sleep(ms).then(() => false)]);

const chunkSize = (n: number): Buffer => {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(n);
  return new ChunkWriter().encode(2, { typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload });
};

/** The first chunk of a video message declaring `declared` bytes and carrying `sent` of them. */
function partialVideo(declared: number, sent: number): Buffer {
  const head = Buffer.from([4, 0, 0, 0, 0, 0, 0, MessageType.Video, 1, 0, 0, 0]);
  head.writeUIntBE(declared, 4, 3);
  return Buffer.concat([head, Buffer.alloc(sent, 7)]);
}

describe("RTMP admission on the default limits", () => {
  it("records every real publish from 127.0.0.1 while 127.0.0.2 floods the ingest", async () => {
    const opened: RawSocket[] = [];
    let stop = false;
    // (1) 1000 silent sockets, (2) 200 that handshake and go quiet.
    const silent = Promise.all(
      Array.from({ length: 1000 }, async () => {
        const s = await tryOpen(false, FLOOD);
        if (s) opened.push(s);
        return s;
      }),
    );
    const quiet = (async () => {
      let held = 0;
      for (let i = 0; i < 200; i++) {
        const s = await tryOpen(true, FLOOD);
        if (s) {
          opened.push(s);
          held++;
        }
      }
      return held;
    })();
    // (3) Four loops reconnecting as fast as they can: handshake, connect, leave.
    let reconnects = 0;
    const loops = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          reconnects++;
          const s = await tryOpen(true, FLOOD);
          if (s === null) continue;
          s.socket.write(commandOf("connect", 1, { app: "live", tcUrl: `rtmp://127.0.0.1:${rtmpPort}/live` }));
          await closedWithin(s, 50);
          s.socket.destroy();
        }
      }),
    );

    const silentSockets = await silent;
    await sleep(500);
    const silentHeld = silentSockets.filter((s) => s !== null && !s.socket.destroyed && s.socket.readyState === "open").length;

    // 15 real publishes, one every ~1.3 s, over ~20 s of flood.
    const fixture = FIXTURES["av-h264-aac-3s"].path;
    const results: string[] = [];
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < 15; i++) {
      pushes.push(
        ffmpegPush(fixture, `rtmp://127.0.0.1:${rtmpPort}/live/real${i}`, { timeoutMs: 30_000 }).then(
          () => void results.push(`real${i}: ok`),
          (err: unknown) => void results.push(`real${i}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`),
        ),
      );
      await sleep(1300);
    }
    await Promise.all(pushes);
    stop = true;
    await loops;
    const quietHeld = await quiet;
    for (const s of opened) s.socket.destroy();

    const failed = results.filter((r) => !r.endsWith(": ok"));
    console.log(`flood from ${FLOOD}: ${silentHeld}/1000 silent sockets held after 0.5 s, ${quietHeld}/200 handshaken ones got through the handshake, ${reconnects} reconnect attempts; real publishes failed: ${failed.length}/15`);
    expect(failed).toEqual([]);
    // The flood itself was held to the per-address limit (64 not yet publishing).
    expect(silentHeld).toBeLessThanOrEqual(64);
    const files = await waitFor(async () => ((await flvFiles()).length >= 15 ? flvFiles() : null), { timeoutMs: 30_000, what: "15 FLV files" });
    expect(new Set(files.map((f) => f.split("/")[0])).size).toBe(15);
  }, 120_000);

  it("holds little memory for connections that have not published, and gives it back when they go", async () => {
    await waitFor(async () => (await rtmpConnections()).open === 0, { timeoutMs: 15_000, what: "the first test's leftovers to time out (publish deadline 10 s)" });
    const before = serviceRss();
    const peak = rssPeak();

    // (a) The attack: 16 connections each trying to buffer 32 MiB (4 x 8 MiB messages, 1 MiB short each).
    const greedy = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const s = await tryOpen(true, "127.0.0.3");
        if (s === null) return { sent: 0, closed: true };
        let sent = 0;
        const parts = [chunkSize(16 * MiB)];
        for (let m = 0; m < 4; m++) parts.push(partialVideo(8 * MiB, 7 * MiB));
        for (const part of parts) {
          if (s.socket.destroyed) break;
          await new Promise<void>((r) => s.socket.write(part, () => r()));
          sent += part.length;
        }
        const closed = await closedWithin(s, 2000);
        s.socket.destroy();
        return { sent, closed };
      }),
    );

    // (b) 400 connections from 8 addresses, each buffering 60 KiB (under its own 64 KiB) against the shared 16 MiB.
    const held = await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        const s = await tryOpen(true, `127.0.0.${10 + (i % 8)}`);
        if (s === null) return null;
        s.socket.write(Buffer.concat([chunkSize(64 * KiB), partialVideo(64 * KiB - 1, 60 * KiB)]));
        return s;
      }),
    );
    await sleep(1000);
    const heldOpen = held.filter((s) => s !== null && !s.socket.destroyed && s.socket.readyState === "open").length;
    // The service's own count (a client may not have seen its close yet, so at most the client's).
    const counts = await rtmpConnections();
    expect(counts.pending).toBe(counts.open);
    expect(counts.open).toBeLessThanOrEqual(heldOpen);
    expect(counts.open).toBeGreaterThan(100);
    const peakBytes = peak();
    for (const s of held) s?.socket.destroy();
    await waitFor(async () => (await rtmpConnections()).open === 0, { what: "every connection forgotten" });
    await sleep(2000);
    const after = serviceRss();

    console.log(
      `memory before publishing: 16 x 32 MiB attempted -> ${greedy.filter((g) => g.closed).length}/16 closed; ` +
        `400 x 60 KiB -> ${heldOpen} still open under the 16 MiB budget; service RSS before ${(before / MiB).toFixed(0)} MiB, peak ${(peakBytes / MiB).toFixed(0)} MiB, 2 s after closing ${(after / MiB).toFixed(0)} MiB`,
    );
    for (const g of greedy) expect(g.closed).toBe(true);
    // The shared budget counts what is allocated (each message buffer: its declared 64 KiB - 1): at most 256.
    expect(heldOpen).toBeLessThanOrEqual(Math.floor((16 * MiB) / (64 * KiB - 1)));
    expect(heldOpen).toBeGreaterThan(100);
    // Before: the 16 connections alone took ~480 MB, and ~640 MB stayed after they closed.
    expect(peakBytes - before).toBeLessThan(128 * MiB);
    expect(after - before).toBeLessThan(64 * MiB);

    // And the ingest still takes a real publish.
    await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, `rtmp://127.0.0.1:${rtmpPort}/live/after`, { timeoutMs: 30_000 });
  }, 120_000);

  it("takes rtmp.* limits from the config, and logs refusals as one summary line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "recorder-admission-config-"));
    const config = join(dir, "config.json");
    const rtmp = { maxConnections: 3, maxPendingPerAddress: 2, connectsPerSecondPerAddress: 1, publishTimeoutSec: 2 };
    await writeFile(config, JSON.stringify({ rtmp }));
    const small = await serveProcess(["--config", config, "--data-dir", dir, "--rtmp-port", "0", "--http-port", "0"]);
    try {
      const open = async (from: string): Promise<RawSocket> => {
        const s = await rawSocket(small.rtmp, false, from);
        await sleep(50);
        return s;
      };
      const a1 = await open("127.0.0.2");
      const a2 = await open("127.0.0.2");
      const a3 = await open("127.0.0.2"); // maxPendingPerAddress: 2
      expect(await closedWithin(a3, 500)).toBe(true);
      const b1 = await open("127.0.0.3");
      const c1 = await open("127.0.0.4"); // maxConnections: 3 -> 127.0.0.2's oldest makes room
      expect(await closedWithin(a1, 500)).toBe(true);
      expect(await closedWithin(a2, 0)).toBe(false);
      // connectsPerSecondPerAddress: 1 -> a burst of 10, then refused; the ten are refused too, all
      // three slots being taken by sources holding no more than one.
      for (let i = 0; i < 12; i++) (await open("127.0.0.5")).socket.destroy();
      // publishTimeoutSec: 2 -> the rest is closed about 2 s after connecting.
      const t0 = Date.now();
      for (const s of [a2, b1, c1]) expect(await closedWithin(s, 3000)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(2500);
      const summary = await waitFor(() => small.log().split("\n").find((l) => l.includes("connections refused in the last")), { timeoutMs: 8000, what: "the refusal summary" });
      expect(summary).toMatch(/RTMP_SOURCE_PENDING_LIMIT 127\.0\.0\.2 x1/);
      expect(summary).toMatch(/RTMP_EVICTED_FOR_FAIRNESS 127\.0\.0\.2 x1/);
      expect(summary).toMatch(/RTMP_TOO_MANY_CONNECTIONS 127\.0\.0\.5 x10/);
      expect(summary).toMatch(/RTMP_SOURCE_RATE_LIMIT 127\.0\.0\.5 x2/);
      expect(small.log()).toMatch(/no publish started in 2000 ms/);
    } finally {
      const exit = exited(small.child);
      small.child.kill("SIGTERM");
      await exit;
    }
  }, 60_000);
});
