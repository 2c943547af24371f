/**
 * Validation of the recording-template actions (spec §1.1 Create, §1.5
 * Modify, §1.6/1.7 Delete/Describe by id, §1.8 DescribeLiveRecordTemplates).
 * Pure: untrusted input in, typed values or ApiError out.
 *
 * Ranges from the spec: RecordInterval FLV/MP4 60-43200, AAC 60-7200, MP3
 * treated as AAC (60-7200), HLS accepted as 60-43200 but not applicable
 * (an HLS file runs from push start to push end); StorageTime 0-129600000 s;
 * FlowContinueDuration 0-1800 s. Defaults: Enable 0, RecordInterval 1800,
 * StorageTime 0, the other RecordParam fields "" / 0.
 *
 * Our choices where the spec is silent:
 * - TemplateName: 1-30 characters (the spec gives no length); CJK Unified
 *   Ideographs, A-Z a-z 0-9, "_" and "-".
 * - Description: at most 100 characters, any text.
 * - VodFileName: at most 200 characters (rendered names must stay below the
 *   255-byte file name limit); "" means the default pattern (spec §5).
 * - CosBucketPath: at most 512 characters; starts with "/"; placeholders from
 *   spec §5; literal text of A-Z a-z 0-9 . _ ~ - and "/", no empty, "." or
 *   ".." segments (it may become a path on disk).
 * - CosBucketName: "" or 1-50 of a-z 0-9 "-", not starting/ending with "-";
 *   CosBucketRegion: "" or 1-32 of a-z 0-9 "-". Procedure: at most 128 characters.
 * - VodSubAppId and ClassId: integers 0 to 2^53-1.
 * - With CosStore 1, every enabled format needs a CosBucketPath (the SDK marks
 *   it required as input) -> MissingParameter.
 */
import { invalidVodFileNameParts } from "../../engine/segment/naming.js";
import { ApiError } from "../control/api-error.js";
import { fieldError, Input, type InputOptions } from "../control/input.js";
import {
  FORMAT_PARAMS,
  type FormatParamKey,
  type RecordParam,
  type RecordTemplate,
  type RecordTemplateInput,
} from "./types.js";

/** spec §1.2: default RecordInterval. */
export const DEFAULT_RECORD_INTERVAL = 1800;
/** spec §1.2: RecordInterval ranges per format (HLS: accepted, not applicable). */
export const RECORD_INTERVAL_RANGE: Readonly<Record<FormatParamKey, { min: number; max: number }>> = {
  FlvParam: { min: 60, max: 43200 },
  Mp4Param: { min: 60, max: 43200 },
  HlsParam: { min: 60, max: 43200 },
  AacParam: { min: 60, max: 7200 },
  Mp3Param: { min: 60, max: 7200 },
};
/** spec §1.2: StorageTime 0 - 1500 days, in seconds; 0 = forever. */
export const STORAGE_TIME_MAX = 1500 * 86400;
/** spec §1.3: HLS continue-recording window, seconds. */
export const FLOW_CONTINUE_DURATION_MAX = 1800;
/** Our choice: the spec gives no length. */
export const TEMPLATE_NAME_MAX_LENGTH = 30;
/** Our choice. */
export const DESCRIPTION_MAX_LENGTH = 100;
/** Our choice. */
export const VOD_FILE_NAME_MAX_LENGTH = 200;
/** Our choice. */
export const COS_BUCKET_PATH_MAX_LENGTH = 512;

const TEMPLATE_NAME_RE = /^[\p{Unified_Ideograph}A-Za-z0-9_-]+$/u;
const COS_BUCKET_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/;
const COS_BUCKET_REGION_RE = /^[a-z0-9-]{1,32}$/;
const STORAGE_MODES = ["", "normal", "cold"] as const;
const COS_PATH_PLACEHOLDERS = new Set([
  "RecordSource",
  "Domain",
  "AppName",
  "StreamID",
  "RecordId",
  "RandomID",
  ...["Year", "Month", "Day", "Hour", "Minute", "Second", "Millisecond"].flatMap((p) => [`Start${p}`, `End${p}`]),
]);
const PLACEHOLDER_RE = /\{([^{}]*)\}/g;

