/** FLV files, written by the engine tag for tag and rolled by the segmenter. */
import { join } from "node:path";
import { StorageError, errorMessage } from "../errors.js";
import type { Frame, MediaFrame } from "../flv/frame.js";
import type { Amf0Object } from "../rtmp/amf0.js";
import { FlvMuxer } from "../mux/flv-muxer.js";
import type { BytePatch } from "../mux/types.js";
import { FileSink } from "../segment/file-sink.js";
import { Segmenter } from "../segment/segmenter.js";
import { FrameDropper } from "./frame-dropper.js";
import type { OutputHost, RecordingOutput } from "./output-host.js";

/** onMetaData videocodecid of H.265: the legacy codec id, or the FourCC as a number (Enhanced RTMP "Enhancing onMetaData"). */
const LEGACY_HEVC_CODEC_ID = 12;
const HVC1_FOURCC = 0x68766331;

interface OpenFile {
  index: number;
  muxer: FlvMuxer;
  sink: FileSink;
  startTimestamp: number;
}

export class FlvOutput implements RecordingOutput {
  private readonly segmenter: Segmenter;
  private readonly dropper: FrameDropper;
  private current: OpenFile | undefined;
  private nextIndex = 0;
  private clampedClosed = 0;

  constructor(private readonly host: OutputHost) {
    const { intervalSec } = host.settings.formats.flv;
    this.segmenter = new Segmenter(intervalSec * 1000, host.hasVideo);
    this.dropper = new FrameDropper(host.settings.maxQueueBytes, host.hasVideo);
  }

  get queuedBytes(): number {
    return this.current?.sink.queuedBytes ?? 0;
  }

  get clampedTimestamps(): number {
    return this.clampedClosed + (this.current?.muxer.clampedTimestamps ?? 0);
  }

  frame(frame: MediaFrame): void {
    const decision = this.segmenter.decide(frame.track, frame.key, frame.dts);
    if (decision !== "same") {
      this.closeCurrent();
      this.open(frame.dts);
    }
    const file = this.current!;
    if (this.dropper.shouldDrop(file.sink.queuedBytes, frame.track, frame.key)) {
      this.host.countDropped(1);
      return;
    }
    file.sink.write(file.muxer.write(frame));
  }

  other(frame: Frame): void {
    // Before the first frame there is no file yet; config frames reach it through begin().
    const file = this.current;
    if (file) file.sink.write(file.muxer.write(frame));
  }

  async finish(): Promise<void> {
    this.closeCurrent();
  }

  private open(startTimestamp: number): void {
    const index = this.nextIndex++;
    const path = join(this.host.target.inProgressDirectory, `${this.host.target.id}.${index}.flv`);
    const hevcMode = this.host.settings.flvHevcMode ?? "enhanced";
    let muxer = new FlvMuxer(this.host.hasAudio, this.host.hasVideo, this.metadataFields(hevcMode), hevcMode);
    let opening: Buffer[];
    try {
      opening = muxer.begin(this.host.configFrames());
    } catch (err) {
      // Unwritable publisher metadata: record without the publisher's fields rather than not at all.
      this.host.deps.logger.warn("publisher metadata left out of the FLV header", { recording: this.host.target.id, error: errorMessage(err) });
      muxer = new FlvMuxer(this.host.hasAudio, this.host.hasVideo, {}, hevcMode);
      opening = muxer.begin(this.host.configFrames());
    }
    const sink = new FileSink(path, (err) => this.host.failed(err));
    sink.write(opening);
    this.current = { index, muxer, sink, startTimestamp };
    this.host.files.opened({ format: "flv", index, path, startTimestamp });
  }

  /** The publisher's onMetaData fields, with videocodecid saying how H.265 is written (12 or 'hvc1'). */
  private metadataFields(hevcMode: "enhanced" | "legacy"): Amf0Object {
    const fields = { ...this.host.metadata()?.fields };
    if (this.host.mediaDescription().videoCodec === "h265" && "videocodecid" in fields) {
      fields.videocodecid = hevcMode === "legacy" ? LEGACY_HEVC_CODEC_ID : HVC1_FOURCC;
    }
    return fields;
  }

  private closeCurrent(): void {
    const file = this.current;
    if (!file) return;
    this.current = undefined;
    this.clampedClosed += file.muxer.clampedTimestamps;
    const end = file.muxer.end();
    file.sink.write(end.bytes);
    this.host.track(this.complete(file, end.patch));
  }

  private async complete(file: OpenFile, patch: BytePatch | undefined): Promise<void> {
    try {
      const sizeBytes = await file.sink.close(patch);
      const startMs = this.host.wallForTimestamp(file.startTimestamp);
      const durationMs = file.muxer.durationMs;
      await this.host.files.finish({
        format: "flv",
        inProgressPath: file.sink.path,
        startMs,
        endMs: startMs + durationMs,
        durationSec: durationMs / 1000,
        sizeBytes,
        index: file.index,
        mediaStartMs: file.startTimestamp,
      });
    } catch (err) {
      this.host.failed(
        err instanceof StorageError ? err : new StorageError("FLV_CLOSE_FAILED", `closing ${file.sink.path} failed: ${errorMessage(err)}`, { cause: err }),
      );
    }
  }
}
