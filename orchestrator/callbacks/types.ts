/**
 * Types of the callback module: callback templates and rules as the cloud
 * API shows them (SDK structs CallBackTemplateInfo / CallBackRuleInfo), the
 * target one stream's events go to, and the rows of the delivery outbox.
 */

/** The notify-URL fields of a callback template, in SDK order. */
export const NOTIFY_URL_FIELDS = [
  "StreamBeginNotifyUrl",
  "StreamEndNotifyUrl",
  "RecordNotifyUrl",
  "RecordStatusNotifyUrl",
  "SnapshotNotifyUrl",
  "PornCensorshipNotifyUrl",
  "StreamMixNotifyUrl",
  "PushExceptionNotifyUrl",
  "AudioAuditNotifyUrl",
  "RecordExceptionNotifyUrl",
] as const;

export type NotifyUrlField = (typeof NOTIFY_URL_FIELDS)[number];

/** SDK RecordExceptionLevels values (request doc: error / warning / info; output doc: error / alarm). */
export const RECORD_EXCEPTION_LEVELS = ["error", "warning", "info", "alarm"] as const;
export type RecordExceptionLevel = (typeof RECORD_EXCEPTION_LEVELS)[number];

/**
 * A callback template without its id: every field present, "" for a URL that
 * is not set (Create / Modify input after defaults).
 */
export type CallbackTemplateInput = {
  TemplateName: string;
  Description: string;
  /** Shared by every URL of the template; "" = none (events are still signed, with the empty key). */
  CallbackKey: string;
  RecordExceptionLevels: RecordExceptionLevel[];
} & Record<NotifyUrlField, string>;

/**
 * SDK CallBackTemplateInfo (DescribeLiveCallbackTemplate(s) output). Note:
 * the SDK struct has no RecordStatusNotifyUrl; we return it too (an extra
 * field SDK clients ignore), otherwise a value set on Create could not be read.
 */
export type CallbackTemplate = { TemplateId: number } & CallbackTemplateInput;

/** Changes of ModifyLiveCallbackTemplate: only the given fields. */
export type CallbackTemplatePatch = Partial<CallbackTemplateInput>;

/** CreateLiveCallbackRule input. */
export interface CallbackRuleInput {
  DomainName: string;
  /** "" = every app of the domain. */
  AppName: string;
  TemplateId: number;
}

/** SDK CallBackRuleInfo (DescribeLiveCallbackRules output). Times are Beijing time "YYYY-MM-DD HH:mm:ss". */
export interface CallbackRule extends CallbackRuleInput {
  CreateTime: string;
  /** Rules cannot be modified, so always equal to CreateTime. */
  UpdateTime: string;
}

/** Where one stream's recording events go (resolved at event time). */
export interface CallbackTarget {
  /** event_type 100 (recording file) receiver. */
  recordNotifyUrl?: string;
  /** event_type 332 (recording status) receiver. */
  recordStatusNotifyUrl?: string;
  /** Signing key; "" = none. Never logged. */
  callbackKey: string;
}

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** An event to put in the outbox. */
export interface OutboxEvent {
  url: string;
  callbackKey: string;
  eventType: number;
  /** The unsigned event body; `sign` / `t` are added at send time (and stripped here if present). */
  body: Record<string, unknown>;
  /** Recording file id for event_type 100, "" otherwise. */
  fileId?: string;
}

/** One outbox row as listed to operators: no callback key. */
export interface OutboxEntry {
  id: number;
  url: string;
  eventType: number;
  body: Record<string, unknown>;
  fileId: string;
  status: DeliveryStatus;
  /** Attempts made so far (the successful one included). */
  attempts: number;
  /** When the next attempt is due (meaningful while pending). */
  nextAttemptMs: number;
  /** Error of the latest failed attempt; "" if none. */
  lastError: string;
  createdMs: number;
  /** 0 until delivered. */
  deliveredMs: number;
}

/** An outbox row due for sending: the entry plus its key, for the dispatcher only. */
export interface DueDelivery extends OutboxEntry {
  callbackKey: string;
}

export type DeliveryCounts = Record<DeliveryStatus, number>;

/**
 * The host (with port) deliveries are grouped by for per-host concurrency:
 * lowercased `host` of the URL, or "" when it does not parse.
 */
export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return "";
  }
}
