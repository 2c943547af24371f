/**
 * The control API end to end: the official Tencent Cloud SDK against our
 * server, auth, bad input, rule priority and pinning, and record tasks with
 * real pushes (including across a restart).
 */
import { readdir } from "node:fs/promises";
import tencentcloud from "tencentcloud-sdk-nodejs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { videoFrameHashes } from "../../scripts/test-support/media-check.js";
import { replayFlv } from "../cli/replay.js";
import { callApi, callOk, type Harness, listFiles, startService } from "../test-support/harness.js";
import { sleep, waitFor } from "../../scripts/test-support/wait-for.js";

const SECRET_ID = "AKIDtestrecorder";
const SECRET_KEY = "test-secret-key-0123456789";
const OFF = { Enable: 0 as const, RecordInterval: 1800 };
/** The config's fallback template records nothing here, so only rules and tasks decide. */
const NOTHING = { FlvParam: OFF, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF };
const nowSec = () => Math.floor(Date.now() / 1000);

async function extensions(h: Harness, stream: string): Promise<string[]> {
  const names = await readdir(h.streamDir("live", stream)).catch(() => [] as string[]);
  return names.filter((n) => /\.(flv|mp4|aac|m3u8)$/.test(n)).map((n) => n.split(".").pop()!).sort();
}

function sdkClient(port: number, secretKey = SECRET_KEY) {
  return new tencentcloud.live.v20180801.Client({
    credential: { secretId: SECRET_ID, secretKey },
    region: "",
    profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: "http://", reqTimeout: 10 } },
  });
}

describe("the official SDK against our server, signatures required", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService(NOTHING, (c) => {
      c.api.auth = "on";
      c.api.credentials = [{ SecretId: SECRET_ID, SecretKey: SECRET_KEY }];
    });
  });
  afterAll(() => h?.stop());

  it("creates a template, a rule and a task with tencentcloud-sdk-nodejs, unchanged", async () => {
    const client = sdkClient(h.service.httpPort);
    const { TemplateId } = await client.CreateLiveRecordTemplate({ TemplateName: "sdk_t", Mp4Param: { Enable: 1, RecordInterval: 60 } });
    expect(TemplateId).toBeGreaterThan(0);
    await client.CreateLiveRecordRule({ DomainName: "127.0.0.1", AppName: "live", StreamName: "sdk", TemplateId: TemplateId! });
    const { TaskId } = await client.CreateRecordTask({ DomainName: "127.0.0.1", AppName: "live", StreamName: "sdk", EndTime: nowSec() + 3600, TemplateId: TemplateId! });
    expect(TaskId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const { Template } = await client.DescribeLiveRecordTemplate({ TemplateId: TemplateId! });
    expect(Template).toMatchObject({ TemplateName: "sdk_t", Mp4Param: { Enable: 1, RecordInterval: 60 }, FlvParam: { Enable: 0 } });
    const { Rules } = await client.DescribeLiveRecordRules();
    expect(Rules).toEqual([expect.objectContaining({ DomainName: "127.0.0.1", AppName: "live", StreamName: "sdk", TemplateId })]);
    await expect(client.DeleteLiveRecordTemplate({ TemplateId: TemplateId! })).rejects.toMatchObject({ code: "FailedOperation.ConfInUsed" });
  });

  it("refuses unsigned and badly signed requests with AuthFailure codes, changing nothing", async () => {
    const before = await sdkClient(h.service.httpPort).DescribeLiveRecordTemplates({});
    const unsigned = await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "nope" });
    expect(unsigned.Error).toMatchObject({ Code: "AuthFailure.InvalidAuthorization" });
    await expect(sdkClient(h.service.httpPort, "wrong-secret-key-000").CreateLiveRecordTemplate({ TemplateName: "nope" })).rejects.toMatchObject({
      code: "AuthFailure.SignatureFailure",
    });
    const after = await sdkClient(h.service.httpPort).DescribeLiveRecordTemplates({});
    expect(after.Templates).toHaveLength(before.Templates!.length);
  });

  it("keeps /status closed when signatures are required", async () => {
    expect((await fetch(`http://127.0.0.1:${h.service.httpPort}/status`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).status).toBe(200);
  });
});

