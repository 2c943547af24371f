/** Test harness: a service on free ports in a temp data folder, and a real ffmpeg publisher. */
import { spawn } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../engine/logger.js";
import type { CompletedFile } from "../../engine/pipeline/types.js";
import { ffmpegPath } from "../../scripts/test-support/media-check.js";
import { signTc3 } from "../api/tc3-auth.js";
import { defaultConfig, type ConfigRecordTemplate, type ServiceConfig, validateConfig } from "../config/config.js";
import { type ClosedRecording, RecorderService } from "../service.js";


export interface Harness {
  service: RecorderService;
  dataDir: string;
  files: CompletedFile[];
  url(app: string, stream: string): string;
  streamDir(app: string, stream: string, domain?: string): string;
  /** Resolves when `count` recordings of `stream` have closed, with their stats. */
  closed(stream: string, count?: number, timeoutMs?: number): Promise<ClosedRecording[]>;
  stop(): Promise<void>;
}

export async function startService(
  template: Partial<ConfigRecordTemplate> = {},
  tweak?: (c: ServiceConfig) => void,
  existingDataDir?: string,
): Promise<Harness> {
  const dataDir = existingDataDir ?? (await mkdtemp(join(tmpdir(), "recorder-e2e-")));
  const config = defaultConfig();
  config.rtmp.port = 0;
  config.http.port = 0;
  config.dataDir = dataDir;
  config.logLevel = process.env.TEST_LOG_LEVEL === "debug" ? "debug" : "warn";
  config.recording.hlsSegmentSeconds = 4;
  Object.assign(config.recordTemplate, template);
  tweak?.(config);
  const service = await RecorderService.start(validateConfig(config), createLogger(config.logLevel));
  const files: CompletedFile[] = [];
  const closed: ClosedRecording[] = [];
  const waiters = new Set<() => void>();
  service.on("file", (f) => files.push(f));
  service.on("recordingClosed", (r) => {
    closed.push(r);
    for (const w of waiters) w();
  });
  return {
    service,
    dataDir,
    files,
    url: (app, stream) => `rtmp://127.0.0.1:${service.rtmpPort}/${app}/${stream}`,
    streamDir: (app, stream, domain = "127.0.0.1") => join(dataDir, "recordings", domain, app, stream),
    closed: (stream, count = 1, timeoutMs = 60_000) =>
      new Promise<ClosedRecording[]>((resolve, reject) => {
        const mine = () => closed.filter((r) => r.stream === stream);
        const check = () => {
          if (mine().length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(mine());
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${mine().length}/${count} recordings of ${stream} closed after ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
    stop: () => service.stop(),
  };
}

/** Pushes an FLV file with ffmpeg (`-c copy`, like an encoder re-streaming), optionally paced with -re. */
export async function ffmpegPush(input: string, url: string, opts: { realtime?: boolean; extraInput?: string[]; timeoutMs?: number } = {}): Promise<void> {
  const bin = await ffmpegPath();
  const args = ["-nostdin", "-hide_banner", "-loglevel", "error", ...(opts.realtime ? ["-re"] : []), ...(opts.extraInput ?? []), "-i", input, "-c", "copy", "-f", "flv", url];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg push exited ${code}: ${stderr}`));
    });
  });
}

/** Calls a control API action unsigned (the API is open on loopback by default). */
export async function callApi(h: Harness, action: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${h.service.httpPort}/`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tc-action": action, "x-tc-version": "2018-08-01" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { Response: Record<string, unknown> };
  return json.Response;
}

/** Calls an action signed with TC3-HMAC-SHA256 (X-TC-Action signed too), for a service that requires signatures. */
export async function callSigned(h: Harness, action: string, body: unknown, credential: { secretId: string; secretKey: string }): Promise<Record<string, unknown>> {
  const host = `127.0.0.1:${h.service.httpPort}`;
  const payload = JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000);
  const authorization = signTc3({ ...credential, service: "live", host, method: "POST", contentType: "application/json", payload, timestamp, action });
  const res = await fetch(`http://${host}/`, {
    method: "POST",
    headers: { authorization, "content-type": "application/json", "x-tc-action": action, "x-tc-timestamp": String(timestamp), "x-tc-version": "2018-08-01" },
    body: payload,
  });
  const json = (await res.json()) as { Response: Record<string, unknown> };
  if (json.Response.Error) throw new Error(`${action} failed: ${JSON.stringify(json.Response.Error)}`);
  return json.Response;
}

/** Calls an action and fails the test with the API's error when it answers one. */
export async function callOk(h: Harness, action: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await callApi(h, action, body);
  if (r.Error) throw new Error(`${action} failed: ${JSON.stringify(r.Error)}`);
  return r;
}

/** Files of a stream folder, by extension, sorted by name (names start with the start time). */
export async function listFiles(dir: string, ext: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((n) => n.endsWith(`.${ext}`)).sort().map((n) => join(dir, n));
}
