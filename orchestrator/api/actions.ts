/**
 * The control API's actions (spec §1–§3): each validates its input with the
 * schema modules and calls the same ControlPlane function the CLI uses.
 */
import { ApiError } from "./api-error.js";
import { Input } from "./input.js";
import {
  parseCallbackTemplateId,
  parseCreateCallbackRule,
  parseCreateCallbackTemplate,
  parseDeleteCallbackRule,
  parseDescribeCallbackDeliveries,
  parseModifyCallbackTemplate,
  parseNoFields,
  parseRetryCallbackDelivery,
  toCallbackDeliveryInfo,
} from "../callbacks/callback-schema.js";
import { parseDeleteMedia, parseDescribeMediaInfos, parseSearchMedia } from "../media/media-schema.js";
import { parseCreateRule, parseDeleteRule } from "../rules/rule-schema.js";
import type { RecorderService } from "../service.js";
import { parseCreateTask, parseDescribeTasks, parseTaskId } from "../tasks/task-schema.js";
import { parseCreateTemplate, parseDescribeTemplates, parseModifyTemplate, parseTemplateId } from "../templates/template-schema.js";

export interface ActionContext {
  /** Fields came from a GET query string (all values are strings). */
  fromQuery: boolean;
  nowSec: number;
}

export type ActionHandler = (service: RecorderService, input: unknown, ctx: ActionContext) => Promise<object>;

export const ACTIONS: Record<string, ActionHandler> = {
  CreateLiveRecordTemplate: (s, input, ctx) => s.control.createTemplate(parseCreateTemplate(input, ctx)),
  ModifyLiveRecordTemplate: async (s, input, ctx) => {
    const existing = await s.control.templateForUpdate(parseTemplateId(input, { ...ctx, ignoreOtherFields: true }));
    return s.control.modifyTemplate(parseModifyTemplate(input, existing, ctx));
  },
  DeleteLiveRecordTemplate: (s, input, ctx) => s.control.deleteTemplate(parseTemplateId(input, ctx)),
  DescribeLiveRecordTemplate: (s, input, ctx) => s.control.describeTemplate(parseTemplateId(input, ctx)),
  DescribeLiveRecordTemplates: (s, input, ctx) => s.control.describeTemplates(parseDescribeTemplates(input, ctx)),
  CreateLiveRecordRule: (s, input, ctx) => s.control.createRule(parseCreateRule(input, ctx)),
  DeleteLiveRecordRule: (s, input, ctx) => s.control.deleteRule(parseDeleteRule(input, ctx)),
  DescribeLiveRecordRules: (s, input, ctx) => {
    new Input(input, ctx).rejectUnknown([]); // takes no fields
    return s.control.describeRules();
  },
  CreateRecordTask: (s, input, ctx) => s.control.createTask(parseCreateTask(input, ctx)),
  StopRecordTask: (s, input, ctx) => s.control.stopTask(parseTaskId(input, ctx), ctx.nowSec),
  DeleteRecordTask: (s, input, ctx) => s.control.deleteTask(parseTaskId(input, ctx)),
  DescribeRecordTask: (s, input, ctx) => s.control.describeTasks(parseDescribeTasks(input, ctx)),
  // Callbacks (spec §4): templates, rules, and the delivery outbox (our own two actions).
  CreateLiveCallbackTemplate: async (s, input, ctx) => ({ TemplateId: s.callbacks.createTemplate(parseCreateCallbackTemplate(input, ctx), Date.now()).TemplateId }),
  ModifyLiveCallbackTemplate: async (s, input, ctx) => {
    const { TemplateId, patch } = parseModifyCallbackTemplate(input, ctx);
    s.callbacks.modifyTemplate(TemplateId, patch, Date.now());
    return {};
  },
  DeleteLiveCallbackTemplate: async (s, input, ctx) => {
    s.callbacks.deleteTemplate(parseCallbackTemplateId(input, ctx));
    return {};
  },
  DescribeLiveCallbackTemplate: async (s, input, ctx) => ({ Template: s.callbacks.template(parseCallbackTemplateId(input, ctx)) }),
  DescribeLiveCallbackTemplates: async (s, input, ctx) => {
    parseNoFields(input, ctx);
    return { Templates: s.callbacks.listTemplates() };
  },
  CreateLiveCallbackRule: async (s, input, ctx) => {
    s.callbacks.createRule(parseCreateCallbackRule(input, ctx), Date.now());
    return {};
  },
  DeleteLiveCallbackRule: async (s, input, ctx) => {
    s.callbacks.deleteRule(parseDeleteCallbackRule(input, ctx));
    return {};
  },
  DescribeLiveCallbackRules: async (s, input, ctx) => {
    parseNoFields(input, ctx);
    return { Rules: s.callbacks.listRules() };
  },
  DescribeCallbackDeliveries: async (s, input, ctx) => {
    const q = parseDescribeCallbackDeliveries(input, ctx);
    const { totalCount, rows } = s.callbacks.list(q);
    return { TotalCount: totalCount, DeliverySet: rows.map(toCallbackDeliveryInfo), Counts: s.callbacks.counts() };
  },
  RetryCallbackDelivery: async (s, input, ctx) => {
    s.callbacks.retry(parseRetryCallbackDelivery(input, ctx), Date.now());
    s.kickCallbacks();
    return {};
  },
  // Live pushes now, with what each records (the cloud's DescribeLiveStreamOnlineList, with our details).
  DescribeLiveStreamOnlineList: async (s, input, ctx) => {
    new Input(input, ctx).rejectUnknown(["DomainName", "AppName", "PageNum", "PageSize", "StreamName"]);
    const pushes = s.livePushes();
    return {
      TotalNum: pushes.length,
      TotalPage: 1,
      PageNum: 1,
      PageSize: pushes.length,
      OnlineInfo: pushes.map((p) => ({
        StreamName: p.stream,
        AppName: p.app,
        DomainName: p.domain,
        PublishTimeList: [{ PublishTime: p.startedAt }],
        RemoteAddress: p.remoteAddress,
        UptimeSec: p.uptimeSec,
        BitrateKbps: p.bitrateKbps,
        MatchedRule: p.matchedRule,
        TemplateId: p.templateId,
        Recordings: p.recordings,
      })),
    };
  },
  DropLiveStream: async (s, input, ctx) => {
    const i = new Input(input, ctx);
    i.rejectUnknown(["DomainName", "AppName", "StreamName"]);
    const DomainName = i.string("DomainName", { required: true, maxLength: 253 });
    const AppName = i.string("AppName", { required: true, maxLength: 128 });
    const StreamName = i.string("StreamName", { required: true, maxLength: 128 });
    if (!s.dropPush(DomainName.toLowerCase(), AppName, StreamName)) {
      throw new ApiError("ResourceNotFound.StreamNotAlive", `${DomainName}/${AppName}/${StreamName} is not being pushed`);
    }
    return {};
  },
  // VOD (2018-07-17) actions over the catalog of recordings (spec §9).
  SearchMedia: (s, input, ctx) => s.media.search(parseSearchMedia(input, ctx)),
  DescribeMediaInfos: (s, input, ctx) => s.media.describe(parseDescribeMediaInfos(input, ctx)),
  DeleteMedia: (s, input, ctx) => s.media.delete(parseDeleteMedia(input, ctx)),
};
