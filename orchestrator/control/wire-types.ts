/**
 * Shapes the control API returns that the web console reads too. Types only:
 * the console imports this module with `import type`, so no server code
 * reaches the browser bundle.
 */
import type { RecordingStats } from "../../engine/pipeline/types.js";

// The API's structs the console also reads (templates, rules, tasks); `export type` keeps their modules out of the bundle.
export type { FormatParamKey, RecordParam, RecordTemplate } from "../templates/types.js";
export type { RecordRule } from "../rules/types.js";
export type { RecordTask } from "../tasks/types.js";

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

/** One push in DescribeLiveStreamOnlineList's OnlineInfo (live-control.ts): the cloud's fields, then ours. */
export interface OnlineInfo {
  StreamName: string;
  AppName: string;
  DomainName: string;
  PublishTimeList: { PublishTime: string }[];
  RemoteAddress: string;
  UptimeSec: number;
  BitrateKbps: number;
  MatchedRule: string;
  TemplateId: number;
  Recordings: LiveRecordingStatus[];
}
