/**
 * Renders the HLS media playlist of one recording (RFC 8216). Pure: the
 * engine owns the playlist (ffmpeg only cuts .ts files), so later pushes can
 * be appended after an EXT-X-DISCONTINUITY and the playlist rebuilt from
 * saved state (splice/hls-state.ts).
 */

export interface HlsSegment {
  /** URI relative to the playlist. */
  uri: string;
  durationSec: number;
  /** This segment starts a new push (or a timestamp/codec discontinuity). */
  discontinuity: boolean;
}

/** RFC 8216 §4.3.3.1: EXT-X-TARGETDURATION is the longest EXTINF rounded to the nearest integer. */
export function targetDuration(segments: readonly HlsSegment[], floorSec = 1): number {
  let max = floorSec;
  for (const s of segments) max = Math.max(max, Math.round(s.durationSec));
  return max;
}

/** EXT-X-VERSION 3 allows decimal EXTINF durations (RFC 8216 §7). */
const HLS_VERSION = 3;

export class HlsPlaylist {
  /** @param segments in order; a segment's `discontinuity` puts EXT-X-DISCONTINUITY before it. */
  constructor(
    readonly segments: readonly HlsSegment[],
    readonly mediaSequence = 0,
  ) {}

  get durationSec(): number {
    return this.segments.reduce((sum, s) => sum + s.durationSec, 0);
  }

  /**
   * Renders the playlist. While recording it is an EVENT playlist without
   * ENDLIST (players may poll it); once ended it is VOD with ENDLIST.
   * `minTargetSec` lets a growing playlist announce a target later segments should not exceed;
   * `uriPrefix` lets a copy of the playlist in another folder point at the same segments.
   */
  render(ended: boolean, minTargetSec = 1, uriPrefix = ""): string {
    const lines = [
      "#EXTM3U",
      `#EXT-X-VERSION:${HLS_VERSION}`,
      `#EXT-X-PLAYLIST-TYPE:${ended ? "VOD" : "EVENT"}`,
      `#EXT-X-TARGETDURATION:${targetDuration(this.segments, minTargetSec)}`,
      `#EXT-X-MEDIA-SEQUENCE:${this.mediaSequence}`,
    ];
    for (const s of this.segments) {
      if (s.discontinuity) lines.push("#EXT-X-DISCONTINUITY");
      lines.push(`#EXTINF:${s.durationSec.toFixed(3)},`, uriPrefix + s.uri);
    }
    if (ended) lines.push("#EXT-X-ENDLIST");
    return `${lines.join("\n")}\n`;
  }
}
