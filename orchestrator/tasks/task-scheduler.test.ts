import { describe, expect, it } from "vitest";
import { silentLogger } from "../../engine/logger.js";
import { SqliteCatalog } from "../catalog/sqlite-catalog.js";
import { type SchedulablePush, TaskScheduler, type TaskRecorder } from "./task-scheduler.js";
import { MAX_OVERLAPPING_TASKS, type RecordTask } from "./types.js";

const NOW_SEC = 1_700_000_000;
const DEFAULTS = { fileNameUtcOffset: "+08:00", hlsSegmentSeconds: 4, probeWindowMs: 1000, maxQueueMegabytes: 8, flvHevcMode: "enhanced" as const };

interface FakePush extends SchedulablePush {
  attachments: Map<string, { taskId: string; recording: { target: { id: string } } }>;
  failedTasks: Set<string>;
  ended: boolean;
}

const push = (stream: string): FakePush => ({ id: `push-${stream}`, domain: "d.example", app: "live", stream, ended: false, attachments: new Map(), failedTasks: new Set() });

const task = (id: string, stream: string, fields: Partial<RecordTask> = {}): RecordTask => ({
  TaskId: id,
  DomainName: "d.example",
  AppName: "live",
  StreamName: stream,
  StartTime: NOW_SEC - 10,
  EndTime: NOW_SEC + 600,
  TemplateId: 0,
  Stopped: 0,
  StreamType: 0,
  Extension: "",
  ...fields,
});

/** A recorder that attaches at once and whose recordings close when `release(id)` is called. */
function recorder(pushes: FakePush[]) {
  const started: { stream: string; taskId: string; hls: boolean }[] = [];
  const pendingCloses = new Map<string, () => void>();
  let n = 0;
  const r: TaskRecorder<FakePush> = {
    live: () => pushes.filter((p) => !p.ended),
    startRecording: async (p, req) => {
      const id = `rec-${++n}`;
      p.attachments.set(id, { taskId: req.taskId, recording: { target: { id } } });
      started.push({ stream: p.stream, taskId: req.taskId, hls: req.settings.formats.hls.enabled && !req.settings.formats.flv.enabled });
    },
    endRecording: (p, id) =>
      new Promise<void>((resolve) => {
        pendingCloses.set(id, () => {
          p.attachments.delete(id);
          resolve();
        });
      }),
  };
  return { r, started, closeAll: () => {
      for (const close of pendingCloses.values()) close();
    }, pendingCloses };
}

function setup(clock: { sec: number }) {
  const pushes: FakePush[] = [];
  const rec = recorder(pushes);
  const catalog = new SqliteCatalog(":memory:");
  const scheduler = new TaskScheduler<FakePush>({ catalog, recorder: rec.r, recording: DEFAULTS, logger: silentLogger, now: () => clock.sec * 1000 });
  scheduler.start(60_000);
  return { catalog, scheduler, pushes, rec };
}

describe("TaskScheduler", () => {
  it("starts a recording for each open task of a push's stream (HLS when the task has no template)", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    await catalog.insertTask(task("t-1", "s1"), 3);
    await catalog.insertTask(task("t-other", "s2"), 3);
    await catalog.insertTask(task("t-later", "s1", { StartTime: NOW_SEC + 60 }), 3);
    const a = push("s1");
    pushes.push(a);
    await scheduler.syncAll();
    expect(rec.started).toEqual([{ stream: "s1", taskId: "t-1", hls: true }]);
    await scheduler.syncAll();
    expect(rec.started).toHaveLength(1);
    clock.sec += 61;
    await scheduler.syncAll();
    expect(rec.started.map((s) => s.taskId)).toEqual(["t-1", "t-later"]);
    await scheduler.stop();
    await catalog.close();
  });

  it("ends a stopped task's recording and resolves once it is closed", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    await catalog.insertTask(task("t-1", "s1"), 3);
    const a = push("s1");
    pushes.push(a);
    await scheduler.syncAll();
    await catalog.stopTask("t-1", NOW_SEC);
    let synced = false;
    const sync = scheduler.syncAll().then(() => (synced = true));
    for (let i = 0; i < 100 && rec.pendingCloses.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(rec.pendingCloses.size).toBe(1);
    expect(synced).toBe(false);
    rec.closeAll();
    await sync;
    expect(a.attachments.size).toBe(0);
    await scheduler.stop();
    await catalog.close();
  });

  it("syncs each push on its own: a slow close on one stream does not hold another stream's task", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    await catalog.insertTask(task("t-a", "a", { EndTime: NOW_SEC + 5 }), 3);
    const a = push("a");
    const b = push("b");
    pushes.push(a, b);
    await scheduler.syncAll();
    clock.sec += 10; // t-a's window closed: its recording closes slowly (never, until closeAll)
    const slow = scheduler.syncAll();
    for (let i = 0; i < 100 && rec.pendingCloses.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await catalog.insertTask(task("t-b", "b", { StartTime: NOW_SEC, EndTime: NOW_SEC + 600 }), 3);
    // The periodic check skips the busy push and serves the other one at once.
    await scheduler.syncAll({ skipBusy: true });
    expect(rec.started.map((s) => s.taskId)).toEqual(["t-a", "t-b"]);
    rec.closeAll();
    await slow;
    await scheduler.stop();
    await catalog.close();
  });

  it("a sync queued behind a busy one reads the tasks when its turn comes, not when it was asked for", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    await catalog.insertTask(task("t-old", "a", { EndTime: NOW_SEC + 5 }), 3);
    const a = push("a");
    pushes.push(a);
    await scheduler.syncAll();
    clock.sec += 10; // t-old's window closed: its recording closes slowly (until closeAll)
    const busy = scheduler.syncAll();
    for (let i = 0; i < 100 && rec.pendingCloses.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await catalog.insertTask(task("t-stopped", "a", { StartTime: NOW_SEC, EndTime: NOW_SEC + 600 }), 3);
    const queued = scheduler.syncAll();
    await catalog.stopTask("t-stopped", clock.sec);
    rec.closeAll();
    await Promise.all([busy, queued]);
    expect(rec.started.map((s) => s.taskId)).toEqual(["t-old"]);
    await scheduler.stop();
    await catalog.close();
  });

  it("starts nothing once stopped", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    await catalog.insertTask(task("t-1", "s1"), 3);
    const a = push("s1");
    pushes.push(a);
    await scheduler.stop();
    await scheduler.syncAll();
    await scheduler.syncPush(a);
    expect(rec.started).toHaveLength(0);
    await catalog.close();
  });

  it("starts at most MAX_OVERLAPPING_TASKS task recordings on one push", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    for (const id of ["t-1", "t-2", "t-3", "t-4"]) await catalog.insertTask(task(id, "s1"), 10);
    const a = push("s1");
    pushes.push(a);
    await scheduler.syncPush(a);
    expect(rec.started).toHaveLength(MAX_OVERLAPPING_TASKS);
    await scheduler.stop();
    await catalog.close();
  });

  it("does not start again a task that failed on this push", async () => {
    const clock = { sec: NOW_SEC };
    const { catalog, scheduler, pushes, rec } = setup(clock);
    for (const id of ["t-1", "t-2", "t-3"]) await catalog.insertTask(task(id, "s1"), 3);
    const a = push("s1");
    a.failedTasks.add("t-2");
    a.attachments.set("rule-rec", { taskId: "", recording: { target: { id: "rule-rec" } } });
    pushes.push(a);
    await scheduler.syncPush(a);
    expect(rec.started.map((s) => s.taskId)).toEqual(["t-1", "t-3"]);
    await scheduler.stop();
    await catalog.close();
  });
});
