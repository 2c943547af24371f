/**
 * Recording file names (spec §5 VodFileName) and the rule that keeps every
 * path inside the data folder.
 */
import { ConfigError, IngestError } from "../errors.js";

/** spec §5: the default VodFileName; the extension is implied by the format. */
export const DEFAULT_VOD_FILE_NAME =
  "{StreamID}_{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}_{EndYear}-{EndMonth}-{EndDay}-{EndHour}-{EndMinute}-{EndSecond}";

const TIME_PARTS = ["Year", "Month", "Day", "Hour", "Minute", "Second", "Millisecond"] as const;
const PLACEHOLDERS = new Set(["StreamID", ...TIME_PARTS.map((p) => `Start${p}`), ...TIME_PARTS.map((p) => `End${p}`)]);
const PLACEHOLDER_RE = /\{([^{}]*)\}/g;

/** Returns the unknown placeholders (and stray braces) of a VodFileName; empty when valid. */
export function invalidVodFileNameParts(pattern: string): string[] {
  const bad = [...pattern.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!).filter((p) => !PLACEHOLDERS.has(p));
  const rest = pattern.replace(PLACEHOLDER_RE, "");
  if (rest.includes("{") || rest.includes("}")) bad.push("unbalanced brace");
  // Literal text follows the same rule as stream names, so a rendered name stays one safe path component.
  if (!/^[A-Za-z0-9._~-]*$/.test(rest)) bad.push("characters outside A-Z a-z 0-9 . _ ~ -");
  if (pattern.trim() === "" || pattern === "." || pattern === "..") bad.push("empty or dot name");
  return bad;
}

/** "+08:00" / "-05:30" / "Z" -> minutes east of UTC. The cloud names files in Beijing time (UTC+8). */
export function parseUtcOffset(text: string): number {
  if (text === "Z" || text === "UTC") return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m) throw new ConfigError("CONFIG_INVALID", `time zone offset must look like +08:00, got ${JSON.stringify(text)}`);
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (minutes > 14 * 60) throw new ConfigError("CONFIG_INVALID", `time zone offset out of range: ${text}`);
  return m[1] === "-" ? -minutes : minutes;
}

function timeParts(epochMs: number, utcOffsetMinutes: number): Record<(typeof TIME_PARTS)[number], string> {
  const d = new Date(epochMs + utcOffsetMinutes * 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return {
    Year: String(d.getUTCFullYear()),
    Month: pad(d.getUTCMonth() + 1),
    Day: pad(d.getUTCDate()),
    Hour: pad(d.getUTCHours()),
    Minute: pad(d.getUTCMinutes()),
    Second: pad(d.getUTCSeconds()),
    Millisecond: pad(d.getUTCMilliseconds(), 3),
  };
}

export interface FileNameFields {
  streamId: string;
  startMs: number;
  endMs: number;
  utcOffsetMinutes: number;
}

/** Expands a VodFileName pattern (validated beforehand) into a base file name, without extension. */
export function renderVodFileName(pattern: string, f: FileNameFields): string {
  const start = timeParts(f.startMs, f.utcOffsetMinutes);
  const end = timeParts(f.endMs, f.utcOffsetMinutes);
  return pattern.replace(PLACEHOLDER_RE, (_, name: string) => {
    if (name === "StreamID") return f.streamId;
    const part = name.replace(/^(Start|End)/, "") as (typeof TIME_PARTS)[number];
    return (name.startsWith("Start") ? start : end)[part] ?? "";
  });
}

/**
 * The naming rule for domain, app and stream names, which become folder and
 * file names: 1-128 characters from A-Z a-z 0-9 . _ ~ - , not "." or "..".
 * Anything else (slashes, backslashes, NUL, control or non-ASCII characters)
 * is refused rather than encoded, so a name can never leave the data folder
 * or look like another name.
 */
export const SAFE_NAME_MAX_LENGTH = 128;
const SAFE_NAME_RE = /^[A-Za-z0-9._~-]+$/;

export function isSafeNameComponent(name: string): boolean {
  return name.length > 0 && name.length <= SAFE_NAME_MAX_LENGTH && SAFE_NAME_RE.test(name) && name !== "." && name !== "..";
}

export function assertSafeNameComponent(what: string, name: string): void {
  if (!isSafeNameComponent(name)) {
    const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name);
    throw new IngestError(
      "INVALID_STREAM_NAME",
      `${what} ${shown} is not allowed: use 1-${SAFE_NAME_MAX_LENGTH} characters from A-Z a-z 0-9 . _ ~ - (not "." or "..")`,
    );
  }
}
