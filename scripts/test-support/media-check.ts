// Independent media checkers for tests: every answer comes from ffmpeg/ffprobe
// (or m3u8-parser), never from the project's own code, so a test can prove
// a recording is faithful to its source. See /work/shared/notes/fidelity-checks.md.
//
// Which check applies when:
// - videoFrameHashes: decoded video frames. Valid across any packaging (FLV, MP4,
//   fMP4, HLS/TS, segments): "no re-encode, no lost or duplicated frame".
// - audioPacketHashes: AAC packet payloads, via a remux to ADTS. Valid across any
//   packaging, including segmented outputs (decoded AAC is NOT comparable across
//   segment boundaries, the decoder's overlap state restarts in each file).
//   AAC only (the ADTS muxer refuses other codecs).
// - audioCopyHashes: hashes of the audio packets as the demuxer delivers them
//   (`-c copy -f framemd5`). Use it for MP3, whose packets are whole MP3 frames in
//   every container, or to compare AAC between raw-AAC containers (FLV, MP4, fMP4).
//   Do not use it to compare AAC in FLV/MP4 against TS/ADTS: those packets carry
//   ADTS headers.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants } from "node:fs";
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { Parser } from "m3u8-parser";

/** Hard limit for one ffmpeg/ffprobe run; the process is SIGKILLed after it. */
export const DEFAULT_TIMEOUT_MS = 60_000;

const STDERR_TAIL_CHARS = 4_000;