const RECORD_PARAM_FIELDS = [
  "RecordInterval",
  "StorageTime",
  "Enable",
  "VodSubAppId",
  "VodFileName",
  "Procedure",
  "StorageMode",
  "ClassId",
  "CosBucketName",
  "CosBucketRegion",
  "CosBucketPath",
] as const satisfies readonly (keyof RecordParam)[];

const MODIFIABLE_FIELDS = [
  "TemplateName",
  "Description",
  ...FORMAT_PARAMS,
  "HlsSpecialParam",
  "RemoveWatermark",
  "FlvSpecialParam",
] as const;
const NOT_MODIFIABLE_FIELDS = ["IsDelayLive", "CosStore"] as const;
const CREATE_FIELDS = [...MODIFIABLE_FIELDS, ...NOT_MODIFIABLE_FIELDS];

/** A RecordParam with every field at its default (spec §1.2). */
export function defaultRecordParam(): RecordParam {
  return {
    RecordInterval: DEFAULT_RECORD_INTERVAL,
    StorageTime: 0,
    Enable: 0,
    VodSubAppId: 0,
    VodFileName: "",
    Procedure: "",
    StorageMode: "",
    ClassId: 0,
    CosBucketName: "",
    CosBucketRegion: "",
    CosBucketPath: "",
  };
}

function cosBucketPathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return 'must start with "/"';
  const bad = [...path.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!).filter((p) => !COS_PATH_PLACEHOLDERS.has(p));
  if (bad.length > 0) return `uses unknown placeholders (${bad.slice(0, 3).join(", ")})`;
  const literal = path.replace(PLACEHOLDER_RE, "x");
  if (literal.includes("{") || literal.includes("}")) return "has an unbalanced brace";
  if (!/^[A-Za-z0-9._~/-]+$/.test(literal)) return "must use only A-Z a-z 0-9 . _ ~ - / outside placeholders";
  const segments = path.slice(1).split("/");
  if (segments.some((s) => s === "" || s === "." || s === "..")) return 'must not have empty, "." or ".." segments';
  return undefined;
}

/**
 * Reads one RecordParam struct over `base` (the defaults on create, the
 * stored param on modify): given fields replace, absent ones keep `base`.
 */
