/**
 * Serves the built web console (dist/console, made by `npm run build`) at
 * /console/. Paths without an extension fall back to index.html (the console
 * routes in the page); nothing outside the folder is served.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Same place from the sources (orchestrator/api) and from the build (dist/orchestrator/api). */
/** The console's Content-Security-Policy. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const CONSOLE_DIR = resolve(fileURLToPath(new URL(".", import.meta.url)), import.meta.url.includes("/dist/") ? "../../console" : "../../dist/console");
export const CONSOLE_PREFIX = "/console";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

export async function serveConsole(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (pathname !== CONSOLE_PREFIX && !pathname.startsWith(`${CONSOLE_PREFIX}/`)) return false;
  if (pathname === CONSOLE_PREFIX) {
    res.writeHead(301, { location: `${CONSOLE_PREFIX}/` }).end();
    return true;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname.slice(CONSOLE_PREFIX.length + 1));
  } catch {
    res.writeHead(400).end();
    return true;
  }
  if (rel.split("/").some((p) => p === ".." || p.startsWith(".")) || rel.includes("\0")) {
    res.writeHead(404).end();
    return true;
  }
  const ext = extname(rel);
  let file = resolve(CONSOLE_DIR, rel || "index.html");
  if (!ext) file = join(CONSOLE_DIR, "index.html");
  if (file !== CONSOLE_DIR && !file.startsWith(CONSOLE_DIR + sep)) {
    res.writeHead(404).end();
    return true;
  }
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error("not a file");
    const hashed = rel.startsWith("assets/");
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": s.size,
      // Built assets carry a content hash in their names; the page itself must always be fresh.
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
      // Only the console's own code runs, it talks only to this service, and no other site may
      // frame it (clickjacking its buttons). Players play from blob: URLs (MSE) in workers.
      "x-frame-options": "DENY",
      "content-security-policy": CONSOLE_CSP,
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" }).end(rel ? "not found" : "the console is not built: run npm run build");
  }
  return true;
}
