/**
 * RTMP chunk stream (Adobe RTMP Specification 1.0, §5.3): a push parser that
 * reassembles messages from chunks, and a writer that splits messages into chunks.
 * Pure: no I/O, no timers.
 */
import { IngestError, ParseError } from "../errors.js";
import type { BufferReservation } from "./buffer-budget.js";
import { DEFAULT_CHUNK_SIZE, MessageType } from "./protocol.js";

export interface RtmpMessage {
  typeId: number;
  streamId: number;
  /** Milliseconds, unsigned 32-bit (wraps). */
  timestamp: number;
  payload: Buffer;
}

export interface ChunkReaderOptions {
  /** Largest message accepted; larger ones are refused before allocating. Default 8 MiB. */
  maxMessageLength?: number;
  /** Distinct chunk stream ids accepted per connection. Default 64. */
  maxChunkStreams?: number;
  /** Largest Set Chunk Size accepted (spec allows up to 0x7FFFFFFF). Default 16 MiB. */
  maxChunkSize?: number;
  /** Total bytes held in incomplete messages across all chunk streams. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** A shared budget to reserve message buffers from (their allocated size), besides maxBufferedBytes. */
  reservation?: BufferReservation | null;
}

/** The limits that may change while reading (a connection gets more room once it publishes). */
export type ChunkReaderLimits = Pick<ChunkReaderOptions, "maxMessageLength" | "maxBufferedBytes" | "reservation">;

/** §5.3.1.1: csid 0 in the first byte means a 2-byte basic header, 1 a 3-byte one. */
const CSID_TWO_BYTE_FORM = 0;
const CSID_THREE_BYTE_FORM = 1;
/** §5.3.1.1: the 2- and 3-byte forms encode csid - 64. */
const CSID_MULTI_BYTE_OFFSET = 64;
const CSID_MIN = 2;
const CSID_ONE_BYTE_MAX = 63;
const CSID_TWO_BYTE_MAX = 319;
const CSID_MAX = 65599;

/** §5.3.1.2: message header length for fmt 0, 1, 2, 3. */
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;
const FMT_FULL = 0;
const FMT_CONTINUATION = 3;
/** §5.3.1.3: a 24-bit timestamp field of 0xFFFFFF means a 32-bit extended timestamp follows. */
const EXTENDED_TIMESTAMP_MARKER = 0xffffff;
const EXTENDED_TIMESTAMP_SIZE = 4;
/** §5.3.1.2.1: message length is a 24-bit field. */
const MAX_MESSAGE_LENGTH_FIELD = 0xffffff;
/** §5.4.1: chunk size is 31 bits, the top bit must be zero. */
const MAX_CHUNK_SIZE_FIELD = 0x7fffffff;
/** Basic header (3) + fmt-0 message header (11) + extended timestamp (4). */
const MAX_CHUNK_HEADER_SIZE = 3 + 11 + EXTENDED_TIMESTAMP_SIZE;

/**
 * First allocation for a message is at most this, and at most
 * INITIAL_CAPACITY_FACTOR times the bytes received so far; it then grows by
 * doubling, so memory follows bytes received, not the declared length (a
 * chunk stream declaring 8 MiB and sending one 128-byte chunk must not
 * reserve 64 KiB: 64 such streams per connection made ~4 MiB from ~9 KB).
 */
const INITIAL_MESSAGE_CAPACITY = 64 * 1024;
const INITIAL_CAPACITY_FACTOR = 4;

const MiB = 1024 * 1024;
export const DEFAULT_MAX_MESSAGE_LENGTH = 8 * MiB;
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * MiB;

/** Per chunk-stream-id state (§5.3.1.2: fmt 1/2/3 headers inherit from it). */
class ChunkStreamState {
  /** Absolute timestamp of the current/last message. */
  timestamp = 0;
  /** Last timestamp field (absolute for fmt 0, delta otherwise), reused by fmt 3 (§5.3.1.2.4). */
  tsField = 0;
  /** Whether the last fmt 0/1/2 header used an extended timestamp; fmt 3 chunks then carry one too. */
  extended = false;
  length = 0;
  typeId = 0;
  streamId = 0;
  inProgress = false;
  received = 0;
  buf: Buffer | null = null;
}

export class ChunkReader {
  private maxMessageLength: number;
  private readonly maxChunkStreams: number;
  private readonly maxChunkSize: number;
  private maxBufferedBytes: number;
  private reservation: BufferReservation | null;
  private readonly streams = new Map<number, ChunkStreamState>();
  private chunkSizeIn = DEFAULT_CHUNK_SIZE;
  /** Bytes of a chunk header split across pushes. */
  private readonly header = Buffer.allocUnsafe(MAX_CHUNK_HEADER_SIZE);
  private headerLen = 0;
  /** Chunk stream whose chunk payload is being read, or null when expecting a header. */
  private current: ChunkStreamState | null = null;
  private chunkLeft = 0;
  private buffered = 0;
  private failure: unknown = null;
  private failed = false;

