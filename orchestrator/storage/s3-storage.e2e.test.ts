/**
 * Recordings to a real S3 server (Debian's OpenStack Swift with its S3 API,
 * started by scripts/services/swift-s3.mjs): a push in every format, each
 * object byte for byte what was recorded (read back through Swift's own API,
 * not S3 and not our code), callbacks only once the objects exist, the
 * video_url serving the object with ranges once the local copy is gone,
 * DeleteMedia deleting the objects; and a 20 s store outage mid-push that
 * loses nothing.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { dirname, join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { type S3Server, startS3Server } from "../../scripts/test-support/s3-server.js";
import { sleep, waitFor } from "../../scripts/test-support/wait-for.js";
import { replayFlv } from "../cli/replay.js";
import { playlistSegments } from "../media/recording-paths.js";
import { type CallbackReceiver, startCallbackReceiver } from "../test-support/callback-receiver.js";
import { callOk, ffmpegPush, type Harness, startService } from "../test-support/harness.js";
import { exited, serveProcess } from "../test-support/service-process.js";
import { createS3Client } from "./s3-client.js";

const ON = { Enable: 1 as const, RecordInterval: 1800 };
const BUCKET = "rec";
const PREFIX = "archive";
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

describe("storage.url = s3://… against a real S3 server (Swift)", () => {
  let s3: S3Server;
  let h: Harness;
  let receiver: CallbackReceiver;
  /** path under recordings/ -> md5 of the bytes recorded, read when the file was catalogued (before any upload). */
  const recorded = new Map<string, string>();
  const events = (): Record<string, unknown>[] => receiver.events;
  /** For each file event: did its object exist when the callback arrived? */
  const objectAtArrival: Promise<boolean>[] = [];
  const keyOf = (videoUrl: string) => `${PREFIX}/${decodeURIComponent(new URL(videoUrl).pathname.replace(/^\/recordings\//, ""))}`;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    receiver = await startCallbackReceiver((event) => {
      if (event["event_type"] === 100) objectAtArrival.push(s3.readNative(BUCKET, keyOf(String(event["video_url"]))).then((b) => b !== null));
    });
    h = await startService({ FlvParam: ON, HlsParam: ON, Mp4Param: ON, AacParam: ON }, (c) => {
      c.storage.url = s3.url(BUCKET, PREFIX);
      c.storage.accessKeyId = s3.credentials.accessKeyId;
      c.storage.secretAccessKey = s3.credentials.secretAccessKey;
      c.callbacks.recordNotifyUrl = receiver.url;
    });
    const recordingsDir = join(h.dataDir, "recordings");
    // Read right when catalogued: the uploader only starts on the file after this event.
    h.service.on("file", (f) => {
      const rel = relative(recordingsDir, f.path).split(sep).join("/");
      const bytes = readFileSync(f.path);
      recorded.set(rel, md5(bytes));
      if (rel.endsWith(".m3u8")) {
        for (const seg of playlistSegments(bytes.toString(), rel)) recorded.set(seg, md5(readFileSync(join(recordingsDir, ...seg.split("/")))));
      }
    });
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
    await s3?.stop();
    await receiver?.close();
  });

  async function expectAllStored(paths: string[]): Promise<void> {
    for (const p of paths) {
      const object = await s3.readNative(BUCKET, `${PREFIX}/${p}`);
      expect(object, p).not.toBeNull();
      expect(md5(object!), p).toBe(recorded.get(p));
    }
  }

  it("stores every file byte for byte, calls back after, serves and deletes the objects", async () => {
    await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, h.url("live", "s3"));
    const fileEvents = () => events().filter((e) => e["event_type"] === 100 && e["stream_id"] === "s3");
    await waitFor(() => fileEvents().length === 4, { timeoutMs: 60_000, what: "four file callbacks" });
    expect(await Promise.all(objectAtArrival.slice(0, 4))).toEqual([true, true, true, true]);

    const paths = [...recorded.keys()].filter((p) => p.startsWith("127.0.0.1/live/s3/"));
    expect(paths.filter((p) => p.endsWith(".ts")).length).toBeGreaterThan(0);
    await expectAllStored(paths);

    // The local copies are gone: the service serves the objects, ranges included.
    const mp4 = fileEvents().find((e) => e["file_format"] === "mp4")!;
    const url = String(mp4["video_url"]);
    const object = (await s3.readNative(BUCKET, keyOf(url)))!;
    expect(() => readFileSync(join(h.dataDir, "recordings", ...keyOf(url).split("/").slice(1)))).toThrow(/ENOENT/);
    expect(md5(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(md5(object));
    const ranged = await fetch(url, { headers: { range: "bytes=100-199" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 100-199/${object.length}`);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(object.subarray(100, 200));
    const hls = fileEvents().find((e) => e["file_format"] === "hls")!;
    const playlist = await (await fetch(String(hls["video_url"]))).text();
    const segment = playlist.split("\n").find((l) => l.endsWith(".ts"))!;
    const served = Buffer.from(await (await fetch(new URL(segment, String(hls["video_url"])))).arrayBuffer());
    expect(md5(served)).toBe(recorded.get(`${dirname(keyOf(String(hls["video_url"]))).slice(PREFIX.length + 1)}/${segment}`));

    const health = (await (await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).json()) as { storage: Record<string, unknown> };
    expect(health.storage).toEqual({ target: `s3://${BUCKET}/${PREFIX}`, uploadQueue: { files: 0, bytes: 0, failed: 0, oldestQueuedMs: 0, lastError: "" } });

    // DeleteMedia deletes the objects, the playlist's segments with it.
    for (const e of fileEvents()) await callOk(h, "DeleteMedia", { FileId: e["file_id"] });
    for (const p of paths) expect(await s3.readNative(BUCKET, `${PREFIX}/${p}`), p).toBeNull();
  }, 120_000);

  it("keeps recording through a 20 s store outage mid-push and then stores everything", async () => {
    const fixture = FIXTURES["av-h264-aac-20s"];
    const push = replayFlv(fixture.path, h.url("live", "outage"), { speed: 1 });
    await waitFor(() => h.service.livePushes().some((p) => p.stream === "outage"), { what: "the push to start" });
    // The whole store freezes: connections hang, as with a dead network path.
    for (const pid of s3.pids) process.kill(pid, "SIGSTOP");
    try {
      await push;
      await h.closed("outage", 1, 30_000);
      await sleep(Math.max(0, 20_000 - fixture.videoFrames * 40));
      const queue = ((await (await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).json()) as { storage: { uploadQueue: { files: number } } }).storage.uploadQueue;
      expect(queue.files).toBeGreaterThan(0);
    } finally {
      for (const pid of s3.pids) process.kill(pid, "SIGCONT");
    }
    const fileEvents = () => events().filter((e) => e["event_type"] === 100 && e["stream_id"] === "outage");
    await waitFor(() => fileEvents().length === 4, { timeoutMs: 120_000, what: "four file callbacks after the outage" });
    const paths = [...recorded.keys()].filter((p) => p.startsWith("127.0.0.1/live/outage/"));
    await expectAllStored(paths);
    expect((await (await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).json()) as unknown).toMatchObject({ storage: { uploadQueue: { files: 0 } } });
  }, 180_000);

  it("after a SIGKILL with the file queued and the store hanging, the restarted service uploads it once and aborts a leftover multipart upload", async () => {
    const prefix = "crash";
    const target = s3.target(BUCKET, prefix);
    const client = createS3Client(target, { credentials: s3.credentials });
    // What an earlier crashed run would leave: a multipart upload never completed.
    await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/127.0.0.1/live/old/leftover.flv` }));
    const dataDir = await mkdtemp(join(tmpdir(), "recorder-s3-crash-"));
    const config = join(dataDir, "config.json");
    const off = { Enable: 0, RecordInterval: 1800 };
    await writeFile(
      config,
      JSON.stringify({
        recordTemplate: { FlvParam: ON, HlsParam: off, Mp4Param: off, AacParam: off },
        storage: { url: s3.url(BUCKET, prefix), accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey },
      }),
    );
    const args = ["--config", config, "--data-dir", dataDir, "--rtmp-port", "0", "--http-port", "0"];
    const streamDir = join(dataDir, "recordings", "127.0.0.1", "live", "crash");
    let flv = "";
    let bytes = Buffer.alloc(0);
    // The store hangs, so the upload is under way (and stuck) when the service is killed.
    for (const pid of s3.pids) process.kill(pid, "SIGSTOP");
    try {
      const first = await serveProcess(args);
      await ffmpegPush(FIXTURES["av-h264-aac-3s"].path, `rtmp://127.0.0.1:${first.rtmp}/live/crash`);
      flv = await waitFor(async () => (await readdir(streamDir).catch(() => [] as string[])).find((n) => n.endsWith(".flv")), { what: "the FLV file" });
      bytes = readFileSync(join(streamDir, flv));
      await waitFor(() => /storage: upload|"file complete"/.test(first.log()), { what: "the file catalogued" });
      first.child.kill("SIGKILL");
      await exited(first.child);
    } finally {
      for (const pid of s3.pids) process.kill(pid, "SIGCONT");
    }
    const second = await serveProcess(args);
    try {
      const key = `${prefix}/127.0.0.1/live/crash/${flv}`;
      const stored = await waitFor(() => s3.readNative(BUCKET, key), { timeoutMs: 60_000, what: "the object after the restart" });
      expect(md5(stored)).toBe(md5(bytes));
      const uploads = await waitFor(async () => {
        const list = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }));
        return (list.Uploads ?? []).length === 0 ? list : null;
      }, { timeoutMs: 30_000, what: "no multipart upload left open" });
      expect(uploads.Uploads ?? []).toEqual([]);
      expect(second.log()).toMatch(/aborted uploads left by an earlier run/);
      // Logged just after the object is catalogued: uploaded by this run, once.
      await waitFor(() => /"storage: file uploaded"/.test(second.log()), { what: "the upload logged" });
      expect(second.log().match(/"storage: file uploaded"/g)?.length).toBe(1);
    } finally {
      second.child.kill("SIGTERM");
      await exited(second.child);
      client.destroy();
    }
  }, 180_000);
});
