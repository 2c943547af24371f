/**
 * The one place a recording or recovery ffmpeg process is started (the
 * version and capability probes run their own short spawnSync): spawn, keep the tail of its
 * stderr, and turn how it ended into a result with a typed MuxError
 * (DISK_FULL when ffmpeg says the disk is full, fatal; FFMPEG_TIMEOUT,
 * FFMPEG_SPAWN_FAILED, FFMPEG_FAILED otherwise). Used by the long-running
 * remux jobs (stdin piped, extra fds) and by recovery's one-shot runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { MuxError } from "../errors.js";

/** How much of stderr is kept; the error message quotes its last MESSAGE_TAIL characters. */
const STDERR_TAIL_CHARS = 4096;
const MESSAGE_TAIL_CHARS = 500;

export interface RunFfmpegOptions {
  /** "pipe" to feed ffmpeg's stdin (then write to `child.stdin`); "ignore" by default. */
  stdin?: "pipe" | "ignore";
  /** Keep everything ffmpeg writes to stdout (e.g. `-progress pipe:1`) for the result. */
  collectStdout?: boolean;
  /** Extra pipes after stdin/stdout/stderr (fd 3, 4...), read through `child.stdio[fd]`. */
  extraPipes?: number;
  /** Killed (SIGKILL) after this long; none by default. */
  timeoutMs?: number;
}

export type FfmpegResult = { ok: true; stdout: string } | { ok: false; error: MuxError; stdout: string };

export interface FfmpegRun {
  readonly child: ChildProcess;
  /** Resolves (never rejects) once the process has exited or failed to start. */
  readonly result: Promise<FfmpegResult>;
}

/** Starts ffmpeg with these arguments. */
export function runFfmpeg(ffmpegPath: string, args: readonly string[], options: RunFfmpegOptions = {}): FfmpegRun {
  const extra = Array.from({ length: options.extraPipes ?? 0 }, () => "pipe" as const);
  const child = spawn(ffmpegPath, args, { stdio: [options.stdin ?? "ignore", options.collectStdout ? "pipe" : "ignore", "pipe", ...extra] });
  let stderr = "";
  let stdout = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => {
    stderr = (stderr + s).slice(-STDERR_TAIL_CHARS);
  });
  if (options.collectStdout) {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      stdout += s;
    });
  }
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutMs);
  const result = new Promise<FfmpegResult>((resolve) => {
    const done = (r: FfmpegResult) => {
      clearTimeout(timer);
      resolve(r);
    };
    child.once("error", (err) => done({ ok: false, stdout, error: new MuxError("FFMPEG_SPAWN_FAILED", err.message, { cause: err }) }));
    child.once("close", (code, signal) => {
      if (code === 0) return done({ ok: true, stdout });
      done({ ok: false, stdout, error: exitError(code, signal, stderr, timedOut ? options.timeoutMs : undefined) });
    });
  });
  return { child, result };
}

/** Why ffmpeg failed, from its exit and the tail of what it said. */
function exitError(code: number | null, signal: NodeJS.Signals | null, stderrTail: string, timedOutAfterMs?: number): MuxError {
  if (timedOutAfterMs !== undefined) return new MuxError("FFMPEG_TIMEOUT", `ffmpeg did not finish within ${timedOutAfterMs} ms`);
  const why = signal ? `killed by ${signal}` : `exit code ${code}`;
  const disk = /No space left on device/i.test(stderrTail);
  return new MuxError(disk ? "DISK_FULL" : "FFMPEG_FAILED", `ffmpeg ${why}: ${stderrTail.trim().slice(-MESSAGE_TAIL_CHARS)}`, { fatal: disk });
}

/** Runs ffmpeg to the end and returns its stdout; throws its MuxError if it fails. */
export async function ffmpegOutput(ffmpegPath: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const r = await runFfmpeg(ffmpegPath, args, { collectStdout: true, timeoutMs }).result;
  if (!r.ok) throw r.error;
  return r.stdout;
}
