/**
 * The publish hand-off between a connection and the application: a
 * `PublishRequest` is offered to the server's `publish` listener, which accepts
 * (getting a `PublishSession` that streams FLV tags) or refuses it. No sockets
 * here: the connection stands behind the `PublishHost` interface.
 */
import { randomUUID } from "node:crypto";
import type { FlvTag } from "../flv/types.js";
import type { Logger } from "../logger.js";
import { TypedEmitter } from "../typed-emitter.js";

export interface PublishRequest {
  sessionId: string;
  remoteAddress: string;
  /** Lower-cased host of tcUrl, "localhost" when tcUrl is missing or not a URL. */
  domain: string;
  app: string;
  stream: string;
  /** Query of the publish name, joined with "&" after any query given on the connect app. */
  query: string;
  tcUrl: string;
  /** Call synchronously from the `publish` listener to accept. */
  accept(): PublishSession;
  /** Call synchronously from the `publish` listener to refuse with an onStatus error. */
  reject(code: string, description: string): void;
}

export interface PublishSessionEvents {
  tag: [tag: FlvTag];
  end: [reason: string];
}

/** What a request and its session need from their connection. */
export interface PublishHost {
  readonly remoteAddress: string;
  readonly domain: string;
  readonly app: string;
  readonly tcUrl: string;
  startSession(req: PendingPublish): PublishSession;
  refusePublish(streamId: number, code: string, description: string): void;
  kick(session: PublishSession): void;
}

export function publishKey(domain: string, app: string, stream: string): string {
  return `${domain}/${app}/${stream}`;
}

/** One accepted publish. Emits `tag` for each media/data message and `end` exactly once. */
export class PublishSession extends TypedEmitter<PublishSessionEvents> {
  readonly sessionId: string;
  readonly remoteAddress: string;
  readonly domain: string;
  readonly app: string;
  readonly stream: string;
  readonly query: string;
  readonly tcUrl: string;
  private endReason: string | null = null;

  /** @internal created by the server on accept() */
  constructor(
    req: Omit<PublishRequest, "accept" | "reject">,
    private readonly conn: PublishHost,
    logger: Pick<Logger, "warn"> | undefined,
  ) {
    super(logger);
    this.sessionId = req.sessionId;
    this.remoteAddress = req.remoteAddress;
    this.domain = req.domain;
    this.app = req.app;
    this.stream = req.stream;
    this.query = req.query;
    this.tcUrl = req.tcUrl;
  }

  get key(): string {
    return publishKey(this.domain, this.app, this.stream);
  }

  get ended(): boolean {
    return this.endReason !== null;
  }

  /** Why the session ended, or null while it runs. */
  get reason(): string | null {
    return this.endReason;
  }

  /** Disconnects the publisher; `end` follows. Idempotent. */
  close(): void {
    if (!this.ended) this.conn.kick(this);
  }

  /** @internal */
  finish(reason: string): void {
    if (this.endReason !== null) return;
    this.endReason = reason;
    this.emit("end", reason);
  }
}

/** A request while the `publish` listener runs; the connection expires it right after. */
export class PendingPublish implements PublishRequest {
  state: "pending" | "accepted" | "rejected" | "expired" = "pending";
  readonly remoteAddress: string;
  readonly domain: string;
  readonly app: string;
  readonly tcUrl: string;
  readonly sessionId = randomUUID();

  constructor(
    private readonly conn: PublishHost,
    readonly stream: string,
    readonly query: string,
    readonly streamId: number,
  ) {
    this.remoteAddress = conn.remoteAddress;
    this.domain = conn.domain;
    this.app = conn.app;
    this.tcUrl = conn.tcUrl;
  }

  private decide(to: "accepted" | "rejected"): void {
    if (this.state === "expired") throw new Error("PublishRequest: accept()/reject() must be called synchronously from the publish listener");
    if (this.state !== "pending") throw new Error(`PublishRequest: already ${this.state}`);
    this.state = to;
  }

  accept(): PublishSession {
    this.decide("accepted");
    return this.conn.startSession(this);
  }

  reject(code: string, description: string): void {
    this.decide("rejected");
    this.conn.refusePublish(this.streamId, code, description);
  }
}
