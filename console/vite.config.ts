/**
 * Build of the web console: `vite build console` (part of `npm run build`)
 * writes static files to dist/console, which the service serves at /console/.
 * JSX is compiled for Preact by Vite's own transformer; no plugin is needed.
 */
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../dist/console",
    emptyOutDir: true,
    target: "es2022",
    // hls.js and mpegts.js are loaded only when a recording is played: their chunks are large on purpose.
    chunkSizeWarningLimit: 600,
  },
});
