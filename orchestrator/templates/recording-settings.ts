/**
 * From a recording template (the cloud's, or the config's recordTemplate) to
 * the engine's RecordingSettings: which formats, their intervals, file name
 * patterns and storage times, plus the service-wide recording settings.
 */
import { type OutputFormat, OUTPUT_FORMATS } from "../../engine/mux/types.js";
import type { FormatSettings, RecordingSettings } from "../../engine/pipeline/types.js";
import { parseUtcOffset } from "../../engine/segment/naming.js";
import type { RecordParam } from "./types.js";

/** The template field of each output format (MP3 is not recorded). */
export const TEMPLATE_KEYS: Record<OutputFormat, "FlvParam" | "HlsParam" | "Mp4Param" | "AacParam"> = {
  flv: "FlvParam",
  hls: "HlsParam",
  mp4: "Mp4Param",
  aac: "AacParam",
};

/** The part of a RecordParam a recording reads (the config's template sets only these). */
export type FormatRecordParam = Pick<RecordParam, "Enable" | "RecordInterval"> & Partial<Pick<RecordParam, "VodFileName" | "StorageTime">>;

/** The per-format params a recording needs, from the config's template or a cloud-style one. */
export type FormatParams = Record<(typeof TEMPLATE_KEYS)[OutputFormat], FormatRecordParam> & {
  HlsSpecialParam?: { FlowContinueDuration: number };
};

/** Service-wide recording settings (the config's `recording` section). */
export interface RecordingDefaults {
  fileNameUtcOffset: string;
  hlsSegmentSeconds: number;
  probeWindowMs: number;
  maxQueueMegabytes: number;
  flvHevcMode: "enhanced" | "legacy";
}

/** spec §3.1: a task without a valid template records HLS. */
export const HLS_ONLY: FormatParams = {
  FlvParam: { Enable: 0, RecordInterval: 1800 },
  HlsParam: { Enable: 1, RecordInterval: 1800 },
  Mp4Param: { Enable: 0, RecordInterval: 1800 },
  AacParam: { Enable: 0, RecordInterval: 1800 },
};

/** The engine's view of a template. */
export function recordingSettings(defaults: RecordingDefaults, template: FormatParams): RecordingSettings {
  const formats = {} as Record<OutputFormat, FormatSettings>;
  for (const format of OUTPUT_FORMATS) {
    const p = template[TEMPLATE_KEYS[format]];
    formats[format] = { enabled: p.Enable === 1, intervalSec: p.RecordInterval, storageTimeSec: p.StorageTime ?? 0 };
    if (p.VodFileName) formats[format].vodFileName = p.VodFileName;
  }
  return {
    formats,
    hlsSegmentSeconds: defaults.hlsSegmentSeconds,
    utcOffsetMinutes: parseUtcOffset(defaults.fileNameUtcOffset),
    probeWindowMs: defaults.probeWindowMs,
    maxQueueBytes: defaults.maxQueueMegabytes * 1024 * 1024,
    hlsFlowContinueSec: template.HlsSpecialParam?.FlowContinueDuration ?? 0,
    flvHevcMode: defaults.flvHevcMode,
  };
}
