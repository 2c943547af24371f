/**
 * Validators for the VOD actions we answer over the catalog (spec §9):
 * SearchMedia, DescribeMediaInfos, DeleteMedia (VOD API 2018-07-17 field names).
 */
import type { OutputFormat } from "../../engine/mux/types.js";
import { ApiError } from "../control/api-error.js";
import { Input, type InputOptions } from "../control/input.js";
import type { RecordingSearch } from "../catalog/types.js";

/** spec §9: Offset + Limit ≤ 5000; TotalCount is capped at 5000. */
export const SEARCH_WINDOW = 5000;
const DEFAULT_LIMIT = 10;
const FILE_ID = { maxLength: 64, pattern: /^[A-Za-z0-9-]+$/, patternHint: "must be a FileId this service returned" };
const NAME = { maxLength: 128 };

/** VOD MediaTypes are container names; ours map to the four recording formats. */
const MEDIA_TYPES: Record<string, OutputFormat> = { flv: "flv", mp4: "mp4", m3u8: "hls", hls: "hls", aac: "aac" };
const CATEGORY_FORMATS: Record<string, OutputFormat[]> = { Video: ["flv", "mp4", "hls"], Audio: ["aac"], Image: [] };

function isoTime(input: Input, name: string): number | undefined {
  const v = input.string(name, { maxLength: 40 });
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) {
    throw new ApiError("InvalidParameterValue", `${input.path(name)} must be an ISO 8601 date-time (e.g. 2026-11-26T10:00:00+08:00); got ${JSON.stringify(v.slice(0, 64))}`);
  }
  return ms;
}

export function parseSearchMedia(raw: unknown, opts: InputOptions): RecordingSearch {
  const input = new Input(raw, opts);
  input.rejectUnknown(["SubAppId", "FileIds", "StreamIds", "StreamDomains", "StreamPaths", "CreateTime", "MediaTypes", "Categories", "SourceTypes", "Sort", "Offset", "Limit"]);
  input.integer("SubAppId", { min: 0 }); // one library here: accepted and ignored
  const q: RecordingSearch = { order: "Desc", offset: input.integer("Offset", { min: 0, default: 0 }), limit: input.integer("Limit", { min: 1, max: SEARCH_WINDOW, default: DEFAULT_LIMIT }) };
  if (q.offset + q.limit > SEARCH_WINDOW) throw new ApiError("InvalidParameterValue", `Offset + Limit must be at most ${SEARCH_WINDOW}`);
  const fileIds = input.stringList("FileIds", { maxItems: 10, item: FILE_ID });
  if (fileIds) q.fileIds = fileIds;
  const streams = input.stringList("StreamIds", { maxItems: 10, item: NAME });
  if (streams) q.streams = streams;
  const domains = input.stringList("StreamDomains", { maxItems: 10, item: NAME });
  if (domains) q.domains = domains.map((d) => d.toLowerCase());
  const paths = input.stringList("StreamPaths", { maxItems: 10, item: NAME });
  if (paths) q.apps = paths.map((p) => p.replace(/^\/+|\/+$/g, ""));
  const sources = input.stringList("SourceTypes", { maxItems: 10, item: NAME });
  // Every file here is a live recording (SourceType "Record"): other source types match nothing.
  if (sources && !sources.includes("Record")) q.fileIds = [];
  let formats: OutputFormat[] | undefined;
  const types = input.stringList("MediaTypes", { maxItems: 10, item: NAME });
  if (types) {
    formats = types.map((t) => {
      const f = MEDIA_TYPES[t.toLowerCase()];
      if (!f) throw new ApiError("InvalidParameterValue", `MediaTypes: ${JSON.stringify(t.slice(0, 64))} is not one of flv, mp4, m3u8, aac`);
      return f;
    });
  }
  const categories = input.stringList("Categories", { maxItems: 3, item: { pattern: /^(Video|Audio|Image)$/, patternHint: "must be Video, Audio or Image" } });
  if (categories) {
    const allowed = categories.flatMap((c) => CATEGORY_FORMATS[c] ?? []);
    formats = (formats ?? (["flv", "mp4", "hls", "aac"] as OutputFormat[])).filter((f) => allowed.includes(f));
  }
  if (formats) q.formats = formats;
  const range = input.object("CreateTime");
  if (range) {
    range.rejectUnknown(["After", "Before"]);
    const after = isoTime(range, "After");
    const before = isoTime(range, "Before");
    if (after !== undefined) q.createdAfterMs = after;
    if (before !== undefined) q.createdBeforeMs = before;
  }
  const sort = input.object("Sort");
  if (sort) {
    sort.rejectUnknown(["Field", "Order"]);
    sort.string("Field", { required: true, pattern: /^CreateTime$/, patternHint: "must be CreateTime" });
    q.order = sort.string("Order", { required: true, pattern: /^(Asc|Desc)$/, patternHint: "must be Asc or Desc" }) as "Asc" | "Desc";
  }
  return q;
}

export function parseDescribeMediaInfos(raw: unknown, opts: InputOptions): string[] {
  const input = new Input(raw, opts);
  input.rejectUnknown(["SubAppId", "FileIds", "Filters"]);
  input.integer("SubAppId", { min: 0 });
  input.stringList("Filters", { maxItems: 20, item: NAME });
  const ids = input.stringList("FileIds", { maxItems: 20, item: FILE_ID });
  if (!ids || ids.length === 0) throw new ApiError("MissingParameter", "missing required parameter FileIds");
  return ids;
}

export function parseDeleteMedia(raw: unknown, opts: InputOptions): string {
  const input = new Input(raw, opts);
  input.rejectUnknown(["SubAppId", "FileId", "DeleteParts"]);
  input.integer("SubAppId", { min: 0 });
  if (input.has("DeleteParts")) throw new ApiError("UnsupportedOperation", "DeleteParts is not supported: DeleteMedia deletes the whole file");
  return input.string("FileId", { required: true, ...FILE_ID });
}
