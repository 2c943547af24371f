/**
 * Recording control: templates, rules and tasks, with
 * the cloud API's limits and error codes (spec §1–§3, §6, §8). Inputs are
 * already validated (templates/, rules/, tasks/ schemas); the HTTP API and
 * the CLI are thin layers over these functions.
 */
import { randomBytes } from "node:crypto";
import { ApiError } from "./api-error.js";
import type { Catalog, StoredTask } from "../catalog/types.js";
import type { RecordRule, RecordRuleInput } from "../rules/types.js";
import type { DescribeTasksQuery } from "../tasks/task-schema.js";
import { MAX_OVERLAPPING_TASKS, type RecordTask, type RecordTaskInput } from "../tasks/types.js";
import { FORMAT_PARAMS, type RecordTemplate, type RecordTemplateInput } from "../templates/types.js";

/** spec §6 limits. */
export const MAX_TEMPLATES = 50;
export const MAX_RULES = 50;
/** DescribeRecordTask page size (the cloud does not state one). */
export const TASK_PAGE_SIZE = 100;

export class RecordingControl {
  constructor(
    private readonly catalog: Catalog,
    private readonly onTasksChanged: () => Promise<void> = async () => {},
    /** The storage destination, when there is one and it has no cold storage class: StorageMode "cold" is refused. */
    private readonly noColdClassIn?: string,
  ) {}

  /** A template whose files could never be stored as asked is refused now, not parked as failed uploads later. */
  private checkStorageMode(t: RecordTemplateInput): void {
    if (this.noColdClassIn === undefined) return;
    for (const key of FORMAT_PARAMS) {
      if (t[key].StorageMode === "cold") {
        throw new ApiError("InvalidParameterValue", `${key}.StorageMode: "cold" needs a cold storage class, and ${this.noColdClassIn} has none (coldStorageClass)`);
      }
    }
  }

  async createTemplate(input: RecordTemplateInput): Promise<{ TemplateId: number }> {
    this.checkStorageMode(input);
    const t = await this.catalog.insertTemplate(input, MAX_TEMPLATES);
    if (!t) throw new ApiError("InternalError.ConfOutLimit", `at most ${MAX_TEMPLATES} recording templates can exist`);
    return { TemplateId: t.TemplateId };
  }

  /** Loads a template for ModifyLiveRecordTemplate to merge into. */
  async templateForUpdate(id: number): Promise<RecordTemplate> {
    const t = await this.catalog.getTemplate(id);
    if (!t) throw new ApiError("FailedOperation.NotFound", `no recording template with TemplateId ${id}`);
    return t;
  }

  async modifyTemplate(t: RecordTemplate): Promise<Record<string, never>> {
    this.checkStorageMode(t);
    if (!(await this.catalog.updateTemplate(t))) throw new ApiError("FailedOperation.NotFound", `no recording template with TemplateId ${t.TemplateId}`);
    return {};
  }

  async deleteTemplate(id: number): Promise<Record<string, never>> {
    const result = await this.catalog.deleteTemplate(id);
    if (result === "in-use") throw new ApiError("FailedOperation.ConfInUsed", `template ${id} is bound by a recording rule: delete the rule first`);
    if (result === "not-found") throw new ApiError("FailedOperation.NotFound", `no recording template with TemplateId ${id}`);
    return {};
  }

  async describeTemplate(id: number): Promise<{ Template: RecordTemplate }> {
    return { Template: await this.templateForUpdate(id) };
  }

  async describeTemplates(filter: { IsDelayLive?: 0 | 1 }): Promise<{ Templates: RecordTemplate[] }> {
    const all = await this.catalog.listTemplates();
    const wanted = filter.IsDelayLive ?? 0;
    return { Templates: all.filter((t) => t.IsDelayLive === wanted) };
  }

