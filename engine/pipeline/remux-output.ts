/**
 * The ffmpeg-driven formats of a recording that roll at the same interval
 * (MP4 and/or AAC), plus HLS when it rides along: one ffmpeg per file period,
 * fed the period's tags on stdin with their original timestamps: as FLV for
 * H.264/AAC/MP3, as Matroska written by the engine for the codecs the ffmpeg
 * builds cannot read from FLV (H.265, AV1, Opus, H.266: remux-feed.ts).
 * A new period starts a new ffmpeg at the cut keyframe, so MP4/AAC files cut
 * exactly where the segmenter says, and HLS stays continuous (-copyts).
 */
import { join } from "node:path";
import { MuxError, StorageError, errorMessage } from "../errors.js";
import type { Frame, MediaFrame } from "../flv/frame.js";
import { buildRemuxArgs, type RemuxPlan } from "../ffmpeg/ffmpeg-args.js";
import { FfmpegRemuxJob, HLS_LIST_FD } from "../ffmpeg/ffmpeg-remux-job.js";
import { createRemuxFeed, type FeedFormat, type FeedTracks, type RemuxFeed } from "../mux/remux-feed.js";
import { MediaClock } from "../segment/media-clock.js";
import { Segmenter } from "../segment/segmenter.js";
import { FrameDropper } from "./frame-dropper.js";
import type { HlsPlaylistWriter } from "./hls-playlist-writer.js";
import type { OutputHost, RecordingOutput } from "./output-host.js";

interface Period {
  index: number;
  /** Its ffmpeg exited early: the next keyframe opens a new period. */
  dead?: boolean;
  job: FfmpegRemuxJob;
  feed: RemuxFeed;
  hlsJob: number | undefined;
  plan: RemuxPlan;
  clock: MediaClock;
}

export class RemuxOutput implements RecordingOutput {
  private readonly segmenter: Segmenter;
  private readonly dropper: FrameDropper;
  private current: Period | undefined;
  private nextIndex = 0;
  /** Video goes to ffmpeg only when an output here holds video (AAC alone is audio-only). */
  private readonly feedVideo: boolean;
  readonly clampedTimestamps = 0;

  constructor(
    private readonly host: OutputHost,
    private readonly formats: { mp4: boolean; aac: boolean },
    private readonly intervalSec: number,
    private readonly hls: HlsPlaylistWriter | undefined,
    /** What ffmpeg is fed (codec-matrix.ts remuxFeedFormat) and the codecs of the tracks fed. */
    private readonly feed: { format: FeedFormat; tracks: FeedTracks } = { format: "flv", tracks: {} },
  ) {
    this.segmenter = new Segmenter(intervalSec * 1000, host.hasVideo);
    this.dropper = new FrameDropper(host.settings.maxQueueBytes, host.hasVideo);
    this.feedVideo = host.hasVideo && (formats.mp4 || hls !== undefined);
  }

  get queuedBytes(): number {
    return this.current?.job.queuedBytes ?? 0;
  }

  frame(frame: MediaFrame): void {
    const { track, key } = frame;
    const decision = this.segmenter.decide(track, key, frame.dts);
    const restart = this.current?.dead === true && (track === "video" ? key : !this.host.hasVideo);
    if (decision !== "same" || restart) {
      this.closeCurrent();
      this.open(frame);
    }
    const period = this.current!;
    if (track === "video" && !this.feedVideo) return;
    if (this.dropper.shouldDrop(period.job.queuedBytes, track, key)) {
      this.host.countDropped(1);
      return;
    }
    period.clock.observe(track === "video", frame.dts);
    period.job.write(period.feed.write(frame));
  }

  other(frame: Frame): void {
    // ffmpeg takes codec config changes inline; script and end-of-sequence tags are FLV-only.
    if (frame.kind === "config" && this.current && this.feeds(frame)) this.current.job.write(this.current.feed.write(frame));
  }

  async finish(): Promise<void> {
    this.closeCurrent();
  }

