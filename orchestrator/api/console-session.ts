/**
 * Operator login for the web console: a configured password buys a
 * short-lived SecretId/SecretKey pair that the console uses to sign control
 * API calls (TC3), like any other client. Sessions live in memory; failed
 * logins are rate-limited per address.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiError } from "../control/api-error.js";

export const SESSION_TTL_MS = 8 * 3_600_000;
const MAX_FAILURES_PER_MINUTE = 5;

export interface ConsoleSession {
  SecretId: string;
  SecretKey: string;
  ExpiresAt: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly password: string,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.password.length > 0;
  }

  login(password: unknown, address: string): ConsoleSession {
    if (!this.enabled) throw new ApiError("UnsupportedOperation", "the console is disabled: set console.password in the config");
    const t = this.now();
    const recent = (this.failures.get(address) ?? []).filter((x) => t - x < 60_000);
    if (recent.length >= MAX_FAILURES_PER_MINUTE) throw new ApiError("RequestLimitExceeded", "too many failed logins from this address; wait a minute");
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (typeof password !== "string" || !timingSafeEqual(digest(password), digest(this.password))) {
      recent.push(t);
      this.failures.set(address, recent);
      throw new ApiError("AuthFailure.InvalidAuthorization", "wrong password");
    }
    this.failures.delete(address);
    const session = { SecretId: `console-${randomBytes(12).toString("hex")}`, SecretKey: randomBytes(32).toString("base64url"), ExpiresAt: t + SESSION_TTL_MS };
    this.sessions.set(session.SecretId, session);
    return session;
  }

  logout(secretId: unknown): void {
    if (typeof secretId === "string") this.sessions.delete(secretId);
  }

  /** The key of a live session, for signature checks. */
  secretOf(secretId: string): string | undefined {
    const s = this.sessions.get(secretId);
    if (!s) return undefined;
    if (s.ExpiresAt <= this.now()) {
      this.sessions.delete(secretId);
      return undefined;
    }
    return s.SecretKey;
  }
}
