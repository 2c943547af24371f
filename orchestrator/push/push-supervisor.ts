/**
 * Push supervision: a publish request is admitted (or refused), becomes a
 * live push, gets the recording its rule's template asks for (rules are read
 * once, at push start) and, through the task scheduler, one per open record
 * task; each recording's events go to the indexer, the notifier and the
 * splice windows; when it closes (push ended, task window closed, disk full)
 * its leftovers are salvaged and `recordingClosed` fires.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import { OUTPUT_FORMATS } from "../../engine/mux/types.js";
import { IN_PROGRESS_FOLDER } from "../../engine/recovery/recovery.js";
import { JOURNAL_SUFFIX } from "../../engine/recovery/journal.js";
import { Recording } from "../../engine/pipeline/recording.js";
import type { RecordingSettings, RecordingStats } from "../../engine/pipeline/types.js";
import type { PublishRequest, PublishSession } from "../../engine/rtmp/rtmp-server.js";
import { MAX_HELD_BYTES, MAX_HELD_FRAMES, StreamHub } from "../../engine/stream/stream-hub.js";
import { TypedEmitter } from "../../engine/typed-emitter.js";
import type { RecordNotifier } from "../callbacks/record-notifier.js";
import type { FileIndexer, FileMeta, JournalContext } from "../catalog/file-indexer.js";
import type { Catalog, OpenPlaylist } from "../catalog/types.js";
import type { LivePushStatus } from "../control/wire-types.js";
import { withoutPushSecret } from "../auth/push-auth.js";
import { matchRule } from "../rules/rule-matcher.js";
import { spliceKey, type SpliceWindows } from "../splice/splice-windows.js";
import { type FormatParams, type RecordingDefaults, recordingSettings } from "../templates/recording-settings.js";
import type { Admission } from "./admission.js";

/** A recording attached to a live push: the one its rule chose (taskId ""), or one per open record task. */
export interface Attachment {
  recording: Recording;
  /** "" for the template recording. */
  taskId: string;
  templateId: number;
}

/** A live push: the engine's stream hub (engine/stream/), plus the policy kept for it here. */
export class LivePush extends StreamHub<Attachment, PublishSession> {
  /** Which rule (and template) chose this push's recording, resolved at push start. */
  matched: { rule: string; templateId: number } | undefined;
  /** Tasks whose recording failed on this push (full disk...): not started again for it. */
  readonly failedTasks = new Set<string>();
}

export type ClosedRecording = RecordingStats & { domain: string; app: string; stream: string; taskId: string; templateId: number };

export type PushSupervisorEvents = {
  /** A publisher stopped (FCUnpublish, deleteStream, socket closed...); its files are closing. */
  pushEnded: [{ pushId: string; domain: string; app: string; stream: string; reason: string }];
  recordingClosed: [ClosedRecording];
};

/** A recording to start on a live push: for its rule's template (taskId "") or for a record task. */
export interface RecordingRequest {
  settings: RecordingSettings;
  taskId: string;
  /** 0 when no template applies (the config's template, or a task's default). */
  templateId: number;
  /** The task's end (s), for the log; 0 for the template recording. */
  taskEnd: number;
}

export interface PushSupervisorOptions {
  catalog: Catalog;
  /** Finished files go to data/recordings/<domain>/<app>/<stream>/ under this folder. */
  recordingsDir: string;
  recording: RecordingDefaults;
  /** What a push records when no rule matches. */
  defaultTemplate: FormatParams;
  admission: Admission;
  splice: SpliceWindows;
  indexer: FileIndexer;
  notifier: RecordNotifier;
  ffmpegPath: string;
  logger: Logger;
  /** Starts the recordings of the push's open record tasks (the task scheduler). */
  syncTasks: (push: LivePush) => Promise<void>;
  /** Makes whole (and catalogs) the files a failed recording left in its journal. */
  salvage: (journalPath: string) => Promise<void>;
  now?: () => number;
}

export class PushSupervisor extends TypedEmitter<PushSupervisorEvents> {
  private readonly pushes = new Map<string, LivePush>();
  /** Each live recording's close, handled (catalogued, salvaged, reported). */
  private readonly closing = new Map<Recording, Promise<void>>();
  private readonly now: () => number;
  private stopping = false;

  constructor(private readonly options: PushSupervisorOptions) {
    super(options.logger);
    this.now = options.now ?? Date.now;
  }

  /** The pushes on air now. */
  live(): LivePush[] {
    return [...this.pushes.values()];
  }