  private open(first: MediaFrame): void {
    const { target, settings, deps } = this.host;
    const index = this.nextIndex++;
    const stem = join(target.inProgressDirectory, `${target.id}.${index}`);
    const plan: RemuxPlan = { hasVideo: this.feedVideo, hasAudio: this.host.hasAudio, inputFormat: this.feed.format };
    if (this.feed.tracks.audio === "opus") plan.opusInMp4 = true;
    if (this.formats.mp4) plan.mp4 = { path: `${stem}.mp4`, fragmentedPath: `${stem}.frag.mp4` };
    if (this.formats.aac) plan.aacPath = `${stem}.aac`;
    const firstPts = first.dts + first.cts;
    const hlsJob = this.hls?.addJob(firstPts / 1000);
    if (hlsJob !== undefined) {
      plan.hls = {
        pattern: `${stem}.%06d.ts`,
        segmentSeconds: settings.hlsSegmentSeconds,
        period: { startSec: firstPts / 1000, lengthSec: this.intervalSec },
        listFd: HLS_LIST_FD,
      };
    }
    const job = new FfmpegRemuxJob({ ffmpegPath: deps.ffmpegPath, args: buildRemuxArgs(plan), logger: deps.logger });
    if (hlsJob !== undefined) job.on("hlsSegment", (report) => this.hls!.segment(hlsJob, report));
    job.on("exitedEarly", (err) => {
      this.host.failed(err);
      // Not fatal (e.g. one bad packet): start a new period at the next keyframe instead of losing the rest of this one.
      if (this.current?.job === job) this.current.dead = true;
    });
    // Every file period starts with the codec config, so it stands on its own.
    const feed = createRemuxFeed(this.feed.format, this.feedTracks());
    job.write(feed.begin(this.host.configFrames().filter((frame) => this.feeds(frame))));
    this.current = { index, job, feed, hlsJob, plan, clock: new MediaClock() };
    if (plan.mp4) this.host.files.opened({ format: "mp4", index, path: plan.mp4.path, fragmentedPath: plan.mp4.fragmentedPath, startTimestamp: first.dts });
    if (plan.aacPath) this.host.files.opened({ format: "aac", index, path: plan.aacPath, startTimestamp: first.dts });
  }

  /** The codecs of the tracks this output feeds (video only when it has an output holding video). */
  private feedTracks(): FeedTracks {
    const tracks: FeedTracks = {};
    if (this.feedVideo) tracks.video = this.feed.tracks.video ?? "unknown";
    if (this.host.hasAudio) tracks.audio = this.feed.tracks.audio ?? "unknown";
    if (this.feed.tracks.metadataSize) tracks.metadataSize = this.feed.tracks.metadataSize;
    return tracks;
  }

  private feeds(frame: Frame): boolean {
    return frame.track !== "video" || this.feedVideo;
  }

  private closeCurrent(): void {
    const period = this.current;
    if (!period) return;
    this.current = undefined;
    period.job.write(period.feed.end().bytes);
    this.host.track(this.complete(period));
  }

  private async complete(period: Period): Promise<void> {
    const result = await period.job.end();
    if (period.hlsJob !== undefined) this.hls!.jobDone(period.hlsJob);
    if (!result.ok) {
      // The in-progress files stay where they are: evidence for recovery, never deleted.
      this.host.failed(result.error ?? new MuxError("FFMPEG_FAILED", "ffmpeg failed"));
      return;
    }
    const start = period.clock.start;
    if (start === undefined) return;
    const startMs = this.host.wallForTimestamp(start);
    const durationMs = period.clock.durationMs;
    const outputs: ["mp4" | "aac", string][] = [];
    if (period.plan.mp4) outputs.push(["mp4", period.plan.mp4.path]);
    if (period.plan.aacPath) outputs.push(["aac", period.plan.aacPath]);
    for (const [format, src] of outputs) {
      try {
        await this.host.files.finish({
          format,
          inProgressPath: src,
          startMs,
          endMs: startMs + durationMs,
          durationSec: durationMs / 1000,
          index: period.index,
          mediaStartMs: start,
          // The regular MP4 is in place: its crash-safe fragmented copy is no longer needed.
          leftovers: format === "mp4" ? [period.plan.mp4!.fragmentedPath] : [],
        });
      } catch (err) {
        this.host.failed(new StorageError("REMUX_CLOSE_FAILED", `finishing ${src} failed: ${errorMessage(err)}`, { cause: err }));
      }
    }
  }
}