export interface RunOptions {
  timeoutMs?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

let ffmpegPathPromise: Promise<string> | undefined;
let ffprobePathPromise: Promise<string> | undefined;

/** The first executable called `name` on PATH, if any. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * ffmpeg binary for checks: $FFMPEG_PATH, else a system ffmpeg (Debian's, which
 * .ci/run installs), else the @ffmpeg-installer/ffmpeg binary.
 */
export function ffmpegPath(): Promise<string> {
  const fromEnv = process.env["FFMPEG_PATH"] ?? onPath("ffmpeg");
  if (fromEnv) return Promise.resolve(fromEnv);
  ffmpegPathPromise ??= import("@ffmpeg-installer/ffmpeg").then((m) => m.default.path);
  return ffmpegPathPromise;
}

/**
 * ffprobe binary: $FFPROBE_PATH, else a system ffprobe, else @ffprobe-installer's
 * (its 2023 static build segfaults probing MPEG-TS here, so it is the last resort).
 */
export function ffprobePath(): Promise<string> {
  const fromEnv = process.env["FFPROBE_PATH"] ?? onPath("ffprobe");
  if (fromEnv) return Promise.resolve(fromEnv);
  ffprobePathPromise ??= import("@ffprobe-installer/ffprobe").then((m) => m.default.path);
  return ffprobePathPromise;
}

/**
 * Runs a binary, collecting stdout (bytes) and stderr (text, tail kept).
 * Never rejects because of the exit code; rejects on spawn failure or timeout
 * (after SIGKILLing the process by PID).
 */
export function runProcess(bin: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      err += chunk;
      if (err.length > 4 * STDERR_TAIL_CHARS) err = err.slice(-STDERR_TAIL_CHARS);
    });
    child.on("error", (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`failed to start ${bin}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new Error(
            `${describe(bin, args)} killed after ${timeoutMs} ms timeout\n--- stderr tail ---\n${tail(err)}`,
          ),
        );
        return;
      }
      resolve({ stdout: Buffer.concat(out), stderr: err, code, signal });
    });
  });
}

function describe(bin: string, args: readonly string[]): string {
  const name = bin.split("/").pop() ?? bin;
  return `${name} ${args.join(" ")}`;
}

function tail(text: string): string {
  const t = text.trimEnd();
  return t.length > STDERR_TAIL_CHARS ? `…${t.slice(-STDERR_TAIL_CHARS)}` : t;
}

/** Runs a binary and rejects with the stderr tail unless it exits with 0. */
async function runChecked(bin: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
  const r = await runProcess(bin, args, options);
  if (r.code !== 0) {
    const why = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
    throw new Error(`${describe(bin, args)} failed with ${why}\n--- stderr tail ---\n${tail(r.stderr)}`);
  }
  return r;
}

async function ffmpeg(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return runChecked(await ffmpegPath(), ["-nostdin", "-hide_banner", ...args], options);
}

async function ffprobe(args: readonly string[], options?: RunOptions): Promise<RunResult> {
  return runChecked(await ffprobePath(), ["-hide_banner", ...args], options);
}

function asList(input: string | readonly string[]): readonly string[] {
  return typeof input === "string" ? [input] : input;
}

/**
 * Input options for a file. A local .m3u8 is read by ffmpeg's hls demuxer with no
 * extra option (checked with ffmpeg 4.1 on .ts segments; `-allowed_extensions ALL`
 * is not needed for the usual .ts/.m4s/.mp4/.aac segment names).
 */
function inputArgs(file: string): string[] {
  return ["-i", file];
}

// ---------------------------------------------------------------------------
// probe

export interface ProbeStream {
  index: number;
  codec_type: "video" | "audio" | "data" | "subtitle" | "attachment" | string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_rate?: number;
  channels?: number;
  nb_frames?: number;
  duration?: number;
  start_time?: number;
}

export interface ProbeResult {
  format: {
    format_name: string;
    duration: number;
    start_time?: number;
    nb_streams: number;
    size?: number;
  };
  streams: ProbeStream[];
}

function num(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v !== "" && v !== "N/A") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function withDefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** `ffprobe -show_format -show_streams`, parsed into a typed subset (numbers as numbers). */
export async function probe(file: string, options?: RunOptions): Promise<ProbeResult> {
  const r = await ffprobe(["-v", "error", "-show_format", "-show_streams", "-of", "json", file], options);
  const raw = JSON.parse(r.stdout.toString("utf8")) as {
    format?: Record<string, unknown>;
    streams?: Record<string, unknown>[];
  };
  const f = raw.format ?? {};
  const duration = num(f["duration"]);
  return {
    format: withDefined({
      format_name: str(f["format_name"]) ?? "",
      duration: duration ?? Number.NaN,
      start_time: num(f["start_time"]),
      nb_streams: num(f["nb_streams"]) ?? 0,
      size: num(f["size"]),
    }),
    streams: (raw.streams ?? []).map((s) =>
      withDefined({
        index: num(s["index"]) ?? 0,
        codec_type: str(s["codec_type"]) ?? "unknown",
        codec_name: str(s["codec_name"]),
        profile: str(s["profile"]),
        width: num(s["width"]),
        height: num(s["height"]),
        sample_rate: num(s["sample_rate"]),
        channels: num(s["channels"]),
        nb_frames: num(s["nb_frames"]),
        duration: num(s["duration"]),
        start_time: num(s["start_time"]),
      }),
    ),
  };
}

/** ffprobe's format.duration in seconds (NaN if ffprobe reports none). */
export async function durationSeconds(file: string, options?: RunOptions): Promise<number> {
  return (await probe(file, options)).format.duration;
}

// ---------------------------------------------------------------------------
// framemd5

/** The hash column of framemd5 output (last comma-separated field of each non-comment line). */
export function framemd5Hashes(text: string): string[] {
  const hashes: string[] = [];
  for (const line of text.split("\n")) {
    const l = line.trim();
    if (l === "" || l.startsWith("#")) continue;
    const h = l.slice(l.lastIndexOf(",") + 1).trim();
    hashes.push(h);
  }
  return hashes;
}

/**
 * MD5 of every decoded video frame of the first video stream, in output order.
 * Several inputs: each is decoded on its own and the lists are appended in order
 * (segments must each start with a keyframe, as any playable segment does).
 * Accepts anything ffmpeg reads, including a local .m3u8 playlist.
 * `-vsync passthrough` so that no frame is dropped or duplicated by ffmpeg (the
 * option is deprecated in ffmpeg >= 5.1 in favour of -fps_mode but still accepted).
 */
export async function videoFrameHashes(input: string | readonly string[], options?: RunOptions): Promise<string[]> {
  const all: string[] = [];
  for (const file of asList(input)) {
    const r = await ffmpeg(
      ["-v", "error", ...inputArgs(file), "-map", "0:v:0", "-vsync", "passthrough", "-f", "framemd5", "-"],
      options,
    );
    all.push(...framemd5Hashes(r.stdout.toString("utf8")));
  }
  return all;
}

/**
 * framemd5 of the first audio stream's packets as demuxed (`-c copy`), hash column only.
 * For MP3 (frames are identical in every container) and for AAC between raw-AAC
 * containers (FLV, MP4, fMP4). For AAC across TS/ADTS use audioPacketHashes.
 */
export async function audioCopyHashes(input: string | readonly string[], options?: RunOptions): Promise<string[]> {
  const all: string[] = [];
  for (const file of asList(input)) {
    const r = await ffmpeg(["-v", "error", ...inputArgs(file), "-map", "0:a:0", "-c", "copy", "-f", "framemd5", "-"], options);
    all.push(...framemd5Hashes(r.stdout.toString("utf8")));
  }
  return all;
}

// ---------------------------------------------------------------------------
// ADTS

export interface AdtsFrame {
  /** Byte offset of the header in the ADTS stream. */
  offset: number;
  headerLength: 7 | 9;
  /** The raw AAC frame (without the ADTS header / CRC). */
  payload: Buffer;
}

/** Splits an ADTS byte stream into frames; throws on a lost sync word or a truncated frame. */
export function splitAdts(data: Buffer): AdtsFrame[] {
  const frames: AdtsFrame[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 7 > data.length) throw new Error(`truncated ADTS header at byte ${pos} of ${data.length}`);
    const b0 = data[pos]!;
    const b1 = data[pos + 1]!;
    if (b0 !== 0xff || (b1 & 0xf0) !== 0xf0) {
      throw new Error(`ADTS sync word not found at byte ${pos} (got ${b0.toString(16)} ${b1.toString(16)})`);
    }
    const protectionAbsent = b1 & 0x01;
    const headerLength: 7 | 9 = protectionAbsent ? 7 : 9;
    const frameLength = ((data[pos + 3]! & 0x03) << 11) | (data[pos + 4]! << 3) | (data[pos + 5]! >> 5);
    if (frameLength < headerLength) throw new Error(`bad ADTS frame length ${frameLength} at byte ${pos}`);
    if (pos + frameLength > data.length) {
      throw new Error(`truncated ADTS frame at byte ${pos}: needs ${frameLength} bytes, ${data.length - pos} left`);
    }
    frames.push({ offset: pos, headerLength, payload: data.subarray(pos + headerLength, pos + frameLength) });
    pos += frameLength;
  }
  return frames;
}

function md5(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

/**
 * MD5 of every AAC frame payload of the first audio stream: remux to ADTS with
 * `-c copy`, strip each ADTS header, hash the rest. Comparable across every
 * packaging (FLV, MP4, fMP4, TS, ADTS, segments). Several inputs: appended in order.
 */
export async function audioPacketHashes(input: string | readonly string[], options?: RunOptions): Promise<string[]> {
  const all: string[] = [];
  for (const file of asList(input)) {
    const r = await ffmpeg(["-v", "error", ...inputArgs(file), "-map", "0:a:0", "-c", "copy", "-f", "adts", "-"], options);
    for (const frame of splitAdts(r.stdout)) all.push(md5(frame.payload));
  }
  return all;
}

// ---------------------------------------------------------------------------
// packets

export interface PacketTime {
  /** Seconds; NaN when the container has no pts for this packet. */
  pts: number;
  /** Seconds; NaN when the container has no dts for this packet. */
  dts: number;
  /** Seconds; NaN when unknown. */
  duration: number;
  keyframe: boolean;
  size: number;
}

function parseTimeBase(tb: unknown): number {
  if (typeof tb !== "string") return Number.NaN;
  const [n, d] = tb.split("/").map(Number);
  return n !== undefined && d !== undefined && d !== 0 ? n / d : Number.NaN;
}

/**
 * pts/dts of every packet of the first video ("v") or audio ("a") stream, in file
 * order, in seconds (computed from the integer timestamps and the stream time base).
 * Compare recordings after subtracting the first packet's value.
 */
export async function packetTimes(file: string, stream: "v" | "a", options?: RunOptions): Promise<PacketTime[]> {
  const r = await ffprobe(
    [
      "-v",
      "error",
      "-select_streams",
      `${stream}:0`,
      "-show_entries",
      "stream=time_base:packet=pts,dts,duration,flags,size",
      "-of",
      "json",
      file,
    ],
    options,
  );
  const raw = JSON.parse(r.stdout.toString("utf8")) as {
    streams?: Record<string, unknown>[];
    packets?: Record<string, unknown>[];
  };
  const tb = parseTimeBase(raw.streams?.[0]?.["time_base"]);
  return (raw.packets ?? []).map((p) => ({
    pts: (num(p["pts"]) ?? Number.NaN) * tb,
    dts: (num(p["dts"]) ?? Number.NaN) * tb,
    duration: (num(p["duration"]) ?? Number.NaN) * tb,
    keyframe: (str(p["flags"]) ?? "").includes("K"),
    size: num(p["size"]) ?? 0,
  }));
}

// ---------------------------------------------------------------------------
// decode

/**
 * Decodes every video and audio stream (`ffmpeg -v error -i file -f null -`) and
 * returns the error output, trimmed: "" means the file decodes cleanly. Does not
 * reject on a non-zero exit (that is reported in the text); rejects on timeout.
 */
export async function decodesCleanly(file: string, options?: RunOptions): Promise<string> {
  const bin = await ffmpegPath();
  const r = await runProcess(
    bin,
    ["-nostdin", "-hide_banner", "-v", "error", ...inputArgs(file), "-map", "0:v?", "-map", "0:a?", "-f", "null", "-"],
    options,
  );
  const text = r.stderr.trim();
  if (r.code !== 0 && text === "") return `ffmpeg exited with ${r.signal ? `signal ${r.signal}` : `code ${r.code}`}`;
  return text;
}

// ---------------------------------------------------------------------------
// HLS

export interface HlsSegment {
  uri: string;
  duration: number;
  discontinuity: boolean;
}

export interface HlsPlaylist {
  endList: boolean;
  playlistType: string | undefined;
  targetDuration: number | undefined;
  mediaSequence: number;
  segments: HlsSegment[];
}

/** Parses a media playlist with m3u8-parser (an implementation independent of ffmpeg). */
export async function hlsPlaylist(path: string): Promise<HlsPlaylist> {
  const text = await readFile(path, "utf8");
  const parser = new Parser();
  parser.push(text);
  parser.end();
  const m = parser.manifest;
  return {
    endList: m.endList === true,
    playlistType: m.playlistType,
    targetDuration: m.targetDuration,
    mediaSequence: m.mediaSequence ?? 0,
    segments: m.segments.map((s) => ({ uri: s.uri, duration: s.duration, discontinuity: s.discontinuity === true })),
  };
}
