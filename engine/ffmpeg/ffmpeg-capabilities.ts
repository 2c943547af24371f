/**
 * What the ffmpeg the engine runs can do: its muxers, demuxers and codecs
 * (`ffmpeg -hide_banner -muxers / -demuxers / -codecs`) and its libavformat
 * version (`-version`), probed once per binary and cached. The effective codec
 * matrix (codec-matrix.ts) is the documented matrix limited by this.
 *
 * `locateFfmpeg` starts the probe at service start-up, in the background;
 * `ffmpegCapabilitiesSync` answers from the cache (probing synchronously only
 * if a recording starts before the background probe has finished).
 */
import { execFile, spawnSync } from "node:child_process";

export interface CodecAbility {
  decode: boolean;
  encode: boolean;
}

export interface FfmpegCapabilities {
  path: string;
  /** As `ffmpeg -version` prints it, e.g. "5.1.9-0+deb12u1" or "N-47683-g0e8eb07980-static". */
  version: string;
  /** libavformat major.minor: what tells a git build's features (FFmpeg 4.1 = 58.20, 5.1 = 59.27, 7.1 = 61.7). */
  libavformat?: { major: number; minor: number };
  muxers: string[];
  demuxers: string[];
  /** By ffmpeg codec name (h264, hevc, vvc, av1, aac, mp3, opus...). */
  codecs: Record<string, CodecAbility>;
  /** Set when the probe failed: the binary did not run or printed nothing usable. */
  error?: string;
}

const PROBE_TIMEOUT_MS = 10_000;
const PROBES = ["-version", "-muxers", "-demuxers", "-codecs"] as const;

/** Names of a `-muxers` / `-demuxers` listing: lines like " DE matroska,webm   Matroska / WebM". */
export function parseFormatList(text: string): string[] {
  const names: string[] = [];
  let body = false;
  for (const line of text.split("\n")) {
    if (!body) {
      body = line.trim() === "--";
      continue;
    }
    const m = /^\s*[D.\s][E.\s]d?\s+(\S+)/.exec(line);
    if (m) names.push(...m[1]!.split(","));
  }
  return names;
}

/** A `-codecs` listing: lines like " DEV.L. hevc   H.265 / HEVC ...". */
export function parseCodecList(text: string): Record<string, CodecAbility> {
  const codecs: Record<string, CodecAbility> = {};
  let body = false;
  for (const line of text.split("\n")) {
    if (!body) {
      body = /^\s*-{3,}\s*$/.test(line);
      continue;
    }
    const m = /^\s([D.])([E.])[VASDT.][I.][L.][S.]\s+(\S+)/.exec(line);
    if (m) codecs[m[3]!] = { decode: m[1] === "D", encode: m[2] === "E" };
  }
  return codecs;
}

export function parseCapabilities(path: string, outputs: Record<(typeof PROBES)[number], string>): FfmpegCapabilities {
  const version = /^ffmpeg version (\S+)/m.exec(outputs["-version"])?.[1] ?? "unknown";
  const lavf = /^libavformat\s+(\d+)\.\s*(\d+)\./m.exec(outputs["-version"]);
  const caps: FfmpegCapabilities = {
    path,
    version,
    muxers: parseFormatList(outputs["-muxers"]),
    demuxers: parseFormatList(outputs["-demuxers"]),
    codecs: parseCodecList(outputs["-codecs"]),
  };
  if (lavf) caps.libavformat = { major: Number(lavf[1]), minor: Number(lavf[2]) };
  if (caps.muxers.length === 0 || caps.demuxers.length === 0) caps.error = `${path} listed no muxers or demuxers`;
  return caps;
}

const cache = new Map<string, FfmpegCapabilities>();
const inFlight = new Map<string, Promise<FfmpegCapabilities>>();

function runAsync(path: string, flag: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(path, ["-hide_banner", flag], { timeout: PROBE_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => resolve(err ? "" : stdout));
  });
}

/** Probes a binary (four short runs, in parallel), once: later calls get the cached answer. */
export function probeFfmpegCapabilities(path: string): Promise<FfmpegCapabilities> {
  const known = cache.get(path);
  if (known) return Promise.resolve(known);
  let running = inFlight.get(path);
  if (!running) {
    running = Promise.all(PROBES.map((flag) => runAsync(path, flag))).then(([version, muxers, demuxers, codecs]) => {
      const caps = parseCapabilities(path, { "-version": version!, "-muxers": muxers!, "-demuxers": demuxers!, "-codecs": codecs! });
      if (!cache.has(path)) cache.set(path, caps);
      inFlight.delete(path);
      return cache.get(path)!;
    });
    inFlight.set(path, running);
  }
  return running;
}

/** The cached capabilities of a binary, probing synchronously (once) if it has not been probed yet. */
export function ffmpegCapabilitiesSync(path: string): FfmpegCapabilities {
  const known = cache.get(path);
  if (known) return known;
  const run = (flag: string) => {
    const r = spawnSync(path, ["-hide_banner", flag], { encoding: "utf8", timeout: PROBE_TIMEOUT_MS, stdio: ["ignore", "pipe", "ignore"], maxBuffer: 8 * 1024 * 1024 });
    return r.status === 0 && typeof r.stdout === "string" ? r.stdout : "";
  };
  const caps = parseCapabilities(path, { "-version": run("-version"), "-muxers": run("-muxers"), "-demuxers": run("-demuxers"), "-codecs": run("-codecs") });
  cache.set(path, caps);
  return caps;
}
