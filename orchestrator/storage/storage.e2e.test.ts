/**
 * Recordings leaving the recording machine, end to end, with a folder as the
 * destination (storage.url "file:///…", a network mount in production): a
 * real push, the file in the destination byte for byte, the local copy gone,
 * the callback only after the upload with a video_url that still serves the
 * bytes (now from the destination, ranges included), /healthz showing the
 * queue, DeleteMedia removing the object. The S3 target has its own e2e
 * against a real S3 server.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import type { ServiceConfig } from "../config/config.js";
import { type CallbackReceiver, startCallbackReceiver } from "../test-support/callback-receiver.js";
import { callApi, callOk, ffmpegPush, type Harness, listFiles, startService } from "../test-support/harness.js";

const OFF = { Enable: 0 as const, RecordInterval: 1800 };
const ON = { Enable: 1 as const, RecordInterval: 1800 };
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

describe("storage.url = file:///… (a folder as the destination)", () => {
  let h: Harness;
  let archive: string;
  let receiver: CallbackReceiver;
  const events = (): Record<string, unknown>[] => receiver.events;
  /** For each event: were the objects there when it arrived? */
  const objectsAtArrival: boolean[] = [];

  beforeAll(async () => {
    archive = await mkdtemp(join(tmpdir(), "recorder-archive-"));
    receiver = await startCallbackReceiver((event) => {
      const url = typeof event["video_url"] === "string" ? new URL(event["video_url"]) : undefined;
      const key = url ? decodeURIComponent(url.pathname.replace(/^\/recordings\//, "")) : "";
      void stat(join(archive, key)).then(
        () => objectsAtArrival.push(true),
        () => objectsAtArrival.push(false),
      );
    });
    h = await startService({ FlvParam: ON, HlsParam: ON, Mp4Param: OFF, AacParam: OFF }, (c) => {
      c.storage.url = `file://${archive}`;
      c.callbacks.recordNotifyUrl = receiver.url;
    });
  });

  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it("uploads every file, removes the local copy, calls back after, and keeps serving and deleting them", async () => {
    const fixture = FIXTURES["av-h264-aac-3s"].path;
    await ffmpegPush(fixture, h.url("live", "up"));
    const fileEvents = () => events().filter((e) => e["event_type"] === 100);
    await waitFor(() => fileEvents().length === 2, { timeoutMs: 30_000, what: "two file callbacks (FLV, HLS)" });
    await waitFor(() => objectsAtArrival.length >= 2, { what: "the receiver's look at the objects" });
    expect(objectsAtArrival.slice(0, 2)).toEqual([true, true]);

    // Everything in the archive, in the local layout; nothing left locally but the (empty) stream folder.
    const streamObjects = join(archive, "127.0.0.1", "live", "up");
    const names = await readdir(streamObjects);
    const flvName = names.find((n) => n.endsWith(".flv"))!;
    const playlistName = names.find((n) => n.endsWith(".m3u8"))!;
    expect(flvName).toBeDefined();
    expect(playlistName).toBeDefined();
    const localLeft = await readdir(h.streamDir("live", "up")).catch(() => []);
    expect(localLeft.filter((n) => !n.startsWith("."))).toEqual([]); // .recording: the journals' folder

    // The FLV is what was recorded: the catalog's size and the bytes the service serves agree.
    const flvEvent = fileEvents().find((e) => e["file_format"] === "flv")!;
    const stored = await readFile(join(streamObjects, flvName));
    expect(flvEvent["file_size"]).toBe(stored.length);
    const served = Buffer.from(await (await fetch(String(flvEvent["video_url"]))).arrayBuffer());
    expect(md5(served)).toBe(md5(stored));
    // Validators from the destination: the ETag revalidates (304), a range too.
    const etag = (await fetch(String(flvEvent["video_url"]), { method: "HEAD" })).headers.get("etag");
    expect(etag).toMatch(/^W\/"/);
    expect((await fetch(String(flvEvent["video_url"]), { headers: { "if-none-match": etag! } })).status).toBe(304);
    const ranged = await fetch(String(flvEvent["video_url"]), { headers: { range: "bytes=9-20" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 9-20/${stored.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(stored.subarray(9, 21));

    // The playlist plays from the archive: a segment by its relative URI.
    const hlsEvent = fileEvents().find((e) => e["file_format"] === "hls")!;
    const playlistUrl = String(hlsEvent["video_url"]);
    const playlist = await (await fetch(playlistUrl)).text();
    const segment = playlist.split("\n").find((l) => l.endsWith(".ts"))!;
    const segmentRes = await fetch(new URL(segment, playlistUrl));
    expect(segmentRes.status).toBe(200);
    expect(Buffer.from(await segmentRes.arrayBuffer())).toEqual(await readFile(join(streamObjects, segment)));

    // /healthz names the destination and an empty queue.
    const health = (await (await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).json()) as Record<string, unknown>;
    expect(health["storage"]).toEqual({ target: `file://${archive}`, uploadQueue: { files: 0, bytes: 0, failed: 0, oldestQueuedMs: 0, lastError: "" } });

    // A folder has no cold storage class: a template asking for one is refused at once.
    const cold = await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "cold", Mp4Param: { Enable: 1, StorageMode: "cold" } });
    expect(cold["Error"]).toMatchObject({ Code: "InvalidParameterValue", Message: expect.stringMatching(/Mp4Param.StorageMode: "cold" needs a cold storage class, and file:\/\/.* has none/) });
    expect(await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "normal", Mp4Param: { Enable: 1, StorageMode: "normal" } })).toHaveProperty("TemplateId");

    // DeleteMedia removes the objects (the playlist with its segments).
    await callOk(h, "DeleteMedia", { FileId: hlsEvent["file_id"] });
    await callOk(h, "DeleteMedia", { FileId: flvEvent["file_id"] });
    // Folders emptied by the deletion go as well.
    expect(await readdir(streamObjects).catch(() => "gone")).toBe("gone");
    expect((await fetch(String(flvEvent["video_url"]))).status).toBe(404);
  }, 90_000);

  it("keeps recording while the destination is down, shows the queue, and uploads everything after a restart", async () => {
    const blockedParent = await mkdtemp(join(tmpdir(), "recorder-down-"));
    const target = join(blockedParent, "archive");
    await writeFile(target, "not a folder: the destination is down");
    const dataDir = await mkdtemp(join(tmpdir(), "recorder-outage-"));
    const config = (c: ServiceConfig) => {
      c.storage.url = `file://${target}`;
    };
    let down = await startService({ FlvParam: ON, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF }, config, dataDir);
    await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, down.url("live", "down"));
    const healthz = async (svc: Harness) => ((await (await fetch(`http://127.0.0.1:${svc.service.httpPort}/healthz`)).json()) as { storage: { uploadQueue: Record<string, unknown> } }).storage.uploadQueue;
    const queue = await waitFor(async () => {
      const q = await healthz(down);
      return q["lastError"] !== "" ? q : null;
    }, { timeoutMs: 20_000, what: "a failed upload attempt" });
    expect(queue["files"]).toBe(1);
    expect(queue["bytes"]).toBe((await stat((await listFiles(down.streamDir("live", "down"), "flv"))[0]!)).size);
    expect(queue["oldestQueuedMs"]).toBeGreaterThan(0);
    const [local] = await listFiles(down.streamDir("live", "down"), "flv");
    const recorded = await readFile(local!);
    await down.stop();

    // The destination comes back; the restarted service finds the file in its queue.
    await rm(target);
    down = await startService({ FlvParam: ON, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF }, config, dataDir);
    try {
      const uploaded = await waitFor(async () => (await readdir(join(target, "127.0.0.1", "live", "down")).catch(() => [])).find((n) => n.endsWith(".flv")), {
        timeoutMs: 20_000,
        what: "the upload after the restart",
      });
      expect(md5(await readFile(join(target, "127.0.0.1", "live", "down", uploaded)))).toBe(md5(recorded));
      await waitFor(async () => (await healthz(down))["files"] === 0, { what: "the queue to empty" });
    } finally {
      await down.stop();
    }
  }, 90_000);

  it("signed recordings are served from the destination too: the playlist with its segment URIs signed", async () => {
    const signedArchive = await mkdtemp(join(tmpdir(), "recorder-archive-signed-"));
    const svc = await startService({ FlvParam: OFF, HlsParam: ON, Mp4Param: OFF, AacParam: OFF }, (c) => {
      c.storage.url = `file://${signedArchive}`;
      c.recordings.access = "signed";
    });
    try {
      const uploaded = new Promise<void>((resolve) => svc.service.once("fileUploaded", () => resolve()));
      await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, svc.url("live", "signed"));
      await uploaded;
      expect((await readdir(svc.streamDir("live", "signed"))).filter((n) => !n.startsWith("."))).toEqual([]);
      const search = (await callOk(svc, "SearchMedia", { StreamIds: ["signed"] })) as { MediaInfoSet: { BasicInfo: { MediaUrl: string } }[] };
      const mediaUrl = search.MediaInfoSet[0]!.BasicInfo.MediaUrl;
      expect(mediaUrl).toMatch(/\.m3u8\?t=[0-9a-f]+&sign=[0-9a-f]{32}$/);
      expect((await fetch(mediaUrl.replace(/\?.*$/, ""))).status).toBe(403);
      const playlist = await (await fetch(mediaUrl)).text();
      const segmentUri = playlist.split("\n").find((l) => /\.ts\?t=/.test(l))!;
      expect(segmentUri).toBeDefined();
      const segment = await fetch(new URL(segmentUri, mediaUrl));
      expect(segment.status).toBe(200);
      const stored = await readFile(join(signedArchive, "127.0.0.1", "live", "signed", segmentUri.replace(/\?.*$/, "")));
      expect(Buffer.from(await segment.arrayBuffer())).toEqual(stored);
    } finally {
      await svc.stop();
    }
  }, 60_000);

  it("retention (StorageTime) deletes uploaded files' objects", async () => {
    const keepArchive = await mkdtemp(join(tmpdir(), "recorder-archive-retention-"));
    const svc = await startService({ FlvParam: { ...ON, StorageTime: 4 }, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF }, (c) => {
      c.storage.url = `file://${keepArchive}`;
      c.recording.retentionSweepSeconds = 1;
    });
    try {
      const uploaded = new Promise<void>((resolve) => svc.service.once("fileUploaded", () => resolve()));
      await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, svc.url("live", "expiring"));
      await uploaded;
      const folder = join(keepArchive, "127.0.0.1", "live", "expiring");
      expect((await readdir(folder)).filter((n) => n.endsWith(".flv"))).toHaveLength(1);
      await waitFor(async () => (await readdir(folder).catch(() => [])).length === 0, { timeoutMs: 15_000, what: "the expired object deleted" });
      // The catalog row goes right after the files (and objects) are deleted.
      await waitFor(async () => (await callOk(svc, "SearchMedia", { StreamIds: ["expiring"] }))["TotalCount"] === 0, { what: "the expired row deleted" });
    } finally {
      await svc.stop();
    }
  }, 60_000);
});
