import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CallbackPolicy, CallbackPolicyError } from "./callback-policy.js";
import { postCallback, type Resolver, systemResolver } from "./callback-post.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** A real receiver on 127.0.0.1 that counts TCP connections (so "no connection was made" is observable). */
async function receiver(status = 200): Promise<{ port: number; connections: () => number; bodies: string[] }> {
  let connections = 0;
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      bodies.push(body);
      res.writeHead(status, status === 302 ? { location: "http://169.254.169.254/" } : {}).end("answer body, not read");
    });
  });
  server.on("connection", () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, bodies };
}

const exposed = (allow: string[] = [], deny: string[] = []) => new CallbackPolicy({ allow, deny, serviceOnLoopback: false });
const local = (allow: string[] = [], deny: string[] = []) => new CallbackPolicy({ allow, deny, serviceOnLoopback: true });
/** A resolver answering `answers[n]` to its n-th call (the last one from then on), and counting calls. */
function scripted(...answers: string[][]): Resolver & { calls: number } {
  const r = Object.assign(
    async (_host: string) => {
      const list = answers[Math.min(r.calls++, answers.length - 1)]!;
      return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return r;
}

describe("postCallback", () => {
  it("connects to the address the name resolved to, once checked, and returns the status unread", async () => {
    const rx = await receiver(201);
    const resolve = scripted(["127.0.0.1"]);
    expect(await postCallback(`http://hooks.test:${rx.port}/cb`, '{"a":1}', { policy: local(), resolve, timeoutMs: 2000 })).toBe(201);
    expect(rx.bodies).toEqual(['{"a":1}']);
    expect(resolve.calls).toBe(1);
  });

  it("a host name resolving to a denied address is refused before any connection", async () => {
    const rx = await receiver();
    // The service is exposed, so loopback is denied: "hooks.test" -> 127.0.0.1 must not get through.
    const err = await postCallback(`http://hooks.test:${rx.port}/cb`, "{}", { policy: exposed(), resolve: scripted(["127.0.0.1"]), timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallbackPolicyError);
    expect((err as Error).message).toMatch(/127\.0\.0\.1 is loopback/);
    // The same with the real resolver: "localhost".
    await expect(postCallback(`http://localhost:${rx.port}/cb`, "{}", { policy: exposed(), resolve: systemResolver, timeoutMs: 2000 })).rejects.toBeInstanceOf(CallbackPolicyError);
    // One denied address among allowed ones refuses the whole name (the socket could pick any).
    await expect(postCallback(`http://hooks.test:${rx.port}/cb`, "{}", { policy: local(), resolve: scripted(["127.0.0.1", "169.254.169.254"]), timeoutMs: 2000 })).rejects.toThrow(/cloud metadata/);
    expect(rx.connections()).toBe(0);
  });

  it("DNS rebinding: each attempt checks what it connects to, so a name re-resolving to a denied address is refused", async () => {
    const rx = await receiver();
    // Allowed at the first lookup (loopback explicitly allowed), the loopback address next door at the second.
    const resolve = scripted(["127.0.0.1"], ["127.0.0.2"]);
    const opts = { policy: exposed(["127.0.0.1"]), resolve, timeoutMs: 2000 };
    expect(await postCallback(`http://rebind.test:${rx.port}/cb`, "{}", opts)).toBe(200);
    await expect(postCallback(`http://rebind.test:${rx.port}/cb`, "{}", opts)).rejects.toThrow(/127\.0\.0\.2 is loopback/);
    expect(resolve.calls).toBe(2);
    expect(rx.connections()).toBe(1);
  });

  it("IP-literal hosts (never looked up) are checked too, in any spelling", async () => {
    const rx = await receiver();
    const resolve = scripted(["127.0.0.1"]);
    for (const host of ["127.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "0.0.0.0"]) {
      await expect(postCallback(`http://${host}:${rx.port}/cb`, "{}", { policy: exposed(), resolve, timeoutMs: 2000 }), host).rejects.toBeInstanceOf(CallbackPolicyError);
    }
    await expect(postCallback("http://169.254.169.254/latest/meta-data/", "{}", { policy: local(), resolve, timeoutMs: 2000 })).rejects.toThrow(/cloud metadata/);
    expect(resolve.calls).toBe(0);
    expect(rx.connections()).toBe(0);
  });

  it("does not follow redirects", async () => {
    const rx = await receiver(302);
    expect(await postCallback(`http://127.0.0.1:${rx.port}/cb`, "{}", { policy: local(), resolve: scripted([]), timeoutMs: 2000 })).toBe(302);
    expect(rx.connections()).toBe(1);
  });

  it("fails with a TimeoutError when no answer comes within timeoutMs", async () => {
    const server = createServer(() => {}); // never answers
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    const t0 = Date.now();
    const err = await postCallback(`http://127.0.0.1:${port}/cb`, "{}", { policy: local(), resolve: scripted([]), timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "TimeoutError", message: "no response within 300 ms" });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
