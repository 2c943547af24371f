import { describe, expect, it } from "vitest";
import { DEFAULT_VOD_FILE_NAME } from "../../engine/segment/naming.js";
import { flattenedQueryToObject } from "../control/input.js";
import {
  defaultRecordParam,
  parseCreateTemplate,
  parseDescribeTemplates,
  parseModifyTemplate,
  parseTemplateId,
} from "./template-schema.js";
import type { RecordTemplate } from "./types.js";

const POST = { fromQuery: false };
const GET = { fromQuery: true };
const code = (c: string) => expect.objectContaining({ code: c });
const q = (s: string) => flattenedQueryToObject(new URLSearchParams(s));
const create = (body: Record<string, unknown>) => parseCreateTemplate({ TemplateName: "t", ...body }, POST);
const withParam = (key: string, param: Record<string, unknown>) => create({ [key]: param });

describe("parseCreateTemplate: happy paths", () => {
  it("fills every default from a name alone", () => {
    const t = parseCreateTemplate({ TemplateName: "t" }, POST);
    const off = { ...defaultRecordParam() };
    expect(t).toEqual({
      TemplateName: "t",
      Description: "",
      FlvParam: off,
      HlsParam: off,
      Mp4Param: off,
      AacParam: off,
      Mp3Param: off,
      IsDelayLive: 0,
      HlsSpecialParam: { FlowContinueDuration: 0 },
      RemoveWatermark: false,
      CosStore: 0,
      FlvSpecialParam: { UploadInRecording: false },
    });
    expect(off).toEqual({
      RecordInterval: 1800,
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
    });
  });

  it("reads a GET-style flattened query", () => {
    const t = parseCreateTemplate(q("TemplateName=a&Mp4Param.Enable=1&Mp4Param.RecordInterval=60"), GET);
    expect(t.TemplateName).toBe("a");
    expect(t.Mp4Param).toEqual({ ...defaultRecordParam(), Enable: 1, RecordInterval: 60 });
    expect(t.FlvParam.Enable).toBe(0);
  });

  it("reads query-mode booleans and nested specials", () => {
    const t = parseCreateTemplate(
      q("TemplateName=a&RemoveWatermark=true&FlvSpecialParam.UploadInRecording=1&HlsSpecialParam.FlowContinueDuration=1800&IsDelayLive=1"),
      GET,
    );
    expect(t).toMatchObject({
      RemoveWatermark: true,
      FlvSpecialParam: { UploadInRecording: true },
      HlsSpecialParam: { FlowContinueDuration: 1800 },
      IsDelayLive: 1,
    });
  });

  it("reads a full POST body", () => {
    const body = {
      TemplateName: "录制模板_1-a",
      Description: "nightly",
      FlvParam: { Enable: 1, RecordInterval: 43200, StorageTime: 129600000, VodFileName: DEFAULT_VOD_FILE_NAME },
      HlsParam: { Enable: 1 },
      Mp4Param: { Enable: 1, RecordInterval: 60, StorageMode: "cold", VodSubAppId: 7, ClassId: 3, Procedure: "p1" },
      AacParam: { Enable: 1, RecordInterval: 7200 },
      Mp3Param: { Enable: 0, RecordInterval: 7200 },
      IsDelayLive: 0,
      HlsSpecialParam: { FlowContinueDuration: 30 },
      CosStore: 1,
      RemoveWatermark: true,
      FlvSpecialParam: { UploadInRecording: true },
    };
    const cos = { CosBucketName: "rec", CosBucketRegion: "ap-guangzhou", CosBucketPath: "/{Domain}/{AppName}/{StreamID}/{RandomID}" };
    for (const k of ["FlvParam", "HlsParam", "Mp4Param", "AacParam"] as const) Object.assign(body[k], cos);
    const t = parseCreateTemplate(body, POST);
    expect(t.TemplateName).toBe("录制模板_1-a");
    expect(t.FlvParam).toMatchObject({ Enable: 1, RecordInterval: 43200, StorageTime: 129600000, VodFileName: DEFAULT_VOD_FILE_NAME });
    expect(t.Mp4Param).toMatchObject({ StorageMode: "cold", VodSubAppId: 7, ClassId: 3, Procedure: "p1", ...cos });
    expect(t.AacParam.RecordInterval).toBe(7200);
    expect(t).toMatchObject({ CosStore: 1, RemoveWatermark: true, HlsSpecialParam: { FlowContinueDuration: 30 } });
  });

  it("accepts an all-disabled template (the documented way to not record)", () => {
    expect(create({ FlvParam: { Enable: 0 } }).FlvParam.Enable).toBe(0);
  });

  it("accepts 30 Chinese characters as a name", () => {
    expect(parseCreateTemplate({ TemplateName: "录".repeat(30) }, POST).TemplateName).toHaveLength(30);
  });

  it("treats null fields as absent", () => {
    expect(create({ Description: null, Mp4Param: null }).Mp4Param).toEqual(defaultRecordParam());
  });
});

