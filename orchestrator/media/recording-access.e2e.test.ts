/**
 * Access control for recordings (issue 14, item 5). The attack: with the API requiring
 * signatures, recordings were still served to anyone, and HLS segment folders are named after
 * the push's start time, so 600 HEAD requests (one per second of a ten-minute window) found one.
 * With `recordings.access` "auto" such a service now signs its URLs: the same guesses, and
 * unsigned requests for files that exist, all get the 403 a missing file gets, while the URLs the
 * API and callbacks report play (playlist, its segments by their relative URIs, ffprobe).
 */
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderVodFileName } from "../../engine/segment/naming.js";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { probe } from "../../scripts/test-support/media-check.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import { replayFlv } from "../cli/replay.js";
import type { ServiceConfig } from "../config/config.js";
import { callSigned, type Harness, listFiles, startService } from "../test-support/harness.js";

const CREDENTIAL = { secretId: "AKIDrecordingaccess", secretKey: "recording-access-secret-key" };
const every = { Enable: 1 as const, RecordInterval: 60 };
const TEMPLATE = { FlvParam: every, HlsParam: every, Mp4Param: every, AacParam: { Enable: 0 as const, RecordInterval: 60 } };
/** How the HLS writer names a playlist's segment folder (engine/splice/hls-state.ts). */
const SEGMENT_FOLDER = "{StreamID}_{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}";

interface MediaInfo {
  FileId: string;
  BasicInfo: { Type: string; MediaUrl: string };
}

/** The attack: one HEAD per second of the ten minutes around the push, for the folder's first segment. */
function guesses(stream: string, aroundMs: number): string[] {
  return Array.from({ length: 600 }, (_, i) => {
    const folder = renderVodFileName(SEGMENT_FOLDER, { streamId: stream, startMs: aroundMs + (i - 300) * 1000, endMs: 0, utcOffsetMinutes: 480 });
    return `/recordings/127.0.0.1/live/${stream}/${folder}/000000.ts`;
  });
}

/** Sends the guesses, 50 at a time; returns those answered 200. */
async function attack(h: Harness, paths: string[]): Promise<{ found: string[]; statuses: Set<number> }> {
  const found: string[] = [];
  const statuses = new Set<number>();
  for (let i = 0; i < paths.length; i += 50) {
    const answers = await Promise.all(paths.slice(i, i + 50).map(async (p) => ({ p, status: (await fetch(`http://127.0.0.1:${h.service.httpPort}${p}`, { method: "HEAD" })).status })));
    for (const a of answers) {
      statuses.add(a.status);
      if (a.status === 200) found.push(a.p);
    }
  }
  return { found, statuses };
}

