/**
 * The recording service: RTMP ingest -> per push, the recordings its rule
 * and its record tasks ask for -> files under
 * data/recordings/<domain>/<app>/<stream>/, each indexed in the catalog.
 * The HTTP API and the CLI are thin layers over this class and ControlPlane.
 */
import { randomUUID } from "node:crypto";
import { statfsSync } from "node:fs";
import { join, relative } from "node:path";
import { errorMessage, IngestError } from "../engine/errors.js";
import { createLogger, type Logger } from "../engine/logger.js";
import { type FfmpegBinary, locateFfmpeg } from "../engine/mux/ffmpeg-binary.js";
import { OUTPUT_FORMATS } from "../engine/mux/types.js";
import { Recording } from "../engine/pipeline/recording.js";
import { JOURNAL_SUFFIX } from "../engine/pipeline/journal.js";
import { IN_PROGRESS_FOLDER, type RecoveredFile, Recovery } from "../engine/pipeline/recovery.js";
import type { CompletedFile, RecordingSettings, RecordingStats } from "../engine/pipeline/types.js";
import { finalizePlaylist, type HlsPlaylistState } from "../engine/splice/hls-state.js";
import { type PublishRequest, RtmpServer } from "../engine/rtmp/rtmp-server.js";
import { assertSafeNameComponent } from "../engine/segment/naming.js";
import { TypedEmitter } from "../engine/typed-emitter.js";
import { HttpApi } from "./api/http-api.js";
import { CallbackDispatcher } from "./callbacks/callback-dispatcher.js";
import { recordFileEvent, recordStatusEvent, type RecordStatusEventName } from "./callbacks/callback-messages.js";
import { CallbackStore } from "./callbacks/callback-store.js";
import { SqliteCatalog } from "./catalog/sqlite-catalog.js";
import type { Catalog, OpenPlaylist, RecordingFile, StoredTask } from "./catalog/types.js";
import { checkPushAuth, type PushAuthConfig } from "./auth/push-auth.js";
import { type FormatParams, pushAuthRequired, recordingSettings, type ServiceConfig } from "./config/config.js";
import { ControlPlane, MAX_OVERLAPPING_TASKS } from "./control-plane.js";
import { type Attachment, LivePush } from "./live-push.js";
import { MediaLibrary } from "./media/media-library.js";
import { matchRule } from "./rules/rule-matcher.js";

/** What a finished file's catalog row and notification carry besides the file itself. */
type FileMeta = Pick<RecordingFile, "recordingId" | "domain" | "app" | "stream" | "taskId" | "templateId" | "streamParam">;

