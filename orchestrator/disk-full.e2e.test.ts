/**
 * A full disk: the data folder is a small tmpfs this test mounts (root, as CI
 * runs; the test fails loudly if the machine forbids mounts rather than
 * pretending). The recording that hits ENOSPC closes with what was written,
 * the service keeps running, new pushes are refused while space is short and
 * accepted again once it is back.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RtmpPublisher } from "../engine/rtmp/rtmp-publisher.js";
import { FIXTURES } from "../fixtures/fixtures.js";
import { decodesCleanly, videoFrameHashes } from "../scripts/test-support/media-check.js";
import { replayFlv } from "./cli/replay.js";
import { listFiles, startService } from "./test-support/harness.js";

const every = (n: number) => ({ Enable: 1 as const, RecordInterval: n });

describe("disk full", () => {
  it("closes the affected recording cleanly, keeps serving, refuses pushes until space is back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "recorder-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", dir]);
    try {
      const h = await startService({ FlvParam: every(3600), HlsParam: { Enable: 0, RecordInterval: 60 }, Mp4Param: every(3600), AacParam: every(3600) }, (c) => {
        c.recording.minFreeMegabytes = 1;
      }, dir);
      try {
        // About 14 MB of FLV + MP4 + AAC into 4 MB.
        await replayFlv(FIXTURES["av-h264-aac-20s"].path, h.url("live", "full"), { loop: 10, speed: 40 }).catch(() => undefined);
        const [closed] = await h.closed("full", 1, 60_000);
        expect(closed!.errors).toBeGreaterThan(0);
        expect((await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).status).toBe(200);
        const streamDir = h.streamDir("live", "full");
        const flv = await listFiles(streamDir, "flv");
        expect(flv.length).toBeGreaterThanOrEqual(1);
        for (const f of flv) expect(await decodesCleanly(f)).toBe("");
        const frames = await videoFrameHashes(flv);
        console.log(`disk full: the FLV closed with ${frames.length} frames (${(frames.length / 25).toFixed(1)} s)`);
        expect(frames.length).toBeGreaterThan(25);
        // What was written is the stream as pushed (checked on the first pass of the looped fixture).
        const once = await videoFrameHashes(FIXTURES["av-h264-aac-20s"].path);
        expect(frames.slice(0, 480)).toEqual(once.slice(0, 480));

        const refusal = await RtmpPublisher.connect(h.url("live", "later")).then(
          () => "accepted",
          (e: { status?: { description: string } }) => e.status?.description ?? String(e),
        );
        expect(refusal).toMatch(/not enough disk space/);

        // Space comes back: pushes are accepted and recorded again.
        for (const name of await readdir(streamDir)) await rm(join(streamDir, name), { recursive: true, force: true });
        await replayFlv(FIXTURES["av-h264-aac-3s"].path, h.url("live", "later"));
        await h.closed("later");
        expect(await videoFrameHashes(await listFiles(h.streamDir("live", "later"), "mp4"))).toEqual(await videoFrameHashes(FIXTURES["av-h264-aac-3s"].path));
      } finally {
        await h.stop();
      }
    } finally {
      // Lazy: a file handle closing late must not fail the test after the fact.
      execFileSync("umount", ["-l", dir]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
