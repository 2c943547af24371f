/**
 * Minimal RTMP publishing client (replay command, tests). Sends what a real
 * encoder sends: connect, releaseStream, FCPublish, createStream, publish,
 * then media, with onMetaData wrapped in @setDataFrame.
 *
 * Chunk stream ids: 2 protocol control, 3 commands, 8 NetStream commands,
 * 4 audio, 6 video, 5 data (see ChunkStreamId).
 */
import net from "node:net";
import { IngestError, errorMessage } from "../errors.js";
import type { FlvTag } from "../flv/types.js";
import { type Amf0Object, type Amf0Value, decodeAmf0, encodeAmf0 } from "./amf0.js";
import { ChunkReader, type RtmpMessage, ChunkWriter } from "./chunk-stream.js";
import { ClientHandshake } from "./handshake.js";
import { ChunkStreamId, MessageType, UserControlEvent, u32Payload } from "./protocol.js";

export interface RtmpPublisherOptions {
  /** Whole connect-to-Publish.Start budget. Default 10 s. */
  timeoutMs?: number;
  /** Publish this exact name (stream[?query]) instead of the URL's, bytes as given: for testing how servers treat odd names. */
  publishName?: string;
}

/** The server refused the connect or the publish; `status` is its onStatus/_error info. */
export class RtmpPublishRefusedError extends IngestError {
  constructor(
    readonly status: { level: string; code: string; description: string },
    what: string,
  ) {
    super("RTMP_PUBLISH_REFUSED", `${what} refused: ${status.code}: ${status.description}`, { fatal: true });
  }
}

const DEFAULT_PORT = 1935; // §4.1 / IANA
const DEFAULT_TIMEOUT_MS = 10_000;
const OUT_CHUNK_SIZE = 4096;
const CLOSE_TIMEOUT_MS = 5000;
const FLASH_VER = "FMLE/3.0 (compatible; live-recorder)";
const SET_DATA_FRAME = encodeAmf0("@setDataFrame");
/** AMF0 encoding of the string "onMetaData" (marker, 16-bit length, bytes). */
const ON_METADATA = encodeAmf0("onMetaData");

const TXN_CONNECT = 1;
const TXN_RELEASE_STREAM = 2;
const TXN_FCPUBLISH = 3;
const TXN_CREATE_STREAM = 4;
const TXN_PUBLISH = 5;

interface ParsedUrl {
  host: string;
  port: number;
  app: string;
  /** Publish name, "stream?query" when the URL had a query. */
  name: string;
  tcUrl: string;
}

function parseRtmpUrl(url: string): ParsedUrl {
  if (!URL.canParse(url)) throw new IngestError("RTMP_BAD_URL", `not a URL: ${url}`, { fatal: true });
  const u = new URL(url);
  if (u.protocol !== "rtmp:") throw new IngestError("RTMP_BAD_URL", `only rtmp:// is supported: ${url}`, { fatal: true });
  let host = u.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = u.port === "" ? DEFAULT_PORT : Number(u.port);
  const segments = u.pathname.split("/").filter((s) => s !== "");
  const app = segments[0];
  const stream = segments.slice(1).join("/");
  if (host === "" || app === undefined || stream === "") {
    throw new IngestError("RTMP_BAD_URL", `expected rtmp://host[:port]/app/stream: ${url}`, { fatal: true });
  }
  const query = u.search.startsWith("?") ? u.search.slice(1) : u.search;
  return {
    host,
    port,
    app,
    name: query === "" ? stream : `${stream}?${query}`,
    tcUrl: `rtmp://${u.hostname}:${port}/${app}`,
  };
}

