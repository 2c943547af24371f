/** A real browser for tests: Debian's Chromium driven by playwright-core, and a static file server. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
  });
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".m3u8": "application/vnd.apple.mpegurl",
  ".ts": "video/mp2t",
  ".mp4": "video/mp4",
  ".aac": "audio/aac",
};

/** Serves `routes` (URL prefix -> folder) and fixed `pages` on loopback; no path leaves its folder. */
export async function serveStatic(
  routes: Record<string, string>,
  pages: Record<string, string> = { "/": "<!doctype html><title>test</title>" },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    const page = pages[path];
    if (page !== undefined) return void res.writeHead(200, { "content-type": "text/html" }).end(page);
    const prefix = Object.keys(routes).find((p) => path.startsWith(p));
    if (!prefix) return void res.writeHead(404).end();
    const root = resolve(routes[prefix]!);
    const file = normalize(join(root, path.slice(prefix.length)));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      const s = await stat(file);
      if (!s.isFile()) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": s.size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, close: () => new Promise((r) => server.close(() => r())) };
}
