/**
 * Validation of the recording-task actions (spec §3.1 CreateRecordTask,
 * §3.2/3.3 Stop/DeleteRecordTask, §3.4 DescribeRecordTask). Pure: the clock
 * is a parameter (`nowSec`, Unix seconds; a fraction is dropped).
 *
 * Window rules (spec §3.1, §3.4, §6), each InvalidParameterValue:
 * - CreateRecordTask: EndTime > StartTime, EndTime > now, EndTime < now + 7 days,
 *   EndTime - StartTime <= 24 h; StartTime defaults to now (a real-time task).
 * - DescribeRecordTask: StartTime >= now - 90 days, EndTime > StartTime,
 *   EndTime - StartTime <= 7 days.
 *
 * Our choices where the spec is silent:
 * - StartTime may be at most 60 s in the past (START_TIME_SKEW_SEC), to absorb
 *   clock skew between client and server; earlier is refused.
 * - Times are integers from 0 (the cloud's uint64) to 2^53-1.
 * - TemplateId: optional, an integer >= 0; 0 (the default) means none
 *   (record HLS, spec §3.1). Whether a non-zero id exists is the caller's check.
 * - Extension: at most 256 characters, any text.
 * - TaskId: 1-128 characters of A-Z a-z 0-9 "_" "-"; anything else is
 *   InvalidParameterValue.
 * - DescribeRecordTask filters: "" means no filter; a non-empty DomainName
 *   must be a host name (DomainFormatError), AppName / StreamName safe names
 *   (InvalidParameterValue). ScrollToken: at most 512 characters of
 *   A-Z a-z 0-9 + / = _ . ~ - (our tokens are opaque base64url text).
 */
import { fieldError, Input, type InputOptions } from "../control/input.js";
import { readDomainName, readStreamPart } from "../rules/rule-schema.js";
import type { RecordTaskInput } from "./types.js";

/** spec §3.1: EndTime < now + 7 days. */
export const TASK_END_MAX_AHEAD_SEC = 7 * 86400;
/** spec §3.1: EndTime - StartTime <= 24 h. */
export const TASK_MAX_DURATION_SEC = 86400;
/** Our choice: how far in the past StartTime may lie (client clock skew). */
export const START_TIME_SKEW_SEC = 60;
/** spec §3.4: query StartTime not earlier than now - 90 days. */
export const DESCRIBE_MAX_AGE_SEC = 90 * 86400;
/** spec §3.4: query span at most one week. */
export const DESCRIBE_MAX_SPAN_SEC = 7 * 86400;
/** Our choice. */
export const EXTENSION_MAX_LENGTH = 256;
export const TASK_ID_MAX_LENGTH = 128;
const TASK_ID_RE = /^[A-Za-z0-9_-]+$/;
const SCROLL_TOKEN_RE = /^[A-Za-z0-9+/=_.~-]*$/;
export const SCROLL_TOKEN_MAX_LENGTH = 512;

export interface TaskClockOptions extends InputOptions {
  /** The current time, Unix seconds. */
  nowSec: number;
}

export interface DescribeTasksQuery {
  StartTime: number;
  EndTime: number;
  StreamName?: string;
  DomainName?: string;
  AppName?: string;
  ScrollToken?: string;
}

