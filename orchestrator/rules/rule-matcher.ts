/**
 * Which rule applies to a push (spec §2.4): the most specific wins and
 * matching stops there. Rows, highest first: domain+stream exact, any
 * domain + exact stream, exact domain + any stream, any + any. Within a row
 * an exact AppName beats the wildcard (spec note, inferred). Pure.
 */
import type { RecordRule } from "./types.js";

type RuleKey = Pick<RecordRule, "DomainName" | "AppName" | "StreamName">;

/** Lower is more specific; undefined when the rule does not apply to the stream. */
export function rulePriority(rule: RuleKey, domain: string, app: string, stream: string): number | undefined {
  if (rule.DomainName !== "" && rule.DomainName !== domain) return undefined;
  if (rule.AppName !== "" && rule.AppName !== app) return undefined;
  if (rule.StreamName !== "" && rule.StreamName !== stream) return undefined;
  const row = rule.DomainName !== "" && rule.StreamName !== "" ? 0 : rule.StreamName !== "" ? 1 : rule.DomainName !== "" ? 2 : 3;
  return row * 2 + (rule.AppName !== "" ? 0 : 1);
}

export function matchRule<R extends RuleKey>(rules: readonly R[], domain: string, app: string, stream: string): R | undefined {
  let best: R | undefined;
  let bestPriority = Number.POSITIVE_INFINITY;
  for (const rule of rules) {
    const p = rulePriority(rule, domain, app, stream);
    if (p !== undefined && p < bestPriority) {
      best = rule;
      bestPriority = p;
    }
  }
  return best;
}
