/**
 * HLS splicing (spec §1.3 FlowContinueDuration): pushes interrupted for less
 * than the window become one playlist with EXT-X-DISCONTINUITY between them.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../fixtures/fixtures.js";
import { hlsPlaylist, videoFrameHashes } from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { launchChromium, serveStatic } from "./test-support/browser.js";
import { type Harness, listFiles, startService } from "./test-support/harness.js";
import { sleep, waitFor } from "../scripts/test-support/wait-for.js";

const OFF = { Enable: 0 as const, RecordInterval: 1800 };
const hlsOnly = (flowContinue: number) => ({
  FlvParam: OFF,
  Mp4Param: OFF,
  AacParam: OFF,
  HlsParam: { Enable: 1 as const, RecordInterval: 1800 },
  HlsSpecialParam: { FlowContinueDuration: flowContinue },
});
const A = FIXTURES["av-h264-aac-10s-720x480"].path;
const C = FIXTURES["av-h264-aac-20s"].path; // 640x360: a different resolution

/** Decoded video of each run of segments between discontinuities, concatenated per run. */
async function hashesPerPush(playlistPath: string): Promise<string[][]> {
  const pl = await hlsPlaylist(playlistPath);
  const dir = join(playlistPath, "..");
  const runs: string[][] = [];
  for (const seg of pl.segments) {
    if (runs.length === 0 || seg.discontinuity) runs.push([]);
    runs.at(-1)!.push(join(dir, seg.uri));
  }
  return Promise.all(runs.map((files) => videoFrameHashes(`concat:${files.join("|")}`)));
}

