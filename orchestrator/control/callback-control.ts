/**
 * Callback control: callback templates, rules and the delivery outbox, as the
 * cloud API's callback actions (spec §4) and our two outbox actions answer
 * them. Inputs are already validated (callbacks/callback-schema.ts).
 */
import { toCallbackDeliveryInfo, type CallbackDeliveryInfo, type DeliveryQuery } from "../callbacks/callback-schema.js";
import type { CallbackStore } from "../callbacks/callback-store.js";
import type { CallbackRule, CallbackRuleInput, CallbackTemplate, CallbackTemplateInput, CallbackTemplatePatch, DeliveryCounts } from "../callbacks/types.js";

export class CallbackControl {
  constructor(
    private readonly store: CallbackStore,
    /** Delivers due callbacks now (after a retry was requested). */
    private readonly kick: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  async createTemplate(input: CallbackTemplateInput): Promise<{ TemplateId: number }> {
    return { TemplateId: this.store.createTemplate(input, this.now()).TemplateId };
  }

  async modifyTemplate(id: number, patch: CallbackTemplatePatch): Promise<Record<string, never>> {
    this.store.modifyTemplate(id, patch, this.now());
    return {};
  }

  async deleteTemplate(id: number): Promise<Record<string, never>> {
    this.store.deleteTemplate(id);
    return {};
  }

  async describeTemplate(id: number): Promise<{ Template: CallbackTemplate }> {
    return { Template: this.store.template(id) };
  }

  async describeTemplates(): Promise<{ Templates: CallbackTemplate[] }> {
    return { Templates: this.store.listTemplates() };
  }

  async createRule(input: CallbackRuleInput): Promise<Record<string, never>> {
    this.store.createRule(input, this.now());
    return {};
  }

  async deleteRule(key: { DomainName: string; AppName: string }): Promise<Record<string, never>> {
    this.store.deleteRule(key);
    return {};
  }

  async describeRules(): Promise<{ Rules: CallbackRule[] }> {
    return { Rules: this.store.listRules() };
  }

  async describeDeliveries(q: DeliveryQuery): Promise<{ TotalCount: number; DeliverySet: CallbackDeliveryInfo[]; Counts: DeliveryCounts }> {
    const { totalCount, rows } = this.store.list(q);
    return { TotalCount: totalCount, DeliverySet: rows.map(toCallbackDeliveryInfo), Counts: this.store.counts() };
  }

  async retryDelivery(id: number): Promise<Record<string, never>> {
    this.store.retry(id, this.now());
    this.kick();
    return {};
  }
}