/** Which open playlist a new push continues: same stream, same recorder (the rule's template, or the same task). */
function spliceKey(push: { domain: string; app: string; stream: string }, taskId: string): string {
  return `${push.domain}/${push.app}/${push.stream}#${taskId || "rule"}`;
}

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
  uptimeSec: number;
  /** Average since the push started, kbit/s. */
  bitrateKbps: number;
  /** The rule that chose the recording template, and the template. */
  matchedRule: string;
  templateId: number;
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
  readonly media: MediaLibrary;
  readonly callbacks: CallbackStore;
  private readonly dispatcher: CallbackDispatcher;
  private statusSeq = 0;
  /** Push authentication settings, when publishers must sign their URLs. */
  private readonly pushAuth: PushAuthConfig | undefined;
  private readonly rtmp: RtmpServer;
  private readonly http: HttpApi;
  private readonly pushes = new Map<string, LivePush>();
  private readonly startedAt = Date.now();
  private readonly ending = new Set<Promise<unknown>>();
  private taskTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();
  /** Timers that close open (spliceable) HLS playlists when their window passes. */
  private readonly spliceTimers = new Map<string, NodeJS.Timeout>();
  /** Recordings of a splice key still closing: a quick re-publish waits for their playlist. */
  private readonly closingBySpliceKey = new Map<string, Promise<void>>();
  /** Each live recording's close, handled (catalogued, salvaged, reported). */
  private readonly closing = new Map<Recording, Promise<void>>();
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
    const sqlite = new SqliteCatalog(join(config.dataDir, "catalog.sqlite"));
    this.catalog = sqlite;
    this.control = new ControlPlane(this.catalog, () => this.syncTasks());
    this.media = new MediaLibrary(this.catalog, config.dataDir, () => this.publicUrl, log);
    const cb = config.callbacks;
    const fallback =
      cb.recordNotifyUrl || cb.recordStatusNotifyUrl
        ? {
            ...(cb.recordNotifyUrl ? { recordNotifyUrl: cb.recordNotifyUrl } : {}),
            ...(cb.recordStatusNotifyUrl ? { recordStatusNotifyUrl: cb.recordStatusNotifyUrl } : {}),
            callbackKey: cb.callbackKey,
          }
        : undefined;
    // Callback templates, rules and the outbox live in the same SQLite file (one transaction log).
    this.callbacks = new CallbackStore(sqlite.database, fallback ? { fallback } : {});
    this.dispatcher = new CallbackDispatcher({
      store: this.callbacks,
      logger: log,
      retryIntervalMs: cb.retryIntervalSec * 1000,
      timeoutMs: cb.timeoutSec * 1000,
      maxAttempts: cb.maxRetries + 1,
    });
    this.pushAuth = pushAuthRequired(config) ? { keys: config.pushAuth.keys, authDeltaSec: config.pushAuth.authDeltaSec } : undefined;
    this.rtmp = new RtmpServer({ logger: log });
    this.rtmp.on("publish", (req) => this.onPublish(req));
    this.http = new HttpApi(this);
  }

  static async start(config: ServiceConfig, logger?: Logger): Promise<RecorderService> {
    const service = new RecorderService(config, logger);
    service.logger.info("ffmpeg", { path: service.ffmpeg.path, version: service.ffmpeg.version, source: service.ffmpeg.source });
    // Before any push: close and catalog what a crash left half-written.
    await service.recoverAfterCrash();
    try {
      await service.rtmp.listen(config.rtmp.port, config.rtmp.host);
      await service.http.listen(config.http.port, config.http.host);
    } catch (err) {
      await service.rtmp.close();
      await service.catalog.close();
      throw err;
    }
    await service.restoreOpenPlaylists();
    service.taskTimer = setInterval(() => void service.syncTasks(), TASK_TICK_MS);
    service.taskTimer.unref();
    await service.sweep();
    // Deliveries queued before a crash or restart go out now.
    service.dispatcher.start();
    service.sweepTimer = setInterval(() => void service.sweep(), config.recording.retentionSweepSeconds * 1000);
    service.sweepTimer.unref();
    service.logger.info("recorder ready", {
      rtmp: `rtmp://${config.rtmp.host}:${service.rtmpPort}/<app>/<stream>`,
      http: `http://${config.http.host}:${service.httpPort}/healthz`,
      dataDir: config.dataDir,
      apiAuth: service.http.authRequired ? "TC3-HMAC-SHA256 required" : "off (loopback)",
      pushAuth: service.pushAuth ? "txSecret required" : "off (loopback)",
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

  /** Base URL of this service's recordings (http.publicUrl, or the HTTP address it listens on). */
  get publicUrl(): string {
    const configured = this.config.http.publicUrl.replace(/\/+$/, "");
    if (configured) return configured;
    // Bound to every interface: loopback is the one address sure to reach it (set http.publicUrl for others).
    const host = ["0.0.0.0", "::"].includes(this.config.http.host) ? "127.0.0.1" : this.config.http.host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.httpPort}`;
  }

  /** Disconnects a live publisher (the cloud's DropLiveStream); its recordings close as after any push end. */
  dropPush(domain: string, app: string, stream: string): boolean {
    const push = [...this.pushes.values()].find((p) => p.domain === domain && p.app === app && p.stream === stream);
    if (!push) return false;
    this.logger.info("dropping a live push on request", { push: push.id, domain, app, stream });
    push.session.close();
    return true;
  }

  /** Delivers due callbacks now (after a retry was requested). */
  kickCallbacks(): void {
    this.dispatcher.kick();
  }

  /** Deletes files whose StorageTime has passed (serialized; errors are logged). */
  sweep(): Promise<unknown> {
    this.sweeping = this.sweeping.then(() => this.media.sweep(Date.now())).catch((err: unknown) => this.logger.error("retention sweep failed", { error: errorMessage(err) }));
    return this.sweeping;
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
      uptimeSec: Math.round((Date.now() - p.startedAt.getTime()) / 1000),
      bitrateKbps: Math.round((p.bytesIn * 8) / Math.max(1, Date.now() - p.startedAt.getTime())),
      matchedRule: p.matched?.rule ?? "",
      templateId: p.matched?.templateId ?? 0,
      recordings: [...p.attachments.values()].map((a) => ({ ...a.recording.stats(), taskId: a.taskId, templateId: a.templateId })),
    }));
  }

  /** Stops taking pushes, closes every recording's files, stops the API and closes the catalog. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.taskTimer);
      clearInterval(this.sweepTimer);
      await this.rtmp.close();
      for (const push of this.pushes.values()) this.endPush(push, "service stopping");
      await this.taskSync;
      while (this.ending.size > 0) await Promise.all([...this.ending]);
      // Open playlists stay in the catalog: a push after a restart within the window continues them.
      for (const t of this.spliceTimers.values()) clearTimeout(t);
      this.spliceTimers.clear();
      await this.sweeping;
      await this.dispatcher.stop();
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
    const freeMb = this.freeMegabytes();
    if (freeMb !== undefined && freeMb < this.config.recording.minFreeMegabytes) {
      const reason = `not enough disk space for recordings: ${freeMb} MB free, ${this.config.recording.minFreeMegabytes} MB needed`;
      this.logger.warn("publish refused", { domain: req.domain, app: req.app, stream: req.stream, reason, remote: req.remoteAddress });
      req.reject("NetStream.Publish.Rejected", reason);
      return;
    }
    if (this.pushAuth) {
      const auth = checkPushAuth(this.pushAuth, req.domain, req.stream, req.query, Math.floor(Date.now() / 1000));
      if (!auth.ok) {
        this.logger.warn("publish refused: push authentication failed", { domain: req.domain, app: req.app, stream: req.stream, reason: auth.reason, remote: req.remoteAddress });
        req.reject("NetStream.Publish.Rejected", `authentication failed: ${auth.reason}`);
        return;
      }
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

  /** Free space of the data folder's disk, in MB (undefined if it cannot be read). */
  private freeMegabytes(): number | undefined {
    try {
      const s = statfsSync(this.config.dataDir);
      return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
    } catch {
      return undefined;
    }
  }

  /** Pins the push's template (rules are read once, now) and attaches the recordings it needs. */
  private async startPush(push: LivePush): Promise<void> {
    const rule = matchRule(await this.catalog.listRules(), push.domain, push.app, push.stream);
    push.matched = rule
      ? { rule: `${rule.DomainName}/${rule.AppName || "*"}/${rule.StreamName || "*"}`, templateId: rule.TemplateId }
      : { rule: "config recordTemplate (no rule matched)", templateId: 0 };
    let params: FormatParams | undefined = this.config.recordTemplate;
    if (rule) {
      params = await this.catalog.getTemplate(rule.TemplateId);
      if (!params) this.logger.warn("the matching rule's template no longer exists: not recording", { push: push.id, templateId: rule.TemplateId });
    }
    if (push.ended) return;
    const settings = params && recordingSettings(this.config, params);
    if (settings && OUTPUT_FORMATS.some((f) => settings.formats[f].enabled)) {
      const resume = await this.resumablePlaylist(push, settings, "");
      this.attachRecording(push, settings, "", rule?.TemplateId ?? 0, 0, resume);
    } else if (!push.ended) {
      this.logger.info("no recording for this push: its template enables no format", { push: push.id, templateId: rule?.TemplateId ?? 0 });
    }
    // Through the same serialized chain as the periodic check, so a task is never attached twice.
    await this.syncTasks();
    push.release();
  }

  /** Starts and ends task recordings on live pushes as task windows open and close. Serialized. */
  syncTasks(): Promise<void> {
    this.taskSync = this.taskSync.then(async () => {
      if (this.pushes.size === 0 && !this.hasTaskAttachments()) return;
      const tasks = await this.catalog.pendingOrRunningTasks(Math.floor(Date.now() / 1000));
      for (const push of this.pushes.values()) if (!push.ended) await this.syncPushTasks(push, tasks);
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
      if (running.has(task.TaskId) || push.failedTasks.has(task.TaskId)) continue;
      if ([...push.attachments.values()].filter((a) => a.taskId).length >= MAX_OVERLAPPING_TASKS) break;
      const template = task.TemplateId > 0 ? await this.catalog.getTemplate(task.TemplateId) : undefined;
      const settings = recordingSettings(this.config, template ?? HLS_ONLY);
      const resume = await this.resumablePlaylist(push, settings, task.TaskId);
      // On a push that ended meanwhile this hands the playlist back instead of attaching.
      this.attachRecording(push, settings, task.TaskId, template ? task.TemplateId : 0, task.EndTime, resume);
      if (push.ended) return;
    }
    // StopRecordTask returns once the stopped recording's files are complete.
    await Promise.all(closing);
  }

  private attachRecording(
    push: LivePush,
    settings: RecordingSettings,
    taskId: string,
    templateId: number,
    taskEnd: number,
    resume: OpenPlaylist | undefined,
  ): void {
    if (push.ended) {
      if (resume) void this.handBack(resume);
      return;
    }
    // In-progress files and the journal always get a fresh id; a continued playlist keeps its first
    // recording's id in the catalog and notifications (one file, one id, one notification).
    const id = randomUUID();
    const catalogId = resume?.file.recordingId ?? id;
    const directory = join(this.recordingsDir, push.domain, push.app, push.stream);
    let recording: Recording;
    try {
      recording = new Recording(
        {
          id,
          domain: push.domain,
          app: push.app,
          stream: push.stream,
          directory,
          inProgressDirectory: join(directory, IN_PROGRESS_FOLDER),
          ...(resume ? { resumeHls: resume.state } : {}),
          journalContext: {
            taskId,
            templateId,
            streamParam: taskId ? "" : push.session.query,
            storageTimeSec: Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, settings.formats[f].storageTimeSec ?? 0])),
          },
        },
        settings,
        { ffmpegPath: this.ffmpeg.path, logger: this.logger, now: Date.now },
      );
    } catch (err) {
      this.logger.error("cannot start a recording", { push: push.id, taskId, error: errorMessage(err) });
      if (taskId) push.failedTasks.add(taskId);
      if (resume) void this.handBack(resume);
      return;
    }
    const where = { push: push.id, recording: id, domain: push.domain, app: push.app, stream: push.stream, ...(taskId ? { taskId } : {}) };
    recording.on("started", (s) => {
      this.logger.info("recording", { ...where, tracks: s.tracks, formats: s.formats });
      for (const format of s.formats) this.statusEvent(push, id, taskId, "record_start_succeeded", format);
      for (const skip of s.skipped) this.statusEvent(push, id, taskId, "record_start_failed", skip.format, `${skip.code}: ${skip.reason}`);
    });
    recording.on("error", (err) => this.statusEvent(push, id, taskId, "record_error", undefined, `${err.code}: ${err.message}`));
    recording.on("closed", () => this.statusEvent(push, id, taskId, "record_ended"));
    const fileMeta: FileMeta = { recordingId: catalogId, domain: push.domain, app: push.app, stream: push.stream, taskId, templateId, streamParam: taskId ? "" : push.session.query };
    recording.on("file", (file) => void this.indexFile(file, fileMeta, settings.formats[file.format].storageTimeSec ?? 0));
    recording.on("hlsOpen", (state) =>
      void this.keepPlaylistOpen(spliceKey(push, taskId), state, settings.hlsFlowContinueSec, { ...fileMeta, storageTimeSec: settings.formats.hls.storageTimeSec ?? 0 }),
    );
    const attachment = { recording, taskId, templateId };
    push.attach(attachment);
    this.watchClose(push, attachment);
    if (resume) this.logger.info("continuing an open HLS playlist after a discontinuity", { ...where, segments: resume.state.segments.length });
    this.logger.info("recording attached", { ...where, templateId, ...(taskEnd ? { taskEnd } : {}) });
  }

  /** Indexes a finished file in the catalog, then tells listeners. */
  private async indexFile(file: Omit<CompletedFile, "recordingId" | "domain" | "app" | "stream">, meta: FileMeta, storageTimeSec: number): Promise<void> {
    const fileId = randomUUID();
    const createdMs = Date.now();
    this.logger.info("file complete", { recording: meta.recordingId, format: file.format, path: file.path, durationSec: file.durationSec, sizeBytes: file.sizeBytes });
    const row: RecordingFile = {
      ...meta,
      fileId,
      format: file.format,
      path: relative(this.config.dataDir, file.path),
      startMs: file.startMs,
      endMs: file.endMs,
      durationSec: file.durationSec,
      sizeBytes: file.sizeBytes,
      createdMs,
      expiresMs: storageTimeSec > 0 ? createdMs + storageTimeSec * 1000 : 0,
      mediaStartMs: file.mediaStartMs,
      media: file.media,
    };
    try {
      await this.catalog.insertRecording(row);
    } catch (err) {
      this.logger.error("cannot index a finished file in the catalog", { path: file.path, error: errorMessage(err) });
    }
    this.notifyFile(row);
    this.emit("file", { ...file, ...meta, fileId });
  }

  /** Queues the event_type 100 callback of a finished file (durably, in the catalog's outbox). */
  private notifyFile(row: RecordingFile): void {
    try {
      const target = this.callbacks.resolve(row.domain, row.app);
      if (!target?.recordNotifyUrl) return;
      const body = recordFileEvent({
        fileId: row.fileId,
        domain: row.domain,
        app: row.app,
        stream: row.stream,
        format: row.format,
        startMs: row.startMs,
        endMs: row.endMs,
        durationSec: row.durationSec,
        sizeBytes: row.sizeBytes,
        taskId: row.taskId,
        templateId: row.templateId,
        streamParam: row.streamParam,
        videoUrl: this.media.urlOf(row),
        mediaStartTimeMs: row.mediaStartMs,
        ...row.media,
        sessionId: row.recordingId,
        appId: this.config.callbacks.appId,
      });
      this.callbacks.enqueue({ url: target.recordNotifyUrl, callbackKey: target.callbackKey, eventType: 100, body, fileId: row.fileId }, Date.now());
      this.dispatcher.kick();
    } catch (err) {
      this.logger.error("cannot queue the file callback", { fileId: row.fileId, error: errorMessage(err) });
    }
  }

  /** Queues an event_type 332 recording status callback (spec §4.5). */
  private statusEvent(push: LivePush, sessionId: string, taskId: string, event: RecordStatusEventName, format?: RecordingFile["format"], reason?: string): void {
    try {
      const target = this.callbacks.resolve(push.domain, push.app);
      if (!target?.recordStatusNotifyUrl) return;
      const body = recordStatusEvent({
        domain: push.domain,
        app: push.app,
        stream: push.stream,
        sessionId,
        event,
        ...(format ? { format } : {}),
        ...(reason ? { reason } : {}),
        startModel: taskId ? 5 : 1,
        seq: ++this.statusSeq,
        appId: this.config.callbacks.appId,
        eventTimeMs: Date.now(),
        ...(taskId ? { taskId } : {}),
      });
      this.callbacks.enqueue({ url: target.recordStatusNotifyUrl, callbackKey: target.callbackKey, eventType: 332, body }, Date.now());
      this.dispatcher.kick();
    } catch (err) {
      this.logger.error("cannot queue a status callback", { event, error: errorMessage(err) });
    }
  }

  /** An open playlist of this stream (and recorder) whose splice window has not passed, taken for a new push. */
  private async resumablePlaylist(push: LivePush, settings: RecordingSettings, taskId: string): Promise<OpenPlaylist | undefined> {
    if (!settings.formats.hls.enabled || settings.hlsFlowContinueSec <= 0) return undefined;
    const key = spliceKey(push, taskId);
    await this.closingBySpliceKey.get(key);
    const open = await this.catalog.takeOpenPlaylist(key);
    if (!open) return undefined;
    clearTimeout(this.spliceTimers.get(key));
    this.spliceTimers.delete(key);
    if (Date.now() > open.deadlineMs) {
      await this.closeOpenPlaylist(open);
      return undefined;
    }
    return open;
  }

  /** An open playlist taken for a push that could not use it goes back to waiting (or closes, if its window passed). */
  private async handBack(open: OpenPlaylist): Promise<void> {
    if (Date.now() >= open.deadlineMs) return this.closeOpenPlaylist(open);
    try {
      await this.catalog.saveOpenPlaylist(open);
      this.scheduleSpliceClose(open);
    } catch (err) {
      this.logger.error("cannot keep the HLS playlist open; closing it now", { key: open.spliceKey, error: errorMessage(err) });
      await this.closeOpenPlaylist(open);
    }
  }

  /** The push ended inside a splice window: the playlist waits, in the catalog, for the stream to come back. */
  private async keepPlaylistOpen(key: string, state: HlsPlaylistState, windowSec: number, file: OpenPlaylist["file"]): Promise<void> {
    const open: OpenPlaylist = { spliceKey: key, deadlineMs: Date.now() + windowSec * 1000, state, file };
    try {
      await this.catalog.saveOpenPlaylist(open);
    } catch (err) {
      this.logger.error("cannot keep the HLS playlist open; closing it now", { key, error: errorMessage(err) });
      await this.closeOpenPlaylist(open);
      return;
    }
    this.logger.info("HLS playlist kept open for a new push", { key, windowSec, segments: state.segments.length });
    this.scheduleSpliceClose(open);
  }

  private scheduleSpliceClose(open: OpenPlaylist): void {
    clearTimeout(this.spliceTimers.get(open.spliceKey));
    const timer = setTimeout(() => {
      this.spliceTimers.delete(open.spliceKey);
      const work = this.catalog.takeOpenPlaylist(open.spliceKey).then((current) => (current ? this.closeOpenPlaylist(current) : undefined));
      this.ending.add(work);
      void work.finally(() => this.ending.delete(work));
    }, Math.max(0, open.deadlineMs - Date.now()));
    this.spliceTimers.set(open.spliceKey, timer);
  }

  /** The splice window passed: ENDLIST, final name, catalog row, one notification. */
  private async closeOpenPlaylist(open: OpenPlaylist): Promise<void> {
    try {
      const final = await finalizePlaylist(open.state);
      const { storageTimeSec, ...meta } = open.file;
      if (final) await this.indexFile({ format: "hls", ...final, index: 0, mediaStartMs: open.state.mediaStartMs, media: open.state.media }, meta, storageTimeSec);
    } catch (err) {
      this.logger.error("closing an open HLS playlist failed", { key: open.spliceKey, error: errorMessage(err) });
    }
  }

  private async recoverAfterCrash(): Promise<void> {
    const report = await new Recovery(this.recordingsDir, this.ffmpeg.path, this.logger).run();
    for (const f of report.recovered) await this.indexRecovered(f);
    if (report.recovered.length > 0 || report.failed.length > 0) {
      this.logger.warn("crash recovery", { recovered: report.recovered.length, failed: report.failed.length });
    }
  }

  /** Catalogs (and reports) a file recovery made whole, with the context its journal kept. */
  private async indexRecovered(f: RecoveredFile): Promise<void> {
    const ctx = f.context as Partial<FileMeta> & { storageTimeSec?: Partial<Record<string, number>> };
    const meta: FileMeta = {
      recordingId: f.recordingId,
      domain: f.domain,
      app: f.app,
      stream: f.stream,
      taskId: ctx.taskId ?? "",
      templateId: ctx.templateId ?? 0,
      streamParam: ctx.streamParam ?? "",
    };
    await this.indexFile({ ...f, index: 0, media: {} }, meta, ctx.storageTimeSec?.[f.format] ?? 0);
  }

  /** At start: close playlists whose window passed while the service was down; wait for the others. */
  private async restoreOpenPlaylists(): Promise<void> {
    for (const open of await this.catalog.listOpenPlaylists()) {
      if (Date.now() >= open.deadlineMs) {
        await this.catalog.takeOpenPlaylist(open.spliceKey);
        await this.closeOpenPlaylist(open);
      } else {
        this.scheduleSpliceClose(open);
      }
    }
  }

  /** Ends a recording (push ended, task window closed, service stopping); resolves once it is closed and handled. */
  private endRecording(push: LivePush, recordingId: string): Promise<void> {
    const a = push.attachments.get(recordingId);
    if (!a) return Promise.resolve();
    void a.recording.end();
    return this.closing.get(a.recording) ?? Promise.resolve();
  }

  /** Follows a recording to its close, whoever ends it (it ends itself on a full disk). */
  private watchClose(push: LivePush, a: Omit<Attachment, "waitingForKeyframe">): void {
    const work = new Promise<void>((resolve) => {
      a.recording.once("closed", (stats) => {
        this.recordingClosed(push, a, stats)
          .catch((err: unknown) => this.logger.error("handling a closed recording failed", { recording: stats.id, error: errorMessage(err) }))
          .finally(resolve);
      });
    });
    this.closing.set(a.recording, work);
    this.ending.add(work);
    const key = spliceKey(push, a.taskId);
    void work.finally(() => {
      this.ending.delete(work);
      this.closing.delete(a.recording);
      if (this.closingBySpliceKey.get(key) === work) this.closingBySpliceKey.delete(key);
    });
    // A quick re-publish waits for this recording's playlist before looking for one to continue.
    this.closingBySpliceKey.set(key, work);
  }

  private async recordingClosed(push: LivePush, a: Omit<Attachment, "waitingForKeyframe">, stats: RecordingStats): Promise<void> {
    push.detach(a.recording.target.id);
    if (stats.errors > 0 && a.taskId) push.failedTasks.add(a.taskId);
    this.logger.info("recording closed", { push: push.id, recording: stats.id, files: stats.filesCompleted, dropped: stats.droppedFrames, errors: stats.errors });
    if (stats.errors > 0) {
      // Files it could not close stay journalled: make them whole now (and again at the next start if this fails too).
      const journal = join(a.recording.target.inProgressDirectory, `${stats.id}${JOURNAL_SUFFIX}`);
      try {
        const report = await new Recovery(this.recordingsDir, this.ffmpeg.path, this.logger).recoverJournal(journal);
        for (const f of report.recovered) await this.indexRecovered(f);
      } catch (err) {
        this.logger.error("salvaging a failed recording's files failed; they stay for recovery at the next start", { recording: stats.id, error: errorMessage(err) });
      }
    }
    this.emit("recordingClosed", { ...stats, domain: push.domain, app: push.app, stream: push.stream, taskId: a.taskId, templateId: a.templateId });
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
