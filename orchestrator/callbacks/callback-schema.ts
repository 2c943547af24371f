/**
 * Validation of the callback actions (spec §4.1): CreateLiveCallbackTemplate,
 * ModifyLiveCallbackTemplate, DeleteLiveCallbackTemplate,
 * DescribeLiveCallbackTemplate(s), CreateLiveCallbackRule,
 * DeleteLiveCallbackRule, DescribeLiveCallbackRules (field names from the
 * SDK model, live_models.d.ts), plus our own DescribeCallbackDeliveries and
 * RetryCallbackDelivery. Pure: untrusted input in, typed values or ApiError out.
 *
 * Choices where the spec / SDK are silent or looser:
 * - TemplateName: 1-30 characters of CJK Unified Ideographs, A-Z a-z 0-9, "_"
 *   and "-" (SDK: at most 255 bytes, same alphabet). Description: at most 100
 *   characters, any text (SDK: 1024 bytes).
 * - Notify URLs: "" means "not set" (so Modify can clear one); otherwise an
 *   absolute http:// or https:// URL of at most 512 characters, with a host,
 *   without user:password@ (it would end up in logs) and without whitespace
 *   or control characters -> InvalidParameterValue. Stored as given.
 * - The SDK says "at least one callback URL" for Create: a Create with none
 *   (all absent or "") is MissingParameter; a Modify that would leave none is
 *   refused the same way by CallbackStore.modifyTemplate.
 * - CallbackKey: 0-64 visible ASCII characters (0x21-0x7E), so that sender and
 *   receiver agree on the bytes MD5 hashes. "" = no key.
 * - RecordExceptionLevels (SDK field, not in the brief) is accepted so SDK
 *   requests are not refused: a list of distinct values from error / warning /
 *   info / alarm, stored and echoed; we emit no record-exception events.
 * - CreateLiveCallbackRule / DeleteLiveCallbackRule: AppName is required, as
 *   in the SDK (no "?"), and "" is a valid value (any app of the domain; on
 *   delete it names exactly the rule stored with ""). DomainName is read with
 *   the recording rules' readDomainName (lowercased, DomainFormatError).
 * - TemplateId / DeliveryId: integers >= 1.
 */
import { ApiError } from "../control/api-error.js";
import { fieldError, Input, type InputOptions } from "../control/input.js";
import { readDomainName, readStreamPart } from "../rules/rule-schema.js";
import {
  type CallbackRuleInput,
  type CallbackTemplateInput,
  type CallbackTemplatePatch,
  DELIVERY_STATUSES,
  type DeliveryStatus,
  NOTIFY_URL_FIELDS,
  type OutboxEntry,
  RECORD_EXCEPTION_LEVELS,
  type RecordExceptionLevel,
} from "./types.js";

/** Our choice (SDK: 255 bytes). */
export const CALLBACK_TEMPLATE_NAME_MAX_LENGTH = 30;
/** Our choice (SDK: 1024 bytes). */
export const CALLBACK_DESCRIPTION_MAX_LENGTH = 100;
export const NOTIFY_URL_MAX_LENGTH = 512;
export const CALLBACK_KEY_MAX_LENGTH = 64;
export const DELIVERIES_DEFAULT_LIMIT = 20;
export const DELIVERIES_MAX_LIMIT = 100;

const TEMPLATE_NAME_RE = /^[\p{Unified_Ideograph}A-Za-z0-9_-]+$/u;
const CALLBACK_KEY_RE = /^[\x21-\x7e]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const URL_FORBIDDEN_RE = /[\s\u0000-\u001f\u007f]/;

const TEMPLATE_FIELDS = ["TemplateName", "Description", ...NOTIFY_URL_FIELDS, "CallbackKey", "RecordExceptionLevels"] as const;

/** Why `url` is not an acceptable notify URL, or undefined when it is. */
export function notifyUrlProblem(url: string): string | undefined {
  if (URL_FORBIDDEN_RE.test(url)) return "must not contain whitespace or control characters";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute http:// or https:// URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an http:// or https:// URL";
  if (parsed.hostname === "") return "must name a host";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry a user name or password";
  return undefined;
}

/** Whether the template sets at least one notify URL. */
export function hasNotifyUrl(t: Pick<CallbackTemplateInput, (typeof NOTIFY_URL_FIELDS)[number]>): boolean {
  return NOTIFY_URL_FIELDS.some((f) => t[f] !== "");
}

