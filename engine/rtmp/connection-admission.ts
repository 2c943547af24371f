/**
 * Which RTMP connections the server takes, and which make room. Pure: the
 * clock is passed in, no sockets.
 *
 * A connection that has not started publishing ("pending") has proven nothing
 * yet (push authentication runs at publish), so pending connections are what a
 * flood is made of. Limits are per source: an IPv4 address, or an IPv6 /64 (one
 * host usually owns a whole /64).
 * - A source may hold at most `maxPendingPerSource` pending connections.
 * - A source may open `connectsPerSecond` connections a second, with a burst of
 *   ten seconds' worth (a token bucket), so an encoder farm can start its
 *   streams at once but a reconnect loop is slowed down.
 * - When all `maxConnections` slots are taken, a newcomer takes the slot of the
 *   oldest pending connection of the source holding the most pending ones,
 *   provided that source holds more than the newcomer's source; otherwise the
 *   newcomer is refused. Publishing connections are never evicted.
 */
import { isIPv6 } from "node:net";

export interface AdmissionLimits {
  maxConnections: number;
  maxPendingPerSource: number;
  /** New connections per second per source; 0: no rate limit. */
  connectsPerSecond: number;
}

export type AdmissionRefusal = "RTMP_TOO_MANY_CONNECTIONS" | "RTMP_SOURCE_PENDING_LIMIT" | "RTMP_SOURCE_RATE_LIMIT";

export type Admission<T> = { ok: true; source: string; evict: T | null } | { ok: false; source: string; code: AdmissionRefusal; reason: string };

/** Seconds of the sustained rate a source may open at once. */
const BURST_SECONDS = 10;
/** Sources with nothing pending and a full bucket are forgotten once this many are known. */
const PRUNE_AT_SOURCES = 4096;

interface Source<T> {
  /** Insertion order: oldest first. */
  readonly pending: Set<T>;
  tokens: number;
  refilledAt: number;
}

export class ConnectionAdmission<T> {
  private readonly sources = new Map<string, Source<T>>();
  /** Every admitted connection and its source. */
  private readonly sourceOf = new Map<T, string>();
  private pendingCount = 0;

  constructor(private readonly limits: AdmissionLimits) {}

  /** Connections admitted and not closed. */
  get connections(): number {
    return this.sourceOf.size;
  }

  /** Admitted connections that have not started publishing. */
  get pending(): number {
    return this.pendingCount;
  }

  /**
   * Decides on a new connection from `address`. When admitted with an `evict`,
   * that connection has already been removed from the accounting: the caller
   * closes it.
   */
  admit(conn: T, address: string, now: number): Admission<T> {
    const key = sourceKey(address);
    const source = this.sourceFor(key, now);
    const { maxConnections, maxPendingPerSource, connectsPerSecond } = this.limits;
    if (connectsPerSecond > 0) {
      const burst = connectsPerSecond * BURST_SECONDS;
      source.tokens = Math.min(burst, source.tokens + ((now - source.refilledAt) / 1000) * connectsPerSecond);
      source.refilledAt = now;
      if (source.tokens < 1) {
        return { ok: false, source: key, code: "RTMP_SOURCE_RATE_LIMIT", reason: `more than ${connectsPerSecond} new connections a second from ${key}` };
      }
      source.tokens -= 1;
    }
    if (source.pending.size >= maxPendingPerSource) {
      return { ok: false, source: key, code: "RTMP_SOURCE_PENDING_LIMIT", reason: `${key} already has ${source.pending.size} connections that have not published` };
    }
    let evict: T | null = null;
    if (this.sourceOf.size >= maxConnections) {
      evict = this.evictionCandidate(source);
      if (evict === null) {
        return { ok: false, source: key, code: "RTMP_TOO_MANY_CONNECTIONS", reason: `all ${maxConnections} connections are taken` };
      }
      this.closed(evict);
    }
    source.pending.add(conn);
    this.sourceOf.set(conn, key);
    this.pendingCount++;
    return { ok: true, source: key, evict };
  }

  /** The connection started publishing: it no longer counts as pending and is never evicted. */
  published(conn: T): void {
    const key = this.sourceOf.get(conn);
    if (key !== undefined && this.sources.get(key)?.pending.delete(conn)) this.pendingCount--;
  }

  /** The connection is gone (idempotent; unknown connections are ignored). */
  closed(conn: T): void {
    const key = this.sourceOf.get(conn);
    if (key === undefined) return;
    this.sourceOf.delete(conn);
    if (this.sources.get(key)?.pending.delete(conn)) this.pendingCount--;
  }

  /** Oldest pending connection of the source with the most, if it has more than `newcomer`. */
  private evictionCandidate(newcomer: Source<T>): T | null {
    let hog: Source<T> | null = null;
    for (const s of this.sources.values()) if (hog === null || s.pending.size > hog.pending.size) hog = s;
    if (hog === null || hog === newcomer || hog.pending.size <= newcomer.pending.size + 1) return null;
    return hog.pending.values().next().value ?? null;
  }

  private sourceFor(key: string, now: number): Source<T> {
    let s = this.sources.get(key);
    if (s === undefined) {
      if (this.sources.size >= PRUNE_AT_SOURCES) this.prune(now);
      s = { pending: new Set(), tokens: this.limits.connectsPerSecond * BURST_SECONDS, refilledAt: now };
      this.sources.set(key, s);
    }
    return s;
  }

  /** Publishing connections need no entry: their source is looked up with `?.`. */
  private prune(now: number): void {
    const refillMs = BURST_SECONDS * 1000;
    for (const [key, s] of this.sources) {
      if (s.pending.size === 0 && now - s.refilledAt >= refillMs) this.sources.delete(key);
    }
  }
}

/** The source a remote address counts against: the IPv4 address, or the IPv6 /64. */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = "", tail] = address.split("::");
  const groups = head === "" ? [] : head.split(":");
  if (tail !== undefined) {
    const rest = tail === "" ? [] : tail.split(":");
    while (groups.length + rest.length < 8) groups.push("0");
    groups.push(...rest);
  }
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
