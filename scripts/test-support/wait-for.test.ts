import { describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.js";

describe("waitFor", () => {
  it("resolves with the first truthy value, sync or async", async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).resolves.toBe(3);
    await expect(waitFor(async () => "yes")).resolves.toBe("yes");
  });

  it("treats a throwing condition as not yet, and rejects at the deadline naming the condition and its last error", async () => {
    let calls = 0;
    const t0 = Date.now();
    const err = await waitFor(
      () => {
        calls++;
        throw new Error("boom");
      },
      { timeoutMs: 100, intervalMs: 10, what: "the boom stops" },
    ).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(calls).toBeGreaterThan(2);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("waitFor: not within 100 ms: the boom stops");
    expect(((err as Error).cause as Error).message).toBe("boom");
  });
});