describe("API input handling (auth off on loopback)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService(NOTHING, (c) => {
      c.api.maxBodyBytes = 4096;
    });
  });
  afterAll(() => h?.stop());

  it("answers bad input of every kind with a clear error and changes nothing", async () => {
    const count = async () => ((await callOk(h, "DescribeLiveRecordTemplates", {})).Templates as unknown[]).length;
    const before = await count();
    const port = h.service.httpPort;
    const post = async (headers: Record<string, string>, body: string) =>
      ((await (await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers, body })).json()) as { Response: { Error?: { Code: string }; RequestId: string } }).Response;
    const json = { "content-type": "application/json" };
    expect((await post({ ...json, "x-tc-action": "NoSuchAction" }, "{}")).Error?.Code).toBe("InvalidAction");
    expect((await post(json, "{}")).Error?.Code).toBe("InvalidAction");
    expect((await post({ ...json, "x-tc-action": "CreateLiveRecordTemplate" }, "{not json")).Error?.Code).toBe("InvalidParameter");
    expect((await post({ ...json, "x-tc-action": "CreateLiveRecordTemplate" }, "[1,2]")).Error?.Code).toBe("InvalidParameter");
    const huge = JSON.stringify({ TemplateName: "x", Description: "y".repeat(10_000) });
    expect((await post({ ...json, "x-tc-action": "CreateLiveRecordTemplate" }, huge)).Error?.Code).toBe("RequestSizeLimitExceeded");
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "x", Mp4Param: { RecordInterval: "60" } })).Error).toMatchObject({ Code: "InvalidParameter" });
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "x", Mp4Param: { RecordInterval: 59 } })).Error).toMatchObject({ Code: "InvalidParameterValue" });
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "bad name!" })).Error).toMatchObject({ Code: "InvalidParameterValue" });
    expect((await callApi(h, "CreateLiveRecordTemplate", {})).Error).toMatchObject({ Code: "MissingParameter" });
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "x", Mp4Param: { VodFileName: "{Nope}" } })).Error).toMatchObject({
      Code: "InvalidParameter.InvalidVodFileName",
    });
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "x", Bogus: 1 })).Error).toMatchObject({ Code: "UnknownParameter" });
    expect((await callApi(h, "CreateLiveRecordRule", { DomainName: "bad domain", TemplateId: 1 })).Error).toMatchObject({ Code: "InvalidParameter.DomainFormatError" });
    expect((await callApi(h, "CreateLiveRecordRule", { DomainName: "a.com", TemplateId: 999 })).Error).toMatchObject({ Code: "InvalidParameter.ConfNotFound" });
    expect((await callApi(h, "DescribeLiveRecordTemplate", { TemplateId: 999 })).Error).toMatchObject({ Code: "FailedOperation.NotFound" });
    expect(await count()).toBe(before);
  });

  it("takes the GET form with flattened fields, as the source document's examples do", async () => {
    const q = new URLSearchParams({ Action: "CreateLiveRecordTemplate", TemplateName: "get_t", "Mp4Param.Enable": "1", "Mp4Param.RecordInterval": "120" });
    const r = ((await (await fetch(`http://127.0.0.1:${h.service.httpPort}/?${q}`)).json()) as { Response: { TemplateId: number; RequestId: string } }).Response;
    expect(r.TemplateId).toBeGreaterThan(0);
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    const { Template } = (await callOk(h, "DescribeLiveRecordTemplate", { TemplateId: r.TemplateId })) as { Template: { Mp4Param: { Enable: number; RecordInterval: number } } };
    expect(Template.Mp4Param).toMatchObject({ Enable: 1, RecordInterval: 120 });
  });

  it("enforces 50 templates (InternalError.ConfOutLimit) and 3 overlapping tasks per stream (LimitExceeded.MaximumRunningTask)", async () => {
    const existing = ((await callOk(h, "DescribeLiveRecordTemplates", {})).Templates as unknown[]).length;
    for (let i = existing; i < 50; i++) await callOk(h, "CreateLiveRecordTemplate", { TemplateName: `t${i}` });
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "one_too_many" })).Error).toMatchObject({ Code: "InternalError.ConfOutLimit" });
    const task = { DomainName: "127.0.0.1", AppName: "live", StreamName: "busy", StartTime: nowSec() + 600, EndTime: nowSec() + 1200 };
    for (let i = 0; i < 3; i++) await callOk(h, "CreateRecordTask", task);
    expect((await callApi(h, "CreateRecordTask", task)).Error).toMatchObject({ Code: "LimitExceeded.MaximumRunningTask" });
    expect((await callApi(h, "CreateRecordTask", { ...task, EndTime: nowSec() + 8 * 86400 })).Error).toMatchObject({ Code: "InvalidParameterValue" });
    const listed = (await callOk(h, "DescribeRecordTask", { StartTime: nowSec() - 60, EndTime: nowSec() + 3 * 86400, StreamName: "busy" })) as { TaskList: unknown[] };
    expect(listed.TaskList).toHaveLength(3);
  });
});

