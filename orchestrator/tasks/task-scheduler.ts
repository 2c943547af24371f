/**
 * Task scheduling: record tasks (spec §3) start a recording on the live push
 * of their stream while their window is open, and end it when the window
 * closes or the task is stopped (a deleted task keeps recording to its end).
 * Each push is synced on its own chain, so one stream's slow close (ffmpeg
 * finishing a file) never delays the windows of another stream.
 */
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { RecordingSettings } from "../../engine/pipeline/types.js";
import type { Catalog, StoredTask } from "../catalog/types.js";
import { type FormatParams, HLS_ONLY, type RecordingDefaults, recordingSettings } from "../templates/recording-settings.js";
import { MAX_OVERLAPPING_TASKS } from "./types.js";

/** How often record task windows are checked against live pushes. */
export const TASK_TICK_MS = 500;

/** What the scheduler sees of a live push. */
export interface SchedulablePush {
  readonly id: string;
  readonly domain: string;
  readonly app: string;
  readonly stream: string;
  readonly ended: boolean;
  readonly attachments: ReadonlyMap<string, { readonly taskId: string; readonly recording: { readonly target: { readonly id: string } } }>;
  /** Tasks whose recording failed on this push (full disk...): not started again for it. */
  readonly failedTasks: ReadonlySet<string>;
}

/** Who starts and ends recordings on live pushes (the push supervisor). */
export interface TaskRecorder<P extends SchedulablePush> {
  live(): P[];
  startRecording(push: P, req: { settings: RecordingSettings; taskId: string; templateId: number; taskEnd: number }): Promise<void>;
  /** Resolves once the recording is closed and handled. */
  endRecording(push: P, recordingId: string): Promise<void>;
}

export interface TaskSchedulerOptions<P extends SchedulablePush> {
  catalog: Catalog;
  /** Who starts and ends the recordings (the push supervisor). */
  recorder: TaskRecorder<P>;
  recording: RecordingDefaults;
  logger: Logger;
  now?: () => number;
}

export class TaskScheduler<P extends SchedulablePush> {
  private readonly recorder: TaskRecorder<P>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Per push: its sync chain (one sync at a time per push). */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly options: TaskSchedulerOptions<P>) {
    this.recorder = options.recorder;
    this.now = options.now ?? Date.now;
  }

  /** Starts the periodic check (syncs asked for before it, at a push's start or by the API, run anyway). */
  start(tickMs = TASK_TICK_MS): void {
    if (this.stopped) return;
    this.timer = setInterval(() => void this.syncAll({ skipBusy: true }), tickMs);
    this.timer.unref();
  }

  /**
   * Syncs every live push with the tasks now; resolves when each push's sync is done (StopRecordTask
   * returns once the stopped recording's files are complete). With `skipBusy`, a push whose previous
   * sync is still running is left for the next tick.
   */
  async syncAll(opts: { skipBusy?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    const pushes = this.recorder.live().filter((p) => !p.ended && !(opts.skipBusy && this.chains.has(p.id)));
    if (pushes.length === 0) return;
    let tasks: StoredTask[];
    try {
      tasks = await this.options.catalog.pendingOrRunningTasks(Math.floor(this.now() / 1000));
    } catch (err) {
      this.options.logger.error("task check failed", { error: errorMessage(err) });
      return;
    }
    // A push whose sync is still running reads the tasks again when its turn comes: this list may be old by then.
    await Promise.all(pushes.map((p) => this.syncPush(p, this.chains.has(p.id) ? undefined : tasks)));
  }

  /** Syncs one push (at its start, before its held tags are released), on that push's chain. */
  syncPush(push: P, tasks?: readonly StoredTask[]): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const previous = this.chains.get(push.id) ?? Promise.resolve();
    const next = previous
      .then(async () => this.syncOne(push, tasks ?? (await this.options.catalog.pendingOrRunningTasks(Math.floor(this.now() / 1000)))))
      .catch((err: unknown) => this.options.logger.error("task check failed", { push: push.id, error: errorMessage(err) }));
    this.chains.set(push.id, next);
    void next.finally(() => {
      if (this.chains.get(push.id) === next) this.chains.delete(push.id);
    });
    return next;
  }

  /** Stops the periodic check at once, takes no new syncs, and waits for the syncs under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private async syncOne(push: P, tasks: readonly StoredTask[]): Promise<void> {
    const recorder = this.recorder;
    if (push.ended) return;
    const { catalog } = this.options;
    const nowSec = Math.floor(this.now() / 1000);
    const open = tasks.filter((t) => t.DomainName === push.domain && t.AppName === push.app && t.StreamName === push.stream && t.StartTime <= nowSec && nowSec < t.EndTime);
    const running = new Map([...push.attachments.values()].filter((a) => a.taskId).map((a) => [a.taskId, a]));
    // Close task recordings whose window closed or that were stopped (a deleted task keeps running to its end).
    const closing: Promise<void>[] = [];
    for (const [taskId, a] of running) {
      if (open.some((t) => t.TaskId === taskId)) continue;
      const task = await catalog.getTask(taskId);
      if (!task || task.Stopped > 0 || nowSec >= task.EndTime) closing.push(recorder.endRecording(push, a.recording.target.id));
    }
    for (const task of open) {
      if (running.has(task.TaskId) || push.failedTasks.has(task.TaskId)) continue;
      if ([...push.attachments.values()].filter((a) => a.taskId).length >= MAX_OVERLAPPING_TASKS) break;
      const template: FormatParams | undefined = task.TemplateId > 0 ? await catalog.getTemplate(task.TemplateId) : undefined;
      const settings = recordingSettings(this.options.recording, template ?? HLS_ONLY);
      // On a push that ended meanwhile this hands the playlist back instead of attaching.
      await recorder.startRecording(push, { settings, taskId: task.TaskId, templateId: template ? task.TemplateId : 0, taskEnd: task.EndTime });
      if (push.ended) return;
    }
    await Promise.all(closing);
  }
}
