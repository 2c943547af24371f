/**
 * The pre-encoded source every publisher replays: 60 s, 1280x720 25 fps
 * H.264 ~2 Mbps (GOP 2 s, B-frames), AAC-LC 128 kbps 48 kHz stereo, FLV.
 * Made once with ffmpeg (libx264) and cached; its description is cached
 * next to it.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const NAME = "source-1280x720-h264-2000k-gop2s-aac128k-60s";

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr.slice(-500)}`)) : resolve(stdout)));
  });
}

export async function ensureSource(dir, ffmpeg, ffprobe, log) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${NAME}.flv`);
  const infoFile = join(dir, `${NAME}.json`);
  if (existsSync(file) && existsSync(infoFile)) return { file, ...JSON.parse(readFileSync(infoFile, "utf8")) };
  log(`making the source (once): ${file}`);
  const tmp = join(dir, `${NAME}.tmp.flv`);
  // A moving test pattern with per-frame noise, so the encoder spends its bit rate as real video would.
  await run(ffmpeg, [
    "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25,noise=alls=8:allf=t",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
    "-t", "60",
    "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
    "-b:v", "2000k", "-maxrate", "2000k", "-bufsize", "4000k",
    "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-bf", "2",
    "-c:a", "aac", "-b:a", "128k", "-ac", "2",
    "-f", "flv", tmp,
  ]);
  renameSync(tmp, file);
  const probe = JSON.parse(
    await run(ffprobe, ["-v", "error", "-count_packets", "-show_entries", "stream=codec_type,codec_name,width,height,avg_frame_rate,nb_read_packets,sample_rate:format=duration,bit_rate,size", "-of", "json", file]),
  );
  const v = probe.streams.find((s) => s.codec_type === "video");
  const a = probe.streams.find((s) => s.codec_type === "audio");
  const [num, den] = String(v.avg_frame_rate).split("/").map(Number);
  const info = {
    fps: num / (den || 1),
    durationSec: Number(probe.format.duration),
    bitRate: Number(probe.format.bit_rate),
    sizeBytes: Number(probe.format.size),
    videoFrames: Number(v.nb_read_packets),
    audioFrames: Number(a.nb_read_packets),
    description: `${v.width}x${v.height} ${v.codec_name} ${num / (den || 1)} fps, GOP 2 s, ${a.codec_name} ${a.sample_rate} Hz 128 kbps, FLV, ${(Number(probe.format.bit_rate) / 1e6).toFixed(2)} Mbps total, ${Math.round(Number(probe.format.duration))} s`,
  };
  writeFileSync(infoFile, JSON.stringify(info, null, 2));
  return { file, ...info };
}
