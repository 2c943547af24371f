/**
 * RTMP protocol numbers (Adobe RTMP Specification 1.0).
 */

/** Message type ids. */
export const MessageType = {
  SetChunkSize: 1, // §5.4.1
  Abort: 2, // §5.4.2
  Acknowledgement: 3, // §5.4.3
  UserControl: 4, // §6.2 / §7.1.7
  WindowAckSize: 5, // §5.4.4
  SetPeerBandwidth: 6, // §5.4.5
  Audio: 8, // §7.1.4
  Video: 9, // §7.1.5
  DataAmf3: 15, // §7.1.2
  SharedObjectAmf3: 16, // §7.1.3
  CommandAmf3: 17, // §7.1.1
  DataAmf0: 18, // §7.1.2
  SharedObjectAmf0: 19, // §7.1.3
  CommandAmf0: 20, // §7.1.1
  Aggregate: 22, // §7.1.6
} as const;

/** User control event types (§7.1.7). */
export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** Set Peer Bandwidth limit types (§5.4.5). */
export const PeerBandwidthLimit = {
  Hard: 0,
  Soft: 1,
  Dynamic: 2,
} as const;

/**
 * Chunk stream ids we send on. csid 2 is reserved for protocol control
 * messages (§5.3.1.1, §5.4); the rest are our choice (same as ffmpeg/librtmp
 * for commands): 3 for NetConnection commands, 4 audio, 5 data/NetStream
 * status, 6 video, 8 NetStream commands.
 */
export const ChunkStreamId = {
  ProtocolControl: 2,
  Command: 3,
  Audio: 4,
  Data: 5,
  Video: 6,
  StreamCommand: 8,
} as const;

/** Default chunk size before any Set Chunk Size (§5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;

/** Protocol version carried by C0/S0 (§5.2.2). */
export const RTMP_VERSION = 3;

/** Size of C1/S1/C2/S2 (§5.2.3, §5.2.4). */
export const HANDSHAKE_PACKET_SIZE = 1536;

/** Builds a protocol control message payload holding one 32-bit big-endian value (§5.4.1 - §5.4.4). */
export function u32Payload(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}
