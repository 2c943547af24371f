/**
 * The recording service: RTMP ingest -> per push, the recordings its rule
 * and its record tasks ask for -> files under
 * data/recordings/<domain>/<app>/<stream>/, each indexed in the catalog.
 * The HTTP API and the CLI are thin layers over this class and ControlPlane.
 */
import { randomUUID } from "node:crypto";
import { join, relative } from "node:path";
import { errorMessage, IngestError } from "../engine/errors.js";
import { createLogger, type Logger } from "../engine/logger.js";
import { type FfmpegBinary, locateFfmpeg } from "../engine/mux/ffmpeg-binary.js";
import { OUTPUT_FORMATS } from "../engine/mux/types.js";
import { Recording } from "../engine/pipeline/recording.js";
import type { CompletedFile, RecordingSettings, RecordingStats } from "../engine/pipeline/types.js";
import { type PublishRequest, RtmpServer } from "../engine/rtmp/rtmp-server.js";
import { assertSafeNameComponent } from "../engine/segment/naming.js";
import { TypedEmitter } from "../engine/typed-emitter.js";
import { HttpApi } from "./api/http-api.js";
import { SqliteCatalog } from "./catalog/sqlite-catalog.js";
import type { Catalog, StoredTask } from "./catalog/types.js";
import { type FormatParams, recordingSettings, type ServiceConfig } from "./config/config.js";
import { ControlPlane, MAX_OVERLAPPING_TASKS } from "./control-plane.js";
import { LivePush } from "./live-push.js";
import { matchRule } from "./rules/rule-matcher.js";

/** Folder of in-progress files inside each stream folder: hidden, so watchers of the stream folder see only finished files. */
export const IN_PROGRESS_FOLDER = ".recording";
/** How often record task windows are checked against live pushes. */
const TASK_TICK_MS = 500;

/** spec §3.1: a task without a valid template records HLS. */
const HLS_ONLY: FormatParams = {
  FlvParam: { Enable: 0, RecordInterval: 1800 },
  HlsParam: { Enable: 1, RecordInterval: 1800 },
  Mp4Param: { Enable: 0, RecordInterval: 1800 },
  AacParam: { Enable: 0, RecordInterval: 1800 },
};

export interface LiveRecordingStatus extends RecordingStats {
  taskId: string;
  templateId: number;
}

export interface LivePushStatus {
  pushId: string;
  domain: string;
  app: string;
  stream: string;
  remoteAddress: string;
  startedAt: string;
  recordings: LiveRecordingStatus[];
}

export type ClosedRecording = RecordingStats & { domain: string; app: string; stream: string; taskId: string; templateId: number };

export type ServiceEvents = {
  /** A publisher stopped (FCUnpublish, deleteStream, socket closed...); its files are closing. */
  pushEnded: [{ pushId: string; domain: string; app: string; stream: string; reason: string }];
  file: [CompletedFile & { fileId: string; taskId: string; templateId: number }];
  recordingClosed: [ClosedRecording];
};