  onPublish(req: PublishRequest): void {
    const { logger, admission } = this.options;
    if (this.stopping) {
      req.reject("NetStream.Publish.Rejected", "the recorder is shutting down");
      return;
    }
    const verdict = admission.check(req);
    if (!verdict.ok) {
      logger.warn("publish refused", { code: verdict.code, domain: req.domain, app: req.app, stream: req.stream, reason: verdict.reason, remote: req.remoteAddress });
      req.reject(verdict.status, verdict.reason);
      return;
    }
    // The hold at push start may hold as much as one output may queue for a slow disk.
    const heldLimits = { frames: MAX_HELD_FRAMES, bytes: Math.max(MAX_HELD_BYTES, this.options.recording.maxQueueMegabytes * 1024 * 1024) };
    const push = new LivePush(randomUUID(), req.accept(), { now: this.now, logger, heldLimits });
    this.pushes.set(push.id, push);
    logger.info("push started", { push: push.id, domain: push.domain, app: push.app, stream: push.stream, remote: req.remoteAddress });
    push.session.on("tag", (tag) => push.onTag(tag));
    push.session.once("end", (reason) => this.endPush(push, reason));
    void this.startPush(push).catch((err: unknown) => {
      logger.error("cannot start the push's recordings", { push: push.id, error: errorMessage(err) });
      push.release();
    });
  }

  livePushes(): LivePushStatus[] {
    const now = this.now();
    return this.live().map((p) => ({
      pushId: p.id,
      domain: p.domain,
      app: p.app,
      stream: p.stream,
      remoteAddress: p.session.remoteAddress,
      startedAt: p.startedAt.toISOString(),
      uptimeSec: Math.round((now - p.startedAt.getTime()) / 1000),
      bitrateKbps: Math.round((p.bytesIn * 8) / Math.max(1, now - p.startedAt.getTime())),
      matchedRule: p.matched?.rule ?? "",
      templateId: p.matched?.templateId ?? 0,
      recordings: [...p.attachments.values()].map((a) => ({ ...a.recording.stats(), taskId: a.taskId, templateId: a.templateId })),
    }));
  }

  /** Disconnects a live publisher (the cloud's DropLiveStream); its recordings close as after any push end. */
  dropPush(domain: string, app: string, stream: string): boolean {
    const push = this.live().find((p) => p.domain === domain && p.app === app && p.stream === stream);
    if (!push) return false;
    this.options.logger.info("dropping a live push on request", { push: push.id, domain, app, stream });
    push.session.close();
    return true;
  }

  /** Starts a recording on a live push, continuing its open HLS playlist when one waits. */
  async startRecording(push: LivePush, req: RecordingRequest): Promise<void> {
    const resume = await this.options.splice.take(spliceKey(push, req.taskId), req.settings);
    this.attach(push, req, resume);
  }

  /** Ends a recording (task window closed, push ended, stopping); resolves once it is closed and handled. */
  endRecording(push: LivePush, recordingId: string): Promise<void> {
    const a = push.attachments.get(recordingId);
    if (!a) return Promise.resolve();
    void a.recording.end();
    return this.closing.get(a.recording) ?? Promise.resolve();
  }

  /** Refuses new pushes, ends every push, and resolves once every recording is closed and handled. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const push of this.live()) this.endPush(push, "service stopping");
    while (this.closing.size > 0) await Promise.all([...this.closing.values()]);
  }

  /** Pins the push's template (rules are read once, now), starts its recording, then its tasks'. */
  private async startPush(push: LivePush): Promise<void> {
    const { catalog, logger } = this.options;
    const rule = matchRule(await catalog.listRules(), push.domain, push.app, push.stream);
    push.matched = rule
      ? { rule: `${rule.DomainName}/${rule.AppName || "*"}/${rule.StreamName || "*"}`, templateId: rule.TemplateId }
      : { rule: "config recordTemplate (no rule matched)", templateId: 0 };
    let params: FormatParams | undefined = this.options.defaultTemplate;
    if (rule) {
      params = await catalog.getTemplate(rule.TemplateId);
      if (!params) logger.warn("the matching rule's template no longer exists: not recording", { push: push.id, templateId: rule.TemplateId });
    }
    if (push.ended) return;
    const settings = params && recordingSettings(this.options.recording, params);
    if (settings && OUTPUT_FORMATS.some((f) => settings.formats[f].enabled)) {
      await this.startRecording(push, { settings, taskId: "", templateId: rule?.TemplateId ?? 0, taskEnd: 0 });
    } else if (!push.ended) {
      logger.info("no recording for this push: its template enables no format", { push: push.id, templateId: rule?.TemplateId ?? 0 });
    }
    await this.options.syncTasks(push);
    push.release();
  }

