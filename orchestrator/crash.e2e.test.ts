/**
 * Reliability end to end, with the real binary where a crash is needed:
 * callbacks delivered at least once through failures and restarts, and
 * recordings recovered after SIGKILL with bounded loss.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../fixtures/fixtures.js";
import { decodesCleanly, durationSeconds, hlsPlaylist, packetTimes } from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { listFiles, startService } from "./test-support/harness.js";
import { exited, type ServiceProcess, serveProcess } from "./test-support/service-process.js";
import { waitFor } from "../scripts/test-support/wait-for.js";

const KEY = "callback-key-for-tests";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

interface Received {
  body: Record<string, unknown>;
  answered: number;
}

/** A callback receiver on loopback; `answer` decides each response (status, or "hang" for ms). */
async function receiver(answer: (body: Record<string, unknown>, n: number) => number | { hangMs: number }): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      const decision = answer(body, got.filter((g) => g.body.event_type === body.event_type).length);
      const entry = { body, answered: typeof decision === "number" ? decision : 0 };
      got.push(entry);
      if (typeof decision === "number") res.writeHead(decision, { "content-type": "application/json" }).end('{"code":0}');
      else setTimeout(() => res.writeHead(200).end('{"code":0}'), decision.hangMs).unref();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/cb`,
    got,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** `recorder serve` as a child process with this config; resolves with its ports when ready. */
async function serve(dataDir: string, config: object): Promise<ServiceProcess> {
  const file = join(dataDir, "config.json");
  await writeFile(file, JSON.stringify(config));
  return serveProcess(["--config", file, "--data-dir", dataDir, "--rtmp-port", "0", "--http-port", "0"]);
}

describe("callbacks", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it("survive two 500s and a receiver hanging past 20 s: delivered and accepted exactly once, signed, every field right", async () => {
    const rx = await receiver((body, n) => (body.event_type !== 100 ? 200 : n === 0 || n === 1 ? 500 : n === 2 ? { hangMs: 25_000 } : 200));
    closers.push(rx.close);
    const rxStatus = await receiver(() => 200);
    closers.push(rxStatus.close);
    const off = { Enable: 0 as const, RecordInterval: 60 };
    const h = await startService({ FlvParam: { Enable: 1, RecordInterval: 60 }, HlsParam: off, Mp4Param: off, AacParam: off }, (c) => {
      c.callbacks = { ...c.callbacks, recordNotifyUrl: rx.url, recordStatusNotifyUrl: rxStatus.url, callbackKey: KEY, appId: 1234, retryIntervalSec: 1, timeoutSec: 20, maxRetries: 12 };
    });
    closers.push(() => h.stop());
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, `${h.url("live", "cb")}?token=abc&x=1`);
    await h.closed("cb");
    await waitFor(() => rx.got.some((g) => g.answered === 200), { timeoutMs: 45_000, intervalMs: 250, what: "an accepted callback" });
    const attempts = rx.got.filter((g) => g.body.event_type === 100);
    expect(attempts.map((a) => a.answered)).toEqual([500, 500, 0, 200]);
    const accepted = attempts.filter((a) => a.answered === 200);
    expect(accepted).toHaveLength(1);
    const e = accepted[0]!.body;
    // Every attempt carries the same file_id: the receiver's idempotency key.
    expect(new Set(attempts.map((a) => a.body.file_id)).size).toBe(1);
    expect(e.sign).toBe(md5(KEY + String(e.t)));
    expect(Number(e.t)).toBeGreaterThan(Date.now() / 1000 + 500);
    const [flv] = await listFiles(h.streamDir("live", "cb"), "flv");
    expect(e).toMatchObject({
      event_type: 100,
      appid: 1234,
      app: "127.0.0.1",
      appname: "live",
      stream_id: "cb",
      channel_id: "cb",
      file_format: "flv",
      stream_param: "token=abc&x=1",
      file_size: (await stat(flv!)).size,
      duration: Math.round(await durationSeconds(flv!)),
      record_file_id: e.file_id,
    });
    for (const field of ["file_id", "task_id", "start_time", "end_time", "start_time_usec", "end_time_usec", "video_url", "media_start_time", "record_temp_id", "callback_ext"]) {
      expect(e, field).toHaveProperty(field);
    }
    expect(Number(e.end_time) - Number(e.start_time)).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(String(e.callback_ext))).toMatchObject({ video_codec: "h264", audio_codec: "aac", resolution: "640x360" });
    expect((await fetch(String(e.video_url))).status).toBe(200);
    const statuses = rxStatus.got.map((g) => g.body.record_event);
    expect(statuses).toContain("record_start_succeeded");
    expect(statuses).toContain("record_ended");
    const deliveries = (await (
      await fetch(`http://127.0.0.1:${h.service.httpPort}/`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tc-action": "DescribeCallbackDeliveries" },
        body: JSON.stringify({ Status: "delivered" }),
      })
    ).json()) as { Response: { DeliverySet: { FileId: string; Attempts: number }[] } };
    expect(deliveries.Response.DeliverySet.find((d) => d.FileId === e.file_id)?.Attempts).toBe(4);
  }, 90_000);

  it("a file finished before a SIGKILL has its callback delivered after the restart", async () => {
    let accept = false;
    const rx = await receiver((body) => (body.event_type === 100 && accept ? 200 : body.event_type === 100 ? 500 : 200));
    closers.push(rx.close);
    const dataDir = await mkdtemp(join(tmpdir(), "recorder-crash-"));
    const off = { Enable: 0, RecordInterval: 60 };
    const config = {
      recordTemplate: { FlvParam: { Enable: 1, RecordInterval: 60 }, HlsParam: off, Mp4Param: off, AacParam: off },
      callbacks: { recordNotifyUrl: rx.url, callbackKey: KEY, retryIntervalSec: 1 },
      logLevel: "info",
    };
    const first = await serve(dataDir, config);
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, `rtmp://127.0.0.1:${first.rtmp}/live/k`);
    // The first attempt proves the callback is in the durable outbox before the kill.
    await waitFor(() => first.log().includes('"file complete"') && rx.got.length > 0, { timeoutMs: 30_000, intervalMs: 50, what: "the first callback attempt" });
    first.child.kill("SIGKILL");
    await exited(first.child);
    const fileIds = new Set(rx.got.map((g) => g.body.file_id));
    expect(rx.got.every((g) => g.answered !== 200)).toBe(true);
    accept = true;
    const second = await serve(dataDir, config);
    try {
      await waitFor(() => rx.got.some((g) => g.answered === 200), { timeoutMs: 15_000, intervalMs: 100, what: "the callback accepted after the restart" });
      const ok = rx.got.filter((g) => g.answered === 200);
      expect(ok).toHaveLength(1);
      if (fileIds.size > 0) expect(fileIds.has(ok[0]!.body.file_id)).toBe(true);
    } finally {
      second.child.kill("SIGKILL");
      await exited(second.child);
    }
  }, 90_000);
});

