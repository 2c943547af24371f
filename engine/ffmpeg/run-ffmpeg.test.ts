import { describe, expect, it } from "vitest";
import { ffmpegPath } from "../../scripts/test-support/media-check.js";
import { ffmpegOutput, runFfmpeg } from "./run-ffmpeg.js";

describe("runFfmpeg", () => {
  it("collects stdout of a run that succeeds", async () => {
    const out = await ffmpegOutput(await ffmpegPath(), ["-hide_banner", "-version"], 10_000);
    expect(out).toMatch(/^ffmpeg version /);
  });

  it("reports a failed run as FFMPEG_FAILED with the tail of stderr", async () => {
    const r = await runFfmpeg(await ffmpegPath(), ["-nostdin", "-v", "error", "-i", "file:/nonexistent/input.flv", "-f", "null", "-"]).result;
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("FFMPEG_FAILED");
    expect(r.error.fatal).toBe(false);
    expect(r.error.message).toContain("/nonexistent/input.flv");
  });

  it("reports a binary that does not start as FFMPEG_SPAWN_FAILED", async () => {
    const r = await runFfmpeg("/nonexistent/ffmpeg", ["-version"]).result;
    expect(r.ok ? undefined : r.error.code).toBe("FFMPEG_SPAWN_FAILED");
  });

  it("kills a run that outlives its timeout", async () => {
    // Reads stdin, which stays open: it never ends by itself.
    const run = runFfmpeg(await ffmpegPath(), ["-v", "error", "-f", "s16le", "-i", "pipe:0", "-f", "null", "-"], { stdin: "pipe", timeoutMs: 200 });
    const r = await run.result;
    expect(r.ok ? undefined : r.error.code).toBe("FFMPEG_TIMEOUT");
  });
});
