/**
 * Signed requests already carried out (issue 14, item 2). A TC3 signature
 * verifies for the allowed clock skew after its X-TC-Timestamp; within that
 * window a captured request could be sent again. Each (signature, action) is
 * kept until the signature can no longer verify, and a repeat is refused when
 * the action changes state (one signed create sent twice would make two
 * templates). A repeated read (Describe*, SearchMedia) is let through.
 *
 * Keyed on the action too: the official SDK does not sign X-TC-Action, so
 * two different calls with the same body in the same second carry the same
 * signature and are both legitimate. The flip side, as against the cloud: a
 * captured SDK request can be re-sent once as another action with the same
 * body; clients that sign X-TC-Action (the console; every client with
 * api.requireSignedAction) are not exposed to that, since another action does
 * not verify.
 * Memory is bounded: past MAX_REPLAY_ENTRIES the oldest entries go first.
 */

/** Signatures remembered at most (~100 bytes each). */
export const MAX_REPLAY_ENTRIES = 100_000;

/** Actions that only read: a repeat of the same signed read is allowed. */
export function isReadOnlyAction(action: string): boolean {
  return action.startsWith("Describe") || action === "SearchMedia";
}

export class ReplayCache {
  /** "action signature" -> expiry (Unix s), in insertion order (oldest first). */
  private readonly seen = new Map<string, number>();

  constructor(
    /** How long after its timestamp a signature still verifies (the allowed skew), seconds. */
    private readonly validitySec: number,
    private readonly maxEntries = MAX_REPLAY_ENTRIES,
  ) {}

  /**
   * Records a verified request; returns why it must be refused, or undefined.
   * @param timestampSec the request's X-TC-Timestamp
   */
  check(signature: string, action: string, timestampSec: number, nowSec: number): string | undefined {
    this.expire(nowSec);
    const key = `${action} ${signature}`;
    if (this.seen.has(key)) return isReadOnlyAction(action) ? undefined : `this signed ${action} was already carried out (a replay)`;
    this.seen.set(key, timestampSec + this.validitySec);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    return undefined;
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(nowSec: number): void {
    // Entries are in arrival order; expiries are close to it (timestamps within the skew), so stop at the first live one.
    for (const [key, expires] of this.seen) {
      if (expires >= nowSec) break;
      this.seen.delete(key);
    }
  }
}