describe("rules and tasks with real pushes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService(NOTHING);
  });
  afterAll(() => h?.stop());

  it("the most specific rule wins, and a template with no format is a real do-not-record override", async () => {
    const flv = (await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "flv_only", FlvParam: { Enable: 1, RecordInterval: 60 } })).TemplateId;
    const none = (await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "norecord" })).TemplateId;
    const mp4 = (await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "mp4_only", Mp4Param: { Enable: 1, RecordInterval: 60 } })).TemplateId;
    await callOk(h, "CreateLiveRecordRule", { DomainName: "127.0.0.1", TemplateId: flv }); // domain, any stream
    await callOk(h, "CreateLiveRecordRule", { DomainName: "127.0.0.1", AppName: "live", StreamName: "quiet", TemplateId: none });
    await callOk(h, "CreateLiveRecordRule", { DomainName: "127.0.0.1", AppName: "live", StreamName: "special", TemplateId: mp4 });
    const source = FIXTURES["av-h264-aac-3s"].path;
    for (const s of ["cam", "quiet", "special"]) await replayFlv(source, h.url("live", s));
    await Promise.all([h.closed("cam"), h.closed("special")]);
    await waitFor(() => ["cam", "special"].every((s) => h.files.some((f) => f.stream === s)), { what: "the files of cam and special" });
    expect(await extensions(h, "cam")).toEqual(["flv"]);
    expect(await extensions(h, "quiet")).toEqual([]);
    expect(await extensions(h, "special")).toEqual(["mp4"]);
  });

  it("pins the template at push start; a change applies to the next push at once", async () => {
    const t = (await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "pinned", FlvParam: { Enable: 1, RecordInterval: 60 } })).TemplateId;
    await callOk(h, "CreateLiveRecordRule", { DomainName: "127.0.0.1", AppName: "live", StreamName: "pin", TemplateId: t });
    const source = FIXTURES["av-h264-aac-3s"].path;
    const first = replayFlv(source, h.url("live", "pin"), { speed: 1 });
    // The push has pinned its template once its recording is attached.
    await waitFor(() => h.service.livePushes().some((p) => p.stream === "pin" && p.recordings.length > 0), { what: "the pin push recording" });
    await callOk(h, "ModifyLiveRecordTemplate", { TemplateId: t, FlvParam: { Enable: 0 }, AacParam: { Enable: 1, RecordInterval: 60 } });
    await first;
    await h.closed("pin");
    expect(await extensions(h, "pin")).toEqual(["flv"]);
    await replayFlv(source, h.url("live", "pin"));
    await h.closed("pin", 2);
    expect(await extensions(h, "pin")).toEqual(["aac", "flv"]);
  });

  it("records a push inside a scheduled task window with the task's template, from its start to its end", async () => {
    const mp4 = (await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "task_mp4", Mp4Param: { Enable: 1, RecordInterval: 60 } })).TemplateId;
    const start = nowSec() + 3;
    await callOk(h, "CreateRecordTask", { DomainName: "127.0.0.1", AppName: "live", StreamName: "evt", StartTime: start, EndTime: start + 3, TemplateId: mp4 });
    const source = FIXTURES["av-h264-aac-10s-720x480"].path;
    const push = replayFlv(source, h.url("live", "evt"), { speed: 1 });
    const [closed] = await h.closed("evt", 1, 20_000);
    expect(closed!.taskId).not.toBe("");
    expect(Date.now() / 1000).toBeLessThan(start + 5); // the task's recording closed at EndTime, not at the push's end
    await push;
    const files = await listFiles(h.streamDir("live", "evt"), "mp4");
    expect(files).toHaveLength(1);
    // It starts on a keyframe mid-push and holds the source's frames in order. It ends at EndTime,
    // mid-GOP: the last few B-frames cannot decode without their later reference.
    const recorded = await videoFrameHashes(files[0]!);
    const all = await videoFrameHashes(source);
    const at = all.indexOf(recorded[0]!);
    expect(at).toBeGreaterThan(0);
    expect(at % 50).toBe(0);
    const settled = recorded.length - 4;
    expect(recorded.slice(0, settled)).toEqual(all.slice(at, at + settled));
    expect(recorded.length).toBeGreaterThanOrEqual(25); // >= 1 s: the window is 3 s, keyframes every 2 s
    expect(recorded.length).toBeLessThanOrEqual(80);
    // A push outside every task window records nothing.
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, h.url("live", "evt"));
    await sleep(500);
    expect(await listFiles(h.streamDir("live", "evt"), "mp4")).toHaveLength(1);
  });

  it("StopRecordTask ends the recording and its file is complete when the call returns", async () => {
    const { TaskId } = (await callOk(h, "CreateRecordTask", { DomainName: "127.0.0.1", AppName: "live", StreamName: "stopme", EndTime: nowSec() + 600 })) as { TaskId: string };
    const push = replayFlv(FIXTURES["av-h264-aac-10s-720x480"].path, h.url("live", "stopme"), { speed: 1 });
    await sleep(3500);
    await callOk(h, "StopRecordTask", { TaskId });
    const playlists = await listFiles(h.streamDir("live", "stopme"), "m3u8"); // no template: the task records HLS
    expect(playlists).toHaveLength(1);
    const frames = await videoFrameHashes(playlists[0]!);
    expect(frames.length).toBeGreaterThan(50);
    expect(frames.length).toBeLessThan(150);
    await push;
    const task = (await callOk(h, "DescribeRecordTask", { StartTime: nowSec() - 60, EndTime: nowSec() + 3600, StreamName: "stopme" })) as {
      TaskList: { TaskId: string; Stopped: number }[];
    };
    expect(task.TaskList[0]).toMatchObject({ TaskId, Stopped: expect.any(Number) });
    expect(task.TaskList[0]!.Stopped).toBeGreaterThan(0);
  });
});

