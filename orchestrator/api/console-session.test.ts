import { describe, expect, it } from "vitest";
import { ConsoleSessions, SESSION_TTL_MS } from "./console-session.js";

describe("ConsoleSessions", () => {
  it("issues a short-lived credential for the right password only, and rate-limits failures", () => {
    let now = 1_000_000;
    const s = new ConsoleSessions("operator-pass", () => now);
    expect(() => s.login("wrong", "1.2.3.4")).toThrow(expect.objectContaining({ code: "AuthFailure.InvalidAuthorization" }));
    const session = s.login("operator-pass", "1.2.3.4");
    expect(s.secretOf(session.SecretId)).toBe(session.SecretKey);
    now += SESSION_TTL_MS;
    expect(s.secretOf(session.SecretId)).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(() => s.login("nope", "5.6.7.8")).toThrow();
    expect(() => s.login("operator-pass", "5.6.7.8")).toThrow(expect.objectContaining({ code: "RequestLimitExceeded" }));
    now += 61_000;
    expect(s.login("operator-pass", "5.6.7.8").SecretId).toMatch(/^console-/);
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
