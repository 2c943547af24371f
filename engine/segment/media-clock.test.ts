import { describe, expect, it } from "vitest";
import { MediaClock } from "./media-clock.js";

describe("MediaClock", () => {
  it("ends at the later track's last frame plus that track's frame length", () => {
    const clock = new MediaClock();
    for (let t = 1000; t < 3000; t += 40) clock.observe(true, t); // video ends at 2960 + 40
    for (let t = 1010; t < 3050; t += 23) clock.observe(false, t); // last audio frame at 3034, ends at 3057
    expect(clock.start).toBe(1000);
    expect(clock.durationMs).toBe(3057 - 1000);
  });

  it("is 0 before any frame", () => {
    expect(new MediaClock().durationMs).toBe(0);
  });
});
