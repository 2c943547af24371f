import { describe, expect, it } from "vitest";
import {
  DEFAULT_VOD_FILE_NAME,
  assertSafeNameComponent,
  invalidVodFileNameParts,
  isSafeNameComponent,
  parseUtcOffset,
  renderVodFileName,
} from "./naming.js";

describe("VodFileName", () => {
  it("renders the default pattern in UTC+8 with zero padding, like the cloud's sample", () => {
    // spec §5: start_time 1743484094 is 2025-04-01 13:08:14 in UTC+8.
    const name = renderVodFileName(DEFAULT_VOD_FILE_NAME, {
      streamId: "cam1",
      startMs: 1743484094_000,
      endMs: 1743484094_000 + 65_000,
      utcOffsetMinutes: parseUtcOffset("+08:00"),
    });
    expect(name).toBe("cam1_2025-04-01-13-08-14_2025-04-01-13-09-19");
  });

  it("expands every placeholder of spec §5, zero-padded, in the configured offset", () => {
    const all =
      "{StreamID}-{StartYear}{StartMonth}{StartDay}{StartHour}{StartMinute}{StartSecond}{StartMillisecond}-{EndYear}{EndMonth}{EndDay}{EndHour}{EndMinute}{EndSecond}{EndMillisecond}";
    expect(invalidVodFileNameParts(all)).toEqual([]);
    const name = renderVodFileName(all, {
      streamId: "s",
      startMs: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      endMs: Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      utcOffsetMinutes: 0,
    });
    expect(name).toBe("s-20260102030405006-20261231235959999");
    // The same instant in UTC+8 crosses into the next year.
    expect(renderVodFileName("{EndYear}-{EndMonth}-{EndDay}", { streamId: "s", startMs: 0, endMs: Date.UTC(2026, 11, 31, 23, 0, 0), utcOffsetMinutes: 480 })).toBe(
      "2027-01-01",
    );
  });

  it("reports unknown placeholders and path separators", () => {
    expect(invalidVodFileNameParts(DEFAULT_VOD_FILE_NAME)).toEqual([]);
    expect(invalidVodFileNameParts("{StreamID}_{Foo}")).toEqual(["Foo"]);
    expect(invalidVodFileNameParts("a/{StreamID}")).toContain("characters outside A-Z a-z 0-9 . _ ~ -");
    expect(invalidVodFileNameParts("..")).toContain("empty or dot name");
    expect(invalidVodFileNameParts("{StreamID")).toContain("unbalanced brace");
  });
});

describe("safe names", () => {
  it("refuses traversal, separators, control characters, Unicode and overlong names", () => {
    for (const bad of ["", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", "caf\u00e9", "\u202ecam", "x".repeat(1000)]) {
      expect(isSafeNameComponent(bad)).toBe(false);
    }
    for (const good of ["cam1", "live", "my-stream_2.0", "127.0.0.1", "~x"]) expect(isSafeNameComponent(good)).toBe(true);
    expect(() => assertSafeNameComponent("stream", "../etc")).toThrow(expect.objectContaining({ code: "INVALID_STREAM_NAME" }));
  });
});