function readRecordParam(input: Input, key: FormatParamKey, base: RecordParam): RecordParam {
  input.rejectUnknown(RECORD_PARAM_FIELDS);
  const range = RECORD_INTERVAL_RANGE[key];
  const p: RecordParam = { ...base };
  p.RecordInterval = input.integer("RecordInterval", { default: base.RecordInterval, ...range });
  p.StorageTime = input.integer("StorageTime", { default: base.StorageTime, min: 0, max: STORAGE_TIME_MAX });
  p.Enable = input.integerEnum("Enable", [0, 1] as const, { default: base.Enable });
  p.VodSubAppId = input.integer("VodSubAppId", { default: base.VodSubAppId, min: 0 });
  const vodFileName = input.string("VodFileName");
  if (vodFileName !== undefined) {
    if (vodFileName !== "") {
      const bad =
        vodFileName.length > VOD_FILE_NAME_MAX_LENGTH
          ? [`longer than ${VOD_FILE_NAME_MAX_LENGTH} characters`]
          : invalidVodFileNameParts(vodFileName);
      if (bad.length > 0) {
        throw fieldError(
          "InvalidParameter.InvalidVodFileName",
          input.path("VodFileName"),
          `must use only the spec placeholders ({StreamID}, {StartYear}...{EndMillisecond}) and A-Z a-z 0-9 . _ ~ -, at most ${VOD_FILE_NAME_MAX_LENGTH} characters (problem: ${bad.slice(0, 3).join(", ")})`,
          vodFileName,
        );
      }
    }
    p.VodFileName = vodFileName;
  }
  p.Procedure = input.string("Procedure", { default: base.Procedure, maxLength: 128 });
  const mode = input.string("StorageMode");
  if (mode !== undefined) {
    if (!(STORAGE_MODES as readonly string[]).includes(mode)) {
      throw fieldError("InvalidParameterValue", input.path("StorageMode"), 'must be "normal", "cold" or ""', mode);
    }
    p.StorageMode = mode;
  }
  p.ClassId = input.integer("ClassId", { default: base.ClassId, min: 0 });
  const bucketName = input.string("CosBucketName");
  if (bucketName !== undefined) {
    if (bucketName !== "" && !COS_BUCKET_NAME_RE.test(bucketName)) {
      throw fieldError(
        "InvalidParameterValue",
        input.path("CosBucketName"),
        'must be 1-50 characters of a-z 0-9 "-", not starting or ending with "-"',
        bucketName,
      );
    }
    p.CosBucketName = bucketName;
  }
  const region = input.string("CosBucketRegion");
  if (region !== undefined) {
    if (region !== "" && !COS_BUCKET_REGION_RE.test(region)) {
      throw fieldError("InvalidParameterValue", input.path("CosBucketRegion"), 'must be 1-32 characters of a-z 0-9 "-"', region);
    }
    p.CosBucketRegion = region;
  }
  const cosPath = input.string("CosBucketPath", { maxLength: COS_BUCKET_PATH_MAX_LENGTH });
  if (cosPath !== undefined) {
    const problem = cosPath === "" ? undefined : cosBucketPathProblem(cosPath);
    if (problem !== undefined) throw fieldError("InvalidParameterValue", input.path("CosBucketPath"), problem, cosPath);
    p.CosBucketPath = cosPath;
  }
  return p;
}

/** The fields Create and Modify share, read over `base`. */
function readCommonFields(input: Input, base: RecordTemplateInput): RecordTemplateInput {
  const t: RecordTemplateInput = { ...base };
  t.TemplateName = input.string("TemplateName", {
    default: base.TemplateName,
    minLength: 1,
    maxLength: TEMPLATE_NAME_MAX_LENGTH,
    pattern: TEMPLATE_NAME_RE,
    patternHint: 'must use only Chinese characters, A-Z a-z 0-9, "_" and "-"',
  });
  t.Description = input.string("Description", { default: base.Description, maxLength: DESCRIPTION_MAX_LENGTH });
  for (const key of FORMAT_PARAMS) {
    const param = input.object(key);
    t[key] = param === undefined ? { ...base[key] } : readRecordParam(param, key, base[key]);
  }
  const hls = input.object("HlsSpecialParam");
  if (hls !== undefined) {
    hls.rejectUnknown(["FlowContinueDuration"]);
    t.HlsSpecialParam = {
      FlowContinueDuration: hls.integer("FlowContinueDuration", {
        default: base.HlsSpecialParam.FlowContinueDuration,
        min: 0,
        max: FLOW_CONTINUE_DURATION_MAX,
      }),
    };
  } else {
    t.HlsSpecialParam = { ...base.HlsSpecialParam };
  }
  t.RemoveWatermark = input.boolean("RemoveWatermark", { default: base.RemoveWatermark });
  const flv = input.object("FlvSpecialParam");
  if (flv !== undefined) {
    flv.rejectUnknown(["UploadInRecording"]);
    t.FlvSpecialParam = {
      UploadInRecording: flv.boolean("UploadInRecording", { default: base.FlvSpecialParam.UploadInRecording }),
    };
  } else {
    t.FlvSpecialParam = { ...base.FlvSpecialParam };
  }
  return t;
}

