/**
 * One recording: the frames of one push -> the outputs its template enables.
 * Frames come described (stream/stream-hub.ts): nothing here reads a tag header.
 *
 * Lifecycle: probing (buffer frames until the track set is known) -> recording
 * (route each frame to every output in arrival order) -> closing (every output
 * closes its current file) -> closed. `end()` is idempotent.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MuxError, type RecorderError } from "../errors.js";
import type { Frame } from "../flv/frame.js";
import type { OnMetaData } from "../flv/on-metadata.js";
import { planFormats, remuxFeedFormat } from "../mux/codec-matrix.js";
import { ffmpegCapabilitiesSync } from "../ffmpeg/ffmpeg-capabilities.js";
import { OUTPUT_FORMATS, type FormatSkip, type OutputFormat, type TrackSet } from "../mux/types.js";
import type { MediaDescription } from "../media-types.js";
import { StreamHeaders } from "../stream/stream-headers.js";
import type { FrameSink } from "../stream/types.js";
import { TypedEmitter } from "../typed-emitter.js";
import { Journal, type JournalStart } from "../recovery/journal.js";
import { FileFinisher, type FileNaming, type FinishedFile } from "../segment/file-finisher.js";
import { timestampDelta } from "../segment/segmenter.js";
import { FlvOutput } from "./flv-output.js";
import { HlsPlaylistWriter } from "./hls-playlist-writer.js";
import type { OutputHost, RecordingOutput } from "./output-host.js";
import { RemuxOutput } from "./remux-output.js";
import type {
  RecordingDeps,
  RecordingEvents,
  RecordingSettings,
  RecordingStats,
  RecordingTarget,
} from "./types.js";

/** Frames held while probing, at most: a publisher that sends only one track still starts quickly. */
const MAX_PROBE_TAGS = 2000;

export class Recording extends TypedEmitter<RecordingEvents> implements OutputHost, FrameSink {
  private state: RecordingStats["state"] = "probing";
  private probeFrames: Frame[] = [];
  /** Codecs, latest configs and onMetaData of the stream, as this recording has seen them. */
  private readonly headers = new StreamHeaders();
  private firstTs: number | undefined;
  private lastTs = 0;
  private wallStart = 0;
  /** Wall-clock ms of the first media frame's arrival, when frames held since then are replayed to it. */
  private firstFrameArrival: number | undefined;
  private outputs: RecordingOutput[] = [];
  private hls: HlsPlaylistWriter | undefined;
  private readonly pending = new Set<Promise<void>>();
  private formats: OutputFormat[] = [];
  private skipped: FormatSkip[] = [];
  private tagsIn = 0;
  private dropped = 0;
  private filesCompleted = 0;
  private errors = 0;
  private ending: Promise<RecordingStats> | undefined;
  private journalFile: Journal | undefined;
  hasVideo = false;
  hasAudio = false;
  readonly files: FileFinisher;

  constructor(
    readonly target: RecordingTarget,
    readonly settings: RecordingSettings,
    readonly deps: RecordingDeps,
  ) {
    super(deps.logger);
    // Once per push, before any file is opened: the only synchronous I/O here.
    mkdirSync(target.inProgressDirectory, { recursive: true });
    const vodFileNames: FileNaming["vodFileNames"] = {};
    for (const f of OUTPUT_FORMATS) vodFileNames[f] = settings.formats[f].vodFileName;
    this.files = new FileFinisher(
      { directory: target.directory, streamId: target.stream, utcOffsetMinutes: settings.utcOffsetMinutes, vodFileNames },
      { journal: (entry) => this.journalFile?.write(entry), completed: (file) => this.fileCompleted(file) },
    );
  }

  get id(): string {
    return this.target.id;
  }

  /** Feeds one frame from the publisher. Keeps it while probing, then no longer than outputs queue its data. */
  push(frame: Frame): void {
    if (this.state !== "probing" && this.state !== "recording") return;
    this.tagsIn++;
    if (this.state === "recording") {
      this.route(frame);
      return;
    }
    this.probeFrames.push(frame);
    this.observe(frame);
    if (this.probeDone()) this.start();
  }

  /** Frames held since `wallMs` follow: the wall-clock start is taken from then, not from when they reach it. */
  firstFrameArrivedAt(wallMs: number): void {
    if (this.firstTs === undefined) this.firstFrameArrival = wallMs;
  }

  /** The push ended: close every file. Resolves when all are complete (or failed). */
  end(): Promise<RecordingStats> {
    this.ending ??= this.close();
    return this.ending;
  }

