/**
 * The HTTP side of the service. For now: health and live status, read-only.
 * (The cloud-compatible control API is the control-plane issue's work.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { RecorderService } from "../service.js";

export class HttpApi {
  private readonly server: Server;
  private closing: Promise<void> | undefined;

  constructor(private readonly service: RecorderService) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  get port(): number {
    const addr = this.server.address();
    return addr !== null && typeof addr === "object" ? addr.port : 0;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      this.send(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "use GET" } });
      return;
    }
    const s = this.service;
    if (path === "/healthz") {
      this.send(res, 200, {
        status: "ok",
        uptimeSec: s.uptimeSec,
        livePushes: s.livePushes().length,
        ffmpeg: { path: s.ffmpeg.path, version: s.ffmpeg.version, source: s.ffmpeg.source },
      });
    } else if (path === "/status") {
      this.send(res, 200, { pushes: s.livePushes() });
    } else {
      this.send(res, 404, { error: { code: "NOT_FOUND", message: `no route ${path}` } });
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(json);
  }
}