describe("parseCreateTemplate: refusals", () => {
  it("InvalidParameter when the body is not an object", () => {
    expect(() => parseCreateTemplate("x", POST)).toThrow(code("InvalidParameter"));
    expect(() => parseCreateTemplate([], POST)).toThrow(code("InvalidParameter"));
  });

  it("MissingParameter without TemplateName (absent or null)", () => {
    expect(() => parseCreateTemplate({}, POST)).toThrow(code("MissingParameter"));
    expect(() => parseCreateTemplate({ TemplateName: null }, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameter for a TemplateName that is not a String", () => {
    expect(() => parseCreateTemplate({ TemplateName: 5 }, POST)).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameterValue for an empty or over-30-character TemplateName", () => {
    expect(() => parseCreateTemplate({ TemplateName: "" }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseCreateTemplate({ TemplateName: "a".repeat(31) }, POST)).toThrow(code("InvalidParameterValue"));
  });

  it("InvalidParameterValue for TemplateName characters other than CJK, letters, digits, _ and -", () => {
    for (const name of ["a b", "a.b", "a/b", "模板!", "caf\u00e9", "\u3001", "a\n"]) {
      expect(() => parseCreateTemplate({ TemplateName: name }, POST)).toThrow(code("InvalidParameterValue"));
    }
  });

  it("InvalidParameterValue for a Description over 100 characters", () => {
    expect(create({ Description: "d".repeat(100) }).Description).toHaveLength(100);
    expect(() => create({ Description: "d".repeat(101) })).toThrow(code("InvalidParameterValue"));
  });

  it("UnknownParameter for an unknown top-level field", () => {
    expect(() => create({ Mp5Param: {} })).toThrow(code("UnknownParameter"));
  });

  it("UnknownParameter for an unknown RecordParam / special-param field", () => {
    expect(() => withParam("Mp4Param", { Enabled: 1 })).toThrow(code("UnknownParameter"));
    expect(() => create({ HlsSpecialParam: { Flow: 1 } })).toThrow(code("UnknownParameter"));
    expect(() => create({ FlvSpecialParam: { Upload: true } })).toThrow(code("UnknownParameter"));
  });

  it("InvalidParameter when a RecordParam is not an object", () => {
    expect(() => create({ FlvParam: "1" })).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameter for RecordInterval given as a JSON string in POST mode", () => {
    expect(() => withParam("Mp4Param", { RecordInterval: "60" })).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameter for a fractional RecordInterval", () => {
    expect(() => withParam("Mp4Param", { RecordInterval: 60.5 })).toThrow(code("InvalidParameter"));
  });

  it("InvalidParameter for a non-decimal integer in query mode", () => {
    expect(() => parseCreateTemplate(q("TemplateName=a&Mp4Param.RecordInterval=6e1"), GET)).toThrow(code("InvalidParameter"));
  });

  it("FLV and MP4 RecordInterval: 60-43200", () => {
    for (const key of ["FlvParam", "Mp4Param"]) {
      expect(withParam(key, { RecordInterval: 43200 })[key as "FlvParam"].RecordInterval).toBe(43200);
      expect(() => withParam(key, { RecordInterval: 59 })).toThrow(code("InvalidParameterValue"));
      expect(() => withParam(key, { RecordInterval: 43201 })).toThrow(code("InvalidParameterValue"));
    }
  });

  it("AAC and MP3 RecordInterval: 60-7200", () => {
    for (const key of ["AacParam", "Mp3Param"]) {
      expect(withParam(key, { RecordInterval: 7200 })[key as "AacParam"].RecordInterval).toBe(7200);
      expect(() => withParam(key, { RecordInterval: 7201 })).toThrow(code("InvalidParameterValue"));
      expect(() => withParam(key, { RecordInterval: 59 })).toThrow(code("InvalidParameterValue"));
    }
  });

  it("HLS RecordInterval: accepted 60-43200 (not applicable)", () => {
    expect(withParam("HlsParam", { RecordInterval: 43200 }).HlsParam.RecordInterval).toBe(43200);
    expect(() => withParam("HlsParam", { RecordInterval: 0 })).toThrow(code("InvalidParameterValue"));
    expect(() => withParam("HlsParam", { RecordInterval: 43201 })).toThrow(code("InvalidParameterValue"));
  });

  it("StorageTime: 0-129600000", () => {
    expect(withParam("FlvParam", { StorageTime: 129600000 }).FlvParam.StorageTime).toBe(129600000);
    expect(() => withParam("FlvParam", { StorageTime: 129600001 })).toThrow(code("InvalidParameterValue"));
    expect(() => withParam("FlvParam", { StorageTime: -1 })).toThrow(code("InvalidParameterValue"));
  });

  it("Enable: 0 or 1", () => {
    expect(() => withParam("FlvParam", { Enable: 2 })).toThrow(code("InvalidParameterValue"));
    expect(() => withParam("FlvParam", { Enable: true })).toThrow(code("InvalidParameter"));
  });

  it("VodFileName: unknown placeholders, separators, braces or length -> InvalidParameter.InvalidVodFileName", () => {
    for (const name of ["{StreamID}_{Foo}", "a/{StreamID}", "{StreamID", "..", "x".repeat(201), "a b"]) {
      expect(() => withParam("Mp4Param", { VodFileName: name })).toThrow(code("InvalidParameter.InvalidVodFileName"));
    }
    expect(withParam("Mp4Param", { VodFileName: "" }).Mp4Param.VodFileName).toBe("");
    expect(withParam("Mp4Param", { VodFileName: "{StreamID}-{StartMillisecond}" }).Mp4Param.VodFileName).toBe("{StreamID}-{StartMillisecond}");
  });

  it("StorageMode: \"\", normal or cold", () => {
    expect(withParam("Mp4Param", { StorageMode: "normal" }).Mp4Param.StorageMode).toBe("normal");
    expect(() => withParam("Mp4Param", { StorageMode: "hot" })).toThrow(code("InvalidParameterValue"));
  });

  it("VodSubAppId and ClassId: non-negative integers", () => {
    expect(() => withParam("Mp4Param", { VodSubAppId: -1 })).toThrow(code("InvalidParameterValue"));
    expect(() => withParam("Mp4Param", { ClassId: -1 })).toThrow(code("InvalidParameterValue"));
  });

  it("Procedure: at most 128 characters", () => {
    expect(() => withParam("Mp4Param", { Procedure: "p".repeat(129) })).toThrow(code("InvalidParameterValue"));
  });

  it("CosBucketPath must start with /", () => {
    expect(() => withParam("Mp4Param", { CosBucketPath: "rec/{StreamID}" })).toThrow(code("InvalidParameterValue"));
  });

  it("CosBucketPath: known placeholders, safe characters, no empty / . / .. segments", () => {
    for (const path of ["/{Bogus}", "/a/../b", "/a//b", "/./a", "/a b", "/a\\b", "/{StreamID"]) {
      expect(() => withParam("Mp4Param", { CosBucketPath: path })).toThrow(code("InvalidParameterValue"));
    }
    const example =
      "/{RecordSource}/{Domain}/{AppName}/{StreamID}/{RecordId}-{RandomID}/{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}";
    expect(withParam("Mp4Param", { CosBucketPath: example }).Mp4Param.CosBucketPath).toBe(example);
  });

  it("CosBucketName and CosBucketRegion: lowercase letters, digits and -", () => {
    expect(() => withParam("Mp4Param", { CosBucketName: "Rec" })).toThrow(code("InvalidParameterValue"));
    expect(() => withParam("Mp4Param", { CosBucketName: "-rec" })).toThrow(code("InvalidParameterValue"));
    expect(() => withParam("Mp4Param", { CosBucketRegion: "ap guangzhou" })).toThrow(code("InvalidParameterValue"));
  });

  it("IsDelayLive and CosStore: 0 or 1", () => {
    expect(() => create({ IsDelayLive: 2 })).toThrow(code("InvalidParameterValue"));
    expect(() => create({ CosStore: 2 })).toThrow(code("InvalidParameterValue"));
  });

  it("CosStore 1 needs a CosBucketPath on every enabled format", () => {
    expect(() => create({ CosStore: 1, FlvParam: { Enable: 1 } })).toThrow(code("MissingParameter"));
    expect(create({ CosStore: 1, FlvParam: { Enable: 0 } }).CosStore).toBe(1);
  });

  it("FlowContinueDuration: 0-1800", () => {
    expect(() => create({ HlsSpecialParam: { FlowContinueDuration: 1801 } })).toThrow(code("InvalidParameterValue"));
    expect(() => create({ HlsSpecialParam: { FlowContinueDuration: -1 } })).toThrow(code("InvalidParameterValue"));
  });

  it("RemoveWatermark and UploadInRecording: JSON booleans in POST mode", () => {
    expect(() => create({ RemoveWatermark: 1 })).toThrow(code("InvalidParameter"));
    expect(() => create({ FlvSpecialParam: { UploadInRecording: "true" } })).toThrow(code("InvalidParameter"));
  });

  it("refuses proto-pollution keys in a query", () => {
    expect(() => parseCreateTemplate(q("TemplateName=a&Mp4Param.__proto__=1"), GET)).toThrow(code("InvalidParameter"));
    expect(() => parseCreateTemplate(q("TemplateName=a&constructor.prototype=1"), GET)).toThrow(code("InvalidParameter"));
  });

  it("names the field, the value and the range in the message", () => {
    expect(() => withParam("AacParam", { RecordInterval: 9000 })).toThrow(/AacParam\.RecordInterval.*60 to 7200.*9000/);
  });
});

function stored(): RecordTemplate {
  return {
    TemplateId: 7,
    ...parseCreateTemplate(
      {
        TemplateName: "orig",
        Description: "before",
        Mp4Param: { Enable: 1, RecordInterval: 600, StorageTime: 3600, VodFileName: "{StreamID}" },
        HlsSpecialParam: { FlowContinueDuration: 60 },
        IsDelayLive: 1,
        RemoveWatermark: true,
        FlvSpecialParam: { UploadInRecording: true },
      },
      POST,
    ),
  };
}

describe("parseModifyTemplate", () => {
  it("replaces given fields and keeps the rest", () => {
    const before = stored();
    const after = parseModifyTemplate({ TemplateId: 7, Description: "after" }, before, POST);
    expect(after).toEqual({ ...before, Description: "after" });
  });

  it("merges a given RecordParam field by field over the stored one", () => {
    const after = parseModifyTemplate({ TemplateId: 7, Mp4Param: { RecordInterval: 900 } }, stored(), POST);
    expect(after.Mp4Param).toEqual({ ...stored().Mp4Param, RecordInterval: 900 });
    expect(after.Mp4Param).toMatchObject({ Enable: 1, StorageTime: 3600, VodFileName: "{StreamID}" });
  });

  it("merges from a GET query too", () => {
    const after = parseModifyTemplate(q("TemplateId=7&Mp4Param.Enable=0&RemoveWatermark=false"), stored(), GET);
    expect(after.Mp4Param).toEqual({ ...stored().Mp4Param, Enable: 0 });
    expect(after.RemoveWatermark).toBe(false);
  });

  it("an empty special param keeps the stored values", () => {
    const after = parseModifyTemplate({ TemplateId: 7, HlsSpecialParam: {}, FlvSpecialParam: {} }, stored(), POST);
    expect(after.HlsSpecialParam).toEqual({ FlowContinueDuration: 60 });
    expect(after.FlvSpecialParam).toEqual({ UploadInRecording: true });
  });

  it("IsDelayLive is not modifiable -> InvalidParameter, even with the same value", () => {
    expect(() => parseModifyTemplate({ TemplateId: 7, IsDelayLive: 1 }, stored(), POST)).toThrow(code("InvalidParameter"));
    expect(() => parseModifyTemplate({ TemplateId: 7, IsDelayLive: 0 }, stored(), POST)).toThrow(/IsDelayLive is not modifiable/);
  });

  it("CosStore is not modifiable -> InvalidParameter", () => {
    expect(() => parseModifyTemplate({ TemplateId: 7, CosStore: 1 }, stored(), POST)).toThrow(code("InvalidParameter"));
    expect(() => parseModifyTemplate({ TemplateId: 7, CosStore: 1 }, stored(), POST)).toThrow(/CosStore is not modifiable/);
  });

  it("MissingParameter without TemplateId", () => {
    expect(() => parseModifyTemplate({ Description: "x" }, stored(), POST)).toThrow(code("MissingParameter"));
  });

  it("validates the given fields like create", () => {
    expect(() => parseModifyTemplate({ TemplateId: 7, Mp4Param: { RecordInterval: 10 } }, stored(), POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseModifyTemplate({ TemplateId: 7, TemplateName: "" }, stored(), POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseModifyTemplate({ TemplateId: 7, Bogus: 1 }, stored(), POST)).toThrow(code("UnknownParameter"));
  });

  it("keeps the CosStore 1 rule after merging", () => {
    const cosTemplate: RecordTemplate = { ...stored(), CosStore: 1, Mp4Param: { ...stored().Mp4Param, Enable: 0 } };
    expect(() => parseModifyTemplate({ TemplateId: 7, Mp4Param: { Enable: 1 } }, cosTemplate, POST)).toThrow(code("MissingParameter"));
  });

  it("refuses a template that is not the one TemplateId names", () => {
    expect(() => parseModifyTemplate({ TemplateId: 8 }, stored(), POST)).toThrow(code("InternalError"));
  });

  it("does not alias or mutate the stored template", () => {
    const before = stored();
    const snapshot = structuredClone(before);
    const after = parseModifyTemplate({ TemplateId: 7, FlvParam: { Enable: 1 } }, before, POST);
    after.Mp4Param.Enable = 0;
    after.HlsSpecialParam.FlowContinueDuration = 0;
    expect(before).toEqual(snapshot);
  });
});

describe("parseTemplateId", () => {
  it("reads a positive integer from POST and GET", () => {
    expect(parseTemplateId({ TemplateId: 17016 }, POST)).toBe(17016);
    expect(parseTemplateId(q("TemplateId=5"), GET)).toBe(5);
  });

  it("MissingParameter when absent", () => {
    expect(() => parseTemplateId({}, POST)).toThrow(code("MissingParameter"));
  });

  it("InvalidParameterValue for 0 or a negative id, InvalidParameter for a string in POST mode", () => {
    expect(() => parseTemplateId({ TemplateId: 0 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseTemplateId({ TemplateId: -3 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseTemplateId({ TemplateId: "5" }, POST)).toThrow(code("InvalidParameter"));
  });

  it("UnknownParameter for other fields unless told to ignore them", () => {
    expect(() => parseTemplateId({ TemplateId: 5, Description: "x" }, POST)).toThrow(code("UnknownParameter"));
    expect(parseTemplateId({ TemplateId: 5, Description: "x" }, { ...POST, ignoreOtherFields: true })).toBe(5);
  });
});

describe("parseDescribeTemplates", () => {
  it("returns no filter when IsDelayLive is absent, the value otherwise", () => {
    expect(parseDescribeTemplates({}, POST)).toEqual({});
    expect(parseDescribeTemplates({ IsDelayLive: 1 }, POST)).toEqual({ IsDelayLive: 1 });
    expect(parseDescribeTemplates(q("IsDelayLive=0"), GET)).toEqual({ IsDelayLive: 0 });
  });

  it("InvalidParameterValue for IsDelayLive outside 0/1, UnknownParameter for other fields", () => {
    expect(() => parseDescribeTemplates({ IsDelayLive: 2 }, POST)).toThrow(code("InvalidParameterValue"));
    expect(() => parseDescribeTemplates({ Limit: 2 }, POST)).toThrow(code("UnknownParameter"));
  });
});