  stats(): RecordingStats {
    let queuedBytes = 0;
    let clamped = 0;
    for (const o of this.outputs) {
      queuedBytes += o.queuedBytes;
      clamped += o.clampedTimestamps;
    }
    return {
      id: this.target.id,
      state: this.state,
      tracks: this.tracks(),
      media: this.mediaDescription(),
      formats: this.formats,
      skipped: this.skipped,
      tagsIn: this.tagsIn,
      droppedFrames: this.dropped,
      clampedTimestamps: clamped,
      queuedBytes,
      filesCompleted: this.filesCompleted,
      errors: this.errors,
    };
  }

  // --- OutputHost ---------------------------------------------------------

  configFrames(): Frame[] {
    return this.headers.configs();
  }

  metadata(): OnMetaData | undefined {
    return this.headers.metadata;
  }

  firstTimestamp(): number | undefined {
    return this.firstTs;
  }

  wallForTimestamp(timestamp: number): number {
    return this.wallStart + (this.firstTs === undefined ? 0 : timestampDelta(timestamp, this.firstTs));
  }

  track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private fileCompleted(file: FinishedFile): void {
    this.filesCompleted++;
    const { id, domain, app, stream } = this.target;
    this.emit("file", { recordingId: id, domain, app, stream, ...file, media: this.mediaDescription() });
  }

  mediaDescription(): MediaDescription {
    const d: MediaDescription = {};
    const { videoCodec, audioCodec, metadata } = this.headers;
    if (this.hasVideo && videoCodec) d.videoCodec = videoCodec;
    if (this.hasAudio && audioCodec) d.audioCodec = audioCodec;
    if (metadata?.width !== undefined && metadata.height !== undefined) {
      d.width = metadata.width;
      d.height = metadata.height;
    }
    return d;
  }

  failed(err: RecorderError): void {
    this.errors++;
    this.deps.logger.error("recording error", { recording: this.target.id, code: err.code, error: err.message });
    this.emit("error", err);
    // A full disk or a lost mount: stop here and close every file with what was written.
    if (err.fatal && (this.state === "recording" || this.state === "probing")) void this.end();
  }

  countDropped(frames: number): void {
    this.dropped += frames;
  }

  // --- internals ----------------------------------------------------------

  private tracks(): TrackSet {
    const t: TrackSet = {};
    const { videoCodec, audioCodec } = this.headers;
    if (this.hasVideo && videoCodec) t.video = videoCodec;
    if (this.hasAudio && audioCodec) t.audio = audioCodec;
    return t;
  }

  /** Learns codecs, configs and metadata from a frame (probing and recording alike). */
  private observe(frame: Frame): void {
    this.headers.observe(frame);
    if (frame.kind === "frame") {
      if (this.firstTs === undefined) {
        this.firstTs = frame.dts;
        this.wallStart = this.firstFrameArrival ?? this.deps.now();
      }
      this.lastTs = frame.dts;
    }
  }

  private probeDone(): boolean {
    if (this.probeFrames.length >= MAX_PROBE_TAGS) return true;
    const haveVideo = this.headers.videoCodec !== undefined;
    const haveAudio = this.headers.audioCodec !== undefined;
    if (haveVideo && haveAudio) return this.firstTs !== undefined;
    const metadata = this.headers.metadata;
    if (metadata) {
      const announced = metadata.announces;
      if ((announced.video || announced.audio) && (!announced.video || haveVideo) && (!announced.audio || haveAudio)) {
        return this.firstTs !== undefined;
      }
    }
    return this.firstTs !== undefined && timestampDelta(this.lastTs, this.firstTs) >= this.settings.probeWindowMs;
  }

  /** The track set is known: choose outputs, then replay what was buffered. */
  private start(): void {
    this.state = "recording";
    this.hasVideo = this.headers.videoCodec !== undefined;
    this.hasAudio = this.headers.audioCodec !== undefined;
    const wanted = OUTPUT_FORMATS.filter((f) => this.settings.formats[f].enabled);
    // The effective matrix: the documented one limited by what this ffmpeg can do (probed once per binary).
    const needsFfmpeg = wanted.some((f) => f !== "flv");
    const caps = needsFfmpeg ? (this.deps.ffmpegCapabilities ?? ffmpegCapabilitiesSync(this.deps.ffmpegPath)) : undefined;
    const plan = planFormats(wanted, this.tracks(), caps);
    this.formats = plan.formats;
    this.skipped = plan.skipped;
    for (const skip of plan.skipped) {
      this.deps.logger.warn("format skipped", { recording: this.target.id, format: skip.format, code: skip.code, reason: skip.reason });
    }
    if (plan.formats.length > 0 && this.firstTs !== undefined) {
      this.journalFile = new Journal(this.target.inProgressDirectory, this.target.id, (err) =>
        this.deps.logger.error("cannot write the recording journal; crash recovery will not know this recording", { recording: this.target.id, error: err.message }),
      );
      const vodFileNames: JournalStart["vodFileNames"] = {};
      for (const f of plan.formats) {
        const name = this.settings.formats[f].vodFileName;
        if (name) vodFileNames[f] = name;
      }
      this.journalFile.write({
        kind: "start",
        recordingId: this.target.id,
        domain: this.target.domain,
        app: this.target.app,
        stream: this.target.stream,
        wallStartMs: this.wallStart,
        firstTimestamp: this.firstTs,
        utcOffsetMinutes: this.settings.utcOffsetMinutes,
        vodFileNames,
        ...(plan.formats.includes("hls") ? { hlsLivePath: this.target.resumeHls?.livePath ?? join(this.target.inProgressDirectory, `${this.target.id}.m3u8`) } : {}),
        context: this.target.journalContext ?? {},
      });
    }
    this.createOutputs(plan.formats);
    this.emit("started", { tracks: this.tracks(), formats: this.formats, skipped: this.skipped });
    const buffered = this.probeFrames;
    this.probeFrames = [];
    // Codec configs and metadata were learnt while probing; outputs get them at file start.
    for (const frame of buffered) this.route(frame, true);
  }

