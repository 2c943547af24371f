import { describe, expect, it } from "vitest";
import { checkPushAuth, parseTxTime, txSecretFor, withoutPushSecret } from "./push-auth.js";

const cfg = { keys: { "livepush.tcloud.com": { primary: "e12c46f2612d5106e2034781ab261ca3", backup: "backupkey" } }, authDeltaSec: 0 };

describe("push authentication (spec §7)", () => {
  it("reproduces the cloud's documented example", () => {
    expect(txSecretFor("e12c46f2612d5106e2034781ab261ca3", "test", "5C271099")).toBe("f85a2ab363fe4deaffef9754d79da6fe");
    expect(parseTxTime("5C271099")).toBe(1546064025);
    const query = "txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099&extra=1";
    expect(checkPushAuth(cfg, "livepush.tcloud.com", "test", query, 1546064000)).toEqual({ ok: true });
  });

  it("accepts the backup key and refuses wrong, missing, expired or unknown-domain pushes with a reason", () => {
    const t = "5C271099";
    expect(checkPushAuth(cfg, "livepush.tcloud.com", "test", `txSecret=${txSecretFor("backupkey", "test", t)}&txTime=${t}`, 1546064000).ok).toBe(true);
    const reasons = [
      checkPushAuth(cfg, "livepush.tcloud.com", "test", `txSecret=${txSecretFor("wrong", "test", t)}&txTime=${t}`, 1546064000),
      checkPushAuth(cfg, "livepush.tcloud.com", "other", `txSecret=${txSecretFor("backupkey", "test", t)}&txTime=${t}`, 1546064000),
      checkPushAuth(cfg, "livepush.tcloud.com", "test", "", 1546064000),
      checkPushAuth(cfg, "livepush.tcloud.com", "test", `txSecret=${txSecretFor("backupkey", "test", t)}&txTime=${t}`, 1546064026),
      checkPushAuth(cfg, "elsewhere.com", "test", `txSecret=x&txTime=${t}`, 1546064000),
      checkPushAuth(cfg, "livepush.tcloud.com", "test", "txSecret=x&txTime=soon", 1546064000),
    ];
    expect(reasons.map((r) => (r.ok ? "ok" : r.reason.split(" ")[0]))).toEqual(["txSecret", "txSecret", "missing", "push", "no", "txTime"]);
    for (const r of reasons) if (!r.ok) expect(r.reason).not.toContain("backupkey");
  });

  it("honours AuthDelta and a catch-all key", () => {
    const t = "5C271099";
    const any = { keys: { "*": { primary: "k" } }, authDeltaSec: 60 };
    expect(checkPushAuth(any, "x.com", "s", `txSecret=${txSecretFor("k", "s", t)}&txTime=${t}`, 1546064025 + 59).ok).toBe(true);
    expect(checkPushAuth(any, "x.com", "s", `txSecret=${txSecretFor("k", "s", t)}&txTime=${t}`, 1546064025 + 61).ok).toBe(false);
  });

  it("finds a domain's keys case-insensitively, never an object's built-in properties", () => {
    const t = "5C271099";
    const mixed = { keys: { "Live.Example.COM": { primary: "k1" } }, authDeltaSec: 0 };
    expect(checkPushAuth(mixed, "live.example.com", "s", `txSecret=${txSecretFor("k1", "s", t)}&txTime=${t}`, 1546064000).ok).toBe(true);
    for (const domain of ["constructor", "__proto__", "toString"]) {
      const r = checkPushAuth(mixed, domain, "s", `txSecret=x&txTime=${t}`, 1546064000);
      expect(r).toEqual({ ok: false, reason: `no push key is configured for domain ${domain}` });
    }
  });

  it("refuses a txTime further ahead than maxValiditySec", () => {
    const far = "FFFFFFFF";
    const capped = { keys: { "*": { primary: "k" } }, authDeltaSec: 0, maxValiditySec: 86_400 };
    const r = checkPushAuth(capped, "x.com", "s", `txSecret=${txSecretFor("k", "s", far)}&txTime=${far}`, 1546064000);
    expect(r.ok ? "ok" : r.reason).toMatch(/more than 86400 s ahead/);
    const soon = (1546064000 + 3600).toString(16).toUpperCase();
    expect(checkPushAuth(capped, "x.com", "s", `txSecret=${txSecretFor("k", "s", soon)}&txTime=${soon}`, 1546064000).ok).toBe(true);
  });

  it("strips txSecret from the query kept as stream_param", () => {
    expect(withoutPushSecret("txSecret=abc&txTime=5C271099&from=obs")).toBe("txTime=5C271099&from=obs");
    expect(withoutPushSecret("from=obs&tx%53ecret=abc")).toBe("from=obs");
    expect(withoutPushSecret("from=obs")).toBe("from=obs");
    expect(withoutPushSecret("")).toBe("");
  });
});
