/** Shapes of the API answers the console reads (see orchestrator/api/actions.ts). */

export type OutputFormat = "flv" | "hls" | "mp4" | "aac";

export interface FormatSkip {
  format: OutputFormat;
  code: string;
  reason: string;
}

export interface LiveRecording {
  id: string;
  state: "probing" | "recording" | "closing" | "closed";
  tracks: { video?: string; audio?: string };
  formats: OutputFormat[];
  skipped: FormatSkip[];
  tagsIn: number;
  droppedFrames: number;
  queuedBytes: number;
  filesCompleted: number;
  errors: number;
  /** "" for the recording the template rule chose. */
  taskId: string;
  templateId: number;
}

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
  Recordings: LiveRecording[];
}

// The API's own structs, shared with the server (type-only: nothing of the server is bundled).
export type { FormatParamKey, RecordParam, RecordTemplate } from "../../../orchestrator/templates/types.js";
export { FORMAT_PARAMS } from "../../../orchestrator/templates/types.js";
export type { RecordRule } from "../../../orchestrator/rules/types.js";
export type { RecordTask } from "../../../orchestrator/tasks/types.js";

export interface MediaInfo {
  FileId: string;
  BasicInfo: {
    Name: string;
    CreateTime: string;
    ExpireTime: string;
    Type: "flv" | "mp4" | "m3u8" | "aac";
    MediaUrl: string;
    Category: string;
    SourceInfo: { LiveRecordInfo: { Domain: string; Path: string; StreamId: string; RecordStartTime: string; RecordEndTime: string } };
  };
  MetaData: {
    Size: number;
    Container: string;
    Duration: number;
    Width: number;
    Height: number;
    VideoStreamSet: { Codec: string; Width: number; Height: number }[];
    AudioStreamSet: { Codec: string }[];
  };
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface CallbackDelivery {
  DeliveryId: number;
  Url: string;
  EventType: number;
  FileId: string;
  Status: DeliveryStatus;
  Attempts: number;
  LastError: string;
  NextAttemptTime: number;
  CreateTime: number;
  DeliveredTime: number;
  Body: Record<string, unknown>;
}

export const NOTIFY_URL_FIELDS = [
  "RecordNotifyUrl",
  "RecordStatusNotifyUrl",
  "StreamBeginNotifyUrl",
  "StreamEndNotifyUrl",
  "SnapshotNotifyUrl",
  "PornCensorshipNotifyUrl",
  "StreamMixNotifyUrl",
  "PushExceptionNotifyUrl",
  "AudioAuditNotifyUrl",
  "RecordExceptionNotifyUrl",
] as const;
export type NotifyUrlField = (typeof NOTIFY_URL_FIELDS)[number];

export type CallbackTemplate = {
  TemplateId: number;
  TemplateName: string;
  Description: string;
  CallbackKey: string;
  RecordExceptionLevels: string[];
} & Record<NotifyUrlField, string>;

export interface CallbackRule {
  DomainName: string;
  AppName: string;
  TemplateId: number;
  CreateTime: string;
}