  async createRule(r: RecordRuleInput): Promise<Record<string, never>> {
    if (!(await this.catalog.getTemplate(r.TemplateId))) {
      throw new ApiError("InvalidParameter.ConfNotFound", `no recording template with TemplateId ${r.TemplateId}`);
    }
    const result = await this.catalog.insertRule(r, MAX_RULES, Date.now());
    if (result === "exists") {
      throw new ApiError("FailedOperation.RuleAlreadyExist", `a rule for ${r.DomainName}/${r.AppName || "*"}/${r.StreamName || "*"} already exists`);
    }
    if (result === "limit") throw new ApiError("LimitExceeded", `at most ${MAX_RULES} recording rules can exist`);
    return {};
  }

  async deleteRule(key: Pick<RecordRule, "DomainName" | "AppName" | "StreamName">): Promise<Record<string, never>> {
    if (!(await this.catalog.deleteRule(key))) {
      throw new ApiError(
        "FailedOperation.NotFound",
        `no rule with exactly DomainName=${JSON.stringify(key.DomainName)} AppName=${JSON.stringify(key.AppName)} StreamName=${JSON.stringify(key.StreamName)}`,
      );
    }
    return {};
  }

  async describeRules(): Promise<{ Rules: RecordRule[] }> {
    return { Rules: await this.catalog.listRules() };
  }

  async createTask(input: RecordTaskInput): Promise<{ TaskId: string }> {
    // Opaque, URL-safe and unguessable, like the cloud's task ids.
    const task: RecordTask = { ...input, TaskId: randomBytes(24).toString("base64url"), Stopped: 0 };
    if (!(await this.catalog.insertTask(task, MAX_OVERLAPPING_TASKS))) {
      throw new ApiError(
        "LimitExceeded.MaximumRunningTask",
        `${input.DomainName}/${input.AppName}/${input.StreamName} already has ${MAX_OVERLAPPING_TASKS} tasks overlapping ${input.StartTime}-${input.EndTime}`,
      );
    }
    await this.onTasksChanged();
    return { TaskId: task.TaskId };
  }

  private async liveTask(taskId: string): Promise<StoredTask> {
    const t = await this.catalog.getTask(taskId);
    if (!t || t.deleted) throw new ApiError("FailedOperation.NotFound", `no record task with TaskId ${taskId}`);
    return t;
  }

  /** Final: the task never starts again; a running recording closes and its files complete before this returns. */
  async stopTask(taskId: string, nowSec: number): Promise<Record<string, never>> {
    const t = await this.liveTask(taskId);
    if (t.Stopped === 0) await this.catalog.stopTask(taskId, nowSec);
    await this.onTasksChanged();
    return {};
  }

  /** Hidden from DescribeRecordTask and never starts for new pushes; a running recording continues. */
  async deleteTask(taskId: string): Promise<Record<string, never>> {
    await this.liveTask(taskId);
    await this.catalog.deleteTask(taskId);
    await this.onTasksChanged();
    return {};
  }

  async describeTasks(q: DescribeTasksQuery): Promise<{ ScrollToken: string; TaskList: RecordTask[] }> {
    const all = await this.catalog.listTasks({ startTime: q.StartTime, endTime: q.EndTime, domain: q.DomainName, app: q.AppName, stream: q.StreamName });
    const offset = q.ScrollToken ? decodeScrollToken(q.ScrollToken) : 0;
    const page = all.slice(offset, offset + TASK_PAGE_SIZE).map(({ deleted: _, ...task }) => task);
    const next = offset + TASK_PAGE_SIZE < all.length ? encodeScrollToken(offset + TASK_PAGE_SIZE) : "";
    return { ScrollToken: next, TaskList: page };
  }
}

function encodeScrollToken(offset: number): string {
  return Buffer.from(`o:${offset}`).toString("base64url");
}

function decodeScrollToken(token: string): number {
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(token, "base64url").toString("latin1"));
  if (!m) throw new ApiError("InvalidParameterValue", "ScrollToken is not one this server returned");
  return Number(m[1]);
}