/** spec §3.1 CreateRecordTask, with StartTime, StreamType, TemplateId and Extension defaults filled in. */
export function parseCreateTask(raw: unknown, opts: TaskClockOptions): RecordTaskInput {
  const now = Math.floor(opts.nowSec);
  const input = new Input(raw, opts);
  input.rejectUnknown(["StreamName", "DomainName", "AppName", "EndTime", "StartTime", "StreamType", "TemplateId", "Extension"]);
  const StreamName = readStreamPart(input, "StreamName", { required: true, allowEmpty: false });
  const DomainName = readDomainName(input, "DomainName", { required: true });
  const AppName = readStreamPart(input, "AppName", { required: true, allowEmpty: false });
  const EndTime = input.integer("EndTime", { required: true, min: 0 });
  const StartTime = input.integer("StartTime", { default: now, min: 0 });
  const StreamType = input.integerEnum("StreamType", [0, 1] as const, { default: 0 });
  const TemplateId = input.integer("TemplateId", { default: 0, min: 0 });
  const Extension = input.string("Extension", { default: "", maxLength: EXTENSION_MAX_LENGTH });

  if (StartTime < now - START_TIME_SKEW_SEC) {
    throw fieldError(
      "InvalidParameterValue",
      "StartTime",
      `must not be earlier than now - ${START_TIME_SKEW_SEC} s (${now - START_TIME_SKEW_SEC}); omit it to start now`,
      StartTime,
    );
  }
  if (EndTime <= StartTime) {
    throw fieldError("InvalidParameterValue", "EndTime", `must be later than StartTime (${StartTime})`, EndTime);
  }
  if (EndTime <= now) throw fieldError("InvalidParameterValue", "EndTime", `must be later than now (${now})`, EndTime);
  if (EndTime >= now + TASK_END_MAX_AHEAD_SEC) {
    throw fieldError(
      "InvalidParameterValue",
      "EndTime",
      `must be earlier than now + 7 days (${now + TASK_END_MAX_AHEAD_SEC})`,
      EndTime,
    );
  }
  if (EndTime - StartTime > TASK_MAX_DURATION_SEC) {
    throw fieldError(
      "InvalidParameterValue",
      "EndTime",
      `must be at most 24 h (${TASK_MAX_DURATION_SEC} s) after StartTime (${StartTime})`,
      EndTime,
    );
  }
  return { DomainName, AppName, StreamName, StartTime, EndTime, TemplateId, StreamType, Extension };
}

/** TaskId of StopRecordTask / DeleteRecordTask (spec §3.2, §3.3). */
export function parseTaskId(raw: unknown, opts: InputOptions): string {
  const input = new Input(raw, opts);
  input.rejectUnknown(["TaskId"]);
  return input.string("TaskId", {
    required: true,
    minLength: 1,
    maxLength: TASK_ID_MAX_LENGTH,
    pattern: TASK_ID_RE,
    patternHint: 'must use only A-Z a-z 0-9 "_" and "-"',
  });
}

/** spec §3.4 DescribeRecordTask. Empty filters are dropped. */
export function parseDescribeTasks(raw: unknown, opts: TaskClockOptions): DescribeTasksQuery {
  const now = Math.floor(opts.nowSec);
  const input = new Input(raw, opts);
  input.rejectUnknown(["StartTime", "EndTime", "StreamName", "DomainName", "AppName", "ScrollToken"]);
  const StartTime = input.integer("StartTime", { required: true, min: 0 });
  const EndTime = input.integer("EndTime", { required: true, min: 0 });
  const query: DescribeTasksQuery = { StartTime, EndTime };

  const domain = input.string("DomainName");
  if (domain !== undefined && domain !== "") query.DomainName = readDomainName(input, "DomainName");
  const app = readStreamPart(input, "AppName", { allowEmpty: true });
  if (app !== undefined && app !== "") query.AppName = app;
  const stream = readStreamPart(input, "StreamName", { allowEmpty: true });
  if (stream !== undefined && stream !== "") query.StreamName = stream;
  const token = input.string("ScrollToken", {
    maxLength: SCROLL_TOKEN_MAX_LENGTH,
    pattern: SCROLL_TOKEN_RE,
    patternHint: "must be the ScrollToken of a previous response",
  });
  if (token !== undefined && token !== "") query.ScrollToken = token;

  if (StartTime < now - DESCRIBE_MAX_AGE_SEC) {
    throw fieldError(
      "InvalidParameterValue",
      "StartTime",
      `must not be earlier than now - 90 days (${now - DESCRIBE_MAX_AGE_SEC})`,
      StartTime,
    );
  }
  if (EndTime <= StartTime) {
    throw fieldError("InvalidParameterValue", "EndTime", `must be later than StartTime (${StartTime})`, EndTime);
  }
  if (EndTime - StartTime > DESCRIBE_MAX_SPAN_SEC) {
    throw fieldError(
      "InvalidParameterValue",
      "EndTime",
      `must be at most 7 days (${DESCRIBE_MAX_SPAN_SEC} s) after StartTime (${StartTime})`,
      EndTime,
    );
  }
  return query;
}