  constructor(
    private readonly onMessage: (msg: RtmpMessage) => void,
    options: ChunkReaderOptions = {},
  ) {
    this.maxMessageLength = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    this.maxChunkStreams = options.maxChunkStreams ?? 64;
    this.maxChunkSize = options.maxChunkSize ?? 16 * MiB;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.reservation = options.reservation ?? null;
  }

  /**
   * Changes limits for what is read from now on. Bytes already reserved from a
   * reservation being replaced are not released to it: the caller closes it.
   */
  setLimits(limits: ChunkReaderLimits): void {
    if (limits.maxMessageLength !== undefined) this.maxMessageLength = limits.maxMessageLength;
    if (limits.maxBufferedBytes !== undefined) this.maxBufferedBytes = limits.maxBufferedBytes;
    if (limits.reservation !== undefined) this.reservation = limits.reservation;
  }

  /** Chunk size currently used to read (changed by the peer's Set Chunk Size). */
  get chunkSize(): number {
    return this.chunkSizeIn;
  }

  /** Bytes currently held in incomplete messages. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds bytes; calls onMessage for each completed message, synchronously.
   * Any error (including one thrown by onMessage) kills the reader: later
   * pushes rethrow it.
   */
  push(buf: Buffer): void {
    if (this.failed) {
      if (this.failure === null) return;
      throw this.failure;
    }
    try {
      this.consume(buf);
    } catch (err) {
      this.failed = true;
      this.failure = err;
      this.release();
      throw err;
    }
  }

