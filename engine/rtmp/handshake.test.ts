import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IngestError } from "../errors.js";
import { ClientHandshake, ServerHandshake } from "./handshake.js";

const SIZE = 1536;

function c0c1(version = 3): Buffer {
  const c1 = randomBytes(SIZE);
  c1.writeUInt32BE(0x01020304, 4); // a digest-handshake client puts its version here
  return Buffer.concat([Buffer.from([version]), c1]);
}

describe("ServerHandshake", () => {
  it("replies S0+S1+S2 to C0+C1 and finishes on C2, handing back what follows", () => {
    const hs = new ServerHandshake(() => 123_456);
    const c = c0c1();
    const first = hs.push(c.subarray(0, 700));
    expect(first).toEqual({ done: false });
    const step = hs.push(c.subarray(700));
    expect(step.done).toBe(false);
    const reply = step.reply!;
    expect(reply.length).toBe(1 + 2 * SIZE);
    expect(reply[0]).toBe(3);
    const s1 = reply.subarray(1, 1 + SIZE);
    expect(s1.readUInt32BE(0)).toBe(123_456);
    expect(s1.readUInt32BE(4)).toBe(0); // zeros: clients skip digest verification
    expect(reply.subarray(1 + SIZE).equals(c.subarray(1))).toBe(true); // S2 echoes C1

    const c2 = Buffer.from(s1);
    expect(hs.push(c2.subarray(0, 1000))).toEqual({ done: false });
    const extra = Buffer.from([0x03, 0xaa, 0xbb]);
    const done = hs.push(Buffer.concat([c2.subarray(1000), extra]));
    expect(done.done).toBe(true);
    expect(done.reply).toBeUndefined();
    expect(done.rest).toEqual(extra);
    expect(hs.done).toBe(true);
  });

  it("handles everything in one push and byte by byte", () => {
    const c = c0c1();
    const all = Buffer.concat([c, randomBytes(SIZE), Buffer.from([9, 9])]);
    const once = new ServerHandshake().push(all);
    expect(once.done).toBe(true);
    expect(once.reply?.length).toBe(1 + 2 * SIZE);
    expect(once.rest).toEqual(Buffer.from([9, 9]));

    const hs = new ServerHandshake();
    let replies = 0;
    let done = false;
    for (let i = 0; i < all.length - 2; i++) {
      const step = hs.push(all.subarray(i, i + 1));
      if (step.reply) replies++;
      done = step.done;
      expect(step.rest).toBeUndefined();
    }
    expect(replies).toBe(1);
    expect(done).toBe(true);
  });

  it("refuses versions other than 3 on the first byte", () => {
    for (const v of [0, 6, 0x16, 0x47]) {
      const hs = new ServerHandshake();
      let err: unknown;
      try {
        hs.push(Buffer.from([v]));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(IngestError);
      expect((err as IngestError).code).toBe("RTMP_BAD_HANDSHAKE");
    }
  });
});

describe("ClientHandshake", () => {
  it("completes against ServerHandshake, C2 echoing S1", () => {
    const client = new ClientHandshake();
    const server = new ServerHandshake();
    const c01 = client.start();
    expect(c01.length).toBe(1 + SIZE);
    expect(c01[0]).toBe(3);
    const s = server.push(c01);
    const tail = Buffer.from([0x02, 0x01]);
    const c = client.push(Buffer.concat([s.reply!, tail]));
    expect(c.done).toBe(true);
    expect(c.reply!.equals(s.reply!.subarray(1, 1 + SIZE))).toBe(true);
    expect(c.rest).toEqual(tail);
    const end = server.push(c.reply!);
    expect(end.done).toBe(true);
  });

  it("refuses a server that answers with another version", () => {
    const client = new ClientHandshake();
    client.start();
    expect(() => client.push(Buffer.from([6]))).toThrow(IngestError);
  });
});
