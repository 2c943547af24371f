import { describe, expect, it } from "vitest";
import { txSecretFor } from "../auth/push-auth.js";
import { Admission } from "./admission.js";

const NOW = 1_700_000_000_000;
const attempt = (fields: Partial<{ domain: string; app: string; stream: string; query: string }> = {}) => ({ domain: "d.example", app: "live", stream: "s1", query: "", ...fields });

describe("Admission", () => {
  it("admits a safe name with room on disk and no push auth", () => {
    const a = new Admission({ dataDir: "/data", minFreeMegabytes: 100, freeMegabytes: () => 500 });
    expect(a.check(attempt())).toEqual({ ok: true });
  });

  it("refuses names that would escape the stream folder, as BadName", () => {
    const a = new Admission({ dataDir: "/data", minFreeMegabytes: 0, freeMegabytes: () => 500 });
    for (const stream of ["..", "a/b", ""]) {
      const v = a.check(attempt({ stream }));
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.status).toBe("NetStream.Publish.BadName");
    }
  });

  it("refuses while the disk has less free space than required, and admits when it cannot tell", () => {
    const full = new Admission({ dataDir: "/data", minFreeMegabytes: 100, freeMegabytes: () => 99 });
    expect(full.check(attempt())).toEqual({
      ok: false,
      status: "NetStream.Publish.Rejected",
      code: "DISK_FULL",
      reason: "not enough disk space for recordings: 99 MB free, 100 MB needed",
    });
    const unknown = new Admission({ dataDir: "/data", minFreeMegabytes: 100, freeMegabytes: () => undefined });
    expect(unknown.check(attempt()).ok).toBe(true);
  });

  it("checks txSecret/txTime when push auth is on, with the injected clock", () => {
    const a = new Admission({ dataDir: "/data", minFreeMegabytes: 0, freeMegabytes: () => 500, pushAuth: { keys: { "*": { primary: "k-1" } }, authDeltaSec: 0 }, now: () => NOW });
    const txTime = (NOW / 1000 + 3600).toString(16).toUpperCase();
    expect(a.check(attempt({ query: `txSecret=${txSecretFor("k-1", "s1", txTime)}&txTime=${txTime}` }))).toEqual({ ok: true });
    const bad = a.check(attempt({ query: `txSecret=${txSecretFor("other", "s1", txTime)}&txTime=${txTime}` }));
    expect(bad).toMatchObject({ ok: false, status: "NetStream.Publish.Rejected", code: "PUSH_AUTH_FAILED" });
    if (!bad.ok) expect(bad.reason).toMatch(/^authentication failed: txSecret does not match/);
    const past = (NOW / 1000 - 1).toString(16).toUpperCase();
    const expired = a.check(attempt({ query: `txSecret=${txSecretFor("k-1", "s1", past)}&txTime=${past}` }));
    if (!expired.ok) expect(expired.reason).toMatch(/push URL expired/);
    else expect.fail("an expired URL was admitted");
  });
});