function isObject(v: Amf0Value): v is Amf0Object {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function statusOf(v: Amf0Value): { level: string; code: string; description: string } {
  const o = isObject(v) ? v : {};
  const s = (x: Amf0Value): string => (typeof x === "string" ? x : "");
  return { level: s(o["level"]), code: s(o["code"]), description: s(o["description"]) };
}

export class RtmpPublisher {
  private readonly writer = new ChunkWriter();
  private readonly reader: ChunkReader;
  private streamId = 0;
  private closePromise: Promise<void> | null = null;
  private isClosed = false;
  /** Set during connect(); settles the connect promise. */
  private pending: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** Last onStatus the server sent after publish started (e.g. why it kicked us). */
  lastStatus: { level: string; code: string; description: string } | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly target: ParsedUrl,
  ) {
    this.reader = new ChunkReader((msg) => this.onMessage(msg));
    socket.on("close", () => {
      this.isClosed = true;
      this.settle(new IngestError("RTMP_CONNECTION_CLOSED", "server closed the connection", { fatal: true }));
    });
  }

  /** Connects and starts publishing; resolves after NetStream.Publish.Start. */
  static async connect(url: string, opts: RtmpPublisherOptions = {}): Promise<RtmpPublisher> {
    const target = parseRtmpUrl(url);
    if (opts.publishName !== undefined) target.name = opts.publishName;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const socket = net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const pub = new RtmpPublisher(socket, target);
    const timer = setTimeout(() => {
      pub.settle(new IngestError("RTMP_TIMEOUT", `no NetStream.Publish.Start from ${target.host}:${target.port} within ${timeoutMs} ms`, { fatal: true }));
    }, timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        pub.pending = { resolve, reject };
        pub.start();
      });
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return pub;
  }

  private settle(err?: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (err) p.reject(err);
    else p.resolve();
  }

  private start(): void {
    const hs = new ClientHandshake();
    let handshaking = true;
    this.socket.on("error", (err) => {
      this.settle(new IngestError("RTMP_CONNECT_FAILED", `${this.target.host}:${this.target.port}: ${errorMessage(err)}`, { fatal: true, cause: err }));
    });
    this.socket.on("connect", () => this.socket.write(hs.start()));
    this.socket.on("data", (data: Buffer) => {
      try {
        let buf: Buffer | undefined = data;
        if (handshaking) {
          const step = hs.push(data);
          if (!step.done) return;
          handshaking = false;
          this.socket.write(step.reply!);
          this.sendConnect();
          buf = step.rest;
        }
        if (buf) this.reader.push(buf);
      } catch (err) {
        this.settle(err instanceof Error ? err : new Error(String(err)));
        this.socket.destroy();
      }
    });
  }

  private sendConnect(): void {
    this.command(ChunkStreamId.Command, 0, "connect", TXN_CONNECT, {
      app: this.target.app,
      type: "nonprivate",
      flashVer: FLASH_VER,
      tcUrl: this.target.tcUrl,
    });
  }

  private onMessage(msg: RtmpMessage): void {
    if (msg.typeId === MessageType.UserControl && msg.payload.length >= 6) {
      if (msg.payload.readUInt16BE(0) === UserControlEvent.PingRequest) {
        const reply = Buffer.from(msg.payload.subarray(0, 6));
        reply.writeUInt16BE(UserControlEvent.PingResponse, 0);
        this.send(ChunkStreamId.ProtocolControl, MessageType.UserControl, 0, 0, reply);
      }
      return;
    }
    if (msg.typeId !== MessageType.CommandAmf0) return;
    const [name, txn, , info] = decodeAmf0(msg.payload);
    if (name === "_result" && txn === TXN_CONNECT) {
      // Set Chunk Size first so every media message goes out in large chunks.
      this.send(ChunkStreamId.ProtocolControl, MessageType.SetChunkSize, 0, 0, u32Payload(OUT_CHUNK_SIZE));
      this.writer.setChunkSize(OUT_CHUNK_SIZE);
      const stream = this.target.name;
      this.command(ChunkStreamId.Command, 0, "releaseStream", TXN_RELEASE_STREAM, null, stream);
      this.command(ChunkStreamId.Command, 0, "FCPublish", TXN_FCPUBLISH, null, stream);
      this.command(ChunkStreamId.Command, 0, "createStream", TXN_CREATE_STREAM, null);
    } else if (name === "_error" && txn === TXN_CONNECT) {
      const s = statusOf(info);
      this.settle(new RtmpPublishRefusedError(s, "connect"));
    } else if (name === "_result" && txn === TXN_CREATE_STREAM) {
      this.streamId = typeof info === "number" ? info : 1;
      this.command(ChunkStreamId.StreamCommand, this.streamId, "publish", TXN_PUBLISH, null, this.target.name, "live");
    } else if (name === "_error" && txn === TXN_CREATE_STREAM) {
      this.settle(new RtmpPublishRefusedError(statusOf(info), "createStream"));
    } else if (name === "onStatus") {
      const s = statusOf(info);
      if (this.pending === null) {
        this.lastStatus = s;
      } else if (s.code === "NetStream.Publish.Start") {
        this.settle();
      } else if (s.level === "error") {
        this.settle(new RtmpPublishRefusedError(s, "publish"));
      }
    }
  }

  get closed(): boolean {
    return this.isClosed || this.socket.destroyed;
  }

  /** Stream name as sent in publish ("stream?query"). */
  get publishName(): string {
    return this.target.name;
  }

  /**
   * Sends one audio (csid 4), video (csid 6) or data (csid 5) tag. Returns
   * false when the socket buffer is full (await drain()). onMetaData is sent as
   * @setDataFrame + onMetaData, like ffmpeg and OBS.
   */
  sendTag(tag: FlvTag): boolean {
    if (this.closed) throw new IngestError("RTMP_CONNECTION_CLOSED", "publisher connection is closed", { fatal: true });
    let csid: number;
    let payload = tag.data;
    if (tag.type === MessageType.Audio) csid = ChunkStreamId.Audio;
    else if (tag.type === MessageType.Video) csid = ChunkStreamId.Video;
    else {
      csid = ChunkStreamId.Data;
      if (payload.length >= ON_METADATA.length && payload.subarray(0, ON_METADATA.length).equals(ON_METADATA)) {
        payload = Buffer.concat([SET_DATA_FRAME, payload]);
      }
    }
    return this.send(csid, tag.type, this.streamId, tag.timestamp, payload);
  }

  /** Resolves when the socket can take more data (or closed). */
  async drain(): Promise<void> {
    if (this.closed || !this.socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /** Sends FCUnpublish + deleteStream, ends the socket and waits for it to close. Idempotent. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closePromise = new Promise<void>((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      if (!this.isClosed && this.socket.writable) {
        this.command(ChunkStreamId.Command, 0, "FCUnpublish", 0, null, this.target.name);
        this.command(ChunkStreamId.Command, 0, "deleteStream", 0, null, this.streamId);
        this.socket.end();
      } else {
        this.socket.destroy();
      }
    });
    return this.closePromise;
  }

  private command(csid: number, streamId: number, ...values: Amf0Value[]): void {
    this.send(csid, MessageType.CommandAmf0, streamId, 0, encodeAmf0(...values));
  }

  private send(csid: number, typeId: number, streamId: number, timestamp: number, payload: Buffer): boolean {
    return this.socket.write(this.writer.encode(csid, { typeId, streamId, timestamp, payload }));
  }
}
