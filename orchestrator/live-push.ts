/**
 * One live push and the recordings attached to it: the one its template rule
 * chose at push start, and one per record task whose window is open. A
 * recording attached mid-push (a task starting while the stream is live)
 * gets the cached codec config and metadata first, then media from the next
 * keyframe, so its first file plays on its own.
 */
import { describeTag, stripSetDataFrame } from "../engine/flv/tag-info.js";
import type { FlvTag } from "../engine/flv/types.js";
import type { Recording } from "../engine/pipeline/recording.js";
import type { PublishSession } from "../engine/rtmp/rtmp-server.js";

export interface Attachment {
  recording: Recording;
  /** "" for the template recording. */
  taskId: string;
  templateId: number;
  /** Media is skipped until the next keyframe (attached mid-push). */
  waitingForKeyframe: boolean;
}

export class LivePush {
  readonly startedAt = new Date();
  readonly attachments = new Map<string, Attachment>();
  /** Tasks whose recording failed on this push (full disk...): not started again for it. */
  readonly failedTasks = new Set<string>();
  /** Media bytes received, for the bitrate operators see. */
  bytesIn = 0;
  /** Which rule (and template) chose this push's recording, resolved at push start. */
  matched: { rule: string; templateId: number } | undefined;
  private videoConfig: FlvTag | undefined;
  private audioConfig: FlvTag | undefined;
  private metadata: FlvTag | undefined;
  private sawVideo = false;
  /** Tags held until the push's template is resolved (a few ms at push start). */
  private held: FlvTag[] | undefined = [];
  ended = false;

  constructor(
    readonly id: string,
    readonly session: PublishSession,
  ) {}

  get domain(): string {
    return this.session.domain;
  }
  get app(): string {
    return this.session.app;
  }
  get stream(): string {
    return this.session.stream;
  }

  /** A tag from the publisher. Keeps the latest codec configs and metadata for late attachments. */
  onTag(tag: FlvTag): void {
    this.bytesIn += tag.data.length;
    const info = describeTag(tag);
    if (info.track === "video") {
      this.sawVideo = true;
      if (info.kind === "config") this.videoConfig = tag;
    } else if (info.track === "audio") {
      if (info.kind === "config") this.audioConfig = tag;
    } else if (info.kind === "metadata") {
      this.metadata = tag;
    }
    if (this.held) {
      // Recordings attached already get it now; those attached later get it from `held`.
      this.held.push(tag);
      for (const a of this.attachments.values()) a.recording.push(tag);
      return;
    }
    const startsGop = info.kind === "frame" && (info.track === "video" ? info.key : !this.sawVideo);
    for (const a of this.attachments.values()) {
      if (a.waitingForKeyframe) {
        if (info.kind === "frame" && !startsGop) continue;
        if (startsGop) a.waitingForKeyframe = false;
      }
      a.recording.push(tag);
    }
  }

  /** Attaches a recording. At push start it gets every tag held so far; mid-push, the cached headers. */
  attach(a: Omit<Attachment, "waitingForKeyframe">): void {
    if (this.held) {
      this.attachments.set(a.recording.target.id, { ...a, waitingForKeyframe: false });
      for (const tag of this.held) a.recording.push(tag);
      return;
    }
    this.attachments.set(a.recording.target.id, { ...a, waitingForKeyframe: true });
    if (this.metadata) a.recording.push({ ...this.metadata, data: stripSetDataFrame(this.metadata.data) });
    if (this.videoConfig) a.recording.push(this.videoConfig);
    if (this.audioConfig) a.recording.push(this.audioConfig);
  }

  /** The push's template is resolved: from now on tags flow straight to the attachments. */
  release(): void {
    this.held = undefined;
  }

  detach(recordingId: string): Attachment | undefined {
    const a = this.attachments.get(recordingId);
    this.attachments.delete(recordingId);
    return a;
  }
}
