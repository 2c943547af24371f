/**
 * Signatures already used (issue 14, item 2). A TC3 signature is valid for
 * api's allowed clock skew on either side of its X-TC-Timestamp; within that
 * window a captured request could be sent again. Each signature is kept until
 * it can no longer verify, with the action it was used for:
 * - the same signature for another action is refused (the official SDK does
 *   not sign X-TC-Action, so a captured read could otherwise be re-sent as a
 *   delete);
 * - the same signature for the same action is refused when the action changes
 *   state (one signed create sent twice would make two templates); a repeated
 *   Describe/Search is a read and is let through (two identical reads in the
 *   same second are legitimate).
 * Memory is bounded: past MAX_ENTRIES the oldest entries go first.
 */

/** Signatures remembered at most (~100 bytes each). */
export const MAX_REPLAY_ENTRIES = 100_000;

/** Actions that only read: a repeat of the same signed read is allowed. */
export function isReadOnlyAction(action: string): boolean {
  return action.startsWith("Describe") || action === "SearchMedia";
}

export class ReplayCache {
  /** signature -> [action, expiry (Unix s)], in insertion order (oldest first). */
  private readonly seen = new Map<string, [string, number]>();

  constructor(
    /** How long after its timestamp a signature still verifies (the allowed skew), seconds. */
    private readonly validitySec: number,
    private readonly maxEntries = MAX_REPLAY_ENTRIES,
  ) {}

  /**
   * Records a verified signature; returns why it must be refused, or undefined.
   * @param timestampSec the request's X-TC-Timestamp
   */
  check(signature: string, action: string, timestampSec: number, nowSec: number): string | undefined {
    this.expire(nowSec);
    const earlier = this.seen.get(signature);
    if (earlier) {
      if (earlier[0] !== action) return `this signature was already used for ${earlier[0]}`;
      if (!isReadOnlyAction(action)) return `this signed ${action} was already carried out (a replay)`;
      return undefined;
    }
    this.seen.set(signature, [action, timestampSec + this.validitySec]);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value as string);
    return undefined;
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(nowSec: number): void {
    // Entries are in arrival order; expiries are close to it (timestamps within the skew), so stop at the first live one.
    for (const [signature, [, expires]] of this.seen) {
      if (expires >= nowSec) break;
      this.seen.delete(signature);
    }
  }
}
