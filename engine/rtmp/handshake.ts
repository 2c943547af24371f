/**
 * Simple (non-digest) RTMP handshake, Adobe RTMP Specification 1.0 §5.2.
 * Pure state machines: feed received bytes, send what they return.
 *
 * S1/C1 carry zeros at bytes 4..7 (§5.2.3): ffmpeg and librtmp take that as
 * "no digest handshake" and skip their Flash Player 9 digest checks.
 */
import { randomFillSync } from "node:crypto";
import { IngestError } from "../errors.js";
import { HANDSHAKE_PACKET_SIZE, RTMP_VERSION } from "./protocol.js";

/** §5.2.2: C0/S0 is one version byte. */
const VERSION_SIZE = 1;
/** §5.2.3: time (4 bytes) and zero (4 bytes) precede the random bytes. */
const TIME_OFFSET = 0;
const RANDOM_OFFSET = 8;

export interface HandshakeStep {
  /** Bytes to send to the peer, if any. */
  reply?: Buffer;
  /** The handshake is complete; `rest` holds bytes received after it (already chunk stream data). */
  done: boolean;
  rest?: Buffer;
}

/** Builds C1/S1: 4-byte time, 4 zero bytes, 1528 random bytes. */
function makeSignature(epochMs: number): Buffer {
  const b = Buffer.alloc(HANDSHAKE_PACKET_SIZE);
  b.writeUInt32BE(epochMs >>> 0, TIME_OFFSET);
  randomFillSync(b, RANDOM_OFFSET);
  return b;
}

function checkVersion(version: number, who: string): void {
  if (version !== RTMP_VERSION) {
    // 6 (RTMPE) and anything else are refused: plain RTMP only.
    throw new IngestError("RTMP_BAD_HANDSHAKE", `${who} requested RTMP version ${version}, only ${RTMP_VERSION} is supported`);
  }
}

/** Accumulates bytes until `size` are available; never buffers more than needed plus one push. */
class Accumulator {
  private parts: Buffer[] = [];
  private length = 0;

  add(buf: Buffer): void {
    if (buf.length === 0) return;
    this.parts.push(buf);
    this.length += buf.length;
  }

  get available(): number {
    return this.length;
  }

  /** First buffered byte (caller checked `available`). */
  first(): number {
    return this.parts[0]![0]!;
  }

  /** Removes and returns exactly `size` bytes (caller checked `available`). */
  take(size: number): Buffer {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    const head = Buffer.from(all.subarray(0, size));
    const rest = all.subarray(size);
    this.parts = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return head;
  }

  takeAll(): Buffer | undefined {
    if (this.length === 0) return undefined;
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return all;
  }
}

/** Server side: C0+C1 in → S0+S1+S2 out, then C2 in → done. */
export class ServerHandshake {
  private readonly acc = new Accumulator();
  private state: "c0c1" | "c2" | "done" = "c0c1";

  constructor(private readonly now: () => number = Date.now) {}

  get done(): boolean {
    return this.state === "done";
  }

  push(buf: Buffer): HandshakeStep {
    if (this.state === "done") throw new Error("ServerHandshake.push after completion");
    this.acc.add(buf);
    let reply: Buffer | undefined;
    if (this.state === "c0c1") {
      // Check C0 as soon as it arrives so garbage is refused without waiting for 1537 bytes.
      if (this.acc.available >= VERSION_SIZE) checkVersion(this.acc.first(), "client");
      if (this.acc.available < VERSION_SIZE + HANDSHAKE_PACKET_SIZE) return { done: false };
      const c0c1 = this.acc.take(VERSION_SIZE + HANDSHAKE_PACKET_SIZE);
      const c1 = c0c1.subarray(VERSION_SIZE);
      // S2 echoes C1 (§5.2.3/§5.2.4); clients at most warn when it differs.
      reply = Buffer.concat([Buffer.from([RTMP_VERSION]), makeSignature(this.now()), c1]);
      this.state = "c2";
    }
    if (this.acc.available < HANDSHAKE_PACKET_SIZE) return reply ? { reply, done: false } : { done: false };
    // C2 content is not checked: digest-handshake clients send something else there.
    this.acc.take(HANDSHAKE_PACKET_SIZE);
    this.state = "done";
    const rest = this.acc.takeAll();
    const step: HandshakeStep = { done: true };
    if (reply) step.reply = reply;
    if (rest) step.rest = rest;
    return step;
  }
}

/** Client side: start() gives C0+C1; S0+S1+S2 in → C2 out, done. */
export class ClientHandshake {
  private readonly acc = new Accumulator();
  private state: "start" | "s0s1s2" | "done" = "start";

  constructor(private readonly now: () => number = Date.now) {}

  get done(): boolean {
    return this.state === "done";
  }

  start(): Buffer {
    if (this.state !== "start") throw new Error("ClientHandshake.start called twice");
    this.state = "s0s1s2";
    return Buffer.concat([Buffer.from([RTMP_VERSION]), makeSignature(this.now())]);
  }

  push(buf: Buffer): HandshakeStep {
    if (this.state !== "s0s1s2") throw new Error(`ClientHandshake.push in state ${this.state}`);
    this.acc.add(buf);
    if (this.acc.available >= VERSION_SIZE) checkVersion(this.acc.first(), "server");
    if (this.acc.available < VERSION_SIZE + 2 * HANDSHAKE_PACKET_SIZE) return { done: false };
    const s = this.acc.take(VERSION_SIZE + 2 * HANDSHAKE_PACKET_SIZE);
    const s1 = s.subarray(VERSION_SIZE, VERSION_SIZE + HANDSHAKE_PACKET_SIZE);
    this.state = "done";
    const step: HandshakeStep = { reply: Buffer.from(s1), done: true }; // C2 echoes S1
    const rest = this.acc.takeAll();
    if (rest) step.rest = rest;
    return step;
  }
}