describe("crash recovery", () => {
  it("SIGKILL while 3 streams record all four formats: every in-progress file is closed, named, playable and catalogued; loss <= 1 s", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "recorder-crash-"));
    const every = { Enable: 1, RecordInterval: 6 };
    const config = { recordTemplate: { FlvParam: every, HlsParam: every, Mp4Param: every, AacParam: every }, recording: { hlsSegmentSeconds: 4 }, logLevel: "info" };
    const first = await serve(dataDir, config);
    const source = FIXTURES["av-h264-aac-20s"].path;
    const streams = ["c1", "c2", "c3"];
    const lastSent = new Map<string, number>();
    const pushes = streams.map((s) =>
      replayFlv(source, `rtmp://127.0.0.1:${first.rtmp}/live/${s}`, { speed: 1, onSent: (ts) => lastSent.set(s, ts) }).catch(() => undefined),
    );
    // One 6 s file closed, the next one mid-way: counted in media sent, not in wall time (a busy machine pushes late).
    await waitFor(() => streams.every((s) => (lastSent.get(s) ?? 0) >= 8300), { timeoutMs: 60_000, intervalMs: 20, what: "8.3 s of media sent on every stream" });
    first.child.kill("SIGKILL");
    await exited(first.child);
    await Promise.all(pushes);
    const second = await serve(dataDir, config);
    try {
      for (const s of streams) {
        const dir = join(dataDir, "recordings", "127.0.0.1", "live", s);
        expect(await readdir(join(dir, ".recording")), s).toEqual([]);
        const sentSec = (lastSent.get(s) ?? 0) / 1000;
        for (const ext of ["flv", "mp4", "aac"]) {
          const files = await listFiles(dir, ext);
          expect(files.length, `${s} ${ext}`).toBe(2);
          let recorded = 0;
          for (const f of files) {
            expect(await decodesCleanly(f), f).toBe("");
            if (ext === "aac") recorded += ((await packetTimes(f, "a")).length * 1024) / 44100;
            else {
              const pts = (await packetTimes(f, "v")).map((p) => p.pts);
              recorded += Math.max(...pts) - Math.min(...pts) + 0.04;
            }
          }
          const loss = sentSec - recorded;
          console.log(`crash recovery: ${s} ${ext}: pushed ${sentSec.toFixed(2)} s, recovered ${recorded.toFixed(2)} s, lost ${loss.toFixed(2)} s`);
          expect(loss, `${s} ${ext}`).toBeLessThanOrEqual(1);
        }
        const [playlist] = await listFiles(dir, "m3u8");
        const pl = await hlsPlaylist(playlist!);
        expect(pl.endList).toBe(true);
        const hlsSec = pl.segments.reduce((a, x) => a + x.duration, 0);
        console.log(`crash recovery: ${s} hls: pushed ${sentSec.toFixed(2)} s, recovered ${hlsSec.toFixed(2)} s`);
        expect(sentSec - hlsSec).toBeLessThanOrEqual(1);
      }
      const found = (await (
        await fetch(`http://127.0.0.1:${second.http}/`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-tc-action": "SearchMedia" },
          body: JSON.stringify({ StreamIds: streams, Limit: 100 }),
        })
      ).json()) as { Response: { TotalCount: number } };
      expect(found.Response.TotalCount).toBe(3 * 7); // per stream: 2 FLV + 2 MP4 + 2 AAC + 1 HLS
    } finally {
      second.child.kill("SIGKILL");
      await exited(second.child);
    }
  }, 120_000);
});
