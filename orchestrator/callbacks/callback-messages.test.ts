import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type RecordFileEventInput, recordFileEvent, recordStatusEvent, signEvent, verifySign } from "./callback-messages.js";

const file: RecordFileEventInput = {
  fileId: "rec_abc123",
  domain: "push.example.com",
  app: "live",
  stream: "cam1",
  format: "hls",
  startMs: 1_743_484_094_224.855,
  endMs: 1_743_484_153_809,
  durationSec: 59.6,
  sizeBytes: 31_869_806,
  taskId: "",
  templateId: 1569294,
  streamParam: "txSecret=abc&txTime=5C271099",
  videoUrl: "http://rec.example/push.example.com/live/cam1/x.m3u8",
  mediaStartTimeMs: 80,
  videoCodec: "h264",
  audioCodec: "aac",
  width: 640,
  height: 360,
  sessionId: "1820625260475124043",
  appId: 1324682537,
};

const SPEC_FIELDS: Record<string, "number" | "string"> = {
  event_type: "number",
  appid: "number",
  app: "string",
  appname: "string",
  stream_id: "string",
  channel_id: "string",
  file_id: "string",
  record_file_id: "string",
  file_format: "string",
  task_id: "string",
  start_time: "number",
  end_time: "number",
  start_time_usec: "number",
  end_time_usec: "number",
  duration: "number",
  file_size: "number",
  stream_param: "string",
  video_url: "string",
  video_id: "string",
  media_start_time: "number",
  record_bps: "number",
  record_temp_id: "string",
  callback_ext: "string",
};

describe("recordFileEvent (event_type 100)", () => {
  it("has every field of spec §4.4 with the right type and value", () => {
    const body = recordFileEvent(file);
    for (const [field, type] of Object.entries(SPEC_FIELDS)) {
      expect(typeof body[field], field).toBe(type);
      if (type === "number") expect(Number.isInteger(body[field]), field).toBe(true);
    }
    expect(Object.keys(body).sort()).toEqual(Object.keys(SPEC_FIELDS).sort());
    expect(body).toEqual({
      event_type: 100,
      appid: 1324682537,
      app: "push.example.com",
      appname: "live",
      stream_id: "cam1",
      channel_id: "cam1",
      file_id: "rec_abc123",
      record_file_id: "rec_abc123",
      video_id: "rec_abc123",
      file_format: "hls",
      task_id: "1820625260475124043",
      start_time: 1743484094,
      end_time: 1743484153,
      start_time_usec: 224855,
      end_time_usec: 809000,
      duration: 60,
      file_size: 31869806,
      stream_param: "txSecret=abc&txTime=5C271099",
      video_url: "http://rec.example/push.example.com/live/cam1/x.m3u8",
      media_start_time: 80,
      record_bps: 0,
      record_temp_id: "1569294",
      callback_ext: '{"video_codec":"h264","audio_codec":"aac","resolution":"640x360","session_id":"1820625260475124043"}',
    });
    expect(JSON.parse(body["callback_ext"] as string)).toEqual({
      video_codec: "h264",
      audio_codec: "aac",
      resolution: "640x360",
      session_id: "1820625260475124043",
    });
  });

  it("task recordings: task_id is the task id and stream_param is absent", () => {
    const body = recordFileEvent({ ...file, taskId: "task-42", streamParam: "should-not-leak", templateId: 0 });
    expect(body["task_id"]).toBe("task-42");
    expect(body).not.toHaveProperty("stream_param");
    expect(body["record_temp_id"]).toBe("");
  });

  it("callback_ext keeps session_id alone when media details are unknown; stream_param may be ''", () => {
    const { videoCodec: _v, audioCodec: _a, width: _w, ...bare } = file;
    const body = recordFileEvent({ ...bare, streamParam: "", templateId: undefined });
    expect(JSON.parse(body["callback_ext"] as string)).toEqual({ session_id: file.sessionId });
    expect(body["stream_param"]).toBe("");
    expect(body["record_temp_id"]).toBe("");
  });
});

describe("recordStatusEvent (event_type 332)", () => {
  it("has the fields of spec §4.5; record_detail is a JSON string", () => {
    const body = recordStatusEvent({
      domain: "push.example.com",
      app: "live",
      stream: "cam1",
      sessionId: "s-1",
      event: "record_ended",
      format: "mp4",
      startModel: 1,
      seq: 7,
      appId: 123,
      eventTimeMs: 1_700_207_929_750,
    });
    expect(body).toEqual({
      event_type: 332,
      appid: 123,
      appname: "live",
      domain: "push.example.com",
      stream_id: "cam1",
      event_time: 1700207929,
      record_event: "record_ended",
      record_detail: '{"file_format":3,"record_bps":0,"start_model":1,"record_content":1,"source_type":1,"codec_temp_id":0}',
      seq: "7",
      session_id: "s-1",
      task_id: "",
    });
  });

  it("maps every format, carries the task id and a failure message", () => {
    const formats = { flv: 1, hls: 2, mp4: 3, aac: 4, mp3: 5 } as const;
    for (const [format, n] of Object.entries(formats)) {
      const body = recordStatusEvent({
        domain: "d.com",
        app: "live",
        stream: "s",
        sessionId: "x",
        event: "record_start_failed",
        format: format as keyof typeof formats,
        reason: "disk full",
        startModel: 5,
        taskId: "task-1",
        seq: 1n,
        appId: 1,
        eventTimeMs: 0,
      });
      expect(JSON.parse(body["record_detail"] as string)).toMatchObject({ file_format: n, start_model: 5 });
      expect(body).toMatchObject({ record_event: "record_start_failed", message: "disk full", task_id: "task-1", seq: "1" });
    }
    const noFormat = recordStatusEvent({ domain: "d.com", app: "live", stream: "s", sessionId: "x", event: "record_paused", startModel: 1, seq: "9", appId: 1, eventTimeMs: 0 });
    expect(JSON.parse(noFormat["record_detail"] as string)).not.toHaveProperty("file_format");
    expect(noFormat).not.toHaveProperty("message");
  });
});

describe("signEvent / verifySign (spec §4.2)", () => {
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");

  it("t = now + 600, sign = lowercase hex md5(key + t), body kept, stale sign replaced", () => {
    const signed = signEvent({ event_type: 100, file_id: "f", sign: "old", t: 5 }, "my-key", 1_700_000_000);
    expect(signed.t).toBe(1_700_000_600);
    expect(signed.sign).toBe(md5("my-key1700000600"));
    expect(signed.sign).toMatch(/^[0-9a-f]{32}$/);
    expect(signed).toMatchObject({ event_type: 100, file_id: "f" });
    // The spec's worked example style: key "abc", t 1545030873.
    expect(signEvent({}, "abc", 1545030273).sign).toBe(md5("abc1545030873"));
  });

  it("verifySign accepts a fresh signature and refuses a wrong key, a tampered t, expiry and junk", () => {
    const { t, sign } = signEvent({}, "k", 1000);
    expect(verifySign(t, sign, "k", 1000)).toBe(true);
    expect(verifySign(String(t), sign.toUpperCase(), "k", 1600)).toBe(true);
    expect(verifySign(t, sign, "other", 1000)).toBe(false);
    expect(verifySign(t + 1, sign, "k", 1000)).toBe(false);
    expect(verifySign(t, sign, "k", 1601)).toBe(false);
    expect(verifySign("abc", sign, "k", 1000)).toBe(false);
    expect(verifySign(t, "short", "k", 1000)).toBe(false);
    expect(verifySign(t, undefined, "k", 1000)).toBe(false);
  });
});
