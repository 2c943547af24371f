/**
 * One recording: the tags of one push -> the outputs its template enables.
 *
 * Lifecycle: probing (buffer tags until the track set is known) -> recording
 * (route each tag to every output in arrival order) -> closing (every output
 * closes its current file) -> closed. `end()` is idempotent.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MuxError, type RecorderError } from "../errors.js";
import { type AudioCodec, describeTag, stripSetDataFrame, type VideoCodec } from "../flv/tag-info.js";
import { TagType, type FlvTag } from "../flv/types.js";
import { planFormats, remuxFeedFormat } from "../mux/codec-matrix.js";
import { ffmpegCapabilitiesSync } from "../ffmpeg/ffmpeg-capabilities.js";
import { metadataFields } from "../mux/flv-muxer.js";
import { OUTPUT_FORMATS, type FormatSkip, type OutputFormat, type TrackSet } from "../mux/types.js";
import type { MediaDescription } from "../media-types.js";
import { TypedEmitter } from "../typed-emitter.js";
import { Journal, type JournalStart } from "../recovery/journal.js";
import { FileFinisher, type FileNaming, type FinishedFile } from "../segment/file-finisher.js";
import { timestampDelta } from "../segment/segmenter.js";
import { FlvOutput } from "./flv-output.js";
import { HlsOutput } from "./hls-output.js";
import type { OutputHost, RecordingOutput } from "./output-host.js";
import { RemuxOutput } from "./remux-output.js";
import type {
  RecordingDeps,
  RecordingEvents,
  RecordingSettings,
  RecordingStats,
  RecordingTarget,
} from "./types.js";

/** Tags held while probing, at most: a publisher that sends only one track still starts quickly. */
const MAX_PROBE_TAGS = 2000;

/** Which tracks the publisher's onMetaData announces (videocodecid / audiocodecid keys). */
function announcedTracks(data: Buffer): { video: boolean; audio: boolean } {
  const text = data.toString("latin1");
  return { video: text.includes("videocodecid"), audio: text.includes("audiocodecid") };
}

export class Recording extends TypedEmitter<RecordingEvents> implements OutputHost {
  private state: RecordingStats["state"] = "probing";
  private probeTags: FlvTag[] = [];
  private videoCodec: VideoCodec | undefined;
  private audioCodec: AudioCodec | undefined;
  private videoConfig: FlvTag | undefined;
  private audioConfig: FlvTag | undefined;
  /** An Enhanced RTMP audio MultichannelConfig: kept apart so it never replaces the sequence header. */
  private audioChannelConfig: FlvTag | undefined;
  private metadataTag: Buffer | undefined;
  private firstTs: number | undefined;
  private lastTs = 0;
  private wallStart = 0;
  private outputs: RecordingOutput[] = [];
  private hls: HlsOutput | undefined;
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

  /** Feeds one tag from the publisher. Does not keep `tag.data` beyond what outputs queue. */
  push(tag: FlvTag): void {
    if (this.state !== "probing" && this.state !== "recording") return;
    this.tagsIn++;
    if (this.state === "recording") {
      this.route(tag);
      return;
    }
    this.probeTags.push(tag);
    this.observe(tag);
    if (this.probeDone()) this.start();
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

  configTags(): FlvTag[] {
    const tags: FlvTag[] = [];
    if (this.videoConfig) tags.push(this.videoConfig);
    if (this.audioConfig) tags.push(this.audioConfig);
    if (this.audioChannelConfig) tags.push(this.audioChannelConfig);
    return tags;
  }

  metadata(): Buffer | undefined {
    return this.metadataTag;
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
    if (this.hasVideo && this.videoCodec) d.videoCodec = this.videoCodec;
    if (this.hasAudio && this.audioCodec) d.audioCodec = this.audioCodec;
    const meta = metadataFields(this.metadataTag);
    if (typeof meta.width === "number" && typeof meta.height === "number" && meta.width > 0 && meta.height > 0) {
      d.width = Math.round(meta.width);
      d.height = Math.round(meta.height);
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
    if (this.hasVideo && this.videoCodec) t.video = this.videoCodec;
    if (this.hasAudio && this.audioCodec) t.audio = this.audioCodec;
    return t;
  }

  /** Learns codecs, configs and metadata from a tag (probing and recording alike). */
  private observe(tag: FlvTag): ReturnType<typeof describeTag> {
    const info = describeTag(tag);
    if (info.track === "data") {
      if (info.kind === "metadata") this.metadataTag = stripSetDataFrame(tag.data);
      return info;
    }
    if (info.track === "video") {
      if (this.videoCodec === undefined || this.videoCodec === "unknown") this.videoCodec = info.codec;
      if (info.kind === "config") this.videoConfig = tag;
    } else {
      if (this.audioCodec === undefined || this.audioCodec === "unknown") this.audioCodec = info.codec;
      if (info.kind === "config") this.audioConfig = tag;
      else if (info.multichannelConfig) this.audioChannelConfig = tag;
    }
    if (info.kind === "frame") {
      if (this.firstTs === undefined) {
        this.firstTs = tag.timestamp;
        this.wallStart = this.deps.now();
      }
      this.lastTs = tag.timestamp;
    }
    return info;
  }

  private probeDone(): boolean {
    if (this.probeTags.length >= MAX_PROBE_TAGS) return true;
    const haveVideo = this.videoCodec !== undefined;
    const haveAudio = this.audioCodec !== undefined;
    if (haveVideo && haveAudio) return this.firstTs !== undefined;
    if (this.metadataTag) {
      const announced = announcedTracks(this.metadataTag);
      if ((announced.video || announced.audio) && (!announced.video || haveVideo) && (!announced.audio || haveAudio)) {
        return this.firstTs !== undefined;
      }
    }
    return this.firstTs !== undefined && timestampDelta(this.lastTs, this.firstTs) >= this.settings.probeWindowMs;
  }

  /** The track set is known: choose outputs, then replay what was buffered. */
  private start(): void {
    this.state = "recording";
    this.hasVideo = this.videoCodec !== undefined;
    this.hasAudio = this.audioCodec !== undefined;
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
    const buffered = this.probeTags;
    this.probeTags = [];
    // Codec configs and metadata were learnt while probing; outputs get them at file start.
    for (const tag of buffered) this.route(tag, true);
  }

  private createOutputs(formats: OutputFormat[]): void {
    const has = (f: OutputFormat) => formats.includes(f);
    if (has("flv")) this.outputs.push(new FlvOutput(this));
    if (has("hls")) this.hls = new HlsOutput(this, this.target.resumeHls);
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

  private route(tag: FlvTag, probed = false): void {
    const info = probed ? describeTag(tag) : this.observe(tag);
    if (info.track === "data") {
      // Our own onMetaData opens each FLV file; other script tags (cue points, text) are copied.
      if (info.kind !== "metadata") for (const o of this.outputs) o.other(tag, false);
      return;
    }
    if (info.kind === "frame") {
      if (tag.type === TagType.Video ? !this.hasVideo : !this.hasAudio) return;
      for (const o of this.outputs) o.frame(tag, info.track, info.key);
      return;
    }
    for (const o of this.outputs) o.other(tag, info.kind === "config");
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
