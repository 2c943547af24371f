import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["engine/**/*.test.ts", "orchestrator/**/*.test.ts", "scripts/**/*.test.ts", "console/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // End-to-end tests run real ffmpeg processes; two cores do not take many in parallel.
    maxWorkers: 2,
    pool: "forks",
  },
});
