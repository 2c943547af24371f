import { describe, expect, it } from "vitest";
import { silentLogger } from "../../engine/logger.js";
import type { RecordingFile } from "../catalog/types.js";
import { type CallbackOutbox, RecordNotifier } from "./record-notifier.js";
import type { CallbackTarget, OutboxEvent } from "./types.js";

const NOW = 1_700_000_000_000;

function setup(target: CallbackTarget | undefined, failEnqueue = false) {
  const queued: OutboxEvent[] = [];
  let kicks = 0;
  const outbox: CallbackOutbox = {
    enqueueCallback: async (e) => {
      if (failEnqueue) throw new Error("disk I/O error");
      queued.push(e);
    },
  };
  const errors: string[] = [];
  const logger = { ...silentLogger, error: (msg: string) => errors.push(msg) };
  const notifier = new RecordNotifier({ targets: { resolve: async () => target }, outbox, kick: () => kicks++, urlOf: (f) => `http://rec.example/recordings/${f.path}`, appId: 1234, logger, now: () => NOW });
  return { notifier, queued, kicks: () => kicks, errors };
}

const row: RecordingFile = {
  fileId: "f-1",
  recordingId: "r-1",
  domain: "d.example",
  app: "live",
  stream: "s1",
  taskId: "",
  templateId: 7,
  streamParam: "a=1",
  format: "flv",
  path: "live/s1/x.flv",
  startMs: NOW - 10_000,
  endMs: NOW,
  durationSec: 10,
  sizeBytes: 1000,
  createdMs: NOW,
  expiresMs: 0,
  mediaStartMs: 0,
  media: { videoCodec: "h264", width: 640, height: 360 },
};

describe("RecordNotifier", () => {
  it("queues the event_type 100 body of a file for the resolved target, then wakes the dispatcher", async () => {
    const s = setup({ recordNotifyUrl: "http://hooks.example/file", callbackKey: "k" });
    await s.notifier.fileReady(row);
    expect(s.queued).toHaveLength(1);
    const e = s.queued[0]!;
    expect(e).toMatchObject({ url: "http://hooks.example/file", callbackKey: "k", eventType: 100, fileId: "f-1" });
    expect(e.body).toMatchObject({ event_type: 100, appid: 1234, stream_id: "s1", file_id: "f-1", video_url: "http://rec.example/recordings/live/s1/x.flv" });
    expect(s.kicks()).toBe(1);
  });

  it("queues nothing when no target (or no URL for the event) is configured", async () => {
    const none = setup(undefined);
    await none.notifier.fileReady(row);
    await none.notifier.status({ domain: "d.example", app: "live", stream: "s1", sessionId: "r-1", taskId: "" }, "record_ended");
    expect(none.queued).toHaveLength(0);
    const fileOnly = setup({ recordNotifyUrl: "http://hooks.example/file", callbackKey: "" });
    await fileOnly.notifier.status({ domain: "d.example", app: "live", stream: "s1", sessionId: "r-1", taskId: "" }, "record_ended");
    expect(fileOnly.queued).toHaveLength(0);
    expect(fileOnly.kicks()).toBe(0);
  });

  it("numbers status events in order and marks task recordings with start_model 5", async () => {
    const s = setup({ recordStatusNotifyUrl: "http://hooks.example/status", callbackKey: "k" });
    await s.notifier.status({ domain: "d.example", app: "live", stream: "s1", sessionId: "r-1", taskId: "" }, "record_start_succeeded", "hls");
    await s.notifier.status({ domain: "d.example", app: "live", stream: "s1", sessionId: "r-2", taskId: "t-9" }, "record_error", undefined, "E: boom");
    expect(s.queued.map((e) => e.body["seq"])).toEqual(["1", "2"]);
    expect(s.queued[0]!.body).toMatchObject({ event_type: 332, record_event: "record_start_succeeded", task_id: "", event_time: NOW / 1000 });
    expect(JSON.parse(s.queued[0]!.body["record_detail"] as string)).toMatchObject({ file_format: 2, start_model: 1 });
    expect(s.queued[1]!.body).toMatchObject({ record_event: "record_error", task_id: "t-9", message: "E: boom", session_id: "r-2" });
    expect(JSON.parse(s.queued[1]!.body["record_detail"] as string)).toMatchObject({ start_model: 5 });
  });

  it("queues events in the order they happened, numbered in that order, even when the catalog answers out of order", async () => {
    const queued: OutboxEvent[] = [];
    let calls = 0;
    const target = { recordNotifyUrl: "http://hooks.example/file", recordStatusNotifyUrl: "http://hooks.example/status", callbackKey: "k" };
    const notifier = new RecordNotifier({
      // The first lookup is the slowest: unordered queueing would put the first event last.
      targets: { resolve: () => new Promise((r) => setTimeout(() => r(target), calls++ === 0 ? 30 : 0)) },
      outbox: { enqueueCallback: async (e) => queued.push(e) },
      kick: () => {},
      urlOf: () => "",
      appId: 1,
      logger: silentLogger,
    });
    const subject = { domain: "d.example", app: "live", stream: "s1", sessionId: "r-1", taskId: "" };
    await Promise.all([notifier.status(subject, "record_start_succeeded", "flv"), notifier.fileReady(row), notifier.status(subject, "record_ended")]);
    expect(queued.map((e) => [e.eventType, e.body["record_event"], e.body["seq"]])).toEqual([
      [332, "record_start_succeeded", "1"],
      [100, undefined, undefined],
      [332, "record_ended", "2"],
    ]);
  });

  it("logs (never rejects) when the outbox cannot take an event", async () => {
    const s = setup({ recordNotifyUrl: "http://hooks.example/file", recordStatusNotifyUrl: "http://hooks.example/status", callbackKey: "k" }, true);
    await expect(s.notifier.fileReady(row)).resolves.toBeUndefined();
    await expect(s.notifier.status({ domain: "d.example", app: "live", stream: "s1", sessionId: "r-1", taskId: "" }, "record_ended")).resolves.toBeUndefined();
    expect(s.errors).toEqual(["cannot queue the file callback", "cannot queue a status callback"]);
  });
});
