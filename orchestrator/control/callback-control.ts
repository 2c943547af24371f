/**
 * Callback control: callback templates, rules and the delivery outbox, as the
 * cloud API's callback actions (spec §4) and our two outbox actions answer
 * them. Inputs are already validated (callbacks/callback-schema.ts).
 *
 * Error codes (SDK client.go lists per action; only codes of the ApiErrorCode
 * union are used):
 * - more than MAX_CALLBACK_TEMPLATES templates       -> InternalError.ConfOutLimit
 *   (listed for CreateLiveCallbackTemplate; the recording templates use it too)
 * - template id unknown (Modify/Describe/Delete)     -> FailedOperation.NotFound
 * - deleting a template a rule still binds           -> FailedOperation.ConfInUsed
 * - CreateLiveCallbackRule with an unknown template  -> InvalidParameter.ConfNotFound
 *   (the SDK lists InternalError.ConfNotFound for this action, which the union lacks)
 * - a rule for the same (domain, app) already exists -> FailedOperation.RuleAlreadyExist
 *   (the SDK lists no duplicate code for callback rules; this is the recording-rule code)
 * - more than MAX_CALLBACK_RULES rules                -> LimitExceeded (as recording rules)
 * - DeleteLiveCallbackRule for no rule               -> FailedOperation.NotFound
 * - a Modify leaving no notify URL                   -> MissingParameter (as Create)
 * - retrying an unknown delivery                     -> FailedOperation.NotFound
 * - retrying a delivered one                         -> UnsupportedOperation
 * - a notify URL the callbacks policy refuses without a DNS lookup (an IP
 *   literal it denies, a host name in callbacks.deny) -> InvalidParameterValue
 *   (host names are checked on every send, on the addresses they resolve to)
 *
 * CallbackKey is a secret: Describe answers carry KEY_MASK in its place (or ""
 * when none is set), and a Modify that sends KEY_MASK back keeps the key.
 */
import { toCallbackDeliveryInfo, hasNotifyUrl, type CallbackDeliveryInfo, type DeliveryQuery } from "../callbacks/callback-schema.js";
import type { CallbackPolicy } from "../callbacks/callback-policy.js";
import { type CallbackRule, type CallbackRuleInput, type CallbackTemplate, type CallbackTemplateInput, type CallbackTemplatePatch, type DeliveryCounts, NOTIFY_URL_FIELDS } from "../callbacks/types.js";
import type { CallbackCatalog } from "../catalog/types.js";
import { ApiError } from "./api-error.js";

/** SDK: "数量上限：50" for CreateLiveCallbackTemplate. */
export const MAX_CALLBACK_TEMPLATES = 50;
/** Our choice: the same cap as recording rules (spec §6). */
export const MAX_CALLBACK_RULES = 50;

/** What Describe answers show for a set CallbackKey. */
export const KEY_MASK = "********";

/** A template as answered: its key masked. */
function masked(t: CallbackTemplate): CallbackTemplate {
  return t.CallbackKey ? { ...t, CallbackKey: KEY_MASK } : t;
}

const templateNotFound = (id: number) => new ApiError("FailedOperation.NotFound", `no callback template with TemplateId ${id}`);

