/**
 * Delivers the callback outbox (spec §4.1): POST JSON to the receiver,
 * success = any 2xx; anything else (other status, timeout, refused
 * connection, DNS failure) is a failed attempt, retried after
 * `retryIntervalMs`. `maxAttempts` counts every attempt, the first included:
 * the default 13 = the first try + the 12 retries of the current doc; the
 * attempt that makes `attempts` reach it turns the row 'failed' (see
 * Catalog.retryCallback to send it again).
 *
 * Only addresses the callbacks policy allows are connected to
 * (callback-post.ts); a target it refuses fails for good at once, without
 * retries: it is configuration, not a passing fault.
 *
 * Isolation: sends run concurrently (at most `maxInFlight`, at most
 * `maxInFlightPerHost` per receiver host:port) and each is bounded by
 * `timeoutMs`, so a slow or dead receiver only holds its own host's slots.
 * Enqueueing is a committed insert (Catalog.enqueueCallback) independent of
 * sending; `kick()` merely wakes the loop.
 *
 * Delivery is at least once: a crash while a send is in flight leaves the
 * row pending, so it is sent again after restart (receivers de-duplicate on
 * file_id, as with the cloud).
 *
 * Choices where the spec is silent:
 * - the signature is computed per attempt (t = now + 600 s), so a retry
 *   never carries an expired `t`;
 * - redirects are not followed (a 3xx is a failed attempt), the response
 *   body is discarded unread;
 * - the next attempt is due `retryIntervalMs` after the failed attempt
 *   ended (a fixed interval, as the doc's "every 1 minute");
 * - `failed` is emitted once, when a row becomes 'failed'; failed attempts
 *   before that are logged (warn) only.
 * What operators read back (the row's last error, DescribeCallbackDeliveries)
 * is "HTTP <status>" for an answer, else one of two fixed texts: every
 * network failure (refused, reset, timeout, DNS, TLS) reads the same, so the
 * API cannot be used to tell closed, filtered and open ports apart; the
 * detail goes to the log.
 * Never logged: the callback key, the sign, the body.
 */
import type { Logger } from "../../engine/logger.js";
import { TypedEmitter } from "../../engine/typed-emitter.js";
import { signEvent } from "./callback-messages.js";
import { CallbackPolicyError, type CallbackPolicy } from "./callback-policy.js";
import { postCallback, type Resolver, systemResolver } from "./callback-post.js";
import type { CallbackCatalog } from "../catalog/types.js";
import { type DueDelivery, hostOf } from "./types.js";

export const DEFAULT_RETRY_INTERVAL_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 20_000;
/** First try + 12 retries (spec §4.1, doc 267/32744). */
export const DEFAULT_MAX_ATTEMPTS = 13;
export const DEFAULT_POLL_MS = 1000;
export const DEFAULT_MAX_IN_FLIGHT = 16;
export const DEFAULT_MAX_IN_FLIGHT_PER_HOST = 4;

/** Last error of an attempt that failed below HTTP (the detail is logged). */
export const NETWORK_FAILURE = "delivery failed: network error (see the service log)";
/** Last error of a delivery whose target the callbacks policy refuses (the rule is logged). */
export const POLICY_REFUSAL = "delivery refused by the callbacks policy (see the service log)";

export interface CallbackDispatcherOptions {
  /** The outbox (the catalog). */
  outbox: Pick<CallbackCatalog, "dueCallbacks" | "markCallbackDelivered" | "markCallbackFailed">;
  logger: Logger;
  /** Wait between a failed attempt and the next one. */
  retryIntervalMs?: number;
  /** Per attempt: no complete response headers within this -> failed attempt. */
  timeoutMs?: number;
  /** Attempts in all, the first included; reaching it makes the delivery 'failed'. */
  maxAttempts?: number;
  /** How often the outbox is checked for due rows (besides kick() and finished sends). */
  pollMs?: number;
  maxInFlight?: number;
  maxInFlightPerHost?: number;
  /** Clock for due times and signatures (ms). Default Date.now. */
  now?: () => number;
  /** Which receivers may be connected to. */
  policy: CallbackPolicy;
  /** Host name -> addresses; default the system resolver. */
  resolve?: Resolver;
}

export type CallbackDispatcherEvents = {
  delivered: [{ id: number; url: string; attempts: number }];
  failed: [{ id: number; url: string; error: string }];
};

/** An error for the log, its code included (no secrets: the key and body are not in it). */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

export class CallbackDispatcher extends TypedEmitter<CallbackDispatcherEvents> {
  private readonly outbox: CallbackDispatcherOptions["outbox"];
  /** An outbox check is under way; `refill` asks for another when it ends. */
  private filling = false;
  private refill = false;
  private readonly logger: Logger;
  private readonly retryIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly pollMs: number;
  private readonly maxInFlight: number;
  private readonly maxInFlightPerHost: number;
  private readonly now: () => number;
  private readonly policy: CallbackPolicy;
  private readonly resolve: Resolver;

  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly perHost = new Map<string, number>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private stopping: Promise<void> | undefined;