describe("tasks survive a restart", () => {
  it("a task created before a restart still fires after it", async () => {
    const first = await startService(NOTHING);
    const start = nowSec() + 4;
    await callOk(first, "CreateRecordTask", { DomainName: "127.0.0.1", AppName: "live", StreamName: "later", StartTime: start, EndTime: start + 60 });
    await first.stop();
    const second = await startService(NOTHING, undefined, first.dataDir);
    try {
      while (nowSec() < start) await sleep(200);
      await replayFlv(FIXTURES["av-h264-aac-3s"].path, second.url("live", "later"));
      const [closed] = await second.closed("later");
      expect(closed!.taskId).not.toBe("");
      expect(await listFiles(second.streamDir("live", "later"), "m3u8")).toHaveLength(1);
      const rows = await second.service.catalog.listRecordings({ stream: "later" });
      expect(rows).toEqual([expect.objectContaining({ format: "hls", taskId: closed!.taskId, streamParam: "" })]);
    } finally {
      await second.stop();
    }
  });
});

describe("DropLiveStream", () => {
  it("disconnects a live publisher; its recording closes with what it has", async () => {
    const h = await startService({ FlvParam: { Enable: 1, RecordInterval: 60 }, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF });
    try {
      const push = replayFlv(FIXTURES["av-h264-aac-20s"].path, h.url("live", "drop"), { speed: 1 }).catch((e: Error) => e);
      type Online = { OnlineInfo: { StreamName: string; MatchedRule: string; BitrateKbps: number }[] };
      const live = await waitFor(
        async () => {
          const recording = h.service.livePushes().some((p) => p.stream === "drop" && p.recordings.some((r) => r.state === "recording"));
          const r = (await callOk(h, "DescribeLiveStreamOnlineList", {})) as Online;
          return recording && r.OnlineInfo.some((i) => i.BitrateKbps > 50) ? r : undefined;
        },
        { what: "drop recording, online with its bitrate" },
      );
      expect(live.OnlineInfo).toEqual([expect.objectContaining({ StreamName: "drop", MatchedRule: "config recordTemplate (no rule matched)" })]);
      expect(live.OnlineInfo[0]!.BitrateKbps).toBeGreaterThan(50);
      await callOk(h, "DropLiveStream", { DomainName: "127.0.0.1", AppName: "live", StreamName: "drop" });
      const [closed] = await h.closed("drop");
      expect(closed!.errors).toBe(0);
      expect(await push).toBeInstanceOf(Error); // the publisher was disconnected
      expect(await listFiles(h.streamDir("live", "drop"), "flv")).toHaveLength(1);
      expect((await callApi(h, "DropLiveStream", { DomainName: "127.0.0.1", AppName: "live", StreamName: "drop" })).Error).toMatchObject({
        Code: "ResourceNotFound.StreamNotAlive",
      });
    } finally {
      await h.stop();
    }
  });
});