describe("auto-spliced HLS", () => {
  const services: Harness[] = [];
  afterAll(async () => {
    for (const h of services) await h.stop();
  });

  it("A, gap 3 s, B, gap 3 s, C (other resolution), D = 10: one playlist, two discontinuities, ENDLIST after D, one notification", async () => {
    const h = await startService(hlsOnly(10));
    services.push(h);
    const dir = h.streamDir("live", "spliced");
    for (const [i, src] of [A, A, C].entries()) {
      if (i > 0) await sleep(3000);
      await replayFlv(src, h.url("live", "spliced"));
      await h.closed("spliced", i + 1);
      // While the window is open there is no final playlist, only the in-progress one (valid, no ENDLIST).
      expect(await listFiles(dir, "m3u8")).toHaveLength(0);
      const live = (await readdir(join(dir, ".recording"))).filter((n) => n.endsWith(".m3u8"));
      expect(live).toHaveLength(1);
      const livePl = await hlsPlaylist(join(dir, ".recording", live[0]!));
      expect(livePl.endList).toBe(false);
      expect(livePl.segments.filter((s) => s.discontinuity)).toHaveLength(i);
    }
    expect(h.files.filter((f) => f.format === "hls")).toHaveLength(0);
    // The window (D = 10 s) passes, then the playlist is finished, catalogued and reported.
    await waitFor(() => h.files.some((f) => f.format === "hls"), { timeoutMs: 30_000, what: "the spliced playlist to be finished" });
    const [path] = await listFiles(dir, "m3u8");
    expect(path).toBeDefined();
    const text = await readFile(path!, "utf8");
    expect(text.match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(2);
    expect(text.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    const pl = await hlsPlaylist(path!);
    expect(pl.targetDuration).toBe(Math.max(...pl.segments.map((s) => Math.round(s.duration))));
    expect(pl.mediaSequence).toBe(0);
    const perPush = await hashesPerPush(path!);
    const a = await videoFrameHashes(A);
    expect(perPush).toEqual([a, a, await videoFrameHashes(C)]);
    expect(h.files.filter((f) => f.format === "hls")).toHaveLength(1);
    const rows = await h.service.catalog.listRecordings({ stream: "spliced" });
    expect(rows.filter((r) => r.format === "hls")).toHaveLength(1);
    expect(await readdir(join(dir, ".recording"))).toEqual([]);

    // hls.js in Chromium plays through both discontinuities to the end.
    const web = await serveStatic({
      "/media/": dir,
      "/hls/": fileURLToPath(new URL("../node_modules/hls.js/dist/", import.meta.url)),
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${web.url}/`);
      const total = pl.segments.reduce((s, x) => s + x.duration, 0);
      const result = await page.evaluate(
        async ({ src, total }) => {
          await new Promise<void>((resolve, reject) => {
            const s = document.createElement("script");
            s.src = "/hls/hls.min.js";
            s.onload = () => resolve();
            s.onerror = () => reject(new Error("hls.js did not load"));
            document.head.appendChild(s);
          });
          interface HlsPlayer {
            on(event: string, listener: (event: unknown, data: { fatal: boolean; details: string }) => void): void;
            loadSource(url: string): void;
            attachMedia(media: HTMLMediaElement): void;
          }
          const Hls = (window as unknown as { Hls: { new (): HlsPlayer; Events: Record<string, string> } }).Hls;
          const video = document.createElement("video");
          video.muted = true;
          document.body.appendChild(video);
          const hls = new Hls();
          const fatal: string[] = [];
          hls.on(Hls.Events.ERROR!, (_, data) => {
            if (data.fatal) fatal.push(data.details);
          });
          hls.loadSource(src);
          hls.attachMedia(video);
          await new Promise<void>((resolve) => hls.on(Hls.Events.MANIFEST_PARSED!, () => resolve()));
          video.playbackRate = 4;
          await video.play();
          const started = performance.now();
          let maxTime = 0;
          while (!video.ended && fatal.length === 0 && performance.now() - started < 40_000) {
            maxTime = Math.max(maxTime, video.currentTime);
            await new Promise((r) => setTimeout(r, 200));
          }
          return { ended: video.ended, currentTime: Math.max(maxTime, video.currentTime), duration: video.duration, fatal, total };
        },
        { src: `${web.url}/media/${path!.split("/").pop()}`, total },
      );
      expect(result.fatal).toEqual([]);
      expect(result.ended).toBe(true);
      expect(Math.abs(result.currentTime - total)).toBeLessThan(1);
    } finally {
      await browser.close();
      await web.close();
    }
  }, 120_000);

  it("a gap longer than D gives two separate playlists; streams without audio splice too", async () => {
    const h = await startService(hlsOnly(2));
    services.push(h);
    const silent = FIXTURES["video-h264-10s"].path;
    await replayFlv(silent, h.url("live", "gap"));
    await h.closed("gap");
    await sleep(500);
    await replayFlv(silent, h.url("live", "gap")); // within 2 s: spliced
    await h.closed("gap", 2);
    await sleep(4000); // longer than D
    await replayFlv(silent, h.url("live", "gap"));
    await h.closed("gap", 3);
    await waitFor(() => h.files.filter((f) => f.format === "hls").length >= 2, { timeoutMs: 20_000, what: "both playlists to be finished" });
    const playlists = await listFiles(h.streamDir("live", "gap"), "m3u8");
    expect(playlists).toHaveLength(2);
    const discontinuities = await Promise.all(playlists.map(async (p) => (await hlsPlaylist(p)).segments.filter((s) => s.discontinuity).length));
    expect(discontinuities.sort()).toEqual([0, 1]);
  }, 60_000);

  it("a restart inside D, then a push: still one playlist; a restart past D closes it", async () => {
    const first = await startService(hlsOnly(6));
    await replayFlv(A, first.url("live", "restart"));
    await first.closed("restart");
    await first.stop();
    const second = await startService(hlsOnly(6), undefined, first.dataDir);
    await replayFlv(A, second.url("live", "restart"));
    await second.closed("restart");
    await second.stop();
    expect(await listFiles(first.streamDir("live", "restart"), "m3u8")).toHaveLength(0); // still open
    await sleep(6500);
    const third = await startService(hlsOnly(6), undefined, first.dataDir);
    services.push(third);
    const playlists = await listFiles(first.streamDir("live", "restart"), "m3u8");
    expect(playlists).toHaveLength(1);
    const a = await videoFrameHashes(A);
    expect(await hashesPerPush(playlists[0]!)).toEqual([a, a]);
    expect(await third.service.catalog.listOpenPlaylists()).toEqual([]);
  }, 60_000);
});
