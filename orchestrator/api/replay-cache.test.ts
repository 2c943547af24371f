import { describe, expect, it } from "vitest";
import { ReplayCache } from "./replay-cache.js";

const NOW = 1_800_000_000;

describe("ReplayCache", () => {
  it("refuses a signed request that changes state when it comes again", () => {
    const c = new ReplayCache(300);
    expect(c.check("sig-a", "CreateLiveRecordTemplate", NOW, NOW)).toBeUndefined();
    expect(c.check("sig-a", "CreateLiveRecordTemplate", NOW, NOW + 1)).toMatch(/already carried out/);
  });

  it("takes one signature for different actions (the SDK signs no action: same body, same second)", () => {
    const c = new ReplayCache(300);
    expect(c.check("sig-b", "DescribeLiveRecordRules", NOW, NOW)).toBeUndefined();
    expect(c.check("sig-b", "DescribeLiveRecordTemplates", NOW, NOW)).toBeUndefined();
    expect(c.check("sig-b", "DeleteLiveRecordTemplate", NOW, NOW)).toBeUndefined();
    expect(c.check("sig-b", "DeleteLiveRecordTemplate", NOW, NOW)).toMatch(/already carried out/);
  });

  it("lets the same signed read through again", () => {
    const c = new ReplayCache(300);
    expect(c.check("sig", "DescribeLiveRecordTemplates", NOW, NOW)).toBeUndefined();
    expect(c.check("sig", "DescribeLiveRecordTemplates", NOW, NOW)).toBeUndefined();
    expect(c.check("sig2", "SearchMedia", NOW, NOW)).toBeUndefined();
    expect(c.check("sig2", "SearchMedia", NOW, NOW)).toBeUndefined();
  });

  it("forgets a signature once it can no longer verify, and stays bounded", () => {
    const c = new ReplayCache(300, 3);
    c.check("old", "CreateRecordTask", NOW, NOW);
    expect(c.check("old", "CreateRecordTask", NOW, NOW + 301)).toBeUndefined(); // expired, then taken as new
    for (const s of ["a", "b", "c", "d"]) c.check(s, "CreateRecordTask", NOW + 400, NOW + 400);
    expect(c.size).toBe(3);
  });
});
