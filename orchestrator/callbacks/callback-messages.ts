/**
 * The bodies of the recording callbacks (spec §4.4 event_type 100, §4.5
 * event_type 332) and their signature (spec §4.2). Pure: no I/O, no clock.
 *
 * Choices where the spec is silent:
 * - start_time / end_time are floor(ms / 1000); *_usec is the rest in µs
 *   (0-999999). duration is the file duration rounded to whole seconds
 *   (it may differ from end_time - start_time, as the spec allows).
 * - task_id: the task id for CreateRecordTask recordings, otherwise the
 *   recording session id (as the cloud's samples show a session id there).
 * - stream_param is absent (not "") for task recordings, present (maybe "")
 *   otherwise.
 * - video_id (seen in samples only, a legacy VOD id) is sent equal to file_id:
 *   there is no separate VOD id here.
 * - record_temp_id: the template id as a string, "" when the default template
 *   of the config was used (templateId 0 / absent).
 * - callback_ext: a JSON string with video_codec / audio_codec (when known),
 *   resolution "WxH" (when both are known and positive) and session_id.
 * - event 332: record_detail is a JSON string (as in the doc's sample) with
 *   file_format (omitted when no format is concerned), record_bps 0,
 *   start_model, record_content 1, source_type 1, codec_temp_id 0. seq is a
 *   string; event_time Unix seconds; task_id the task id or "". Our extension:
 *   a top-level `message` with the human-readable reason, present only when a
 *   reason is given (failures).
 * - The signature is always sent, also with an empty key (md5("" + t)).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { OutputFormat } from "../../engine/mux/types.js";

/** spec §4.3. */
export const EVENT_TYPE_RECORD_FILE = 100;
/** spec §4.5. */
export const EVENT_TYPE_RECORD_STATUS = 332;
/** spec §4.2: a signature is valid for 10 minutes. */
export const SIGN_VALIDITY_SEC = 600;

export interface RecordFileEventInput {
  fileId: string;
  domain: string;
  app: string;
  stream: string;
  format: OutputFormat;
  startMs: number;
  endMs: number;
  durationSec: number;
  sizeBytes: number;
  /** "" when the recording did not come from CreateRecordTask. */
  taskId: string;
  /** 0 / undefined when no API template was used. */
  templateId?: number;
  /** The publisher's query string (not sent for task recordings). */
  streamParam: string;
  videoUrl: string;
  /** Stream timestamp of the file's first frame, ms. */
  mediaStartTimeMs: number;
  videoCodec?: string;
  audioCodec?: string;
  width?: number;
  height?: number;
  /** Recording session id (a push x template, or a task run). */
  sessionId: string;
  appId: number;
}

function splitTime(ms: number): { sec: number; usec: number } {
  const sec = Math.floor(ms / 1000);
  return { sec, usec: Math.min(999_999, Math.max(0, Math.round((ms - sec * 1000) * 1000))) };
}

/** spec §4.4: the event_type 100 body (unsigned), with every field of the table. */
export function recordFileEvent(file: RecordFileEventInput): Record<string, unknown> {
  const start = splitTime(file.startMs);
  const end = splitTime(file.endMs);
  const isTask = file.taskId !== "";
  const ext: Record<string, string> = {};
  if (file.videoCodec) ext["video_codec"] = file.videoCodec;
  if (file.audioCodec) ext["audio_codec"] = file.audioCodec;
  if (file.width && file.height && file.width > 0 && file.height > 0) ext["resolution"] = `${file.width}x${file.height}`;
  ext["session_id"] = file.sessionId;
  const body: Record<string, unknown> = {
    event_type: EVENT_TYPE_RECORD_FILE,
    appid: file.appId,
    app: file.domain,
    appname: file.app,
    stream_id: file.stream,
    channel_id: file.stream,
    file_id: file.fileId,
    record_file_id: file.fileId,
    video_id: file.fileId,
    file_format: file.format,
    task_id: isTask ? file.taskId : file.sessionId,
    start_time: start.sec,
    end_time: end.sec,
    start_time_usec: start.usec,
    end_time_usec: end.usec,
    duration: Math.round(file.durationSec),
    file_size: Math.round(file.sizeBytes),
  };
  if (!isTask) body["stream_param"] = file.streamParam;
  body["video_url"] = file.videoUrl;
  body["media_start_time"] = Math.round(file.mediaStartTimeMs);
  body["record_bps"] = 0;
  body["record_temp_id"] = file.templateId ? String(file.templateId) : "";
  body["callback_ext"] = JSON.stringify(ext);
  return body;
}

