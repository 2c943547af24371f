import { describe, expect, it } from "vitest";
import { ConsoleSessions, GLOBAL_FAILURE_BUDGET, MAX_BACKOFF_MS, MAX_TRACKED_ADDRESSES, SESSION_TTL_MS } from "./console-session.js";

describe("ConsoleSessions", () => {
  it("issues a short-lived credential for the right password only", () => {
    let now = 1_000_000;
    const s = new ConsoleSessions("operator-pass", () => now);
    expect(() => s.login("wrong", "1.2.3.4")).toThrow(expect.objectContaining({ code: "AuthFailure.InvalidAuthorization" }));
    const session = s.login("operator-pass", "1.2.3.4");
    expect(s.secretOf(session.SecretId)).toBe(session.SecretKey);
    now += SESSION_TTL_MS;
    expect(s.secretOf(session.SecretId)).toBeUndefined();
  });

  it("makes an address wait longer after each failure, without locking out the right password once the wait is over", () => {
    let now = 1_000_000;
    const s = new ConsoleSessions("operator-pass", () => now);
    const code = (c: string) => expect.objectContaining({ code: c });
    expect(() => s.login("nope", "5.6.7.8")).toThrow(code("AuthFailure.InvalidAuthorization")); // a typo: retry at once
    expect(() => s.login("nope", "5.6.7.8")).toThrow(code("AuthFailure.InvalidAuthorization"));
    expect(() => s.login("operator-pass", "5.6.7.8")).toThrow(/try again in 1 s/); // refused unread during the wait
    expect(s.login("operator-pass", "1.1.1.1").SecretId).toMatch(/^console-/); // another address is not slowed
    now += 1000;
    expect(() => s.login("nope", "5.6.7.8")).toThrow(code("AuthFailure.InvalidAuthorization"));
    now += 1000;
    expect(() => s.login("nope", "5.6.7.8")).toThrow(/try again in 1 s/); // the second wait is 2 s
    now += 1000;
    expect(() => s.login("nope", "5.6.7.8")).toThrow(code("AuthFailure.InvalidAuthorization"));
    expect(() => s.login("nope", "5.6.7.8")).toThrow(/try again in 4 s/);
    now += 4000;
    expect(s.login("operator-pass", "5.6.7.8").SecretId).toMatch(/^console-/);
  });

  it("slows every address down past the global failure budget (a guess spread over many addresses)", () => {
    let now = 1_000_000;
    const s = new ConsoleSessions("operator-pass", () => now);
    for (let i = 0; i <= GLOBAL_FAILURE_BUDGET; i++) expect(() => s.login("nope", `10.0.0.${i}`)).toThrow(expect.objectContaining({ code: "AuthFailure.InvalidAuthorization" }));
    expect(() => s.login("operator-pass", "10.9.9.9")).toThrow(expect.objectContaining({ code: "RequestLimitExceeded" }));
    now += MAX_BACKOFF_MS;
    expect(s.login("operator-pass", "10.9.9.9").SecretId).toMatch(/^console-/);
  });

  it("forgets failures after a minute, and keeps a bounded number of addresses", () => {
    let now = 1_000_000;
    const s = new ConsoleSessions("operator-pass", () => now);
    for (let i = 0; i < MAX_TRACKED_ADDRESSES + 50; i++) {
      try {
        s.login("nope", `a${i}`);
      } catch {}
      now += 1;
    }
    expect((s as unknown as { failures: Map<string, unknown> }).failures.size).toBeLessThanOrEqual(MAX_TRACKED_ADDRESSES);
    now += 61_000;
    s.login("operator-pass", "fresh");
    expect((s as unknown as { failures: Map<string, unknown> }).failures.size).toBe(0);
  });

  it("is disabled without a configured password", () => {
    expect(() => new ConsoleSessions("").login("", "x")).toThrow(expect.objectContaining({ code: "UnsupportedOperation" }));
  });

  it("logout ends a session", () => {
    const s = new ConsoleSessions("pw");
    const session = s.login("pw", "a");
    s.logout(session.SecretId);
    expect(s.secretOf(session.SecretId)).toBeUndefined();
  });
});