  private createOutputs(formats: OutputFormat[]): void {
    const has = (f: OutputFormat) => formats.includes(f);
    if (has("flv")) this.outputs.push(new FlvOutput(this));
    if (has("hls")) this.hls = new HlsPlaylistWriter(this, this.target.resumeHls);
    // MP4 and AAC share one ffmpeg when they roll together; HLS rides with the longest-lived one.
    const groups = new Map<number, { mp4: boolean; aac: boolean }>();
    for (const f of ["mp4", "aac"] as const) {
      if (!has(f)) continue;
      const interval = this.settings.formats[f].intervalSec;
      const g = groups.get(interval) ?? { mp4: false, aac: false };
      g[f] = true;
      groups.set(interval, g);
    }
    if (this.hls && groups.size === 0) groups.set(Number.POSITIVE_INFINITY, { mp4: false, aac: false });
    const hlsInterval = Math.max(...groups.keys());
    for (const [interval, g] of groups) {
      const tracks = this.tracks();
      // Video reaches this ffmpeg only when one of its outputs holds video (AAC alone is audio-only).
      const withHls = interval === hlsInterval && this.hls !== undefined;
      const fed = [g.mp4 || withHls ? tracks.video : undefined, tracks.audio].filter((c) => c !== undefined);
      const media = this.mediaDescription();
      const feed = {
        format: remuxFeedFormat(fed),
        tracks: { ...tracks, ...(media.width && media.height ? { metadataSize: { width: media.width, height: media.height } } : {}) },
      };
      this.outputs.push(new RemuxOutput(this, g, interval, withHls ? this.hls : undefined, feed));
    }
  }

  private route(frame: Frame, probed = false): void {
    if (!probed) this.observe(frame);
    if (frame.track === "data") {
      // Our own onMetaData opens each FLV file; other script tags (cue points, text) are copied.
      if (frame.kind !== "metadata") for (const o of this.outputs) o.other(frame);
      return;
    }
    if (frame.kind === "frame") {
      if (frame.track === "video" ? !this.hasVideo : !this.hasAudio) return;
      for (const o of this.outputs) o.frame(frame);
      return;
    }
    for (const o of this.outputs) o.other(frame);
  }

  private async close(): Promise<RecordingStats> {
    try {
      if (this.state === "probing") {
        if (this.firstTs !== undefined) this.start();
        else {
          this.skipped = OUTPUT_FORMATS.filter((f) => this.settings.formats[f].enabled).map((format) => ({
            format,
            code: "NO_MEDIA" as const,
            reason: "the push ended before any audio or video frame",
          }));
        }
      }
      this.state = "closing";
      for (const o of this.outputs) await o.finish();
      while (this.pending.size > 0) await Promise.all([...this.pending]);
      const keepOpen = this.settings.hlsFlowContinueSec > 0;
      // A playlist handed in to continue stays open even if this push recorded no HLS.
      const open = this.hls ? await this.hls.finish(keepOpen) : this.target.resumeHls;
      if (open) {
        // Handed on open (splicing): recovery must leave this playlist alone.
        this.journalFile?.write({ kind: "done", path: open.livePath });
        this.emit("hlsOpen", open);
      }
      // Every file is complete: nothing to recover. (After an error the journal stays for recovery.)
      if (this.errors === 0) await this.journalFile?.remove();
      else await this.journalFile?.close();
    } catch (err) {
      this.failed(new MuxError("RECORDING_CLOSE_FAILED", String(err), { cause: err }));
    }
    this.state = "closed";
    const stats = this.stats();
    this.emit("closed", stats);
    return stats;
  }
}