export class CallbackControl {
  constructor(
    private readonly catalog: CallbackCatalog,
    /** Where callbacks may go: templates aimed elsewhere are refused when the URL alone tells. */
    private readonly policy: CallbackPolicy,
    /** Delivers due callbacks now (after a retry was requested). */
    private readonly kick: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  async createTemplate(input: CallbackTemplateInput): Promise<{ TemplateId: number }> {
    this.checkPolicy(input);
    const t = await this.catalog.insertCallbackTemplate(input, MAX_CALLBACK_TEMPLATES, this.now());
    if (!t) throw new ApiError("InternalError.ConfOutLimit", `at most ${MAX_CALLBACK_TEMPLATES} callback templates can exist`);
    return { TemplateId: t.TemplateId };
  }

  /** Merges `patch` over the stored template; the result must keep a notify URL. */
  async modifyTemplate(id: number, patch: CallbackTemplatePatch): Promise<Record<string, never>> {
    this.checkPolicy(patch);
    const stored = await this.template(id);
    // A client that writes back what it read sends the mask: the key stays as it is.
    const keep = patch.CallbackKey === KEY_MASK ? { CallbackKey: stored.CallbackKey } : {};
    const merged: CallbackTemplate = { ...stored, ...patch, ...keep, TemplateId: id };
    if (!hasNotifyUrl(merged)) throw new ApiError("MissingParameter", "a callback template needs at least one notify URL; this change would clear the last one");
    if (!(await this.catalog.updateCallbackTemplate(merged, this.now()))) throw templateNotFound(id);
    return {};
  }

  async deleteTemplate(id: number): Promise<Record<string, never>> {
    const result = await this.catalog.deleteCallbackTemplate(id);
    if (result === "not-found") throw templateNotFound(id);
    if (result !== "deleted") {
      const { domain, app } = result.boundBy;
      throw new ApiError("FailedOperation.ConfInUsed", `callback template ${id} is bound by the rule for ${domain}/${app || "*"}: delete the rule first`);
    }
    return {};
  }

  async describeTemplate(id: number): Promise<{ Template: CallbackTemplate }> {
    return { Template: masked(await this.template(id)) };
  }

  async describeTemplates(): Promise<{ Templates: CallbackTemplate[] }> {
    return { Templates: (await this.catalog.listCallbackTemplates()).map(masked) };
  }

  async createRule(input: CallbackRuleInput): Promise<Record<string, never>> {
    const result = await this.catalog.insertCallbackRule(input, MAX_CALLBACK_RULES, this.now());
    if (result === "no-template") throw new ApiError("InvalidParameter.ConfNotFound", `no callback template with TemplateId ${input.TemplateId}`);
    if (result === "exists") throw new ApiError("FailedOperation.RuleAlreadyExist", `a callback rule for ${input.DomainName}/${input.AppName || "*"} already exists`);
    if (result === "limit") throw new ApiError("LimitExceeded", `at most ${MAX_CALLBACK_RULES} callback rules can exist`);
    return {};
  }

  /** Exact match: AppName "" deletes only the rule stored with "". */
  async deleteRule(key: { DomainName: string; AppName: string }): Promise<Record<string, never>> {
    if (!(await this.catalog.deleteCallbackRule(key))) throw new ApiError("FailedOperation.NotFound", `no callback rule for ${key.DomainName}/${key.AppName || '""'}`);
    return {};
  }

  async describeRules(): Promise<{ Rules: CallbackRule[] }> {
    return { Rules: await this.catalog.listCallbackRules() };
  }

  async describeDeliveries(q: DeliveryQuery): Promise<{ TotalCount: number; DeliverySet: CallbackDeliveryInfo[]; Counts: DeliveryCounts }> {
    const { totalCount, rows } = await this.catalog.listCallbacks(q);
    return { TotalCount: totalCount, DeliverySet: rows.map(toCallbackDeliveryInfo), Counts: await this.catalog.callbackCounts() };
  }

  async retryDelivery(id: number): Promise<Record<string, never>> {
    const result = await this.catalog.retryCallback(id, this.now());
    if (result === "not-found") throw new ApiError("FailedOperation.NotFound", `no callback delivery with DeliveryId ${id}`);
    if (result === "delivered") throw new ApiError("UnsupportedOperation", `callback delivery ${id} was already delivered`);
    this.kick();
    return {};
  }

  /** The notify URLs given, against the callbacks policy (stored URLs a patch leaves alone are not re-judged). */
  private checkPolicy(fields: CallbackTemplatePatch): void {
    for (const field of NOTIFY_URL_FIELDS) {
      const url = fields[field];
      const refused = url ? this.policy.refusalBeforeLookup(url) : undefined;
      if (refused !== undefined) throw new ApiError("InvalidParameterValue", `${field} is refused by the callbacks policy: ${refused}`);
    }
  }

  private async template(id: number): Promise<CallbackTemplate> {
    const t = await this.catalog.getCallbackTemplate(id);
    if (!t) throw templateNotFound(id);
    return t;
  }
}
