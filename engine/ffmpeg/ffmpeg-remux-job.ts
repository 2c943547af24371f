/**
 * One ffmpeg process remuxing one file period of a recording (-c copy).
 * The engine writes FLV bytes to its stdin in batches (a recording is not
 * live playback, and every pipe write wakes ffmpeg up: batching is most of
 * the CPU saving), and reads finished HLS segments from a CSV list on fd 3.
 */
import type { ChildProcess } from "node:child_process";
import { basename } from "node:path";
import { MuxError } from "../errors.js";
import type { Logger } from "../logger.js";
import { TypedEmitter } from "../typed-emitter.js";
import { runFfmpeg } from "./run-ffmpeg.js";

export interface HlsSegmentReport {
  /** Base name of the .ts file ffmpeg finished. */
  file: string;
  startSec: number;
  endSec: number;
}

export interface RemuxJobResult {
  ok: boolean;
  error?: MuxError;
}

export type RemuxJobEvents = {
  hlsSegment: [HlsSegmentReport];
  /** ffmpeg ended before its input did (a failed output, a full disk, a crash). */
  exitedEarly: [MuxError];
};

export interface RemuxJobOptions {
  ffmpegPath: string;
  args: string[];
  logger: Logger;
  /** Flush stdin at least this often (ms) ... */
  flushIntervalMs?: number;
  /** ... or as soon as this many bytes are pending. */
  flushBytes?: number;
  /** Hard limit for ffmpeg to exit after stdin closes. */
  exitTimeoutMs?: number;
}

export const HLS_LIST_FD = 3;

/** Parses one line of ffmpeg's segment list in CSV form: `name,start,end` (name quoted if it has commas). */
export function parseSegmentListLine(line: string): HlsSegmentReport | undefined {
  const m = /^(?:"((?:[^"]|"")*)"|([^,]*)),([-\d.]+),([-\d.]+)$/.exec(line.trim());
  if (!m) return undefined;
  const name = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!;
  return { file: basename(name.replace(/^file:/, "")), startSec: Number(m[3]), endSec: Number(m[4]) };
}

export class FfmpegRemuxJob extends TypedEmitter<RemuxJobEvents> {
  private readonly child: ChildProcess;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly flushBytes: number;
  private readonly timer: NodeJS.Timeout;
  private listRest = "";
  private ended = false;
  private readonly exited: Promise<RemuxJobResult>;

  constructor(private readonly opts: RemuxJobOptions) {
    super();
    this.flushBytes = opts.flushBytes ?? 512 * 1024;
    const run = runFfmpeg(opts.ffmpegPath, opts.args, { stdin: "pipe", extraPipes: HLS_LIST_FD - 2 });
    this.child = run.child;
    this.exited = run.result.then((r) => {
      const result: RemuxJobResult = r.ok ? { ok: true } : { ok: false, error: r.error };
      if (!this.ended) {
        this.ended = true;
        clearInterval(this.timer);
        this.emit("exitedEarly", result.error ?? new MuxError("FFMPEG_EXITED", "ffmpeg exited before its input ended"));
      }
      return result;
    });
    const list = this.child.stdio[HLS_LIST_FD];
    if (list && "setEncoding" in list) {
      list.setEncoding("utf8");
      list.on("data", (s: string) => this.onListData(s));
    }
    // EPIPE when ffmpeg exits early is reported through the exit code, not here.
    this.child.stdin!.on("error", () => {});
    this.timer = setInterval(() => this.flush(), opts.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  /** Bytes accepted but not yet taken by ffmpeg: the queue depth a slow ffmpeg shows up in. */
  get queuedBytes(): number {
    return this.pendingBytes + (this.child.stdin?.writableLength ?? 0);
  }

  /** Queues bytes for ffmpeg's stdin. Keeps the buffers until they are flushed. */
  write(chunks: readonly Buffer[]): void {
    if (this.ended) return;
    for (const c of chunks) {
      this.pending.push(c);
      this.pendingBytes += c.length;
    }
    if (this.pendingBytes >= this.flushBytes) this.flush();
  }

  /** Closes stdin and waits for ffmpeg to finish its outputs (killed after a hard timeout). */
  async end(): Promise<RemuxJobResult> {
    if (!this.ended) {
      this.flush();
      this.ended = true;
      clearInterval(this.timer);
      this.child.stdin!.end();
    }
    const timeoutMs = this.opts.exitTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first) return first;
    this.opts.logger.warn("ffmpeg did not exit after its input ended; killing it", { pid: this.child.pid });
    this.kill();
    const result = await this.exited;
    return result.ok ? result : { ok: false, error: new MuxError("FFMPEG_TIMEOUT", `ffmpeg did not exit within ${timeoutMs} ms`) };
  }

  /** Stops ffmpeg at once (SIGKILL: some builds ignore SIGTERM after a failed output). */
  kill(): void {
    this.ended = true;
    clearInterval(this.timer);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private flush(): void {
    if (this.pendingBytes === 0 || this.ended) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.child.stdin!.write(data);
  }

  private onListData(s: string): void {
    const lines = (this.listRest + s).split("\n");
    this.listRest = lines.pop() ?? "";
    for (const line of lines) {
      const report = parseSegmentListLine(line);
      if (report) this.emit("hlsSegment", report);
      else if (line.trim()) this.opts.logger.warn("unreadable ffmpeg segment list line", { line });
    }
  }
}