describe("recordings of a service whose API requires signatures", () => {
  let h: Harness;
  let pushedAtMs = 0;
  let realFiles: string[] = [];
  let media: MediaInfo[] = [];

  beforeAll(async () => {
    h = await startService(TEMPLATE, (c) => {
      c.api.auth = "on";
      c.api.credentials = [{ SecretId: CREDENTIAL.secretId, SecretKey: CREDENTIAL.secretKey }];
      // Never answered: the queued event is read back from the outbox (its failed attempts logged as warnings).
      c.callbacks.recordNotifyUrl = "http://127.0.0.1:9/cb";
      if (c.logLevel === "warn") c.logLevel = "error";
    });
    pushedAtMs = Date.now();
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, h.url("live", "cam"));
    await h.closed("cam");
    const dir = h.streamDir("live", "cam");
    realFiles = [...(await listFiles(dir, "flv")), ...(await listFiles(dir, "mp4")), ...(await listFiles(dir, "m3u8"))].map((f) => f.slice(h.dataDir.length));
    media = ((await callSigned(h, "SearchMedia", { StreamIds: ["cam"] }, CREDENTIAL)) as { MediaInfoSet: MediaInfo[] }).MediaInfoSet;
  }, 60_000);
  afterAll(() => h?.stop());

  it("600 guessed segment folders: every HEAD gets 403, the real one included", async () => {
    const paths = guesses("cam", pushedAtMs);
    const folders = (await readdir(h.streamDir("live", "cam"), { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith("."));
    expect(folders).toHaveLength(1);
    const folder = folders[0]!.name;
    // The real folder is among the guesses: with public recordings this finds it (see below).
    expect(paths).toContain(`/recordings/127.0.0.1/live/cam/${folder}/000000.ts`);
    const { found, statuses } = await attack(h, paths);
    expect(found).toEqual([]);
    expect([...statuses]).toEqual([403]);
  });

  it("unsigned GET and HEAD of files that exist answer exactly as paths that do not", async () => {
    const answer = async (path: string, method: string) => {
      const r = await fetch(`http://127.0.0.1:${h.service.httpPort}${path}`, { method });
      const headers = Object.fromEntries([...r.headers].filter(([k]) => k !== "date"));
      return { status: r.status, headers, body: await r.text() };
    };
    expect(realFiles).toHaveLength(3);
    for (const method of ["GET", "HEAD"]) {
      const missing = await answer("/recordings/127.0.0.1/live/cam/cam_2020-01-01-00-00-00_2020-01-01-00-30-00.flv", method);
      expect(missing.status).toBe(403);
      if (method === "GET") expect(missing.body).toBe("Forbidden: URL_SIGNATURE_MISSING\n");
      for (const path of [...realFiles, "/recordings/127.0.0.1/live/cam/nothing/000000.ts", "/recordings/127.0.0.1/live/nobody/x.mp4"]) {
        expect(await answer(path, method), `${method} ${path}`).toEqual(missing);
      }
    }
  });

  it("the MediaUrl of a signed SearchMedia plays: HLS with its segments by relative URI, MP4 and FLV in ffprobe", async () => {
    expect(media.map((m) => m.BasicInfo.Type).sort()).toEqual(["flv", "m3u8", "mp4"]);
    for (const m of media) expect(m.BasicInfo.MediaUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/recordings\/127\.0\.0\.1\/live\/cam\/[^?]+\?t=[0-9a-f]+&sign=[0-9a-f]{32}$/);
    const hls = media.find((m) => m.BasicInfo.Type === "m3u8")!.BasicInfo.MediaUrl;
    const playlist = await fetch(hls);
    expect(playlist.status).toBe(200);
    const uris = (await playlist.text()).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(uris.length).toBeGreaterThan(0);
    const segment = await fetch(new URL(uris[0]!, hls));
    expect(segment.status).toBe(200);
    expect(segment.headers.get("content-type")).toBe("video/mp2t");
    expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(188);
    // A segment URI without its own signature (what a player resolving the file's plain playlist would ask for) is refused.
    expect((await fetch(new URL(uris[0]!.replace(/\?.*$/, ""), hls))).status).toBe(403);

    for (const type of ["mp4", "flv", "m3u8"]) {
      const url = media.find((m) => m.BasicInfo.Type === type)!.BasicInfo.MediaUrl;
      const probed = await probe(url);
      expect(probed.format.duration, type).toBeGreaterThan(2.5);
      expect(probed.streams.map((s) => s.codec_type).sort(), type).toEqual(["audio", "video"]);
    }
    const mp4 = media.find((m) => m.BasicInfo.Type === "mp4")!.BasicInfo.MediaUrl;
    const range = await fetch(mp4, { headers: { range: "bytes=0-7" } });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).subarray(4, 8).toString()).toBe("ftyp");
    const tampered = mp4.replace(/sign=(.)/, (_m, c: string) => `sign=${c === "0" ? "1" : "0"}`);
    expect(await (await fetch(tampered)).text()).toBe("Forbidden: URL_SIGNATURE_INVALID\n");
    expect((await fetch(mp4.replace(/\.mp4\?/, ".flv?"))).status).toBe(403);
  });

  it("DescribeMediaInfos and the callback's video_url carry signed URLs too", async () => {
    const ids = media.map((m) => m.FileId);
    const described = ((await callSigned(h, "DescribeMediaInfos", { FileIds: ids }, CREDENTIAL)) as { MediaInfoSet: MediaInfo[] }).MediaInfoSet;
    for (const m of described) expect((await fetch(m.BasicInfo.MediaUrl, { method: "HEAD" })).status).toBe(200);
    await waitFor(async () => (await h.service.catalog.listCallbacks({ offset: 0, limit: 50 })).rows.filter((r) => r.eventType === 100).length === 3, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: "three file callbacks queued",
    });
    const events = (await h.service.catalog.listCallbacks({ offset: 0, limit: 50 })).rows.filter((r) => r.eventType === 100);
    for (const e of events) {
      // The callback's file_id is the FileId DescribeMediaInfos renews its URL by.
      expect(ids).toContain(e.body.file_id);
      const url = String(e.body.video_url);
      expect(url).toMatch(/\?t=[0-9a-f]+&sign=[0-9a-f]{32}$/);
      expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
    }
  });

  it("issued URLs survive a restart (the generated key is kept); with recordings.access public the same guesses find the folder", async () => {
    const urls = media.map((m) => m.BasicInfo.MediaUrl.replace(/^http:\/\/[^/]+/, ""));
    await h.stop();
    const auth = (c: ServiceConfig) => {
      c.api.auth = "on";
      c.api.credentials = [{ SecretId: CREDENTIAL.secretId, SecretKey: CREDENTIAL.secretKey }];
    };
    h = await startService(TEMPLATE, auth, h.dataDir);
    for (const u of urls) expect((await fetch(`http://127.0.0.1:${h.service.httpPort}${u}`, { method: "HEAD" })).status, u).toBe(200);
    await h.stop();

    // The control: what the attack did before this change.
    h = await startService(
      TEMPLATE,
      (c) => {
        auth(c);
        c.recordings.access = "public";
      },
      h.dataDir,
    );
    const { found } = await attack(h, guesses("cam", pushedAtMs));
    expect(found).toHaveLength(1);
  }, 30_000);
});