  /** Drops every buffer; later pushes are ignored. For a connection that is closing. */
  dispose(): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = null;
    this.release();
  }

  private release(): void {
    for (const st of this.streams.values()) {
      this.reservation?.release(st.buf?.length ?? 0);
      st.buf = null;
    }
    this.current = null;
    this.buffered = 0;
  }

  private consume(buf: Buffer): void {
    const end = buf.length;
    let pos = 0;
    // `failed` too: a message listener may dispose of the reader mid-buffer.
    while (pos < end && !this.failed) {
      const cur = this.current;
      if (cur !== null) {
        const n = Math.min(this.chunkLeft, end - pos);
        this.append(cur, buf, pos, n);
        pos += n;
        this.chunkLeft -= n;
        if (this.chunkLeft === 0) {
          this.current = null;
          if (cur.received === cur.length) this.complete(cur);
        }
        continue;
      }
      if (this.headerLen === 0) {
        const avail = end - pos;
        const need = this.headerLength(buf, pos, avail);
        if (need <= avail) {
          this.parseHeader(buf, pos);
          pos += need;
        } else {
          buf.copy(this.header, 0, pos, end);
          this.headerLen = avail;
          pos = end;
        }
        continue;
      }
      // Finish a header that was split across pushes.
      for (;;) {
        const need = this.headerLength(this.header, 0, this.headerLen);
        if (this.headerLen >= need) break;
        if (pos >= end) return;
        const k = Math.min(need - this.headerLen, end - pos);
        buf.copy(this.header, this.headerLen, pos, pos + k);
        this.headerLen += k;
        pos += k;
      }
      this.headerLen = 0;
      this.parseHeader(this.header, 0);
    }
  }

  /**
   * Length of the chunk header starting at `off`, or (when `avail` is too short
   * to tell) a lower bound larger than `avail`.
   */
  private headerLength(src: Buffer, off: number, avail: number): number {
    const b0 = src[off]!;
    const fmt = b0 >> 6;
    const low = b0 & 0x3f;
    const basic = low === CSID_TWO_BYTE_FORM ? 2 : low === CSID_THREE_BYTE_FORM ? 3 : 1;
    if (avail < basic) return basic;
    const mh = MESSAGE_HEADER_SIZE[fmt as 0 | 1 | 2 | 3];
    if (avail < basic + mh) return basic + mh;
    let extended: boolean;
    if (fmt === FMT_CONTINUATION) {
      extended = this.streams.get(readCsid(src, off, low))?.extended ?? false;
    } else {
      extended = src.readUIntBE(off + basic, 3) === EXTENDED_TIMESTAMP_MARKER;
    }
    return basic + mh + (extended ? EXTENDED_TIMESTAMP_SIZE : 0);
  }

  private parseHeader(src: Buffer, off: number): void {
    const b0 = src[off]!;
    const fmt = b0 >> 6;
    const low = b0 & 0x3f;
    const csid = readCsid(src, off, low);
    let p = off + (low === CSID_TWO_BYTE_FORM ? 2 : low === CSID_THREE_BYTE_FORM ? 3 : 1);

    let st = this.streams.get(csid);
    if (st === undefined) {
      // §5.3.1.2: the first chunk of a chunk stream must carry a full header; fmt 1
      // is tolerated (it has everything but the stream id) as other servers do.
      if (fmt > 1) throw new ParseError("RTMP_BAD_CHUNK", `chunk stream ${csid} starts with a fmt ${fmt} header`);
      if (this.streams.size >= this.maxChunkStreams) {
        throw new IngestError("RTMP_TOO_MANY_CHUNK_STREAMS", `more than ${this.maxChunkStreams} chunk streams`);
      }
      st = new ChunkStreamState();
      this.streams.set(csid, st);
    }

    if (fmt === FMT_CONTINUATION) {
      if (st.inProgress) {
        // Continuation chunk: a repeated extended timestamp carries nothing new.
        this.current = st;
        this.chunkLeft = Math.min(this.chunkSizeIn, st.length - st.received);
        return;
      }
      // New message with the previous header and delta (§5.3.1.2.4).
      const delta = st.extended ? src.readUInt32BE(p) : st.tsField;
      st.tsField = delta;
      st.timestamp = (st.timestamp + delta) >>> 0;
      this.begin(st);
      return;
    }

    if (st.inProgress) {
      throw new ParseError("RTMP_BAD_CHUNK", `fmt ${fmt} header on chunk stream ${csid} while a message is incomplete`);
    }
    let field = src.readUIntBE(p, 3);
    if (fmt <= 1) {
      st.length = src.readUIntBE(p + 3, 3);
      st.typeId = src[p + 6]!;
      if (fmt === FMT_FULL) st.streamId = src.readUInt32LE(p + 7);
    }
    p += MESSAGE_HEADER_SIZE[fmt as 0 | 1 | 2];
    st.extended = field === EXTENDED_TIMESTAMP_MARKER;
    if (st.extended) field = src.readUInt32BE(p);
    st.tsField = field;
    st.timestamp = fmt === FMT_FULL ? field : (st.timestamp + field) >>> 0;
    this.begin(st);
  }

  private begin(st: ChunkStreamState): void {
    if (st.length > this.maxMessageLength) {
      throw new IngestError(
        "RTMP_MESSAGE_TOO_LARGE",
        `message of ${st.length} bytes exceeds the ${this.maxMessageLength}-byte limit`,
      );
    }
    st.inProgress = true;
    st.received = 0;
    st.buf = null;
    if (st.length === 0) {
      this.complete(st);
      return;
    }
    this.current = st;
    this.chunkLeft = Math.min(this.chunkSizeIn, st.length);
  }

  private append(st: ChunkStreamState, src: Buffer, pos: number, n: number): void {
    if (this.buffered + n > this.maxBufferedBytes) {
      throw new IngestError("RTMP_BUFFER_LIMIT", `more than ${this.maxBufferedBytes} bytes in incomplete messages`);
    }
    const need = st.received + n;
    let b = st.buf;
    if (b === null || need > b.length) {
      const grown = b === null ? Math.min(INITIAL_MESSAGE_CAPACITY, need * INITIAL_CAPACITY_FACTOR) : b.length * 2;
      const cap = Math.min(st.length, Math.max(need, grown));
      // The budget counts what is allocated, not only what was received (up to 4x as much).
      if (this.reservation !== null && !this.reservation.reserve(cap - (b?.length ?? 0))) {
        throw new IngestError("RTMP_BUFFER_BUDGET", "the memory budget for connections that have not published is spent");
      }
      const nb = Buffer.allocUnsafe(cap);
      if (b !== null) b.copy(nb, 0, 0, st.received);
      st.buf = b = nb;
    }
    src.copy(b, st.received, pos, pos + n);
    st.received = need;
    this.buffered += n;
  }

  private complete(st: ChunkStreamState): void {
    const payload = st.buf ?? Buffer.alloc(0);
    this.buffered -= st.received;
    this.reservation?.release(payload.length);
    st.inProgress = false;
    st.buf = null;
    st.received = 0;
    if (st.typeId === MessageType.SetChunkSize) this.applyChunkSize(payload);
    else if (st.typeId === MessageType.Abort) this.applyAbort(payload);
    this.onMessage({ typeId: st.typeId, streamId: st.streamId, timestamp: st.timestamp, payload });
  }

  /** §5.4.1 */
  private applyChunkSize(payload: Buffer): void {
    if (payload.length < 4) throw new ParseError("RTMP_BAD_CONTROL", "Set Chunk Size payload shorter than 4 bytes");
    const size = payload.readUInt32BE(0);
    if (size === 0 || size > MAX_CHUNK_SIZE_FIELD || size > this.maxChunkSize) {
      throw new IngestError("RTMP_CHUNK_SIZE", `refusing chunk size ${size} (allowed 1..${this.maxChunkSize})`);
    }
    this.chunkSizeIn = size;
  }

  /** §5.4.2 */
  private applyAbort(payload: Buffer): void {
    if (payload.length < 4) throw new ParseError("RTMP_BAD_CONTROL", "Abort payload shorter than 4 bytes");
    const st = this.streams.get(payload.readUInt32BE(0));
    if (st?.inProgress) {
      this.buffered -= st.received;
      this.reservation?.release(st.buf?.length ?? 0);
      st.inProgress = false;
      st.buf = null;
      st.received = 0;
    }
  }
}

