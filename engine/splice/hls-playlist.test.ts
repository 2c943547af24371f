import { describe, expect, it } from "vitest";
import { HlsPlaylist, targetDuration } from "./hls-playlist.js";

describe("HlsPlaylist", () => {
  it("renders an EVENT playlist while recording and a VOD one with ENDLIST at the end", () => {
    const p = new HlsPlaylist();
    p.add("a/000000.ts", 6.04);
    p.add("a/000001.ts", 4.5);
    const live = p.render(false);
    expect(live).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(live).not.toContain("#EXT-X-ENDLIST");
    const vod = p.render(true);
    expect(vod).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
    expect(vod).toContain("#EXT-X-TARGETDURATION:6\n");
    expect(vod).toContain("#EXTINF:6.040,\na/000000.ts\n");
    expect(vod.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
  });

  it("puts EXT-X-DISCONTINUITY before the first segment of a new push only", () => {
    const p = new HlsPlaylist();
    p.markDiscontinuity(); // nothing before it: no tag
    p.add("0.ts", 2);
    p.markDiscontinuity();
    p.add("1.ts", 2);
    p.add("2.ts", 2);
    expect(p.segments.map((s) => s.discontinuity)).toEqual([false, true, false]);
    expect(p.render(true).match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(1);
  });

  it("rounds the target duration to the nearest integer (RFC 8216 4.3.3.1)", () => {
    expect(targetDuration([{ uri: "", durationSec: 10.49, discontinuity: false }])).toBe(10);
    expect(targetDuration([{ uri: "", durationSec: 10.5, discontinuity: false }])).toBe(11);
  });
});