/** With CosStore 1, every enabled format must say where in the bucket its files go. */
function checkCosStore(t: RecordTemplateInput): void {
  if (t.CosStore !== 1) return;
  for (const key of FORMAT_PARAMS) {
    if (t[key].Enable === 1 && t[key].CosBucketPath === "") {
      throw new ApiError("MissingParameter", `missing required parameter ${key}.CosBucketPath (required for an enabled format when CosStore is 1)`);
    }
  }
}

/** spec §1.1 CreateLiveRecordTemplate: a full template with every default filled in. */
export function parseCreateTemplate(raw: unknown, opts: InputOptions): RecordTemplateInput {
  const input = new Input(raw, opts);
  input.rejectUnknown(CREATE_FIELDS);
  if (!input.has("TemplateName")) throw new ApiError("MissingParameter", "missing required parameter TemplateName");
  const defaults: RecordTemplateInput = {
    TemplateName: "",
    Description: "",
    FlvParam: defaultRecordParam(),
    HlsParam: defaultRecordParam(),
    Mp4Param: defaultRecordParam(),
    AacParam: defaultRecordParam(),
    Mp3Param: defaultRecordParam(),
    IsDelayLive: 0,
    HlsSpecialParam: { FlowContinueDuration: 0 },
    RemoveWatermark: false,
    CosStore: 0,
    FlvSpecialParam: { UploadInRecording: false },
  };
  const t = readCommonFields(input, defaults);
  t.IsDelayLive = input.integerEnum("IsDelayLive", [0, 1] as const, { default: 0 });
  t.CosStore = input.integerEnum("CosStore", [0, 1] as const, { default: 0 });
  checkCosStore(t);
  return t;
}

/**
 * spec §1.5 ModifyLiveRecordTemplate, applied to the stored template: given
 * fields replace stored ones, a given RecordParam / HlsSpecialParam /
 * FlvSpecialParam is merged field by field over the stored one. IsDelayLive
 * and CosStore are not modifiable (InvalidParameter if present). `existing`
 * is the template TemplateId names (read it first with
 * `parseTemplateId(raw, { ..., ignoreOtherFields: true })`).
 */
export function parseModifyTemplate(raw: unknown, existing: RecordTemplate, opts: InputOptions): RecordTemplate {
  const input = new Input(raw, opts);
  input.rejectUnknown(["TemplateId", ...CREATE_FIELDS]);
  const id = input.integer("TemplateId", { required: true, min: 1 });
  if (id !== existing.TemplateId) {
    throw new ApiError("InternalError", `template ${existing.TemplateId} was given to modify TemplateId ${id}`);
  }
  for (const field of NOT_MODIFIABLE_FIELDS) {
    if (input.has(field)) throw new ApiError("InvalidParameter", `${field} is not modifiable (spec: set only at creation)`);
  }
  const { TemplateId, ...stored } = existing;
  const t = readCommonFields(input, stored);
  checkCosStore(t);
  return { TemplateId, ...t };
}

/**
 * Reads TemplateId (a positive integer; MissingParameter when absent), for
 * DeleteLiveRecordTemplate / DescribeLiveRecordTemplate, which take nothing
 * else. `ignoreOtherFields`: read the id of a request that has more fields
 * (ModifyLiveRecordTemplate, before looking the template up).
 */
export function parseTemplateId(raw: unknown, opts: InputOptions & { ignoreOtherFields?: boolean }): number {
  const input = new Input(raw, opts);
  if (!opts.ignoreOtherFields) input.rejectUnknown(["TemplateId"]);
  return input.integer("TemplateId", { required: true, min: 1 });
}

/**
 * spec §1.8 DescribeLiveRecordTemplates. IsDelayLive is undefined when not
 * given; the spec says the cloud then filters as 0 (standard live).
 */
export function parseDescribeTemplates(raw: unknown, opts: InputOptions): { IsDelayLive?: 0 | 1 } {
  const input = new Input(raw, opts);
  input.rejectUnknown(["IsDelayLive"]);
  const IsDelayLive = input.integerEnum("IsDelayLive", [0, 1] as const);
  return IsDelayLive === undefined ? {} : { IsDelayLive };
}
