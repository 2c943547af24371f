/**
 * How recordings are laid out, for whoever serves, uploads or deletes them:
 * content types by extension, a catalog path as a path under recordings/,
 * and the segments an HLS playlist references.
 */
import { posix, sep } from "node:path";

export const PLAYLIST_TYPE = "application/vnd.apple.mpegurl";

const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  [".flv", "video/x-flv"],
  [".mp4", "video/mp4"],
  [".aac", "audio/aac"],
  [".m3u8", PLAYLIST_TYPE],
  [".ts", "video/mp2t"],
]);

/** The content type of a recording file by its name; undefined for anything that is not one. */
export function contentTypeOf(name: string): string | undefined {
  return CONTENT_TYPES.get(posix.extname(name).toLowerCase());
}

/** "d/a/s/f.flv" for the catalog path "recordings/d/a/s/f.flv" (catalog paths are relative to the data folder). */
export function pathUnderRecordings(catalogPath: string): string {
  const parts = catalogPath.split(sep);
  if (parts[0] !== "recordings" || parts.length < 2) throw new Error(`catalog path ${catalogPath} is not under recordings/`);
  return parts.slice(1).join("/");
}

/**
 * The segments (paths under recordings/, "/"-separated) a playlist at `playlistPath` (same form)
 * references: relative URIs into a folder beside it, as our HLS writer puts them. Anything else
 * (absolute URLs, "..", deeper paths) is not ours and is left out.
 */
export function playlistSegments(text: string, playlistPath: string): string[] {
  const dir = posix.dirname(playlistPath);
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const uri = raw.trim();
    if (uri === "" || uri.startsWith("#")) continue;
    const parts = uri.split("/");
    if (parts.length !== 2 || parts.some((p) => p === "" || p.startsWith(".") || /[?#:\\]/.test(p))) continue;
    out.push(`${dir}/${uri}`);
  }
  return [...new Set(out)];
}
