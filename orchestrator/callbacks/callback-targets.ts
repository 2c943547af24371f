/**
 * Where the recording events of a stream go: the callback rule for
 * (domain, app) beats the rule for (domain, ""); with no rule, the config's
 * fallback target. A matching rule wins even if its template sets no
 * recording URL (then nothing is sent, and the fallback is not used).
 */
import type { CallbackCatalog } from "../catalog/types.js";
import type { CallbackTarget } from "./types.js";

export class CallbackTargets {
  constructor(
    private readonly catalog: Pick<CallbackCatalog, "matchCallbackTemplate">,
    /** Config-level target used when no callback rule matches a stream. */
    private readonly fallback: CallbackTarget | undefined,
  ) {}

  async resolve(domain: string, app: string): Promise<CallbackTarget | undefined> {
    const t = await this.catalog.matchCallbackTemplate(domain, app);
    if (!t) return this.fallback ? { ...this.fallback } : undefined;
    if (t.RecordNotifyUrl === "" && t.RecordStatusNotifyUrl === "") return undefined;
    const target: CallbackTarget = { callbackKey: t.CallbackKey };
    if (t.RecordNotifyUrl !== "") target.recordNotifyUrl = t.RecordNotifyUrl;
    if (t.RecordStatusNotifyUrl !== "") target.recordStatusNotifyUrl = t.RecordStatusNotifyUrl;
    return target;
  }
}