function readNotifyUrl(input: Input, name: string): string | undefined {
  const url = input.string(name, { maxLength: NOTIFY_URL_MAX_LENGTH });
  if (url === undefined || url === "") return url;
  const problem = notifyUrlProblem(url);
  if (problem !== undefined) throw fieldError("InvalidParameterValue", input.path(name), problem, url);
  return url;
}

/**
 * RecordExceptionLevels: Input has no list reader, so the raw value is read
 * here (a JSON array, or `RecordExceptionLevels.0=...` rebuilt as an array by
 * flattenedQueryToObject). Duplicates are dropped.
 */
function readExceptionLevels(input: Input, raw: Record<string, unknown>): RecordExceptionLevel[] | undefined {
  const name = "RecordExceptionLevels";
  if (!input.has(name)) return undefined;
  const value = raw[name];
  if (!Array.isArray(value)) throw fieldError("InvalidParameter", name, "must be an Array of String", value);
  const levels: RecordExceptionLevel[] = [];
  for (const [i, item] of value.entries()) {
    if (typeof item !== "string") throw fieldError("InvalidParameter", `${name}.${i}`, "must be a String", item);
    const level = RECORD_EXCEPTION_LEVELS.find((l) => l === item);
    if (level === undefined) {
      throw fieldError("InvalidParameterValue", `${name}.${i}`, `must be one of ${RECORD_EXCEPTION_LEVELS.join(", ")}`, item);
    }
    if (!levels.includes(level)) levels.push(level);
  }
  return levels;
}

/** The template fields given in the request (Create and Modify share them). */
function readTemplateFields(raw: unknown, input: Input): CallbackTemplatePatch {
  const patch: CallbackTemplatePatch = {};
  const name = input.string("TemplateName", {
    minLength: 1,
    maxLength: CALLBACK_TEMPLATE_NAME_MAX_LENGTH,
    pattern: TEMPLATE_NAME_RE,
    patternHint: 'must use only Chinese characters, A-Z a-z 0-9, "_" and "-"',
  });
  if (name !== undefined) patch.TemplateName = name;
  const description = input.string("Description", { maxLength: CALLBACK_DESCRIPTION_MAX_LENGTH });
  if (description !== undefined) patch.Description = description;
  for (const field of NOTIFY_URL_FIELDS) {
    const url = readNotifyUrl(input, field);
    if (url !== undefined) patch[field] = url;
  }
  const key = input.string("CallbackKey", {
    maxLength: CALLBACK_KEY_MAX_LENGTH,
    pattern: CALLBACK_KEY_RE,
    patternHint: "must use only visible ASCII characters (no spaces)",
  });
  if (key !== undefined) patch.CallbackKey = key;
  const levels = readExceptionLevels(input, raw as Record<string, unknown>);
  if (levels !== undefined) patch.RecordExceptionLevels = levels;
  return patch;
}

/** A template with every field at its default ("" URLs, no key, no levels). */
export function emptyCallbackTemplate(): CallbackTemplateInput {
  return {
    TemplateName: "",
    Description: "",
    StreamBeginNotifyUrl: "",
    StreamEndNotifyUrl: "",
    RecordNotifyUrl: "",
    RecordStatusNotifyUrl: "",
    SnapshotNotifyUrl: "",
    PornCensorshipNotifyUrl: "",
    StreamMixNotifyUrl: "",
    PushExceptionNotifyUrl: "",
    AudioAuditNotifyUrl: "",
    RecordExceptionNotifyUrl: "",
    CallbackKey: "",
    RecordExceptionLevels: [],
  };
}

/** CreateLiveCallbackTemplate: a full template, defaults filled in. */
export function parseCreateCallbackTemplate(raw: unknown, opts: InputOptions): CallbackTemplateInput {
  const input = new Input(raw, opts);
  input.rejectUnknown(TEMPLATE_FIELDS);
  if (!input.has("TemplateName")) throw new ApiError("MissingParameter", "missing required parameter TemplateName");
  const t: CallbackTemplateInput = { ...emptyCallbackTemplate(), ...readTemplateFields(raw, input) };
  if (!hasNotifyUrl(t)) {
    throw new ApiError("MissingParameter", `a callback template needs at least one notify URL (${NOTIFY_URL_FIELDS.join(", ")})`);
  }
  return t;
}

/**
 * ModifyLiveCallbackTemplate: the id and only the fields given; the store
 * merges them over the stored template (and checks a URL remains).
 */
