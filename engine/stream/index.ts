/** The engine's live stream: tags in, described frames out to every attached recording. */
export { MAX_HELD_BYTES, MAX_HELD_FRAMES, StreamHub, type StreamHubOptions } from "./stream-hub.js";
export { StreamHeaders } from "./stream-headers.js";
export type { FrameSink, HubAttachment, StreamIdentity } from "./types.js";