  constructor(opts: CallbackDispatcherOptions) {
    super(opts.logger);
    this.outbox = opts.outbox;
    this.logger = opts.logger;
    this.retryIntervalMs = opts.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.maxInFlightPerHost = Math.max(1, opts.maxInFlightPerHost ?? DEFAULT_MAX_IN_FLIGHT_PER_HOST);
    this.now = opts.now ?? Date.now;
    this.policy = opts.policy;
    this.resolve = opts.resolve ?? systemResolver;
  }

  /** Sends currently in flight. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Starts the loop (idempotent); due rows left from a previous run are sent at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = undefined;
    this.schedule(0);
  }

  /** Checks the outbox now (call after an enqueue). No-op when stopped. */
  kick(): void {
    this.schedule(0);
  }

  /**
   * Stops taking new rows and resolves when the sends in flight have ended
   * (each is bounded by timeoutMs) and their outcome is recorded. Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopping = (async () => {
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    })();
    return this.stopping;
  }

  /** Arms the single wake-up timer for `delayMs` from now, unless one fires earlier already. */
  private schedule(delayMs: number): void {
    if (!this.running) return;
    const at = Date.now() + delayMs;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, delayMs);
  }

  private tick(): void {
    if (!this.running) return;
    void this.checkOutbox();
    this.schedule(this.pollMs);
  }

  /** One outbox check at a time: a tick during a check makes it run once more when it ends. */
  private async checkOutbox(): Promise<void> {
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = true;
    try {
      do {
        this.refill = false;
        await this.fill().catch((err: unknown) => this.logger.error("callback outbox check failed", { error: describeFailure(err) }));
      } while (this.refill && this.running);
    } finally {
      this.filling = false;
    }
  }

  /** Starts sends for due rows while there are free slots, host caps respected. */
  private async fill(): Promise<void> {
    const free = this.maxInFlight - this.inFlight.size;
    if (free <= 0) return;
    const saturated = [...this.perHost].filter(([, n]) => n >= this.maxInFlightPerHost).map(([host]) => host);
    const rows = await this.outbox.dueCallbacks(this.now(), free, {
      excludeIds: [...this.inFlight.keys()],
      excludeHosts: saturated,
      perHost: this.maxInFlightPerHost,
    });
    if (!this.running) return; // stopped while reading: stop() waits only for sends already started
    for (const row of rows) {
      if (this.inFlight.size >= this.maxInFlight) break;
      const host = hostOf(row.url);
      const n = this.perHost.get(host) ?? 0;
      if (n >= this.maxInFlightPerHost) continue;
      this.perHost.set(host, n + 1);
      const send = this.send(row)
        .catch((err: unknown) => {
          this.logger.error("callback delivery bookkeeping failed", { id: row.id, error: describeFailure(err) });
        })
        .finally(() => {
          this.inFlight.delete(row.id);
          const left = (this.perHost.get(host) ?? 1) - 1;
          if (left <= 0) this.perHost.delete(host);
          else this.perHost.set(host, left);
          this.schedule(0); // a slot is free
        });
      this.inFlight.set(row.id, send);
    }
  }

  /** One attempt: sign now, POST, record the outcome. */
  private async send(row: DueDelivery): Promise<void> {
    const body = signEvent(row.body, row.callbackKey, Math.floor(this.now() / 1000));
    let error: string | undefined;
    /** What the log gets beside `error`: the network error or the policy rule. */
    let detail: string | undefined;
    let maxAttempts = this.maxAttempts;
    try {
      const status = await postCallback(row.url, JSON.stringify(body), { policy: this.policy, resolve: this.resolve, timeoutMs: this.timeoutMs });
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (err) {
      detail = describeFailure(err);
      error = err instanceof CallbackPolicyError ? POLICY_REFUSAL : NETWORK_FAILURE;
      if (err instanceof CallbackPolicyError) maxAttempts = 1; // retrying changes nothing until the config does
    }
    const endMs = this.now();
    if (error === undefined) {
      const attempts = await this.outbox.markCallbackDelivered(row.id, endMs);
      if (attempts === undefined) return; // no longer pending (changed meanwhile)
      this.logger.info("callback delivered", { id: row.id, url: row.url, eventType: row.eventType, attempts });
      this.emit("delivered", { id: row.id, url: row.url, attempts });
      return;
    }
    const result = await this.outbox.markCallbackFailed(row.id, error, endMs + this.retryIntervalMs, maxAttempts);
    if (result === undefined) return;
    if (result.status === "failed") {
      this.logger.error("callback delivery failed for good", { id: row.id, url: row.url, attempts: result.attempts, error, detail });
      this.emit("failed", { id: row.id, url: row.url, error });
    } else {
      this.logger.warn("callback attempt failed", {
        id: row.id,
        url: row.url,
        attempt: result.attempts,
        maxAttempts: this.maxAttempts,
        retryInMs: this.retryIntervalMs,
        error,
        detail,
      });
      this.schedule(this.retryIntervalMs);
    }
  }
}
