/**
 * One RTMP connection: handshake, chunk stream, commands, at most one publish
 * at a time. Media and data messages go straight from the chunk parser to the
 * publish session's `tag` listeners.
 *
 * Every connection is isolated: bad bytes, protocol errors or a throwing
 * listener close at most that one connection.
 */
import type net from "node:net";
import { IngestError, ParseError, RecorderError, errorMessage } from "../errors.js";
import type { TagType } from "../flv/types.js";
import type { Logger as EngineLogger } from "../logger.js";
import { type Amf0Value, decodeAmf0, encodeAmf0 } from "./amf0.js";
import type { BudgetAccount, SharedBufferBudget } from "./buffer-budget.js";
import { ChunkReader, ChunkWriter, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_MESSAGE_LENGTH, type RtmpMessage } from "./chunk-stream.js";
import { FALLBACK_DOMAIN, readConnectParams, splitQuery, str } from "./connect-params.js";
import { ServerHandshake } from "./handshake.js";
import { ChunkStreamId, MessageType, PeerBandwidthLimit, UserControlEvent, u32Payload } from "./protocol.js";
import { PendingPublish, type PublishHost, type PublishRequest, PublishSession, publishKey } from "./publish-session.js";

/** The server logs only info and warn lines. */
export type Logger = Pick<EngineLogger, "info" | "warn">;

/** Values we announce in reply to connect (§7.2.1.1). */
const WINDOW_ACK_SIZE = 5_000_000;
const PEER_BANDWIDTH = 5_000_000;
const OUT_CHUNK_SIZE = 4096;
const FMS_VERSION = "FMS/3,0,1,123";
const FMS_CAPABILITIES = 31;
/** The only NetStream id we hand out in createStream's _result (§7.2.1.3). */
const PUBLISH_STREAM_ID = 1;
/** After an orderly close (reject, kick), wait this long for the peer before destroying. */
const CLOSE_GRACE_MS = 2000;
/**
 * Replies queued for a peer that does not read them (pings, commands, acks all
 * answer input): past this many unsent bytes the connection is closed, so a
 * client that only sends cannot grow our write buffer without bound. Before
 * publishing, replies are a few hundred bytes: the bound is much smaller.
 */
const MAX_UNSENT_BYTES = 1024 * 1024;
const MAX_UNSENT_BYTES_BEFORE_PUBLISH = 64 * 1024;

/** What a connection needs from its server; kept off the public RtmpServer surface. */
export interface ServerHooks {
  readonly logger: Logger | undefined;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly maxMessageLength: number | undefined;
  /** Reader limits until the first publish is accepted (commands only; media waits for it). */
  readonly beforePublish: { maxMessageLength: number; maxBufferedBytes: number; budget: SharedBufferBudget };
  emitPublish(req: PublishRequest): void;
  /** The connection's first publish was accepted. */
  published(conn: Connection): void;
  isPublishing(key: string): boolean;
  claim(key: string, session: PublishSession): void;
  release(key: string, session: PublishSession): void;
  forget(conn: Connection): void;
}

/** One TCP connection: handshake, chunk stream, commands, at most one publish at a time. */
export class Connection implements PublishHost {
  readonly remoteAddress: string;
  private readonly label: string;
  private phase: "handshake" | "chunks" | "closing" | "closed" = "handshake";
  private readonly handshake = new ServerHandshake();
  private readonly reader: ChunkReader;
  private readonly writer = new ChunkWriter();
  private handshakeTimer: NodeJS.Timeout | null;
  /** Until the first publish starts. */
  private publishTimer: NodeJS.Timeout | null;
  private graceTimer: NodeJS.Timeout | null = null;
  private connected = false;
  app = "";
  private appQuery = "";
  tcUrl = "";
  domain = FALLBACK_DOMAIN;
  private objectEncoding = 0;
  private session: PublishSession | null = null;
  private bytesIn = 0;
  private bytesAcked = 0;
  private peerWindow = 0;
  private warnedAggregate = false;
  /** A reply was dropped because the peer left MAX_UNSENT_BYTES unread; onData closes the connection. */
  private unsentOverflow = false;
  /** Share of the budget for connections that have not published; null once publishing. */
  private account: BudgetAccount | null;
  private maxUnsentBytes = MAX_UNSENT_BYTES_BEFORE_PUBLISH;

