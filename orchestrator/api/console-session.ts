/**
 * Operator login for the web console: a configured password buys a
 * short-lived SecretId/SecretKey pair that the console uses to sign control
 * API calls (TC3), like any other client. Sessions live in memory.
 *
 * Failed logins slow guessing down without locking the operator out: a
 * mistyped password may be retyped at once, and each further failure from
 * the address doubles the wait before it may try again (1 s, 2 s, 4 s ... at
 * most 60 s), and past GLOBAL_FAILURE_BUDGET failures a
 * minute from all addresses together (a distributed guess) every address
 * waits. A try during a wait is refused without looking at the password; once
 * the wait is over the right password works. Records older than a minute are
 * pruned, and at most MAX_TRACKED_ADDRESSES are kept.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiError } from "../control/api-error.js";

export const SESSION_TTL_MS = 8 * 3_600_000;
/** Failures a minute from every address together before all of them must wait. */
export const GLOBAL_FAILURE_BUDGET = 20;
/** The longest wait after failures, ms. */
export const MAX_BACKOFF_MS = 60_000;
/** Addresses whose failures are remembered at most (the oldest are forgotten first). */
export const MAX_TRACKED_ADDRESSES = 10_000;
const WINDOW_MS = 60_000;

/** An address's failures: how many in a row, the last one, and when it may try again. */
interface Failures {
  count: number;
  lastMs: number;
  retryAtMs: number;
}

export interface ConsoleSession {
  SecretId: string;
  SecretKey: string;
  ExpiresAt: number;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly failures = new Map<string, Failures>();
  /** Failure times from every address in the last minute. */
  private recentFailures: number[] = [];
  private globalRetryAtMs = 0;

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
    this.prune(t);
    const mine = this.failures.get(address);
    const retryAt = Math.max(mine?.retryAtMs ?? 0, this.globalRetryAtMs);
    if (t < retryAt) {
      throw new ApiError("RequestLimitExceeded", `too many failed logins; try again in ${Math.ceil((retryAt - t) / 1000)} s`);
    }
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (typeof password !== "string" || !timingSafeEqual(digest(password), digest(this.password))) {
      this.failed(address, mine, t);
      throw new ApiError("AuthFailure.InvalidAuthorization", "wrong password");
    }
    this.failures.delete(address);
    const session = { SecretId: `console-${randomBytes(12).toString("hex")}`, SecretKey: randomBytes(32).toString("base64url"), ExpiresAt: t + SESSION_TTL_MS };
    this.sessions.set(session.SecretId, session);
    return session;
  }

  /** Ends a session; the caller has checked that the request was signed with it. */
  logout(secretId: string): void {
    this.sessions.delete(secretId);
  }

  private failed(address: string, mine: Failures | undefined, t: number): void {
    const count = (mine?.count ?? 0) + 1;
    this.failures.delete(address); // re-inserted last: the map stays ordered by last failure
    this.failures.set(address, { count, lastMs: t, retryAtMs: count < 2 ? t : t + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (count - 2)) });
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
    this.recentFailures.push(t);
    const over = this.recentFailures.length - GLOBAL_FAILURE_BUDGET;
    if (over > 0) this.globalRetryAtMs = t + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (over - 1));
  }

  /** Forgets failures older than a minute (their waits are over). */
  private prune(t: number): void {
    this.recentFailures = this.recentFailures.filter((x) => t - x < WINDOW_MS);
    for (const [address, f] of this.failures) {
      if (t - f.lastMs < WINDOW_MS) break;
      this.failures.delete(address);
    }
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
