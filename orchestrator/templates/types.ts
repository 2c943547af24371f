/**
 * Recording templates, field for field as the cloud API (spec §1.2–§1.4,
 * §1.9). Stored and returned with every field present (disabled formats
 * still appear with their values, as the cloud's DescribeLiveRecordTemplate does).
 */

/** spec §1.2 RecordParam. */
export interface RecordParam {
  /** Seconds per file; default 1800. FLV/MP4 60–43200, AAC/MP3 60–7200; not applicable to HLS. */
  RecordInterval: number;
  /** Seconds to keep files, 0–129,600,000 (1500 days); 0 = forever. */
  StorageTime: number;
  /** 0 or 1; default 0. */
  Enable: 0 | 1;
  VodSubAppId: number;
  /** File name pattern (spec §5); "" = the default pattern. */
  VodFileName: string;
  Procedure: string;
  StorageMode: string;
  ClassId: number;
  CosBucketName: string;
  CosBucketRegion: string;
  CosBucketPath: string;
}

/** The five per-format params of a template (MP3 is part of the cloud model; the engine records FLV/HLS/MP4/AAC). */
export const FORMAT_PARAMS = ["FlvParam", "HlsParam", "Mp4Param", "AacParam", "Mp3Param"] as const;
export type FormatParamKey = (typeof FORMAT_PARAMS)[number];

/** spec §1.9 RecordTemplateInfo, as stored and returned. */
export interface RecordTemplate {
  TemplateId: number;
  TemplateName: string;
  Description: string;
  FlvParam: RecordParam;
  HlsParam: RecordParam;
  Mp4Param: RecordParam;
  AacParam: RecordParam;
  Mp3Param: RecordParam;
  /** 0 normal live, 1 slow live. Not modifiable. */
  IsDelayLive: 0 | 1;
  /** spec §1.3: FlowContinueDuration 0–1800 s (0 = no HLS splicing). */
  HlsSpecialParam: { FlowContinueDuration: number };
  RemoveWatermark: boolean;
  /** Not modifiable. */
  CosStore: 0 | 1;
  FlvSpecialParam: { UploadInRecording: boolean };
}

/** A template as created: everything but the id the catalog assigns. */
export type RecordTemplateInput = Omit<RecordTemplate, "TemplateId">;
