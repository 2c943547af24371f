#!/usr/bin/env node
// Entry point of the `recorder` command; the TypeScript sources are compiled to dist/ by `npm run build` (run by npm ci/install).
import { main } from "../dist/orchestrator/cli/main.js";

await main(process.argv);
