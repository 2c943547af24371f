/**
 * Pure readers for what a publisher names on the wire: the connect command
 * object (§7.2.1.1) and the publish name (§7.2.2.6). Everything here comes
 * straight off the network, so nothing may be slower than linear.
 */
import type { Amf0Object, Amf0Value } from "./amf0.js";

export const FALLBACK_DOMAIN = "localhost";

export interface ConnectParams {
  /** App name without query and trailing slashes. */
  app: string;
  /** Query given after "?" in the app name, "" when none. */
  appQuery: string;
  tcUrl: string;
  domain: string;
  objectEncoding: number;
}

/** Reads the connect command object; a missing or malformed object gives empty values. */
export function readConnectParams(arg: Amf0Value): ConnectParams {
  const cmd = isObject(arg) ? arg : {};
  const [app, appQuery] = splitQuery(str(cmd["app"]));
  const tcUrl = str(cmd["tcUrl"]);
  const enc = cmd["objectEncoding"];
  return {
    app: trimTrailingSlashes(app),
    appQuery,
    tcUrl,
    domain: domainOf(tcUrl),
    objectEncoding: typeof enc === "number" ? enc : 0,
  };
}

export function domainOf(tcUrl: string): string {
  if (!URL.canParse(tcUrl)) return FALLBACK_DOMAIN;
  let host = new URL(tcUrl).hostname.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return host === "" ? FALLBACK_DOMAIN : host;
}

/**
 * `s` without trailing slashes. A loop, not /\/+$/: that regex backtracks
 * quadratically on a long run of slashes followed by another character, and
 * the app name comes straight off the network (a 64 KiB AMF0 string took
 * seconds, an 8 MiB long string hours, blocking every stream).
 */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--;
  return s.slice(0, end);
}

/** "name?query" -> ["name", "query"]; no "?" gives an empty query. */
export function splitQuery(s: string): [string, string] {
  const q = s.indexOf("?");
  return q < 0 ? [s, ""] : [s.slice(0, q), s.slice(q + 1)];
}

function isObject(v: Amf0Value): v is Amf0Object {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function str(v: Amf0Value): string {
  return typeof v === "string" ? v : "";
}
