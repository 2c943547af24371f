import { describe, expect, it } from "vitest";
import { scanAdts } from "./adts.js";

/** A 7-byte ADTS header for a frame of `length` bytes (AAC LC, 44.1 kHz, stereo). */
function frame(length: number): Buffer {
  const b = Buffer.alloc(length, 0x55);
  b[0] = 0xff;
  b[1] = 0xf1;
  b[2] = (1 << 6) | (4 << 2); // profile LC, sampling index 4 (44.1 kHz)
  b[3] = (2 << 6) | ((length >> 11) & 0x03);
  b[4] = (length >> 3) & 0xff;
  b[5] = ((length & 0x07) << 5) | 0x1f;
  b[6] = 0xfc;
  return b;
}

describe("scanAdts", () => {
  it("counts whole frames and stops before a torn one", () => {
    const whole = Buffer.concat([frame(100), frame(120), frame(90)]);
    expect(scanAdts(whole)).toEqual({ frames: 3, validLength: 310, sampleRate: 44100, durationMs: 70 });
    expect(scanAdts(whole.subarray(0, 300))).toMatchObject({ frames: 2, validLength: 220 });
    expect(scanAdts(Buffer.from("garbage!"))).toMatchObject({ frames: 0, validLength: 0 });
  });
});