export class RecorderService extends TypedEmitter<ServiceEvents> {
  readonly logger: Logger;
  readonly ffmpeg: FfmpegBinary;
  readonly catalog: Catalog;
  readonly control: ControlPlane;
  private readonly rtmp: RtmpServer;
  private readonly http: HttpApi;
  private readonly pushes = new Map<string, LivePush>();
  private readonly startedAt = Date.now();
  private readonly ending = new Set<Promise<unknown>>();
  private taskTimer: NodeJS.Timeout | undefined;
  private taskSync: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: ServiceConfig,
    logger?: Logger,
  ) {
    const log = logger ?? createLogger(config.logLevel);
    super(log);
    this.logger = log;
    this.ffmpeg = locateFfmpeg(config.ffmpegPath || undefined);
    this.catalog = new SqliteCatalog(join(config.dataDir, "catalog.sqlite"));
    this.control = new ControlPlane(this.catalog, () => this.syncTasks());
    this.rtmp = new RtmpServer({ logger: log });
    this.rtmp.on("publish", (req) => this.onPublish(req));
    this.http = new HttpApi(this);
  }

  static async start(config: ServiceConfig, logger?: Logger): Promise<RecorderService> {
    const service = new RecorderService(config, logger);
    service.logger.info("ffmpeg", { path: service.ffmpeg.path, version: service.ffmpeg.version, source: service.ffmpeg.source });
    try {
      await service.rtmp.listen(config.rtmp.port, config.rtmp.host);
      await service.http.listen(config.http.port, config.http.host);
    } catch (err) {
      await service.rtmp.close();
      await service.catalog.close();
      throw err;
    }
    service.taskTimer = setInterval(() => void service.syncTasks(), TASK_TICK_MS);
    service.taskTimer.unref();
    service.logger.info("recorder ready", {
      rtmp: `rtmp://${config.rtmp.host}:${service.rtmpPort}/<app>/<stream>`,
      http: `http://${config.http.host}:${service.httpPort}/healthz`,
      dataDir: config.dataDir,
      apiAuth: service.http.authRequired ? "TC3-HMAC-SHA256 required" : "off (loopback)",
    });
    return service;
  }

  get rtmpPort(): number {
    return this.rtmp.port;
  }

  get httpPort(): number {
    return this.http.port;
  }

  get uptimeSec(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  get recordingsDir(): string {
    return join(this.config.dataDir, "recordings");
  }

  livePushes(): LivePushStatus[] {
    return [...this.pushes.values()].map((p) => ({
      pushId: p.id,
      domain: p.domain,
      app: p.app,
      stream: p.stream,
      remoteAddress: p.session.remoteAddress,
      startedAt: p.startedAt.toISOString(),
      recordings: [...p.attachments.values()].map((a) => ({ ...a.recording.stats(), taskId: a.taskId, templateId: a.templateId })),
    }));
  }

  /** Stops taking pushes, closes every recording's files, stops the API and closes the catalog. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.taskTimer);
      await this.rtmp.close();
      for (const push of this.pushes.values()) this.endPush(push, "service stopping");
      await this.taskSync;
      while (this.ending.size > 0) await Promise.all([...this.ending]);
      await this.http.close();
      await this.catalog.close();
    })();
    return this.stopping;
  }

  private onPublish(req: PublishRequest): void {
    if (this.stopping) {
      req.reject("NetStream.Publish.Rejected", "the recorder is shutting down");
      return;
    }
    try {
      assertSafeNameComponent("domain", req.domain);
      assertSafeNameComponent("app", req.app);
      assertSafeNameComponent("stream", req.stream);
    } catch (err) {
      const message = errorMessage(err);
      this.logger.warn("publish refused", { code: err instanceof IngestError ? err.code : "INVALID_STREAM_NAME", reason: message, remote: req.remoteAddress });
      req.reject("NetStream.Publish.BadName", message);
      return;
    }
    const push = new LivePush(randomUUID(), req.accept());
    this.pushes.set(push.id, push);
    this.logger.info("push started", { push: push.id, domain: push.domain, app: push.app, stream: push.stream, remote: req.remoteAddress });
    push.session.on("tag", (tag) => push.onTag(tag));
    push.session.once("end", (reason) => this.endPush(push, reason));
    void this.startPush(push).catch((err: unknown) => {
      this.logger.error("cannot start the push's recordings", { push: push.id, error: errorMessage(err) });
      push.release();
    });
  }

  /** Pins the push's template (rules are read once, now) and attaches the recordings it needs. */
  private async startPush(push: LivePush): Promise<void> {
    const rule = matchRule(await this.catalog.listRules(), push.domain, push.app, push.stream);
    let params: FormatParams | undefined = this.config.recordTemplate;
    if (rule) {
      params = await this.catalog.getTemplate(rule.TemplateId);
      if (!params) this.logger.warn("the matching rule's template no longer exists: not recording", { push: push.id, templateId: rule.TemplateId });
    }
    if (push.ended) return;
    const settings = params && recordingSettings(this.config, params);
    if (settings && OUTPUT_FORMATS.some((f) => settings.formats[f].enabled)) {
      this.attachRecording(push, settings, "", rule?.TemplateId ?? 0, 0);
    } else {
      this.logger.info("no recording for this push: its template enables no format", { push: push.id, templateId: rule?.TemplateId ?? 0 });
    }
    await this.syncPushTasks(push, await this.catalog.pendingOrRunningTasks(Math.floor(Date.now() / 1000)));
    push.release();
  }

  /** Starts and ends task recordings on live pushes as task windows open and close. Serialized. */
  syncTasks(): Promise<void> {
    this.taskSync = this.taskSync.then(async () => {
      if (this.pushes.size === 0 && !this.hasTaskAttachments()) return;
      const tasks = await this.catalog.pendingOrRunningTasks(Math.floor(Date.now() / 1000));
      for (const push of this.pushes.values()) await this.syncPushTasks(push, tasks);
    }).catch((err: unknown) => this.logger.error("task check failed", { error: errorMessage(err) }));
    return this.taskSync;
  }

  private hasTaskAttachments(): boolean {
    for (const p of this.pushes.values()) for (const a of p.attachments.values()) if (a.taskId) return true;
    return false;
  }

  private async syncPushTasks(push: LivePush, tasks: readonly StoredTask[]): Promise<void> {
    if (push.ended) return;
    const nowSec = Math.floor(Date.now() / 1000);
    const open = tasks.filter(
      (t) => t.DomainName === push.domain && t.AppName === push.app && t.StreamName === push.stream && t.StartTime <= nowSec && nowSec < t.EndTime,
    );
    const running = new Map([...push.attachments.values()].filter((a) => a.taskId).map((a) => [a.taskId, a]));
    // Close task recordings whose window closed or that were stopped (a deleted task keeps running to its end).
    const closing: Promise<void>[] = [];
    for (const [taskId, a] of running) {
      if (open.some((t) => t.TaskId === taskId)) continue;
      const task = await this.catalog.getTask(taskId);
      if (!task || task.Stopped > 0 || nowSec >= task.EndTime) closing.push(this.endRecording(push, a.recording.target.id));
    }
    for (const task of open) {
      if (running.has(task.TaskId)) continue;
      if ([...push.attachments.values()].filter((a) => a.taskId).length >= MAX_OVERLAPPING_TASKS) break;
      const template = task.TemplateId > 0 ? await this.catalog.getTemplate(task.TemplateId) : undefined;
      if (push.ended) return;
      this.attachRecording(push, recordingSettings(this.config, template ?? HLS_ONLY), task.TaskId, template ? task.TemplateId : 0, task.EndTime);
    }
    // StopRecordTask returns once the stopped recording's files are complete.
    await Promise.all(closing);
  }

  private attachRecording(push: LivePush, settings: RecordingSettings, taskId: string, templateId: number, taskEnd: number): void {
    const id = randomUUID();
    const directory = join(this.recordingsDir, push.domain, push.app, push.stream);
    let recording: Recording;
    try {
      recording = new Recording(
        { id, domain: push.domain, app: push.app, stream: push.stream, directory, inProgressDirectory: join(directory, IN_PROGRESS_FOLDER) },
        settings,
        { ffmpegPath: this.ffmpeg.path, logger: this.logger, now: Date.now },
      );
    } catch (err) {
      this.logger.error("cannot start a recording", { push: push.id, taskId, error: errorMessage(err) });
      return;
    }
    const where = { push: push.id, recording: id, domain: push.domain, app: push.app, stream: push.stream, ...(taskId ? { taskId } : {}) };
    recording.on("started", (s) => this.logger.info("recording", { ...where, tracks: s.tracks, formats: s.formats }));
    recording.on("file", (file) => void this.fileCompleted(file, push, taskId, templateId));
    push.attach({ recording, taskId, templateId });
    this.logger.info("recording attached", { ...where, templateId, ...(taskEnd ? { taskEnd } : {}) });
  }

  private async fileCompleted(file: CompletedFile, push: LivePush, taskId: string, templateId: number): Promise<void> {
    const fileId = randomUUID();
    this.logger.info("file complete", { recording: file.recordingId, format: file.format, path: file.path, durationSec: file.durationSec, sizeBytes: file.sizeBytes });
    try {
      await this.catalog.insertRecording({
        fileId,
        recordingId: file.recordingId,
        domain: file.domain,
        app: file.app,
        stream: file.stream,
        format: file.format,
        path: relative(this.config.dataDir, file.path),
        startMs: file.startMs,
        endMs: file.endMs,
        durationSec: file.durationSec,
        sizeBytes: file.sizeBytes,
        taskId,
        templateId,
        // spec §4.4: task recordings carry no stream_param.
        streamParam: taskId ? "" : push.session.query,
        createdMs: Date.now(),
      });
    } catch (err) {
      this.logger.error("cannot index a finished file in the catalog", { path: file.path, error: errorMessage(err) });
    }
    this.emit("file", { ...file, fileId, taskId, templateId });
  }

  private endRecording(push: LivePush, recordingId: string): Promise<void> {
    const a = push.detach(recordingId);
    if (!a) return Promise.resolve();
    const work = a.recording.end().then((stats) => {
      this.logger.info("recording closed", { push: push.id, recording: recordingId, files: stats.filesCompleted, dropped: stats.droppedFrames, errors: stats.errors });
      this.emit("recordingClosed", { ...stats, domain: push.domain, app: push.app, stream: push.stream, taskId: a.taskId, templateId: a.templateId });
    });
    this.ending.add(work);
    void work.finally(() => this.ending.delete(work));
    return work;
  }

  private endPush(push: LivePush, reason: string): void {
    if (push.ended) return;
    push.ended = true;
    this.pushes.delete(push.id);
    this.logger.info("push ended", { push: push.id, domain: push.domain, app: push.app, stream: push.stream, reason });
    this.emit("pushEnded", { pushId: push.id, domain: push.domain, app: push.app, stream: push.stream, reason });
    for (const id of [...push.attachments.keys()]) void this.endRecording(push, id);
  }
}
