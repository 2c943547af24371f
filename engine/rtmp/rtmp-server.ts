/**
 * RTMP ingest server: accepts publishers, hands their audio/video/data
 * messages out as FLV tags. Playback is refused: this is a recorder.
 *
 * The listener and the registry of live publishes live here; each socket is a
 * `Connection` (rtmp-connection.ts), each accepted publish a `PublishSession`
 * (publish-session.ts).
 */
import net from "node:net";
import { IngestError, errorMessage } from "../errors.js";
import { TypedEmitter } from "../typed-emitter.js";
import { Connection, type Logger, type ServerHooks } from "./rtmp-connection.js";
import type { PublishRequest, PublishSession } from "./publish-session.js";

export type { Logger } from "./rtmp-connection.js";
export { type PublishRequest, PublishSession, type PublishSessionEvents } from "./publish-session.js";

export interface RtmpServerOptions {
  /** Close sockets that have not completed the handshake by then. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Close sockets that send nothing for this long. Default 30 s. */
  idleTimeoutMs?: number;
  /**
   * Close sockets that have not started publishing this long after connecting
   * (a slowloris that completes the handshake, then trickles its commands a
   * byte at a time, defeats the idle timeout). Default 30 s.
   */
  publishTimeoutMs?: number;
  /** Largest RTMP message accepted. Default 8 MiB. */
  maxMessageLength?: number;
  /** Connections beyond this are refused by the socket layer. Default 1000. */
  maxConnections?: number;
  logger?: Logger;
}

export interface RtmpServerEvents {
  publish: [request: PublishRequest];
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;

export class RtmpServer extends TypedEmitter<RtmpServerEvents> {
  private readonly logger: Logger | undefined;
  private readonly hooks: ServerHooks;
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly active = new Map<string, PublishSession>();
  private closing: Promise<void> | null = null;

  private readonly maxConnections: number;

  constructor(options: RtmpServerOptions = {}) {
    super(options.logger);
    this.maxConnections = options.maxConnections ?? 1000;
    this.logger = options.logger;
    this.hooks = {
      logger: options.logger,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      maxMessageLength: options.maxMessageLength,
      emitPublish: (req) => this.emit("publish", req),
      isPublishing: (key) => this.active.has(key),
      claim: (key, session) => this.active.set(key, session),
      release: (key, session) => {
        if (this.active.get(key) === session) this.active.delete(key);
      },
      forget: (conn) => this.connections.delete(conn),
    };
  }

  /** The bound port (the real one when listen() was given 0), or 0 when not listening. */
  get port(): number {
    const addr = this.server?.address();
    return addr !== null && typeof addr === "object" ? addr.port : 0;
  }

  /** Keys (domain/app/stream) being published right now. */
  get publishing(): string[] {
    return [...this.active.keys()];
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    if (this.closing) return Promise.reject(new Error("RtmpServer: closed"));
    if (this.server) return Promise.reject(new Error("RtmpServer: already listening"));
    const server = net.createServer((socket) => this.onConnection(socket));
    server.maxConnections = this.maxConnections;
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = null;
        reject(new IngestError("RTMP_LISTEN", `cannot listen on ${host}:${port}: ${err.message}`, { fatal: true, cause: err }));
      };
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        server.on("error", (err) => this.logger?.warn(`rtmp server error: ${err.message}`));
        this.logger?.info(`rtmp: listening on ${host}:${this.port}`);
        resolve(this.port);
      });
    });
  }

  private onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    try {
      this.connections.add(new Connection(this.hooks, socket));
    } catch (err) {
      this.logger?.warn(`rtmp: cannot set up connection: ${errorMessage(err)}`);
      socket.destroy();
    }
  }

  /** Stops listening and destroys every connection (their sessions end). Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      for (const conn of [...this.connections]) conn.destroy("server closed");
      const server = this.server;
      if (!server?.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
    });
    return this.closing;
  }
}
