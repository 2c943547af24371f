/**
 * Getting recordings out: SearchMedia / DescribeMediaInfos / DeleteMedia over
 * the catalog, HTTP fetch of the reported URLs, and retention.
 */
import { request } from "node:http";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { hlsPlaylist } from "../../scripts/test-support/media-check.js";
import { replayFlv } from "../cli/replay.js";
import { callApi, callOk, type Harness, listFiles, startService } from "../test-support/harness.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";

const every = (n: number, StorageTime = 0) => ({ Enable: 1 as const, RecordInterval: n, StorageTime });

interface MediaInfo {
  FileId: string;
  BasicInfo: { Name: string; Type: string; MediaUrl: string; CreateTime: string; Category: string; SourceInfo: { LiveRecordInfo: Record<string, string> } };
  MetaData: { Size: number; Duration: number; Width: number; Height: number };
}

/** A raw GET that keeps `..` in the path (fetch would normalize it). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("finding and fetching recordings", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startService({ FlvParam: every(60), HlsParam: every(60), Mp4Param: every(60), AacParam: { Enable: 0, RecordInterval: 60 } });
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, h.url("live", "one"));
    await h.closed("one");
    await replayFlv(FIXTURES["audio-aac-10s"].path, h.url("live", "two"));
    await h.closed("two");
    await replayFlv(FIXTURES["av-h264-aac-3s"].path, `rtmp://localhost:${h.service.rtmpPort}/other/three`);
    await h.closed("three");
  });
  afterAll(() => h?.stop());

  it("SearchMedia filters by stream, domain, path, type and category, sorts and pages", async () => {
    const all = (await callOk(h, "SearchMedia", { Limit: 100 })) as { TotalCount: number; MediaInfoSet: MediaInfo[] };
    expect(all.TotalCount).toBe(9); // 3 pushes x FLV/HLS/MP4
    const one = (await callOk(h, "SearchMedia", { StreamIds: ["one"] })) as { TotalCount: number; MediaInfoSet: MediaInfo[] };
    expect(one.TotalCount).toBe(3);
    expect(one.MediaInfoSet.map((m) => m.BasicInfo.Type).sort()).toEqual(["flv", "m3u8", "mp4"]);
    const mp4 = one.MediaInfoSet.find((m) => m.BasicInfo.Type === "mp4")!;
    expect(mp4.BasicInfo.SourceInfo.LiveRecordInfo).toMatchObject({ Domain: "127.0.0.1", Path: "live", StreamId: "one" });
    expect(mp4.MetaData).toMatchObject({ Width: 640, Height: 360 });
    expect(mp4.MetaData.Duration).toBeCloseTo(3.08, 1);
    expect(((await callOk(h, "SearchMedia", { StreamDomains: ["localhost"] })) as { TotalCount: number }).TotalCount).toBe(3);
    expect(((await callOk(h, "SearchMedia", { StreamPaths: ["other"] })) as { TotalCount: number }).TotalCount).toBe(3);
    expect(((await callOk(h, "SearchMedia", { MediaTypes: ["m3u8"] })) as { TotalCount: number }).TotalCount).toBe(3);
    expect(((await callOk(h, "SearchMedia", { Categories: ["Audio"] })) as { TotalCount: number }).TotalCount).toBe(0);
    const page1 = (await callOk(h, "SearchMedia", { Sort: { Field: "CreateTime", Order: "Asc" }, Offset: 0, Limit: 4 })) as { TotalCount: number; MediaInfoSet: MediaInfo[] };
    const page2 = (await callOk(h, "SearchMedia", { Sort: { Field: "CreateTime", Order: "Asc" }, Offset: 4, Limit: 4 })) as { MediaInfoSet: MediaInfo[] };
    const page3 = (await callOk(h, "SearchMedia", { Sort: { Field: "CreateTime", Order: "Asc" }, Offset: 8, Limit: 4 })) as { MediaInfoSet: MediaInfo[] };
    expect(page1.TotalCount).toBe(9);
    const ids = [...page1.MediaInfoSet, ...page2.MediaInfoSet, ...page3.MediaInfoSet].map((m) => m.FileId);
    expect(new Set(ids).size).toBe(9);
    const times = [...page1.MediaInfoSet, ...page2.MediaInfoSet, ...page3.MediaInfoSet].map((m) => m.BasicInfo.CreateTime);
    expect([...times].sort()).toEqual(times);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(((await callOk(h, "SearchMedia", { CreateTime: { After: future } })) as { TotalCount: number }).TotalCount).toBe(0);
    expect((await callApi(h, "SearchMedia", { Offset: 4990, Limit: 20 })).Error).toMatchObject({ Code: "InvalidParameterValue" });
    expect((await callApi(h, "SearchMedia", { MediaTypes: ["exe"] })).Error).toMatchObject({ Code: "InvalidParameterValue" });
  });

  it("serves what it reports: MediaUrl with range requests, HLS playlists and segments, nothing outside recordings", async () => {
    const found = (await callOk(h, "SearchMedia", { StreamIds: ["one"] })) as { MediaInfoSet: MediaInfo[] };
    const mp4 = found.MediaInfoSet.find((m) => m.BasicInfo.Type === "mp4")!;
    const local = join(h.streamDir("live", "one"), `${mp4.BasicInfo.Name}.mp4`);
    const bytes = await readFile(local);
    expect(mp4.MetaData.Size).toBe(bytes.length);
    const whole = await fetch(mp4.BasicInfo.MediaUrl);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(mp4.BasicInfo.MediaUrl, { headers: { range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const playlist = found.MediaInfoSet.find((m) => m.BasicInfo.Type === "m3u8")!;
    const m3u8 = await fetch(playlist.BasicInfo.MediaUrl);
    expect(m3u8.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const firstSegment = (await m3u8.text()).split("\n").find((l) => l.endsWith(".ts"))!;
    const ts = await fetch(new URL(firstSegment, playlist.BasicInfo.MediaUrl));
    expect(ts.status).toBe(200);
    expect(ts.headers.get("content-type")).toBe("video/mp2t");

    const port = h.service.httpPort;
    for (const bad of ["/recordings/../catalog.sqlite", "/recordings/%2e%2e/catalog.sqlite", "/recordings/127.0.0.1/live/one/.recording", "/recordings/..%2f..%2fetc%2fpasswd"]) {
      const r = await rawGet(port, bad);
      expect([400, 403, 404], bad).toContain(r.status);
      expect(r.body.includes(Buffer.from("SQLite format"))).toBe(false);
    }
  });

  it("DescribeMediaInfos by FileIds and DeleteMedia remove the file and its row", async () => {
    const found = (await callOk(h, "SearchMedia", { StreamIds: ["three"] })) as { MediaInfoSet: MediaInfo[] };
    const ids = found.MediaInfoSet.map((m) => m.FileId);
    const described = (await callOk(h, "DescribeMediaInfos", { FileIds: [...ids, "no-such-file"] })) as { MediaInfoSet: MediaInfo[]; NotExistFileIdSet: string[] };
    expect(described.MediaInfoSet.map((m) => m.FileId).sort()).toEqual([...ids].sort());
    expect(described.NotExistFileIdSet).toEqual(["no-such-file"]);
    const hls = found.MediaInfoSet.find((m) => m.BasicInfo.Type === "m3u8")!;
    const dir = h.streamDir("other", "three", "localhost");
    const segmentsFolder = (await hlsPlaylist(join(dir, `${hls.BasicInfo.Name}.m3u8`))).segments[0]!.uri.split("/")[0]!;
    await callOk(h, "DeleteMedia", { FileId: hls.FileId });
    expect(await listFiles(dir, "m3u8")).toHaveLength(0);
    expect((await readdir(dir)).includes(segmentsFolder)).toBe(false);
    expect((await fetch(hls.BasicInfo.MediaUrl)).status).toBe(404);
    expect(((await callOk(h, "SearchMedia", { StreamIds: ["three"] })) as { TotalCount: number }).TotalCount).toBe(2);
    expect((await callApi(h, "DeleteMedia", { FileId: hls.FileId })).Error).toMatchObject({ Code: "FailedOperation.NotFound" });
  });
});

describe("retention (StorageTime)", () => {
  it("deletes an expired file and its row, keeps a fresh one and a spliced playlist that is still open", async () => {
    const h = await startService(
      {
        FlvParam: every(60, 1), // expires a second after it is written
        Mp4Param: every(60, 0), // kept forever
        HlsParam: every(60, 1),
        AacParam: { Enable: 0, RecordInterval: 60 },
        HlsSpecialParam: { FlowContinueDuration: 120 }, // stays open long after its StorageTime
      },
      (c) => {
        c.recording.retentionSweepSeconds = 1;
      },
    );
    try {
      await replayFlv(FIXTURES["av-h264-aac-3s"].path, h.url("live", "keep"));
      await h.closed("keep");
      const dir = h.streamDir("live", "keep");
      expect(await listFiles(dir, "flv")).toHaveLength(1);
      // The sweep (every second) deletes the expired FLV and its row.
      await waitFor(async () => (await listFiles(dir, "flv")).length === 0 && (await h.service.catalog.listRecordings({ stream: "keep" })).every((r) => r.format !== "flv"), {
        what: "the expired FLV and its row to be swept",
      });
      expect(await listFiles(dir, "mp4")).toHaveLength(1);
      const rows = await h.service.catalog.listRecordings({ stream: "keep" });
      expect(rows.map((r) => r.format)).toEqual(["mp4"]);
      expect(((await callOk(h, "SearchMedia", { StreamIds: ["keep"] })) as { TotalCount: number }).TotalCount).toBe(1);
      // The open playlist and its segments are untouched.
      const live = (await readdir(join(dir, ".recording"))).filter((n) => n.endsWith(".m3u8"));
      expect(live).toHaveLength(1);
      const segment = (await hlsPlaylist(join(dir, ".recording", live[0]!))).segments[0]!.uri;
      expect((await stat(join(dir, ".recording", segment))).size).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
  });
});
