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
import { SharedBufferBudget } from "./buffer-budget.js";
import { ConnectionAdmission, sourceKey } from "./connection-admission.js";
import { Connection, type Logger, type ServerHooks } from "./rtmp-connection.js";
import type { PublishRequest, PublishSession } from "./publish-session.js";

export type { Logger } from "./rtmp-connection.js";
export { type PublishRequest, PublishSession, type PublishSessionEvents } from "./publish-session.js";

export interface RtmpServerOptions {
  /** Close sockets that have not completed the handshake by then. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** Close sockets that send nothing for this long. Default 30 s. */
  idleTimeoutMs?: number;
  /**
   * Close sockets that have not started publishing this long after connecting
   * (a slowloris that completes the handshake, then trickles its commands a
   * byte at a time, defeats the idle timeout). Default 10 s.
   */
  publishTimeoutMs?: number;
  /** Largest RTMP message accepted once publishing. Default 8 MiB. */
  maxMessageLength?: number;
  /** Connections at once; past it a newcomer may take a flooding source's pending slot (connection-admission.ts). Default 1000. */
  maxConnections?: number;
  /** Connections not yet publishing per source (IPv4 address or IPv6 /64). Default 64. */
  maxPendingPerSource?: number;
  /** New connections a second per source, bursts of ten seconds' worth allowed; 0: no limit. Default 20. */
  connectsPerSecondPerSource?: number;
  /** Bytes one connection may buffer before it publishes (its largest command, too). Default 64 KiB. */
  bufferBytesBeforePublish?: number;
  /** Bytes all connections not yet publishing may buffer together. Default 16 MiB. */
  bufferBudgetBeforePublish?: number;
  logger?: Logger;
}

export interface RtmpServerEvents {
  publish: [request: PublishRequest];
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;
const DEFAULT_RTMP_LIMITS = { maxConnections: 1000, maxPendingPerSource: 64, connectsPerSecondPerSource: 20 } as const;
const KiB = 1024;
/** Refused connections are logged as one summary line per this interval, not one line each. */
const REFUSAL_LOG_INTERVAL_MS = 5000;

export class RtmpServer extends TypedEmitter<RtmpServerEvents> {
  private readonly logger: Logger | undefined;
  private readonly hooks: ServerHooks;
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly active = new Map<string, PublishSession>();
  private closing: Promise<void> | null = null;
  private readonly admission: ConnectionAdmission<Connection>;
  /** "code source" -> connections refused since the last summary line. */
  private readonly refusals = new Map<string, number>();
  private refusalTimer: NodeJS.Timeout | null = null;

  constructor(options: RtmpServerOptions = {}) {
    super(options.logger);
    this.logger = options.logger;
    this.admission = new ConnectionAdmission({
      maxConnections: options.maxConnections ?? DEFAULT_RTMP_LIMITS.maxConnections,
      maxPendingPerSource: options.maxPendingPerSource ?? DEFAULT_RTMP_LIMITS.maxPendingPerSource,
      connectsPerSecond: options.connectsPerSecondPerSource ?? DEFAULT_RTMP_LIMITS.connectsPerSecondPerSource,
    });
    this.hooks = {
      logger: options.logger,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
      maxMessageLength: options.maxMessageLength,
      beforePublish: {
        maxMessageLength: options.bufferBytesBeforePublish ?? 64 * KiB,
        maxBufferedBytes: options.bufferBytesBeforePublish ?? 64 * KiB,
        budget: new SharedBufferBudget(options.bufferBudgetBeforePublish ?? 16 * 1024 * KiB),
      },
      published: (conn) => this.admission.published(conn),
      emitPublish: (req) => this.emit("publish", req),
      isPublishing: (key) => this.active.has(key),
      claim: (key, session) => this.active.set(key, session),
      release: (key, session) => {
        if (this.active.get(key) === session) this.active.delete(key);
      },
      forget: (conn) => {
        this.connections.delete(conn);
        this.admission.closed(conn);
      },
    };
  }

  /** The bound port (the real one when listen() was given 0), or 0 when not listening. */
  get port(): number {
    const addr = this.server?.address();
    return addr !== null && typeof addr === "object" ? addr.port : 0;
  }

  /** Open connections, and those of them not publishing yet. */
  get connectionCounts(): { open: number; pending: number } {
    return { open: this.admission.connections, pending: this.admission.pending };
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
    let conn: Connection;
    try {
      conn = new Connection(this.hooks, socket);
    } catch (err) {
      this.logger?.warn(`rtmp: cannot set up connection: ${errorMessage(err)}`);
      socket.destroy();
      return;
    }
    const verdict = this.admission.admit(conn, conn.remoteAddress, Date.now());
    if (!verdict.ok) {
      this.noteRefusal(`${verdict.code} ${verdict.source}`);
      conn.destroy(verdict.code);
      return;
    }
    this.connections.add(conn);
    if (verdict.evict !== null) {
      this.noteRefusal(`RTMP_EVICTED_FOR_FAIRNESS ${sourceKey(verdict.evict.remoteAddress)}`);
      verdict.evict.destroy("evicted: all connections taken, its source held the most not yet publishing");
    }
  }

  /** Counts a refused (or evicted) connection; one summary line per interval, so a flood cannot flood the log. */
  private noteRefusal(key: string): void {
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
    if (this.refusalTimer !== null) return;
    this.refusalTimer = setTimeout(() => {
      this.refusalTimer = null;
      const counts = [...this.refusals].map(([k, n]) => `${k} x${n}`).join(", ");
      this.refusals.clear();
      this.logger?.warn(`rtmp: connections refused in the last ${REFUSAL_LOG_INTERVAL_MS / 1000} s: ${counts}`);
    }, REFUSAL_LOG_INTERVAL_MS);
    this.refusalTimer.unref();
  }

  /** Stops listening and destroys every connection (their sessions end). Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      if (this.refusalTimer !== null) clearTimeout(this.refusalTimer);
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
