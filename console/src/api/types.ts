/** Shapes of the API answers the console reads (see orchestrator/api/actions.ts). */

// The API's own structs, shared with the server through a module of types only: nothing of the server is bundled.
import type { FormatParamKey } from "../../../orchestrator/control/wire-types.js";

export type {
  FormatParamKey,
  LivePushStatus,
  LiveRecordingStatus,
  OnlineInfo,
  RecordParam,
  RecordRule,
  RecordTask,
  RecordTemplate,
} from "../../../orchestrator/control/wire-types.js";

/**
 * The per-format params of a template, in the API's order. Spelled out here (the server's list is
 * runtime code); `satisfies` makes a key the server adds or drops fail to compile.
 */
export const FORMAT_PARAMS = Object.keys({ FlvParam: 0, HlsParam: 0, Mp4Param: 0, AacParam: 0, Mp3Param: 0 } satisfies Record<FormatParamKey, 0>) as FormatParamKey[];

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
