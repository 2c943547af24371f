/** A bare TCP client for RTMP servers under test: optional handshake, replies parsed, chosen source address. */
import net from "node:net";
import { encodeAmf0 } from "../../engine/rtmp/amf0.js";
import { ChunkReader, ChunkWriter, type RtmpMessage } from "../../engine/rtmp/chunk-stream.js";
import { ClientHandshake } from "../../engine/rtmp/handshake.js";
import { MessageType } from "../../engine/rtmp/protocol.js";

export interface RawSocket {
  socket: net.Socket;
  /** Milliseconds from connecting to the socket's close. */
  closed: Promise<number>;
  replies: () => RtmpMessage[];
}

/** Connects to 127.0.0.1:port from `localAddress` (any 127/8 address works on Linux), handshaking if asked. */
export async function rawSocket(port: number, handshake: boolean, localAddress = "127.0.0.1"): Promise<RawSocket> {
  const started = Date.now();
  const socket = net.connect({ port, host: "127.0.0.1", localAddress });
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(Date.now() - started)));
  const messages: RtmpMessage[] = [];
  const reader = new ChunkReader((m) => messages.push(m), { maxMessageLength: 0xffffff });
  const hs = new ClientHandshake();
  await new Promise<void>((resolve, reject) => {
    let done = !handshake;
    socket.on("connect", () => {
      if (handshake) socket.write(hs.start());
      else resolve();
    });
    socket.on("close", () => reject(new Error("closed during the handshake")));
    socket.on("data", (data: Buffer) => {
      let rest: Buffer | undefined = data;
      if (!done) {
        const step = hs.push(data);
        if (!step.done) return;
        done = true;
        socket.write(step.reply!);
        rest = step.rest;
        resolve();
      }
      if (rest) reader.push(rest);
    });
  });
  return { socket, closed, replies: () => messages };
}

/** One AMF0 command message on chunk stream 3. */
export const commandOf = (...values: Parameters<typeof encodeAmf0>): Buffer =>
  new ChunkWriter().encode(3, { typeId: MessageType.CommandAmf0, streamId: 0, timestamp: 0, payload: encodeAmf0(...values) });
