/**
 * Object keys: a target's prefix, then a recording's path under recordings/ (the local layout).
 *
 * The rule for key paths we write: "/"-separated components, none empty, none hidden (starting
 * with "."; this covers "." and ".."), no control characters or backslashes, and the whole key
 * at most S3's 1024 bytes. Keys never leave the prefix, never name what is not served (no
 * ".recording/" leftovers, no temporary names), and every key is also a safe relative path on
 * a local disk.
 */
import { StorageError } from "../../engine/errors.js";

/** S3: "The name for a key is a sequence of Unicode characters whose UTF-8 encoding is at most 1,024 bytes long." */
const MAX_KEY_BYTES = 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/** Why `path` is not a valid key path, or undefined when it is. `path` never appears in the reason. */
export function keyPathProblem(path: string): string | undefined {
  if (path === "") return "is empty";
  if (Buffer.byteLength(path, "utf8") > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  if (FORBIDDEN.test(path)) return "holds a control character or a backslash";
  for (const component of path.split("/")) {
    if (component === "") return "has an empty component (leading, trailing or double slash)";
    if (component.startsWith(".")) return "has a hidden component (starting with '.', such as '..')";
  }
  return undefined;
}

/**
 * "<prefix>/<relative>" ("<relative>" with no prefix); a `relative` breaking the rule above, or
 * a key too long, is refused with STORAGE_BAD_KEY.
 */
export function objectKey(prefix: string, relative: string): string {
  const key = prefix === "" ? relative : `${prefix}/${relative}`;
  const problem = keyPathProblem(relative) ?? keyPathProblem(key);
  if (problem !== undefined) throw new StorageError("STORAGE_BAD_KEY", `bad object path ${quoteKey(relative)}: it ${problem}`);
  return key;
}

/** A key or path for a message: JSON-quoted (control characters escaped), at most 200 characters. */
export function quoteKey(text: string): string {
  const q = JSON.stringify(text);
  return q.length > 200 ? `${q.slice(0, 200)}...` : q;
}