function readCsid(src: Buffer, off: number, low: number): number {
  if (low === CSID_TWO_BYTE_FORM) return CSID_MULTI_BYTE_OFFSET + src[off + 1]!;
  if (low === CSID_THREE_BYTE_FORM) return CSID_MULTI_BYTE_OFFSET + src[off + 1]! + src[off + 2]! * 256;
  return low;
}

function writeBasicHeader(out: Buffer, p: number, fmt: number, csid: number): number {
  if (csid <= CSID_ONE_BYTE_MAX) {
    out[p] = (fmt << 6) | csid;
    return p + 1;
  }
  const v = csid - CSID_MULTI_BYTE_OFFSET;
  if (csid <= CSID_TWO_BYTE_MAX) {
    out[p] = (fmt << 6) | CSID_TWO_BYTE_FORM;
    out[p + 1] = v;
    return p + 2;
  }
  out[p] = (fmt << 6) | CSID_THREE_BYTE_FORM;
  out[p + 1] = v & 0xff;
  out[p + 2] = v >> 8;
  return p + 3;
}

/**
 * Splits messages into chunks: a fmt 0 chunk, then fmt 3 continuations. It
 * never compresses headers (always valid, a few bytes more per message).
 */
export class ChunkWriter {
  private size = DEFAULT_CHUNK_SIZE;

  get chunkSize(): number {
    return this.size;
  }

  /** Call right after encoding the Set Chunk Size message that announces `n` (§5.4.1). */
  setChunkSize(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_CHUNK_SIZE_FIELD) throw new RangeError(`invalid chunk size ${n}`);
    this.size = n;
  }

  encode(csid: number, msg: RtmpMessage): Buffer {
    if (!Number.isInteger(csid) || csid < CSID_MIN || csid > CSID_MAX) throw new RangeError(`invalid chunk stream id ${csid}`);
    const len = msg.payload.length;
    if (len > MAX_MESSAGE_LENGTH_FIELD) {
      throw new IngestError("RTMP_MESSAGE_TOO_LARGE", `message of ${len} bytes does not fit the 24-bit length field`);
    }
    const ts = msg.timestamp >>> 0;
    const ext = ts >= EXTENDED_TIMESTAMP_MARKER;
    const basic = csid <= CSID_ONE_BYTE_MAX ? 1 : csid <= CSID_TWO_BYTE_MAX ? 2 : 3;
    const extSize = ext ? EXTENDED_TIMESTAMP_SIZE : 0;
    const chunks = Math.max(1, Math.ceil(len / this.size));
    const out = Buffer.allocUnsafe(basic + MESSAGE_HEADER_SIZE[FMT_FULL] + extSize + len + (chunks - 1) * (basic + extSize));

    let p = writeBasicHeader(out, 0, FMT_FULL, csid);
    out.writeUIntBE(ext ? EXTENDED_TIMESTAMP_MARKER : ts, p, 3);
    out.writeUIntBE(len, p + 3, 3);
    out[p + 6] = msg.typeId;
    out.writeUInt32LE(msg.streamId >>> 0, p + 7);
    p += MESSAGE_HEADER_SIZE[FMT_FULL];
    if (ext) p = out.writeUInt32BE(ts, p);

    let off = 0;
    for (;;) {
      const n = Math.min(this.size, len - off);
      msg.payload.copy(out, p, off, off + n);
      p += n;
      off += n;
      if (off >= len) break;
      p = writeBasicHeader(out, p, FMT_CONTINUATION, csid);
      // ffmpeg and librtmp expect the extended timestamp on continuation chunks too.
      if (ext) p = out.writeUInt32BE(ts, p);
    }
    return out;
  }
}
