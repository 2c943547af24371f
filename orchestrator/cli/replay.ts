/**
 * `recorder replay`: publishes an FLV file over RTMP with our own publisher,
 * so any fixture (including tags ffmpeg's FLV muxer cannot write) can be
 * pushed. Timestamps and payloads are sent as they are in the file; each loop
 * continues the timeline after the previous one.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { parseFlv } from "../../engine/flv/flv-format.js";
import { isOnMetaData } from "../../engine/flv/on-metadata.js";
import { TagType, type FlvTag } from "../../engine/flv/types.js";
import { RtmpPublisher } from "../../engine/rtmp/rtmp-publisher.js";
import { timestampDelta } from "../../engine/segment/segmenter.js";

export interface ReplayOptions {
  /** Playback speed: 1 = real time; undefined = as fast as the connection takes it. */
  speed?: number;
  /** How many times to send the file. */
  loop?: number;
  /** Called after each tag is handed to the connection, with the timestamp it was sent with. */
  onSent?: (timestamp: number) => void;
}

export interface ReplayResult {
  tagsSent: number;
  mediaDurationMs: number;
}

/** Sleep only when this far ahead of schedule: fewer timers, same pacing. */
const PACING_SLACK_MS = 10;

/** Step from one loop's last timestamp to the next loop's first: one frame. */
function loopStep(tags: readonly FlvTag[]): number {
  const video = tags.filter((t) => t.type === TagType.Video).map((t) => t.timestamp);
  const step = video.length >= 2 ? timestampDelta(video.at(-1)!, video.at(-2)!) : 0;
  return step > 0 ? step : 40;
}

export async function replayFlv(file: string, url: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const { tags } = parseFlv(await readFile(file));
  const loops = opts.loop ?? 1;
  const first = tags.find((t) => t.type !== TagType.Script)?.timestamp ?? 0;
  const last = tags.reduce((max, t) => Math.max(max, timestampDelta(t.timestamp, first)), 0);
  const step = last + loopStep(tags);
  const publisher = await RtmpPublisher.connect(url);
  const started = performance.now();
  let sent = 0;
  try {
    for (let loop = 0; loop < loops; loop++) {
      for (const tag of tags) {
        // onMetaData describes the stream once; later loops continue the same stream.
        if (loop > 0 && tag.type === TagType.Script && isOnMetaData(tag.data)) continue;
        const at = timestampDelta(tag.timestamp, first) + loop * step;
        if (opts.speed) {
          const ahead = at / opts.speed - (performance.now() - started);
          if (ahead > PACING_SLACK_MS) await sleep(ahead);
        }
        const timestamp = (first + at) >>> 0;
        if (!publisher.sendTag({ type: tag.type, timestamp, data: tag.data })) await publisher.drain();
        sent++;
        opts.onSent?.(timestamp);
      }
    }
  } finally {
    await publisher.close();
  }
  return { tagsSent: sent, mediaDurationMs: loops * step };
}
