/**
 * Shapes the control API returns that the web console reads too. Types only:
 * the console imports this module with `import type`, so no server code
 * reaches the browser bundle.
 */
import type { RecordingStats } from "../../engine/pipeline/types.js";

/** One recording on a live push, as /status and DescribeLiveStreamOnlineList report it. */
export interface LiveRecordingStatus extends RecordingStats {
  taskId: string;
  templateId: number;
}

export interface LivePushStatus {
  pushId: string;
  domain: string;
  app: string;
  stream: string;
  remoteAddress: string;
  startedAt: string;
  uptimeSec: number;
  /** Average since the push started, kbit/s. */
  bitrateKbps: number;
  /** The rule that chose the recording template, and the template. */
  matchedRule: string;
  templateId: number;
  recordings: LiveRecordingStatus[];
}
