/**
 * What a consumer needs before media when it joins a stream or starts a new
 * file: the latest codec config of each track, the publisher's onMetaData,
 * and the codecs seen so far. Learnt from frames in arrival order; the stream
 * hub keeps one per push (for recordings attached mid-push), each recording
 * one of its own (for the files it starts). Pure.
 */
import type { AudioFrame, Frame, ScriptFrame, VideoFrame } from "../flv/frame.js";
import type { OnMetaData } from "../flv/on-metadata.js";
import type { AudioCodec, VideoCodec } from "../flv/tag-info.js";

export class StreamHeaders {
  /** Codec of the first video tag ("unknown" is replaced by the first known one). Undefined: no video seen. */
  videoCodec: VideoCodec | undefined;
  audioCodec: AudioCodec | undefined;
  videoConfig: VideoFrame | undefined;
  audioConfig: AudioFrame | undefined;
  /** An Enhanced RTMP audio MultichannelConfig: kept apart so it never replaces the sequence header. */
  audioChannelConfig: AudioFrame | undefined;
  /** The latest onMetaData script frame (its `metadata` is the parsed object). */
  metadataFrame: ScriptFrame | undefined;

  /** Keeps what the frame says about the stream. Keeps the frame itself (and its data) when it is a header. */
  observe(frame: Frame): void {
    if (frame.track === "data") {
      if (frame.kind === "metadata") this.metadataFrame = frame;
    } else if (frame.track === "video") {
      if (this.videoCodec === undefined || this.videoCodec === "unknown") this.videoCodec = frame.codec;
      if (frame.kind === "config") this.videoConfig = frame;
    } else {
      if (this.audioCodec === undefined || this.audioCodec === "unknown") this.audioCodec = frame.codec;
      if (frame.kind === "config") this.audioConfig = frame;
      else if (frame.multichannelConfig) this.audioChannelConfig = frame;
    }
  }

  get metadata(): OnMetaData | undefined {
    return this.metadataFrame?.metadata;
  }

  /** The config frames a new file starts with: video, audio, then the audio channel config. */
  configs(): Frame[] {
    const frames: Frame[] = [];
    if (this.videoConfig) frames.push(this.videoConfig);
    if (this.audioConfig) frames.push(this.audioConfig);
    if (this.audioChannelConfig) frames.push(this.audioChannelConfig);
    return frames;
  }

  /** What a consumer joining mid-stream gets first: onMetaData, then the video and audio configs. */
  joinFrames(): Frame[] {
    const frames: Frame[] = [];
    if (this.metadataFrame) frames.push(this.metadataFrame);
    if (this.videoConfig) frames.push(this.videoConfig);
    if (this.audioConfig) frames.push(this.audioConfig);
    return frames;
  }
}
