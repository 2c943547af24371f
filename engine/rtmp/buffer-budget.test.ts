import { describe, expect, it } from "vitest";
import { SharedBufferBudget } from "./buffer-budget.js";

describe("SharedBufferBudget", () => {
  it("reserves and releases; a closed account gives everything back and reserves nothing", () => {
    const budget = new SharedBufferBudget(100);
    const a = budget.open(() => {});
    expect(a.reserve(60)).toBe(true);
    a.release(20);
    expect(budget.usedBytes).toBe(40);
    a.close();
    a.close();
    expect(budget.usedBytes).toBe(0);
    expect(a.reserve(1)).toBe(false);
    a.release(5);
    expect(budget.usedBytes).toBe(0);
  });

  it("evicts the biggest holder for a smaller one, refuses the one that would be biggest", () => {
    const budget = new SharedBufferBudget(100);
    const evicted: string[] = [];
    const hog = budget.open(() => evicted.push("hog"));
    const mid = budget.open(() => evicted.push("mid"));
    const small = budget.open(() => evicted.push("small"));
    expect(hog.reserve(70)).toBe(true);
    expect(mid.reserve(25)).toBe(true);
    // 95 used: 10 more for the small one evicts the hog.
    expect(small.reserve(10)).toBe(true);
    expect(evicted).toEqual(["hog"]);
    expect(budget.usedBytes).toBe(35);
    expect(hog.reserve(1)).toBe(false);
    // The mid one asking for 70 would hold 95, more than anyone: refused, nobody evicted.
    expect(mid.reserve(70)).toBe(false);
    expect(evicted).toEqual(["hog"]);
    expect(budget.usedBytes).toBe(35);
  });
});
