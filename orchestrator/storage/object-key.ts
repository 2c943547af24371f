/** Object keys: a target's prefix, then a recording's path under recordings/ (the local layout). */
import { StorageError } from "../../engine/errors.js";

/**
 * "<prefix>/<relative>" ("<relative>" with no prefix). `relative` is "/"-separated; empty,
 * "." / ".." and hidden (".name") components are refused: keys never leave the prefix and
 * never name what is not served.
 */
export function objectKey(prefix: string, relative: string): string {
  const parts = relative.split("/");
  const bad = parts.find((p) => p === "" || p.startsWith(".") || p.includes("\\") || p.includes("\0"));
  if (bad !== undefined) throw new StorageError("STORAGE_BAD_KEY", `bad object path ${JSON.stringify(relative)}: component ${JSON.stringify(bad)}`);
  return prefix === "" ? relative : `${prefix}/${relative}`;
}
