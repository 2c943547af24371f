import { describe, expect, it } from "vitest";
import { Segmenter, timestampDelta } from "./segmenter.js";

describe("Segmenter", () => {
  it("cuts only on a video keyframe once the interval has passed", () => {
    const seg = new Segmenter(6000, true);
    const decisions: string[] = [];
    // 25 fps video with a keyframe every 2 s, plus audio between frames.
    for (let t = 0; t < 20000; t += 40) {
      decisions.push(`${t}:${seg.decide("video", t % 2000 === 0, t)}`);
      decisions.push(`${t + 20}a:${seg.decide("audio", true, t + 20)}`);
    }
    expect(decisions.filter((d) => !d.endsWith("same"))).toEqual(["0:first", "6000:cut", "12000:cut", "18000:cut"]);
  });

  it("waits for the next keyframe when the interval ends mid-GOP", () => {
    const seg = new Segmenter(5000, true);
    const cuts = [];
    for (let t = 0; t < 13000; t += 40) if (seg.decide("video", t % 2000 === 0, t) === "cut") cuts.push(t);
    expect(cuts).toEqual([6000, 12000]);
  });

  it("rolls audio-only recordings on time", () => {
    const seg = new Segmenter(3000, false);
    const cuts = [];
    for (let t = 0; t < 10000; t += 23) if (seg.decide("audio", true, t) === "cut") cuts.push(t);
    expect(cuts).toEqual([3013, 6026, 9039]);
  });

  it("never rolls with an infinite interval, and measures across 32-bit wrap-around", () => {
    const seg = new Segmenter(Number.POSITIVE_INFINITY, true);
    expect(seg.decide("video", true, 0)).toBe("first");
    expect(seg.decide("video", true, 1e9)).toBe("same");
    expect(timestampDelta(5, 0xfffffffb)).toBe(10);
  });
});