export function parseModifyCallbackTemplate(raw: unknown, opts: InputOptions): { TemplateId: number; patch: CallbackTemplatePatch } {
  const input = new Input(raw, opts);
  input.rejectUnknown(["TemplateId", ...TEMPLATE_FIELDS]);
  const TemplateId = input.integer("TemplateId", { required: true, min: 1 });
  return { TemplateId, patch: readTemplateFields(raw, input) };
}

/** DeleteLiveCallbackTemplate / DescribeLiveCallbackTemplate: TemplateId only. */
export function parseCallbackTemplateId(raw: unknown, opts: InputOptions): number {
  const input = new Input(raw, opts);
  input.rejectUnknown(["TemplateId"]);
  return input.integer("TemplateId", { required: true, min: 1 });
}

/** DescribeLiveCallbackTemplates and DescribeLiveCallbackRules take no fields. */
export function parseNoFields(raw: unknown, opts: InputOptions): void {
  new Input(raw, opts).rejectUnknown([]);
}

/** CreateLiveCallbackRule. */
export function parseCreateCallbackRule(raw: unknown, opts: InputOptions): CallbackRuleInput {
  const input = new Input(raw, opts);
  input.rejectUnknown(["DomainName", "AppName", "TemplateId"]);
  const DomainName = readDomainName(input, "DomainName", { required: true });
  const AppName = readStreamPart(input, "AppName", { required: true, allowEmpty: true });
  const TemplateId = input.integer("TemplateId", { required: true, min: 1 });
  return { DomainName, AppName, TemplateId };
}

/** DeleteLiveCallbackRule: DomainName + AppName name one rule exactly ("" only matches the "" rule). */
export function parseDeleteCallbackRule(raw: unknown, opts: InputOptions): { DomainName: string; AppName: string } {
  const input = new Input(raw, opts);
  input.rejectUnknown(["DomainName", "AppName"]);
  const DomainName = readDomainName(input, "DomainName", { required: true });
  const AppName = readStreamPart(input, "AppName", { required: true, allowEmpty: true });
  return { DomainName, AppName };
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  offset: number;
  limit: number;
}

/** DescribeCallbackDeliveries (ours): Status?, Offset >= 0 (default 0), Limit 1-100 (default 20). */
export function parseDescribeCallbackDeliveries(raw: unknown, opts: InputOptions): DeliveryQuery {
  const input = new Input(raw, opts);
  input.rejectUnknown(["Status", "Offset", "Limit"]);
  const statusText = input.string("Status");
  let status: DeliveryStatus | undefined;
  if (statusText !== undefined) {
    status = DELIVERY_STATUSES.find((s) => s === statusText);
    if (status === undefined) {
      throw fieldError("InvalidParameterValue", "Status", `must be one of ${DELIVERY_STATUSES.join(", ")}`, statusText);
    }
  }
  const offset = input.integer("Offset", { default: 0, min: 0 });
  const limit = input.integer("Limit", { default: DELIVERIES_DEFAULT_LIMIT, min: 1, max: DELIVERIES_MAX_LIMIT });
  return status === undefined ? { offset, limit } : { status, offset, limit };
}

/** RetryCallbackDelivery (ours): DeliveryId. */
export function parseRetryCallbackDelivery(raw: unknown, opts: InputOptions): number {
  const input = new Input(raw, opts);
  input.rejectUnknown(["DeliveryId"]);
  return input.integer("DeliveryId", { required: true, min: 1 });
}

/** One delivery as DescribeCallbackDeliveries returns it (PascalCase; times in Unix seconds; never the key). */
export interface CallbackDeliveryInfo {
  DeliveryId: number;
  Url: string;
  EventType: number;
  FileId: string;
  Status: DeliveryStatus;
  Attempts: number;
  LastError: string;
  /** When the next attempt is due; 0 unless pending. */
  NextAttemptTime: number;
  CreateTime: number;
  /** 0 until delivered. */
  DeliveredTime: number;
  /** The event as sent, without `sign` / `t` (they are computed per attempt). */
  Body: Record<string, unknown>;
}

const toSec = (ms: number) => Math.floor(ms / 1000);

export function toCallbackDeliveryInfo(e: OutboxEntry): CallbackDeliveryInfo {
  return {
    DeliveryId: e.id,
    Url: e.url,
    EventType: e.eventType,
    FileId: e.fileId,
    Status: e.status,
    Attempts: e.attempts,
    LastError: e.lastError,
    NextAttemptTime: e.status === "pending" ? toSec(e.nextAttemptMs) : 0,
    CreateTime: toSec(e.createdMs),
    DeliveredTime: e.deliveredMs > 0 ? toSec(e.deliveredMs) : 0,
    Body: e.body,
  };
}