export type RecordStatusEventName =
  | "record_start_succeeded"
  | "record_start_failed"
  | "record_paused"
  | "record_resumed"
  | "record_error"
  | "record_ended";

/** spec §4.5 record_detail.file_format. */
export const RECORD_STATUS_FILE_FORMAT: Readonly<Record<OutputFormat | "mp3", number>> = { flv: 1, hls: 2, mp4: 3, aac: 4, mp3: 5 };

export interface RecordStatusEventInput {
  domain: string;
  app: string;
  stream: string;
  sessionId: string;
  event: RecordStatusEventName;
  /** The format concerned, if any. */
  format?: OutputFormat | "mp3";
  /** Human-readable cause (failures); sent as `message`. */
  reason?: string;
  /** 1 = template rule, 5 = API task. */
  startModel: 1 | 5;
  /** Message sequence number (sent as a string). */
  seq: number | bigint | string;
  appId: number;
  eventTimeMs: number;
  /** The CreateRecordTask id, for startModel 5. */
  taskId?: string;
}

/** spec §4.5: the event_type 332 body (unsigned). */
export function recordStatusEvent(e: RecordStatusEventInput): Record<string, unknown> {
  const detail: Record<string, number> = {};
  if (e.format !== undefined) detail["file_format"] = RECORD_STATUS_FILE_FORMAT[e.format];
  detail["record_bps"] = 0;
  detail["start_model"] = e.startModel;
  detail["record_content"] = 1;
  detail["source_type"] = 1;
  detail["codec_temp_id"] = 0;
  const body: Record<string, unknown> = {
    event_type: EVENT_TYPE_RECORD_STATUS,
    appid: e.appId,
    appname: e.app,
    domain: e.domain,
    stream_id: e.stream,
    event_time: Math.floor(e.eventTimeMs / 1000),
    record_event: e.event,
    record_detail: JSON.stringify(detail),
    seq: String(e.seq),
    session_id: e.sessionId,
    task_id: e.taskId ?? "",
  };
  if (e.reason) body["message"] = e.reason;
  return body;
}

function md5Hex(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

/**
 * spec §4.2: adds `t` (expiry, now + 600 s) and `sign` = lowercase hex
 * md5(callbackKey + String(t)). Any `t` / `sign` already in `body` is replaced.
 */
export function signEvent<T extends Record<string, unknown>>(
  body: T,
  callbackKey: string,
  nowSec: number,
): Omit<T, "t" | "sign"> & { t: number; sign: string } {
  const t = Math.floor(nowSec) + SIGN_VALIDITY_SEC;
  return { ...body, t, sign: md5Hex(callbackKey + String(t)) };
}

/**
 * A receiver's check of spec §4.2: `sign` equals md5(key + t) (t as received,
 * a non-negative decimal integer as number or string) and `nowSec <= t`.
 */
export function verifySign(t: unknown, sign: unknown, key: string, nowSec: number): boolean {
  let tText: string;
  if (typeof t === "number" && Number.isSafeInteger(t) && t >= 0) tText = String(t);
  else if (typeof t === "string" && /^[0-9]{1,16}$/.test(t)) tText = t;
  else return false;
  if (typeof sign !== "string" || !/^[0-9a-fA-F]{32}$/.test(sign)) return false;
  const expected = Buffer.from(md5Hex(key + tText), "latin1");
  if (!timingSafeEqual(expected, Buffer.from(sign.toLowerCase(), "latin1"))) return false;
  return nowSec <= Number(tText);
}