  constructor(
    private readonly hooks: ServerHooks,
    private readonly socket: net.Socket,
  ) {
    this.remoteAddress = socket.remoteAddress ?? "";
    this.label = `rtmp ${this.remoteAddress}:${socket.remotePort ?? 0}`;
    const before = hooks.beforePublish;
    this.account = before.budget.open(() => {
      this.hooks.logger?.info(`${this.label}: holds the most of the memory budget for connections that have not published, closing`);
      this.destroy("memory budget");
    });
    this.reader = new ChunkReader(this.onMessage, {
      maxMessageLength: Math.min(before.maxMessageLength, hooks.maxMessageLength ?? before.maxMessageLength),
      maxBufferedBytes: before.maxBufferedBytes,
      reservation: this.account,
    });
    socket.setNoDelay(true);
    socket.setTimeout(hooks.idleTimeoutMs);
    socket.on("data", this.onData);
    socket.on("timeout", () => {
      this.hooks.logger?.info(`${this.label}: idle for ${this.hooks.idleTimeoutMs} ms, closing`);
      this.destroy("idle timeout");
    });
    socket.on("end", () => this.endSession("socket closed by peer"));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      this.hooks.logger?.info(`${this.label}: socket error ${err.code ?? ""} ${err.message}`);
      this.endSession(`socket error: ${err.code ?? err.message}`);
    });
    socket.on("close", () => {
      this.phase = "closed";
      this.clearTimers();
      this.endSession("socket closed");
      this.hooks.forget(this);
    });
    this.handshakeTimer = setTimeout(() => {
      this.hooks.logger?.info(`${this.label}: handshake not completed in ${this.hooks.handshakeTimeoutMs} ms, closing`);
      this.destroy("handshake timeout");
    }, hooks.handshakeTimeoutMs);
    this.publishTimer = setTimeout(() => {
      this.hooks.logger?.info(`${this.label}: no publish started in ${this.hooks.publishTimeoutMs} ms, closing`);
      this.destroy("publish timeout");
    }, hooks.publishTimeoutMs);
  }

  private clearTimers(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.publishTimer) clearTimeout(this.publishTimer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.handshakeTimer = null;
    this.publishTimer = null;
    this.graceTimer = null;
  }

  /** Immediate close. */
  destroy(reason: string): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.clearTimers();
    this.endSession(reason);
    this.dropBuffers();
    this.socket.destroy();
  }

  /** Nothing more is read: give the buffers and the budget share back now, not when the object is collected. */
  private dropBuffers(): void {
    this.account?.close();
    this.account = null;
    this.reader.dispose();
  }

  /** Flush what we wrote (e.g. an onStatus error), then close. */
  private closeGracefully(reason: string): void {
    if (this.phase === "closing" || this.phase === "closed") return;
    this.phase = "closing";
    this.clearTimers();
    this.endSession(reason);
    this.dropBuffers();
    this.socket.end();
    this.graceTimer = setTimeout(() => this.destroy(reason), CLOSE_GRACE_MS);
  }

  private fail(err: unknown): void {
    const code = err instanceof RecorderError ? err.code : "RTMP_INTERNAL";
    this.hooks.logger?.warn(`${this.label}: ${code}: ${errorMessage(err)}; closing connection`);
    this.destroy(`error: ${code}`);
  }

  private readonly onData = (data: Buffer): void => {
    if (this.phase === "closing" || this.phase === "closed") return;
    this.bytesIn += data.length;
    try {
      let buf: Buffer | undefined = data;
      if (this.phase === "handshake") {
        const step = this.handshake.push(data);
        if (step.reply) this.write(step.reply);
        if (!step.done) return;
        this.phase = "chunks";
        if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
        this.handshakeTimer = null;
        buf = step.rest;
      }
      if (buf) this.reader.push(buf);
      this.maybeAcknowledge();
      if (this.unsentOverflow) {
        throw new IngestError("RTMP_PEER_NOT_READING", `peer left more than ${this.maxUnsentBytes} bytes of replies unread`);
      }
    } catch (err) {
      this.fail(err);
    }
  };

  /** §5.4.3: acknowledge once the bytes received since the last ack reach the peer's window. */
  private maybeAcknowledge(): void {
    if (this.phase !== "chunks" || this.peerWindow <= 0) return;
    if (this.bytesIn - this.bytesAcked < this.peerWindow) return;
    this.bytesAcked = this.bytesIn;
    this.send(ChunkStreamId.ProtocolControl, MessageType.Acknowledgement, 0, u32Payload(this.bytesIn));
  }

  private readonly onMessage = (msg: RtmpMessage): void => {
    if (this.phase !== "chunks") return;
    switch (msg.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
        // Hot path: straight from the parser to the session's listeners.
        if (this.session !== null) {
          this.session.emit("tag", { type: msg.typeId as TagType, timestamp: msg.timestamp, data: msg.payload });
        }
        return;
      case MessageType.CommandAmf0:
        this.onCommand(msg, msg.payload);
        return;
      case MessageType.CommandAmf3:
        // §7.1.1: AMF3 command messages start with one format byte, then AMF0 values.
        this.onCommand(msg, msg.payload.subarray(1));
        return;
      case MessageType.WindowAckSize:
        if (msg.payload.length < 4) throw new ParseError("RTMP_BAD_CONTROL", "Window Acknowledgement Size payload too short");
        this.peerWindow = msg.payload.readUInt32BE(0);
        return;
      case MessageType.UserControl:
        this.onUserControl(msg.payload);
        return;
      case MessageType.Aggregate:
        if (!this.warnedAggregate) this.hooks.logger?.warn(`${this.label}: aggregate messages are not supported, dropping`);
        this.warnedAggregate = true;
        return;
      default:
        // Set Chunk Size / Abort are applied by the reader; Ack, Set Peer Bandwidth, shared objects: nothing to do.
        return;
    }
  };

  /** §7.1.7 */
  private onUserControl(payload: Buffer): void {
    if (payload.length < 2) throw new ParseError("RTMP_BAD_CONTROL", "User Control message too short");
    if (payload.readUInt16BE(0) !== UserControlEvent.PingRequest || payload.length < 6) return;
    const reply = Buffer.allocUnsafe(6);
    reply.writeUInt16BE(UserControlEvent.PingResponse, 0);
    payload.copy(reply, 2, 2, 6);
    this.send(ChunkStreamId.ProtocolControl, MessageType.UserControl, 0, reply);
  }

  private onCommand(msg: RtmpMessage, body: Buffer): void {
    const values = decodeAmf0(body);
    const name = values[0];
    if (typeof name !== "string") throw new ParseError("RTMP_BAD_COMMAND", "command name is not a string");
    const txn = typeof values[1] === "number" ? values[1] : 0;
    if (name === "connect") {
      this.onConnect(txn, values[2]);
      return;
    }
    if (!this.connected) throw new IngestError("RTMP_NOT_CONNECTED", `"${name}" before connect`);
    switch (name) {
      case "releaseStream":
        this.result(txn, null, undefined);
        return;
      case "FCPublish":
        this.sendCommand(ChunkStreamId.Command, 0, "onFCPublish", 0, null, {
          code: "NetStream.Publish.Start",
          description: str(values[3]),
        });
        this.result(txn, null, undefined);
        return;
      case "createStream":
        this.result(txn, null, PUBLISH_STREAM_ID);
        return;
      case "publish":
        this.onPublish(msg.streamId, str(values[3]));
        return;
      case "FCUnpublish":
      case "deleteStream":
      case "closeStream":
        if (this.session !== null) {
          this.onStatus(msg.streamId || PUBLISH_STREAM_ID, "status", "NetStream.Unpublish.Success", `${this.session.stream} is now unpublished.`);
          this.endSession(name);
        }
        return;
      case "play":
      case "play2":
        this.onStatus(msg.streamId, "error", "NetStream.Play.Failed", "playback is not supported by this server");
        this.closeGracefully("play refused");
        return;
      default:
        // getStreamLength, _checkbw, etc.: nothing a publisher waits for.
        return;
    }
  }

  private onConnect(txn: number, arg: Amf0Value): void {
    if (this.connected) throw new IngestError("RTMP_ALREADY_CONNECTED", "second connect on one connection");
    const params = readConnectParams(arg);
    this.app = params.app;
    this.appQuery = params.appQuery;
    this.tcUrl = params.tcUrl;
    this.domain = params.domain;
    this.objectEncoding = params.objectEncoding;
    this.connected = true;

    this.socket.cork();
    this.send(ChunkStreamId.ProtocolControl, MessageType.WindowAckSize, 0, u32Payload(WINDOW_ACK_SIZE));
    const bw = Buffer.allocUnsafe(5);
    bw.writeUInt32BE(PEER_BANDWIDTH, 0);
    bw[4] = PeerBandwidthLimit.Dynamic;
    this.send(ChunkStreamId.ProtocolControl, MessageType.SetPeerBandwidth, 0, bw);
    this.send(ChunkStreamId.ProtocolControl, MessageType.SetChunkSize, 0, u32Payload(OUT_CHUNK_SIZE));
    this.writer.setChunkSize(OUT_CHUNK_SIZE);
    this.result(
      txn,
      { fmsVer: FMS_VERSION, capabilities: FMS_CAPABILITIES },
      {
        level: "status",
        code: "NetConnection.Connect.Success",
        description: "Connection succeeded.",
        objectEncoding: this.objectEncoding,
      },
    );
    this.socket.uncork();
  }

  private onPublish(streamId: number, rawName: string): void {
    const id = streamId || PUBLISH_STREAM_ID;
    if (this.session !== null) {
      this.refusePublish(id, "NetStream.Publish.BadName", "connection is already publishing");
      return;
    }
    const [stream, streamQuery] = splitQuery(rawName);
    if (stream === "") {
      this.refusePublish(id, "NetStream.Publish.BadName", "missing stream name");
      return;
    }
    if (this.hooks.isPublishing(publishKey(this.domain, this.app, stream))) {
      this.hooks.logger?.info(`${this.label}: ${this.domain}/${this.app}/${stream} is already publishing, refusing`);
      this.refusePublish(id, "NetStream.Publish.BadName", "stream is already publishing");
      return;
    }
    const query = [this.appQuery, streamQuery].filter((q) => q !== "").join("&");
    const req = new PendingPublish(this, stream, query, id);
    this.hooks.emitPublish(req);
    if (req.state === "pending") {
      req.state = "expired";
      this.refusePublish(id, "NetStream.Publish.Rejected", "no handler accepted the publish");
      return;
    }
    req.state = "expired";
  }

  startSession(req: PendingPublish): PublishSession {
    const session = new PublishSession(req, this, this.hooks.logger);
    if (this.phase !== "chunks") {
      // The connection died while the listener ran: hand back an already ended session.
      session.finish("socket closed");
      return session;
    }
    this.session = session;
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    if (this.account !== null) {
      // Accepted (push auth passed): full limits, off the shared budget.
      const opts = this.hooks.maxMessageLength === undefined ? {} : { maxMessageLength: this.hooks.maxMessageLength };
      this.reader.setLimits({ maxMessageLength: DEFAULT_MAX_MESSAGE_LENGTH, maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES, reservation: null, ...opts });
      this.account.close();
      this.account = null;
      this.maxUnsentBytes = MAX_UNSENT_BYTES;
      this.hooks.published(this);
    }
    this.hooks.claim(session.key, session);
    const begin = Buffer.allocUnsafe(6);
    begin.writeUInt16BE(UserControlEvent.StreamBegin, 0);
    begin.writeUInt32BE(req.streamId, 2);
    this.socket.cork();
    this.send(ChunkStreamId.ProtocolControl, MessageType.UserControl, 0, begin);
    this.onStatus(req.streamId, "status", "NetStream.Publish.Start", `${req.stream} is now published.`);
    this.socket.uncork();
    this.hooks.logger?.info(`${this.label}: publishing ${session.key} (session ${session.sessionId})`);
    return session;
  }

  refusePublish(streamId: number, code: string, description: string): void {
    this.onStatus(streamId, "error", code, description);
    this.closeGracefully(`publish refused: ${code}`);
  }

  kick(session: PublishSession): void {
    if (this.session === session) this.closeGracefully("closed by server");
  }

  private endSession(reason: string): void {
    const s = this.session;
    if (s === null) return;
    this.session = null;
    // Release the key first so an `end` listener can already accept a re-publish.
    this.hooks.release(s.key, s);
    this.hooks.logger?.info(`${this.label}: ${s.key} ended: ${reason}`);
    s.finish(reason);
  }

  private result(txn: number, props: Amf0Value, info: Amf0Value): void {
    if (txn > 0) this.sendCommand(ChunkStreamId.Command, 0, "_result", txn, props, info);
  }

  /** §7.2.2 onStatus on the NetStream. */
  private onStatus(streamId: number, level: "status" | "error", code: string, description: string): void {
    this.sendCommand(ChunkStreamId.Data, streamId, "onStatus", 0, null, { level, code, description });
  }

  private sendCommand(csid: number, streamId: number, ...values: Amf0Value[]): void {
    this.send(csid, MessageType.CommandAmf0, streamId, encodeAmf0(...values));
  }

  private send(csid: number, typeId: number, streamId: number, payload: Buffer): void {
    this.write(this.writer.encode(csid, { typeId, streamId, timestamp: 0, payload }));
  }

  private write(buf: Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.socket.writableLength > this.maxUnsentBytes) {
      // Not thrown here: writes also happen inside the publish listener's accept()/reject().
      this.unsentOverflow = true;
      return;
    }
    this.socket.write(buf);
  }
}
