export {
  type Amf0Object,
  type Amf0Value,
  AMF0_MAX_DEPTH,
  AMF0_MAX_UTF8_GROWTH,
  AMF0_MAX_VALUES,
  Amf0Marker,
  decodeAmf0,
  encodeAmf0,
  encodeEcmaArray,
} from "./amf0.js";
export { ChunkReader, type ChunkReaderOptions, ChunkWriter, type RtmpMessage } from "./chunk-stream.js";
export { ClientHandshake, type HandshakeStep, ServerHandshake } from "./handshake.js";
export { ChunkStreamId, MessageType, UserControlEvent } from "./protocol.js";
export { RtmpPublisher, RtmpPublishRefusedError, type RtmpPublisherOptions } from "./rtmp-publisher.js";
export {
  type PublishRequest,
  PublishSession,
  type PublishSessionEvents,
  RtmpServer,
  type RtmpServerEvents,
  type RtmpServerOptions,
} from "./rtmp-server.js";
