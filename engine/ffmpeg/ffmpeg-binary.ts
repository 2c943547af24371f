/**
 * Which ffmpeg the engine runs: a configured path, else $FFMPEG_PATH, else a
 * system ffmpeg on PATH, else the static build bundled by @ffmpeg-installer
 * (ffmpeg 4.1 from 2018, installed by npm alone). Reported at start-up.
 * Choosing a binary also starts probing its capabilities (ffmpeg-capabilities.ts):
 * the effective codec matrix follows the binary.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { MuxError } from "../errors.js";
import { probeFfmpegCapabilities } from "./ffmpeg-capabilities.js";

export interface FfmpegBinary {
  path: string;
  version: string;
  source: "config" | "env" | "system" | "bundled";
}

function versionOf(path: string): string | undefined {
  const r = spawnSync(path, ["-hide_banner", "-version"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] });
  if (r.status !== 0 || typeof r.stdout !== "string") return undefined;
  return /^ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? "unknown";
}

function bundledPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
  } catch {
    return undefined;
  }
}

export function locateFfmpeg(configured?: string): FfmpegBinary {
  const candidates: [string | undefined, FfmpegBinary["source"]][] = [
    [configured, "config"],
    [process.env.FFMPEG_PATH, "env"],
    ["ffmpeg", "system"],
    [bundledPath(), "bundled"],
  ];
  for (const [path, source] of candidates) {
    if (!path) continue;
    const version = versionOf(path);
    if (version !== undefined) {
      // What it can do (muxers, demuxers, codecs): probed in the background, cached for the recordings.
      void probeFfmpegCapabilities(path);
      return { path, version, source };
    }
    if (source === "config") throw new MuxError("FFMPEG_NOT_FOUND", `configured ffmpeg ${path} does not run`, { fatal: true });
  }
  throw new MuxError("FFMPEG_NOT_FOUND", "no runnable ffmpeg: install one or reinstall @ffmpeg-installer/ffmpeg", { fatal: true });
}
