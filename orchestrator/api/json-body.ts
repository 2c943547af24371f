/**
 * Request bodies as JSON, bounded before they are parsed (issue 14, item 8):
 * no action takes input nested deeper than a few levels, but JSON.parse of a
 * 1 MiB body of nested brackets costs ~0.5 s of the event loop, before any
 * authentication. One linear scan refuses such a body first.
 */
import { ApiError } from "../control/api-error.js";

/** Deepest nesting of objects/arrays a request body may have (templates need 3). */
export const MAX_JSON_DEPTH = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x7b, 0x5b]); // { [
const CLOSERS = new Set([0x7d, 0x5d]); // } ]

/** Whether the JSON text nests objects/arrays deeper than `max` (strings are skipped; no parsing). */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (OPENERS.has(c)) {
      if (++depth > max) return true;
    } else if (CLOSERS.has(c)) {
      depth--;
    }
  }
  return false;
}

/** The body as JSON ({} when empty); InvalidParameter when it is not JSON or nests too deep. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw new ApiError("InvalidParameter", `the request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    throw new ApiError("InvalidParameter", "the request body is not valid JSON");
  }
}
