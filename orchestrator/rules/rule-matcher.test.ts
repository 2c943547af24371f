import { describe, expect, it } from "vitest";
import { matchRule } from "./rule-matcher.js";

const rule = (DomainName: string, AppName: string, StreamName: string, TemplateId: number) => ({ DomainName, AppName, StreamName, TemplateId });

describe("matchRule (spec 2.4 priority table)", () => {
  const rules = [
    rule("", "", "", 4), // any domain, any stream: priority 3
    rule("d.com", "", "", 3), // domain, any stream: 2
    rule("", "", "cam1", 2), // any domain, exact stream: 1
    rule("d.com", "", "cam1", 1), // domain + stream: 0
    rule("d.com", "live", "", 5), // domain + app: beats rule 3 within row 2
  ];

  it.each([
    ["d.com", "live", "cam1", 1],
    ["other.com", "live", "cam1", 2],
    ["d.com", "live", "cam2", 5],
    ["d.com", "vod", "cam2", 3],
    ["other.com", "live", "cam2", 4],
  ])("%s/%s/%s -> template %i", (domain, app, stream, expected) => {
    expect(matchRule(rules, domain, app, stream)?.TemplateId).toBe(expected);
  });

  it("an exact AppName never matches another app, and nothing matches when no rule applies", () => {
    expect(matchRule([rule("d.com", "live", "cam1", 1)], "d.com", "vod", "cam1")).toBeUndefined();
    expect(matchRule([], "d.com", "live", "cam1")).toBeUndefined();
  });

  it("the result does not depend on rule order", () => {
    const reversed = [...rules].reverse();
    expect(matchRule(reversed, "d.com", "live", "cam1")?.TemplateId).toBe(1);
    expect(matchRule(reversed, "d.com", "vod", "x")?.TemplateId).toBe(3);
  });
});
