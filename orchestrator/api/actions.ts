/**
 * The control API's actions (spec §1–§3, §4, §9): each validates its input
 * with the schema modules and calls one control service function.
 */
import { Input } from "../control/input.js";
import {
  parseCallbackTemplateId,
  parseCreateCallbackRule,
  parseCreateCallbackTemplate,
  parseDeleteCallbackRule,
  parseDescribeCallbackDeliveries,
  parseModifyCallbackTemplate,
  parseNoFields,
  parseRetryCallbackDelivery,
} from "../callbacks/callback-schema.js";
import type { ControlServices } from "../control/control-services.js";
import { parseDeleteMedia, parseDescribeMediaInfos, parseSearchMedia } from "../media/media-schema.js";
import { parseCreateRule, parseDeleteRule } from "../rules/rule-schema.js";
import { parseCreateTask, parseDescribeTasks, parseTaskId } from "../tasks/task-schema.js";
import { parseCreateTemplate, parseDescribeTemplates, parseModifyTemplate, parseTemplateId } from "../templates/template-schema.js";

export interface ActionContext {
  /** Fields came from a GET query string (all values are strings). */
  fromQuery: boolean;
  nowSec: number;
}

export type ActionHandler = (control: ControlServices, input: unknown, ctx: ActionContext) => Promise<object>;

export const ACTIONS: Record<string, ActionHandler> = {
  CreateLiveRecordTemplate: (c, input, ctx) => c.recording.createTemplate(parseCreateTemplate(input, ctx)),
  ModifyLiveRecordTemplate: async (c, input, ctx) => {
    const existing = await c.recording.templateForUpdate(parseTemplateId(input, { ...ctx, ignoreOtherFields: true }));
    return c.recording.modifyTemplate(parseModifyTemplate(input, existing, ctx));
  },
  DeleteLiveRecordTemplate: (c, input, ctx) => c.recording.deleteTemplate(parseTemplateId(input, ctx)),
  DescribeLiveRecordTemplate: (c, input, ctx) => c.recording.describeTemplate(parseTemplateId(input, ctx)),
  DescribeLiveRecordTemplates: (c, input, ctx) => c.recording.describeTemplates(parseDescribeTemplates(input, ctx)),
  CreateLiveRecordRule: (c, input, ctx) => c.recording.createRule(parseCreateRule(input, ctx)),
  DeleteLiveRecordRule: (c, input, ctx) => c.recording.deleteRule(parseDeleteRule(input, ctx)),
  DescribeLiveRecordRules: (c, input, ctx) => {
    parseNoFields(input, ctx);
    return c.recording.describeRules();
  },
  CreateRecordTask: (c, input, ctx) => c.recording.createTask(parseCreateTask(input, ctx)),
  StopRecordTask: (c, input, ctx) => c.recording.stopTask(parseTaskId(input, ctx), ctx.nowSec),
  DeleteRecordTask: (c, input, ctx) => c.recording.deleteTask(parseTaskId(input, ctx)),
  DescribeRecordTask: (c, input, ctx) => c.recording.describeTasks(parseDescribeTasks(input, ctx)),
  // Callbacks (spec §4): templates, rules, and the delivery outbox (our own two actions).
  CreateLiveCallbackTemplate: (c, input, ctx) => c.callbacks.createTemplate(parseCreateCallbackTemplate(input, ctx)),
  ModifyLiveCallbackTemplate: (c, input, ctx) => {
    const { TemplateId, patch } = parseModifyCallbackTemplate(input, ctx);
    return c.callbacks.modifyTemplate(TemplateId, patch);
  },
  DeleteLiveCallbackTemplate: (c, input, ctx) => c.callbacks.deleteTemplate(parseCallbackTemplateId(input, ctx)),
  DescribeLiveCallbackTemplate: (c, input, ctx) => c.callbacks.describeTemplate(parseCallbackTemplateId(input, ctx)),
  DescribeLiveCallbackTemplates: (c, input, ctx) => {
    parseNoFields(input, ctx);
    return c.callbacks.describeTemplates();
  },
  CreateLiveCallbackRule: (c, input, ctx) => c.callbacks.createRule(parseCreateCallbackRule(input, ctx)),
  DeleteLiveCallbackRule: (c, input, ctx) => c.callbacks.deleteRule(parseDeleteCallbackRule(input, ctx)),
  DescribeLiveCallbackRules: (c, input, ctx) => {
    parseNoFields(input, ctx);
    return c.callbacks.describeRules();
  },
  DescribeCallbackDeliveries: (c, input, ctx) => c.callbacks.describeDeliveries(parseDescribeCallbackDeliveries(input, ctx)),
  RetryCallbackDelivery: (c, input, ctx) => c.callbacks.retryDelivery(parseRetryCallbackDelivery(input, ctx)),
  // Live pushes now, with what each records (the cloud's DescribeLiveStreamOnlineList, with our details).
  DescribeLiveStreamOnlineList: (c, input, ctx) => {
    new Input(input, ctx).rejectUnknown(["DomainName", "AppName", "PageNum", "PageSize", "StreamName"]);
    return c.live.describeOnline();
  },
  DropLiveStream: (c, input, ctx) => {
    const i = new Input(input, ctx);
    i.rejectUnknown(["DomainName", "AppName", "StreamName"]);
    return c.live.drop({
      DomainName: i.string("DomainName", { required: true, maxLength: 253 }),
      AppName: i.string("AppName", { required: true, maxLength: 128 }),
      StreamName: i.string("StreamName", { required: true, maxLength: 128 }),
    });
  },
  // VOD (2018-07-17) actions over the catalog of recordings (spec §9).
  SearchMedia: (c, input, ctx) => c.media.search(parseSearchMedia(input, ctx)),
  DescribeMediaInfos: (c, input, ctx) => c.media.describe(parseDescribeMediaInfos(input, ctx)),
  DeleteMedia: (c, input, ctx) => c.media.delete(parseDeleteMedia(input, ctx)),
};
