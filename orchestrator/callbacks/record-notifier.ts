/**
 * The record notifier: builds the recording callbacks (spec §4.4 event_type
 * 100 for a finished file, §4.5 event_type 332 for a recording's status) and
 * queues them in the durable outbox for the dispatcher, one at a time in the
 * order they happened (status events are numbered in that order). Queueing
 * never rejects: a failure is logged and the recording goes on.
 */
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { RecordingFile } from "../catalog/types.js";
import { EVENT_TYPE_RECORD_FILE, EVENT_TYPE_RECORD_STATUS, recordFileEvent, recordStatusEvent, type RecordStatusEventName } from "./callback-messages.js";
import type { CallbackTarget, OutboxEvent } from "./types.js";

/** Where a stream's callbacks go (callback rules, or the config's fallback). */
export interface TargetResolver {
  resolve(domain: string, app: string): Promise<CallbackTarget | undefined>;
}

/** The durable outbox (the catalog). */
export interface CallbackOutbox {
  enqueueCallback(e: OutboxEvent, nowMs: number): Promise<unknown>;
}

/** Whose status a 332 event reports: one recording (sessionId) of a push, for the template or a task. */
export interface StatusSubject {
  domain: string;
  app: string;
  stream: string;
  sessionId: string;
  /** "" for the template recording. */
  taskId: string;
}

export interface RecordNotifierOptions {
  targets: TargetResolver;
  outbox: CallbackOutbox;
  /** Wakes the dispatcher after a callback was queued. */
  kick: () => void;
  /** Public URL of a catalogued file (the callback's video_url). */
  urlOf: (file: RecordingFile) => string;
  appId: number;
  logger: Logger;
  now?: () => number;
}

export class RecordNotifier {
  private statusSeq = 0;
  private readonly now: () => number;
  /** Events are queued one after another, in call order, whatever the catalog's latency. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: RecordNotifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** event_type 100: a file is complete and catalogued. */
  fileReady(row: RecordingFile): Promise<void> {
    return this.inOrder(() => this.queueFile(row));
  }

  /** event_type 332: a recording started, failed to start a format, hit an error or ended. */
  status(subject: StatusSubject, event: RecordStatusEventName, format?: RecordingFile["format"], reason?: string): Promise<void> {
    const eventTimeMs = this.now();
    return this.inOrder(() => this.queueStatus(subject, event, eventTimeMs, format, reason));
  }

  private inOrder(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work);
    return this.queue;
  }

  private async queueFile(row: RecordingFile): Promise<void> {
    try {
      const target = await this.options.targets.resolve(row.domain, row.app);
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
        videoUrl: this.options.urlOf(row),
        mediaStartTimeMs: row.mediaStartMs,
        ...row.media,
        sessionId: row.recordingId,
        appId: this.options.appId,
      });
      await this.options.outbox.enqueueCallback({ url: target.recordNotifyUrl, callbackKey: target.callbackKey, eventType: EVENT_TYPE_RECORD_FILE, body, fileId: row.fileId }, this.now());
      this.options.kick();
    } catch (err) {
      this.options.logger.error("cannot queue the file callback", { fileId: row.fileId, error: errorMessage(err) });
    }
  }

  private async queueStatus(subject: StatusSubject, event: RecordStatusEventName, eventTimeMs: number, format?: RecordingFile["format"], reason?: string): Promise<void> {
    try {
      const target = await this.options.targets.resolve(subject.domain, subject.app);
      if (!target?.recordStatusNotifyUrl) return;
      // Counts only the events that are sent.
      const seq = ++this.statusSeq;
      const body = recordStatusEvent({
        domain: subject.domain,
        app: subject.app,
        stream: subject.stream,
        sessionId: subject.sessionId,
        event,
        ...(format ? { format } : {}),
        ...(reason ? { reason } : {}),
        startModel: subject.taskId ? 5 : 1,
        seq,
        appId: this.options.appId,
        eventTimeMs,
        ...(subject.taskId ? { taskId: subject.taskId } : {}),
      });
      await this.options.outbox.enqueueCallback({ url: target.recordStatusNotifyUrl, callbackKey: target.callbackKey, eventType: EVENT_TYPE_RECORD_STATUS, body }, this.now());
      this.options.kick();
    } catch (err) {
      this.options.logger.error("cannot queue a status callback", { event, error: errorMessage(err) });
    }
  }
}
