/**
 * The `recorder` binary as users run it (built by `npm run build`, which
 * `npm ci` and `npm test` run first): serve with flags, replay, shut down.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { videoFrameHashes } from "../../scripts/test-support/media-check.js";
import { RECORDER_BIN as BIN, serveProcess } from "../test-support/service-process.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";


function run(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("recorder CLI", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
  });

  it("serve takes --rtmp-port/--http-port/--data-dir, records a replayed file, and stops cleanly on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "recorder-cli-"));
    const s = await serveProcess(["--rtmp-port", "0", "--http-port", "0", "--data-dir", dataDir]);
    children.push(s.child);
    const health = (await (await fetch(`http://127.0.0.1:${s.http}/healthz`)).json()) as { status: string; ffmpeg: { version: string } };
    expect(health.status).toBe("ok");
    expect(health.ffmpeg.version).toBeTruthy();

    const source = FIXTURES["av-h264-aac-3s"].path;
    const replay = await run(["replay", source, `rtmp://127.0.0.1:${s.rtmp}/live/cli?token=abc`, "--speed", "8"]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^sent \d+ tags, 3\.\d+ s of media/);

    const dir = join(dataDir, "recordings", "127.0.0.1", "live", "cli");
    let names: string[] = [];
    await waitFor(
      async () => {
        names = await readdir(dir).catch(() => []);
        return ["flv", "mp4", "aac", "m3u8"].every((ext) => names.some((n) => n.endsWith(`.${ext}`)));
      },
      { intervalMs: 100, what: "the four files of live/cli" },
    );
    expect(names.filter((n) => /\.(flv|mp4|aac|m3u8)$/.test(n)).map((n) => n.split(".").pop()).sort()).toEqual(["aac", "flv", "m3u8", "mp4"]);
    const flv = names.find((n) => n.endsWith(".flv"))!;
    expect(await videoFrameHashes(join(dir, flv))).toEqual(await videoFrameHashes(source));

    const exited = new Promise<number | null>((resolve) => s.child.on("exit", resolve));
    s.child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("templates/rules/tasks commands drive a running server over the signed API", async () => {
    const dir = await mkdtemp(join(tmpdir(), "recorder-cli-"));
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ api: { auth: "on", credentials: [{ SecretId: "AKIDcli", SecretKey: "cli-secret-key-123" }] } }));
    const s = await serveProcess(["--config", config, "--rtmp-port", "0", "--http-port", "0", "--data-dir", dir]);
    children.push(s.child);
    const endpoint = ["--endpoint", `http://127.0.0.1:${s.http}`];
    const creds = ["--secret-id", "AKIDcli", "--secret-key", "cli-secret-key-123"];
    const created = await run(["templates", "create", "--name", "cli_t", "--mp4", "600", "--hls", ...endpoint, ...creds]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created template (\d+)/);
    const id = /(\d+)/.exec(created.stdout)![1]!;
    const list = await run(["templates", "list", "--json", ...endpoint, ...creds]);
    expect(JSON.parse(list.stdout).Templates[0]).toMatchObject({ TemplateName: "cli_t", Mp4Param: { Enable: 1, RecordInterval: 600 } });
    expect((await run(["rules", "create", "--domain", "127.0.0.1", "--app", "live", "--template", id, ...endpoint, ...creds])).code).toBe(0);
    const rules = await run(["rules", "list", ...endpoint, ...creds]);
    expect(rules.stdout).toMatch(/127\.0\.0\.1\s+live\s+\d*\s*/);
    const task = await run(["tasks", "create", "--domain", "127.0.0.1", "--app", "live", "--stream", "s", "--end", "+3600", ...endpoint, ...creds]);
    expect(task.stdout).toMatch(/^created task \S+/);
    const taskId = task.stdout.trim().split(" ").pop()!;
    expect((await run(["tasks", "stop", taskId, ...endpoint, ...creds])).stdout).toContain(`stopped task ${taskId}`);
    const tasks = await run(["tasks", "list", "--json", ...endpoint, ...creds]);
    expect(JSON.parse(tasks.stdout).TaskList[0]).toMatchObject({ TaskId: taskId, StreamName: "s" });
    // Without credentials the server refuses, and the CLI says why.
    const unsigned = await run(["templates", "list", ...endpoint]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/AuthFailure/);
    const inUse = await run(["templates", "delete", id, ...endpoint, ...creds]);
    expect(inUse.stderr).toMatch(/FailedOperation.ConfInUsed/);
    s.child.kill("SIGTERM");
  });

  it("doctor prints the ffmpeg and the codec x format matrix it can record", async () => {
    const r = await run(["doctor"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ffmpeg: \S+ \S+/);
    expect(r.stdout).toMatch(/h265\s+yes \(ext\)\s+yes\s+yes/);
    const json = JSON.parse((await run(["doctor", "--json"])).stdout) as { matrix: { cells: Record<string, Record<string, { recordable: boolean }>> } };
    expect(json.matrix.cells.av1!.hls!.recordable).toBe(false);
    expect(json.matrix.cells.h264!.mp4!.recordable).toBe(true);
  });

  it("doctor checks the storage destination: ok, or exit 1 with the diagnosis", async () => {
    const dir = await mkdtemp(join(tmpdir(), "doctor-storage-"));
    const archive = join(dir, "archive");
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ storage: { url: `file://${archive}` } }));
    const ok = await run(["doctor", "--config", config]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`storage: file://${archive}: ok (put, get, delete of a probe object)`);
    await rm(archive, { recursive: true });
    await writeFile(archive, "a file where the destination folder should be");
    const down = await run(["doctor", "--config", config, "--json"]);
    expect(down.code).toBe(1);
    expect((JSON.parse(down.stdout) as { storage: unknown }).storage).toMatchObject({ target: `file://${archive}`, ok: false, error: expect.stringMatching(/^STORAGE_UNREACHABLE: cannot write to/) });
    expect((await run(["doctor"])).stdout).toContain("storage: local disk only");
  });

  it("refuses bad flags and bad config files with a clear message and exit code 1", async () => {
    const badPort = await run(["serve", "--rtmp-port", "99999"]);
    expect(badPort.code).not.toBe(0);
    expect(badPort.stderr).toMatch(/must be a port number/);

    const dir = await mkdtemp(join(tmpdir(), "recorder-cli-"));
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ recordTemplate: { FlvParam: { RecordIntervall: 60 } } }));
    const badConfig = await run(["serve", "--config", config]);
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/CONFIG_UNKNOWN_KEY: unknown config key recordTemplate.FlvParam.RecordIntervall/);

    const badReplay = await run(["replay", FIXTURES["av-h264-aac-3s"].path, "http://example/live/x"]);
    expect(badReplay.code).toBe(1);
    expect(badReplay.stderr).toMatch(/RTMP_BAD_URL/);
  });
});
