import { describe, expect, it } from "vitest";
import { HlsPlaylist, targetDuration } from "./hls-playlist.js";

describe("HlsPlaylist", () => {
  it("renders an EVENT playlist while recording and a VOD one with ENDLIST at the end", () => {
    const p = new HlsPlaylist([
      { uri: "a/000000.ts", durationSec: 6.04, discontinuity: false },
      { uri: "a/000001.ts", durationSec: 4.5, discontinuity: false },
    ]);
    const live = p.render(false);
    expect(live).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(live).not.toContain("#EXT-X-ENDLIST");
    const vod = p.render(true);
    expect(vod).toContain("#EXT-X-PLAYLIST-TYPE:VOD");
    expect(vod).toContain("#EXT-X-TARGETDURATION:6\n");
    expect(vod).toContain("#EXTINF:6.040,\na/000000.ts\n");
    expect(vod.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
  });

  it("puts EXT-X-DISCONTINUITY before the segments that start a new push, and prefixes URIs when asked", () => {
    const p = new HlsPlaylist([
      { uri: "f/0.ts", durationSec: 2, discontinuity: false },
      { uri: "f/1.ts", durationSec: 2, discontinuity: true },
      { uri: "f/2.ts", durationSec: 2, discontinuity: false },
    ]);
    expect(p.render(true).match(/#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\nf\/1.ts/g)).toHaveLength(1);
    expect(p.render(false, 1, "../")).toContain("\n../f/0.ts\n");
  });

  it("rounds the target duration to the nearest integer (RFC 8216 4.3.3.1)", () => {
    expect(targetDuration([{ uri: "", durationSec: 10.49, discontinuity: false }])).toBe(10);
    expect(targetDuration([{ uri: "", durationSec: 10.5, discontinuity: false }])).toBe(11);
  });
});