  private attach(push: LivePush, req: RecordingRequest, resume: OpenPlaylist | undefined): void {
    const { logger, splice } = this.options;
    if (push.ended) {
      if (resume) void splice.handBack(resume);
      return;
    }
    const { settings, taskId, templateId } = req;
    // In-progress files and the journal always get a fresh id; a continued playlist keeps its first
    // recording's id in the catalog and notifications (one file, one id, one notification).
    const id = randomUUID();
    const streamParam = taskId ? "" : withoutPushSecret(push.session.query);
    const meta: FileMeta = { recordingId: resume?.file.recordingId ?? id, domain: push.domain, app: push.app, stream: push.stream, taskId, templateId, streamParam };
    const journalContext: JournalContext = {
      taskId,
      templateId,
      streamParam,
      storageTimeSec: Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, settings.formats[f].storageTimeSec ?? 0])),
    };
    const directory = join(this.options.recordingsDir, push.domain, push.app, push.stream);
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
          journalContext,
        },
        settings,
        { ffmpegPath: this.options.ffmpegPath, logger, now: this.now },
      );
    } catch (err) {
      logger.error("cannot start a recording", { push: push.id, taskId, error: errorMessage(err) });
      if (taskId) push.failedTasks.add(taskId);
      if (resume) void splice.handBack(resume);
      return;
    }
    this.route(push, recording, req, meta);
    const attachment = { recording, taskId, templateId };
    push.attach(attachment);
    this.watchClose(push, attachment);
    const where = { push: push.id, recording: id, domain: push.domain, app: push.app, stream: push.stream, ...(taskId ? { taskId } : {}) };
    if (resume) logger.info("continuing an open HLS playlist after a discontinuity", { ...where, segments: resume.state.segments.length });
    logger.info("recording attached", { ...where, templateId, ...(req.taskEnd ? { taskEnd: req.taskEnd } : {}) });
  }

  /** A recording's events: status callbacks, finished files to the catalog, an open playlist to its splice window. */
  private route(push: LivePush, recording: Recording, req: RecordingRequest, meta: FileMeta): void {
    const { notifier, indexer, splice, logger } = this.options;
    const { settings, taskId } = req;
    const id = recording.target.id;
    const subject = { domain: push.domain, app: push.app, stream: push.stream, sessionId: id, taskId };
    recording.on("started", (s) => {
      logger.info("recording", { push: push.id, recording: id, tracks: s.tracks, formats: s.formats });
      for (const format of s.formats) void notifier.status(subject, "record_start_succeeded", format);
      for (const skip of s.skipped) void notifier.status(subject, "record_start_failed", skip.format, `${skip.code}: ${skip.reason}`);
    });
    recording.on("error", (err) => void notifier.status(subject, "record_error", undefined, `${err.code}: ${err.message}`));
    recording.on("closed", () => void notifier.status(subject, "record_ended"));
    recording.on("file", (file) => void indexer.index(file, meta, settings.formats[file.format].storageTimeSec ?? 0));
    recording.on("hlsOpen", (state) =>
      void splice.keepOpen(spliceKey(push, taskId), state, settings.hlsFlowContinueSec, { ...meta, storageTimeSec: settings.formats.hls.storageTimeSec ?? 0 }),
    );
  }

  /** Follows a recording to its close, whoever ends it (it ends itself on a full disk). */
  private watchClose(push: LivePush, a: Attachment): void {
    const work = new Promise<void>((resolve) => {
      a.recording.once("closed", (stats) => {
        this.recordingClosed(push, a, stats)
          .catch((err: unknown) => this.options.logger.error("handling a closed recording failed", { recording: stats.id, error: errorMessage(err) }))
          .finally(resolve);
      });
    });
    this.closing.set(a.recording, work);
    void work.finally(() => this.closing.delete(a.recording));
    // A quick re-publish waits for this recording's playlist before looking for one to continue.
    this.options.splice.closingRecording(spliceKey(push, a.taskId), work);
  }

  private async recordingClosed(push: LivePush, a: Attachment, stats: RecordingStats): Promise<void> {
    push.detach(a.recording.target.id);
    if (stats.errors > 0 && a.taskId) push.failedTasks.add(a.taskId);
    this.options.logger.info("recording closed", { push: push.id, recording: stats.id, files: stats.filesCompleted, dropped: stats.droppedFrames, errors: stats.errors });
    if (stats.errors > 0) {
      // Files it could not close stay journalled: make them whole now (and again at the next start if this fails too).
      try {
        await this.options.salvage(join(a.recording.target.inProgressDirectory, `${stats.id}${JOURNAL_SUFFIX}`));
      } catch (err) {
        this.options.logger.error("salvaging a failed recording's files failed; they stay for recovery at the next start", { recording: stats.id, error: errorMessage(err) });
      }
    }
    this.emit("recordingClosed", { ...stats, domain: push.domain, app: push.app, stream: push.stream, taskId: a.taskId, templateId: a.templateId });
  }

  private endPush(push: LivePush, reason: string): void {
    if (push.ended) return;
    push.ended = true;
    this.pushes.delete(push.id);
    this.options.logger.info("push ended", { push: push.id, domain: push.domain, app: push.app, stream: push.stream, reason });
    this.emit("pushEnded", { pushId: push.id, domain: push.domain, app: push.app, stream: push.stream, reason });
    for (const id of [...push.attachments.keys()]) void this.endRecording(push, id);
  }
}
