/**
 * The four systems under test. Each one: start() (ready to take pushes),
 * pid (the root of its process tree: every helper it spawns is a descendant),
 * waitDone(exits) (every file of every push complete; returns per-stream
 * completion times), outputs() (stream -> format -> files), stop().
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection after `ms` (the timer never outlives the promise). */
export async function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

export async function waitForPort(port, timeoutMs, isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error("process exited before listening");
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

async function stopChild(child, signal = "SIGTERM", timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(t);
}

async function waitUntil(cond, timeoutMs, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

const FORMAT_PARAMS = { flv: "FlvParam", hls: "HlsParam", mp4: "Mp4Param", aac: "AacParam" };

/** Our service: node bin/recorder.js serve, with the formats asked for. */
export class OursSystem {
  constructor({ name, formats, buildDir, workDir, ffmpeg, recordInterval, hlsSeconds, cpuProfDir }) {
    Object.assign(this, { name, formats, buildDir, workDir, ffmpeg, recordInterval, hlsSeconds, cpuProfDir });
    this.pushEnded = new Map();
    this.streamOfRecording = new Map();
    this.files = new Map();
    this.closed = new Map();
    this.problems = [];
  }

  async start() {
    this.rtmpPort = await freePort();
    const httpPort = await freePort();
    const dataDir = join(this.workDir, "data");
    mkdirSync(dataDir, { recursive: true });
    const template = {};
    for (const [format, key] of Object.entries(FORMAT_PARAMS)) {
      template[key] = { Enable: this.formats.includes(format) ? 1 : 0, RecordInterval: this.recordInterval };
    }
    const config = { ffmpegPath: this.ffmpeg, recording: { hlsSegmentSeconds: this.hlsSeconds }, recordTemplate: template };
    const configPath = join(this.workDir, "config.json");
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const nodeArgs = this.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${this.cpuProfDir}`] : [];
    // Log level info: "recorder ready", "push ended" and "file complete" are info lines
    // (at warn the service prints none of them). A handful of lines per push.
    const args = [...nodeArgs, join(this.buildDir, "bin/recorder.js"), "serve", "--config", configPath, "--data-dir", dataDir];
    args.push("--rtmp-port", String(this.rtmpPort), "--http-port", String(httpPort), "--log-level", "info");
    this.child = spawn(process.execPath, args, { cwd: this.workDir, stdio: ["ignore", "ignore", "pipe"] });
    this.pid = this.child.pid;
    const ready = new Promise((resolve, reject) => {
      this.child.once("exit", (code) => reject(new Error(`${this.name} exited (${code}) before ready: ${this.problems.join(" | ")}`)));
      createInterface({ input: this.child.stderr }).on("line", (line) => {
        let e;
        try {
          e = JSON.parse(line);
        } catch {
          this.problems.push(line.slice(0, 300));
          return;
        }
        this.onLog(e);
        if (e.msg === "recorder ready") resolve();
      });
    });
    await withTimeout(ready, 20_000, `${this.name}: no "recorder ready" within 20 s`);
  }

  onLog(e) {
    const t = Date.parse(e.time);
    if (e.level === "warn" || e.level === "error") this.problems.push(`${e.level}: ${e.msg} ${e.error ?? e.reason ?? ""}`.trim());
    switch (e.msg) {
      case "push ended":
        this.pushEnded.set(e.stream, t);
        break;
      case "recording attached":
        this.streamOfRecording.set(e.recording, e.stream);
        break;
      case "file complete": {
        const stream = this.streamOfRecording.get(e.recording);
        if (!stream) break;
        if (!this.files.has(stream)) this.files.set(stream, []);
        this.files.get(stream).push({ t, format: e.format, path: e.path });
        break;
      }
      case "recording closed": {
        const stream = [...this.streamOfRecording.entries()].find(([r]) => r === e.recording)?.[1];
        if (stream) this.closed.set(stream, { t, files: e.files, dropped: e.dropped, errors: e.errors });
        break;
      }
    }
  }

  /** Every recording closed (all its files complete). Per stream: time of its last file. */
  async waitDone(exits, timeoutMs) {
    if (this.formats.length === 0) {
      // Ingest only (diagnostic): nothing is recorded, a push is done when the service says it ended.
      await waitUntil(() => this.pushEnded.size >= exits.size, timeoutMs);
      return new Map([...this.pushEnded].map(([s, t]) => [s, { t, pushEnded: t }]));
    }
    await waitUntil(() => this.closed.size >= exits.size, timeoutMs);
    const done = new Map();
    for (const stream of exits.keys()) {
      const files = this.files.get(stream) ?? [];
      if (!this.closed.has(stream) || files.length === 0) continue;
      done.set(stream, { t: Math.max(...files.map((f) => f.t)), pushEnded: this.pushEnded.get(stream) });
    }
    return done;
  }

  outputs() {
    const out = {};
    for (const [stream, files] of this.files) {
      const byFormat = {};
      for (const f of files) {
        if (!byFormat[f.format]) byFormat[f.format] = [];
        byFormat[f.format].push(f.path);
      }
      out[stream] = byFormat;
    }
    return out;
  }

  extraStats() {
    let dropped = 0;
    let errors = 0;
    for (const c of this.closed.values()) {
      dropped += c.dropped ?? 0;
      errors += c.errors ?? 0;
    }
    return { serverDroppedFrames: dropped, serverErrors: errors };
  }

  async stop() {
    if (this.child) await stopChild(this.child, "SIGTERM", 30_000);
  }
}

/** nginx with Debian's RTMP module: record all (FLV) + hls on. */
export class NginxSystem {
  constructor({ workDir, recordInterval, hlsSeconds }) {
    Object.assign(this, { name: "nginx", formats: ["flv", "hls"], workDir, recordInterval, hlsSeconds });
    this.problems = [];
  }

  static modulePath() {
    for (const p of ["/usr/lib/nginx/modules/ngx_rtmp_module.so", "/usr/share/nginx/modules/ngx_rtmp_module.so"]) if (existsSync(p)) return p;
    return undefined;
  }

  async start() {
    this.rtmpPort = await freePort();
    const dir = this.workDir;
    this.recDir = join(dir, "rec");
    this.hlsDir = join(dir, "hls");
    for (const d of [this.recDir, this.hlsDir, join(dir, "logs")]) {
      mkdirSync(d, { recursive: true });
      // Workers drop root for "nobody": they must be able to write here.
      chmodSync(d, 0o777);
    }
    const conf = `# written by scripts/bench (nginx-rtmp baseline): loopback only
load_module ${NginxSystem.modulePath()};
daemon off;
master_process on;
worker_processes auto;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "logs/error.log")} warn;
events { worker_connections 4096; }
rtmp {
  server {
    listen 127.0.0.1:${this.rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record all;
      record_path ${this.recDir};
      record_interval ${this.recordInterval}s;
      record_unique on;
      hls on;
      hls_path ${this.hlsDir};
      hls_nested on;
      hls_fragment ${this.hlsSeconds}s;
      # keep every fragment of the push in the playlist, like the other systems' VOD playlists
      hls_playlist_length 7200s;
      hls_cleanup off;
    }
  }
}
`;
    const confPath = join(dir, "nginx.conf");
    writeFileSync(confPath, conf);
    this.child = spawn("nginx", ["-c", confPath, "-p", `${dir}/`, "-e", join(dir, "logs/error.log")], { stdio: ["ignore", "ignore", "pipe"] });
    this.pid = this.child.pid;
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (s) => this.problems.push(s.trim()));
    await waitForPort(this.rtmpPort, 10_000, () => this.child.exitCode === null);
  }

  streamFiles(stream) {
    const files = [];
    for (const f of readdirSync(this.recDir)) if (f.startsWith(`${stream}-`) && f.endsWith(".flv")) files.push(join(this.recDir, f));
    const hls = join(this.hlsDir, stream);
    if (existsSync(hls)) for (const f of readdirSync(hls)) files.push(join(hls, f));
    return files;
  }

  /**
   * nginx says nothing when a file is done: a stream is complete when none of
   * its files (FLV recordings, playlist, fragments) has changed for 1.5 s
   * after its publisher exited; its completion time is the newest mtime.
   */
  async waitDone(exits, timeoutMs) {
    const settleMs = 1500;
    const done = new Map();
    const deadline = Date.now() + timeoutMs;
    while (done.size < exits.size && Date.now() < deadline) {
      const now = Date.now();
      for (const [stream, exitT] of exits) {
        if (done.has(stream) || now - exitT < settleMs) continue;
        let newest = 0;
        for (const f of this.streamFiles(stream)) {
          try {
            newest = Math.max(newest, statSync(f).mtimeMs);
          } catch {}
        }
        if (newest > 0 && now - newest >= settleMs) done.set(stream, { t: newest });
      }
      await sleep(250);
    }
    return done;
  }

  outputs() {
    const out = {};
    const streams = new Set();
    for (const f of readdirSync(this.recDir)) {
      const m = /^(.+)-\d+\.flv$/.exec(f);
      if (m) streams.add(m[1]);
    }
    for (const d of readdirSync(this.hlsDir)) streams.add(d);
    for (const s of streams) {
      out[s] = {
        flv: readdirSync(this.recDir)
          .filter((f) => f.startsWith(`${s}-`) && f.endsWith(".flv"))
          .map((f) => join(this.recDir, f)),
        hls: existsSync(join(this.hlsDir, s, "index.m3u8")) ? [join(this.hlsDir, s, "index.m3u8")] : [],
      };
    }
    return out;
  }

  extraStats() {
    return {};
  }

  async stop() {
    // SIGQUIT: graceful shutdown (workers finish, files closed).
    if (this.child) await stopChild(this.child, "SIGQUIT", 15_000);
  }
}

/** node-media-server 4.4.3 + one ffmpeg -c copy puller per format (naive-server.mjs). */
export class NaiveSystem {
  constructor({ repo, workDir, ffmpeg, rwTimeoutSec, hlsSeconds }) {
    Object.assign(this, { name: "naive", formats: ["flv", "hls", "mp4", "aac"], repo, workDir, ffmpeg, rwTimeoutSec, hlsSeconds });
    this.pullerExits = new Map();
    this.problems = [];
  }

  async start() {
    this.rtmpPort = await freePort();
    const httpPort = await freePort();
    this.outDir = join(this.workDir, "out");
    mkdirSync(this.outDir, { recursive: true });
    const args = [join(this.repo, "scripts/bench/naive-server.mjs"), "--rtmp-port", String(this.rtmpPort), "--http-port", String(httpPort)];
    args.push("--out", this.outDir, "--ffmpeg", this.ffmpeg, "--rw-timeout-sec", String(this.rwTimeoutSec), "--hls-seconds", String(this.hlsSeconds));
    // node-media-server logs at debug level to stdout whatever it is told: keep that cost, drop the text.
    this.child = spawn(process.execPath, args, { cwd: this.workDir, stdio: ["ignore", "ignore", "pipe", "ipc"] });
    this.pid = this.child.pid;
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (s) => this.problems.push(s.trim().slice(0, 300)));
    this.child.on("message", (m) => {
      if (m.event !== "puller-exit") return;
      if (!this.pullerExits.has(m.stream)) this.pullerExits.set(m.stream, []);
      this.pullerExits.get(m.stream).push(m);
      if (m.code !== 0) this.problems.push(`puller ${m.stream}/${m.format} exit ${m.code}: ${m.stderr}`);
    });
    await waitForPort(this.rtmpPort, 15_000, () => this.child.exitCode === null);
  }

  /** A stream is complete when its four pullers have exited. */
  async waitDone(exits, timeoutMs) {
    await waitUntil(() => [...exits.keys()].every((s) => (this.pullerExits.get(s)?.length ?? 0) >= this.formats.length), timeoutMs);
    const done = new Map();
    for (const s of exits.keys()) {
      const list = this.pullerExits.get(s) ?? [];
      if (list.length >= this.formats.length) done.set(s, { t: Math.max(...list.map((m) => m.t)) });
    }
    return done;
  }

  outputs() {
    const out = {};
    const dir = join(this.outDir, "live");
    if (!existsSync(dir)) return out;
    for (const f of readdirSync(dir)) {
      const m = /^(s\d+)\.(flv|mp4|aac|m3u8)$/.exec(f);
      if (!m) continue;
      const format = m[2] === "m3u8" ? "hls" : m[2];
      if (!out[m[1]]) out[m[1]] = {};
      if (!out[m[1]][format]) out[m[1]][format] = [];
      out[m[1]][format].push(join(dir, f));
    }
    return out;
  }

  extraStats() {
    return {};
  }

  async stop() {
    if (this.child) await stopChild(this.child, "SIGTERM", 15_000);
  }
}
