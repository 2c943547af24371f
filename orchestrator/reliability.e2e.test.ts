/**
 * Reliability and security end to end: push authentication, a stalled
 * ffmpeg that must not stall anything else, and a graceful SIGTERM.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { RtmpPublisher } from "../engine/rtmp/rtmp-publisher.js";
import { FIXTURES } from "../fixtures/fixtures.js";
import { decodesCleanly, videoFrameHashes } from "../scripts/test-support/media-check.js";
import { txSecretFor } from "./auth/push-auth.js";
import { replayFlv } from "./cli/replay.js";
import { type Harness, listFiles, startService } from "./test-support/harness.js";
import { exited, serveProcess } from "./test-support/service-process.js";
import { sleep, waitFor } from "../scripts/test-support/wait-for.js";

const every = (n: number) => ({ Enable: 1 as const, RecordInterval: n });
const OFF = { Enable: 0 as const, RecordInterval: 60 };

describe("push authentication (spec §7)", () => {
  let h: Harness;
  afterAll(() => h?.stop());

  it("refuses missing, wrong and expired secrets with a clear reason; a signed push records and keeps its query, without txSecret, as stream_param", async () => {
    h = await startService({ FlvParam: every(60), HlsParam: OFF, Mp4Param: OFF, AacParam: OFF }, (c) => {
      c.pushAuth = { mode: "on", keys: { "127.0.0.1": { primary: "primary-key-123", backup: "backup-key-456" } }, authDeltaSec: 0, maxValiditySec: 3600 };
    });
    const txTime = Math.floor(Date.now() / 1000 + 600).toString(16).toUpperCase();
    const expired = Math.floor(Date.now() / 1000 - 10).toString(16).toUpperCase();
    const refused = async (query: string) => {
      const err = await RtmpPublisher.connect(`${h.url("live", "sec")}${query}`).then(
        () => undefined,
        (e: unknown) => e as { status?: { description: string } },
      );
      return err?.status?.description ?? "accepted";
    };
    expect(await refused("")).toMatch(/authentication failed: missing txSecret or txTime/);
    expect(await refused(`?txSecret=${txSecretFor("nope-nope-nope", "sec", txTime)}&txTime=${txTime}`)).toMatch(/authentication failed: txSecret does not match/);
    expect(await refused(`?txSecret=${txSecretFor("primary-key-123", "sec", expired)}&txTime=${expired}`)).toMatch(/authentication failed: push URL expired/);
    const years = Math.floor(Date.now() / 1000 + 86_400 * 365).toString(16).toUpperCase();
    expect(await refused(`?txSecret=${txSecretFor("primary-key-123", "sec", years)}&txTime=${years}`)).toMatch(/txTime is more than 3600 s ahead/);
    const query = `txSecret=${txSecretFor("backup-key-456", "sec", txTime)}&txTime=${txTime}&from=obs`;
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, `${h.url("live", "sec")}?${query}`);
    await h.closed("sec");
    expect(await listFiles(h.streamDir("live", "sec"), "flv")).toHaveLength(1);
    const [row] = await h.service.catalog.listRecordings({ stream: "sec" });
    expect(row!.streamParam).toBe(`txTime=${txTime}&from=obs`);
  });
});

describe("a stalled ffmpeg", () => {
  let h: Harness;
  afterAll(() => h?.stop());

  it("never stalls ingest or other streams; its queue stays bounded and dropped frames show in /status", async () => {
    h = await startService({ FlvParam: every(3600), HlsParam: OFF, Mp4Param: every(3600), AacParam: OFF }, (c) => {
      c.recording.maxQueueMegabytes = 1;
    });
    const source = FIXTURES["av-h264-aac-20s"].path;
    // Stream "stuck": its ffmpeg is stopped (SIGSTOP) as soon as it exists.
    const stuck = RtmpPublisher.connect(h.url("live", "stuck"));
    const publisher = await stuck;
    let pids: number[] = [];
    const findFfmpeg = () =>
      execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.includes("/live/stuck/"))
        .map((l) => Number(l.trim().split(/\s+/)[0]));
    const { parseFlv } = await import("../engine/flv/flv-format.js");
    const { readFile } = await import("node:fs/promises");
    const tags = parseFlv(await readFile(source)).tags;
    for (const t of tags.slice(0, 50)) publisher.sendTag(t);
    pids = await waitFor(() => {
      const found = findFfmpeg();
      return found.length > 0 ? found : undefined;
    }, { intervalMs: 100, what: "the stuck stream's ffmpeg" });
    for (const pid of pids) process.kill(pid, "SIGSTOP");
    try {
      // Ten times the fixture at 25x real time: the disk keeps up, the stopped ffmpeg cannot
      // (its 1 MiB queue fills in about 2 s).
      const first = tags[0]!.timestamp;
      const span = tags.at(-1)!.timestamp - first + 40;
      const started = performance.now();
      for (let loop = 0; loop < 10; loop++) {
        for (const t of loop === 0 ? tags.slice(50) : tags.filter((x) => x.type !== 18)) {
          const at = (t.timestamp - first + loop * span) / 25;
          const ahead = at - (performance.now() - started);
          if (ahead > 20) await sleep(ahead);
          if (!publisher.sendTag({ ...t, timestamp: t.timestamp + loop * span })) await publisher.drain();
        }
      }
      // Meanwhile another stream records completely.
      await replayFlv(FIXTURES["av-h264-aac-3s"].path, h.url("live", "free"));
      await h.closed("free");
      expect(await videoFrameHashes(await listFiles(h.streamDir("live", "free"), "mp4"))).toEqual(await videoFrameHashes(FIXTURES["av-h264-aac-3s"].path));
      const status = (await (await fetch(`http://127.0.0.1:${h.service.httpPort}/status`)).json()) as {
        pushes: { stream: string; recordings: { droppedFrames: number; queuedBytes: number }[] }[];
      };
      const rec = status.pushes.find((p) => p.stream === "stuck")!.recordings[0]!;
      console.log(`stalled ffmpeg: ${rec.droppedFrames} frames dropped, ${rec.queuedBytes} bytes queued`);
      expect(rec.droppedFrames).toBeGreaterThan(0);
      expect(rec.queuedBytes).toBeLessThan(4 * 1024 * 1024);
    } finally {
      for (const pid of pids) process.kill(pid, "SIGCONT");
    }
    await publisher.close();
    await h.closed("stuck");
    // The FLV output was never stalled: every frame of all ten loops is there.
    const flv = await listFiles(h.streamDir("live", "stuck"), "flv");
    expect((await videoFrameHashes(flv)).length).toBe(10 * FIXTURES["av-h264-aac-20s"].videoFrames);
    for (const f of await listFiles(h.streamDir("live", "stuck"), "mp4")) expect(await decodesCleanly(f)).toBe("");
  }, 120_000);
});

describe("graceful shutdown", () => {
  it("SIGTERM finalizes and catalogues every open recording before exit", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "recorder-term-"));
    const config = join(dataDir, "config.json");
    await writeFile(config, JSON.stringify({ recordTemplate: { FlvParam: every(60), HlsParam: every(60), Mp4Param: every(60), AacParam: every(60) } }));
    const { child, rtmp: rtmpPort } = await serveProcess(["--config", config, "--data-dir", dataDir, "--rtmp-port", "0", "--http-port", "0"]);
    const push = replayFlv(FIXTURES["av-h264-aac-20s"].path, `rtmp://127.0.0.1:${rtmpPort}/live/term`, { speed: 1 }).catch(() => undefined);
    await sleep(4000);
    const exit = exited(child);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    await push;
    const dir = join(dataDir, "recordings", "127.0.0.1", "live", "term");
    expect(await readdir(join(dir, ".recording"))).toEqual([]);
    for (const ext of ["flv", "mp4", "aac", "m3u8"]) {
      const files = await listFiles(dir, ext);
      expect(files, ext).toHaveLength(1);
      expect(await decodesCleanly(files[0]!), ext).toBe("");
    }
    const db = new Database(join(dataDir, "catalog.sqlite"), { readonly: true });
    try {
      const rows = db.prepare("SELECT format FROM recordings WHERE stream = 'term' ORDER BY format").all() as { format: string }[];
      expect(rows.map((r) => r.format)).toEqual(["aac", "flv", "hls", "mp4"]);
    } finally {
      db.close();
    }
  }, 60_000);
});
