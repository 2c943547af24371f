import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../engine/logger.js";
import { SqliteCatalog } from "../catalog/sqlite-catalog.js";
import { CallbackDispatcher, type CallbackDispatcherOptions, type CallbackDispatcherEvents, NETWORK_FAILURE, POLICY_REFUSAL } from "./callback-dispatcher.js";
import { recordFileEvent, verifySign } from "./callback-messages.js";
import { CallbackPolicy } from "./callback-policy.js";

const KEY = "s3cret-callback-key";
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

interface Received {
  body: Record<string, unknown>;
  contentType: string | undefined;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Requests being answered right now (not yet responded). */
  open: number;
  maxOpen: number;
  /** TCP connections accepted (a refused target must leave this at 0). */
  connections: number;
  port: number;
  server: Server;
}

const servers: Server[] = [];
const catalogs: SqliteCatalog[] = [];
const dispatchers: CallbackDispatcher[] = [];

afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  for (const c of catalogs.splice(0)) await c.close();
});

/** A receiver on 127.0.0.1:0; `answer` returns a status to send, or undefined to hang. */
async function receiver(answer: (n: number, body: Record<string, unknown>) => number | undefined): Promise<Receiver> {
  const r: Receiver = { url: "", received: [], open: 0, maxOpen: 0, connections: 0, port: 0, server: undefined as unknown as Server };
  r.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      r.received.push({ body, contentType: req.headers["content-type"] });
      const status = answer(r.received.length, body);
      if (status === undefined) {
        r.open++;
        r.maxOpen = Math.max(r.maxOpen, r.open);
        req.socket.on("close", () => r.open--);
        return; // hang
      }
      res.writeHead(status, { "content-type": "application/json" }).end('{"code":0}');
    });
  });
  r.server.on("connection", () => r.connections++);
  servers.push(r.server);
  await new Promise<void>((resolve) => r.server.listen(0, "127.0.0.1", () => resolve()));
  r.port = (r.server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/callback`;
  return r;
}

/** A URL on a port where nothing listens. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}/callback`;
}

function setup(opts: Partial<CallbackDispatcherOptions> = {}) {
  const catalog = new SqliteCatalog(":memory:");
  catalogs.push(catalog);
  const lines: string[] = [];
  const logger = createLogger("debug", (l) => lines.push(l));
  // The receivers are on loopback, as the service is by default.
  const policy = new CallbackPolicy({ allow: [], deny: [], serviceOnLoopback: true });
  const dispatcher = new CallbackDispatcher({ outbox: catalog, logger, pollMs: 20, policy, ...opts });
  dispatchers.push(dispatcher);
  return { store: catalog, dispatcher, lines };
}

function next<K extends keyof CallbackDispatcherEvents>(
  d: CallbackDispatcher,
  event: K,
  pred: (...args: CallbackDispatcherEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<CallbackDispatcherEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} within ${timeoutMs} ms`)), timeoutMs);
    const listener = (...args: CallbackDispatcherEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      d.off(event, listener);
      resolve(args[0]);
    };
    d.on(event, listener);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const body = (n = 1) =>
  recordFileEvent({
    fileId: `file-${n}`,
    domain: "push.example.com",
    app: "live",
    stream: "cam1",
    format: "mp4",
    startMs: 1_700_000_000_000,
    endMs: 1_700_000_060_000,
    durationSec: 60,
    sizeBytes: 1000,
    taskId: "",
    templateId: 1,
    streamParam: "",
    videoUrl: "http://rec.example/x.mp4",
    mediaStartTimeMs: 0,
    sessionId: "sess",
    appId: 1,
  });

describe("CallbackDispatcher", () => {
  it("500, 500, timeout, 200 -> one accepted delivery with a valid sign after 4 attempts", async () => {
    const rx = await receiver((n) => (n <= 2 ? 500 : n === 3 ? undefined : 200));
    const { store, dispatcher, lines } = setup({ retryIntervalMs: 50, timeoutMs: 1500 });
    const id = await store.enqueueCallback({ url: rx.url, callbackKey: KEY, eventType: 100, body: body(), fileId: "file-1" }, Date.now());
    const delivered = next(dispatcher, "delivered");
    dispatcher.start();
    dispatcher.kick();
    expect(await delivered).toEqual({ id, url: rx.url, attempts: 4 });
    await sleep(200); // nothing more arrives

    expect(rx.received).toHaveLength(4);
    const accepted = rx.received[3]!;
    expect(accepted.contentType).toBe("application/json");
    const { sign, t, ...rest } = accepted.body;
    expect(rest).toEqual(body());
    expect(typeof t).toBe("number");
    expect(Math.abs((t as number) - (Math.floor(Date.now() / 1000) + 600))).toBeLessThanOrEqual(2);
    expect(sign).toBe(md5(KEY + String(t)));
    expect(verifySign(t, sign, KEY, Math.floor(Date.now() / 1000))).toBe(true);
    // Every attempt is signed afresh.
    for (const r of rx.received) expect(r.body["sign"]).toBe(md5(KEY + String(r.body["t"])));

    expect(await store.getCallback(id)).toMatchObject({ status: "delivered", attempts: 4, lastError: NETWORK_FAILURE });
    expect(await store.callbackCounts()).toEqual({ pending: 0, delivered: 1, failed: 0 });
    const log = lines.join("");
    expect(log).toContain("HTTP 500");
    expect(log).toContain("no response within 1500 ms");
    for (const r of rx.received) expect(log).not.toContain(r.body["sign"] as string);
    expect(log).not.toContain(KEY);
  });

  it("a dead receiver and a hanging one do not delay a healthy receiver; the hanging host gets at most its cap", async () => {
    const hanging = await receiver(() => undefined);
    const healthy = await receiver(() => 200);
    const dead = await deadUrl();
    const { store, dispatcher } = setup({ retryIntervalMs: 60_000, timeoutMs: 1500, maxInFlight: 16, maxInFlightPerHost: 4, pollMs: 1000 });
    const now = Date.now();
    for (let i = 0; i < 20; i++) await store.enqueueCallback({ url: hanging.url, callbackKey: KEY, eventType: 100, body: body(i), fileId: "" }, now - 1000);
    for (let i = 0; i < 20; i++) await store.enqueueCallback({ url: dead, callbackKey: KEY, eventType: 100, body: body(i), fileId: "" }, now - 1000);
    const good = await store.enqueueCallback({ url: healthy.url, callbackKey: KEY, eventType: 100, body: body(99), fileId: "" }, now);

    const t0 = Date.now();
    const delivered = next(dispatcher, "delivered", (e) => e.id === good);
    dispatcher.start();
    await delivered;
    // Well inside the hanging host's 1500 ms timeout: it did not wait for it.
    expect(Date.now() - t0).toBeLessThan(1000);

    // Enqueue while the hanging host still holds its slots: delivered at once, too.
    const t1 = Date.now();
    const again = await store.enqueueCallback({ url: healthy.url, callbackKey: KEY, eventType: 100, body: body(100), fileId: "" }, Date.now());
    const deliveredAgain = next(dispatcher, "delivered", (e) => e.id === again);
    dispatcher.kick();
    await deliveredAgain;
    expect(Date.now() - t1).toBeLessThan(1000);

    // The hanging host holds exactly its 4 slots until the timeout (1500 ms).
    for (let i = 0; i < 100 && hanging.received.length < 4; i++) await sleep(5);
    await sleep(100);
    expect(hanging.received.length).toBe(4);
    expect(hanging.maxOpen).toBeLessThanOrEqual(4);
    expect(dispatcher.inFlightCount).toBeLessThanOrEqual(16);
    const deadRows = (await store.listCallbacks({ offset: 0, limit: 100 })).rows.filter((r) => r.url === dead && r.attempts > 0);
    expect(deadRows.length).toBeGreaterThan(0);
    expect(deadRows[0]!.lastError).toBe(NETWORK_FAILURE);
  });

  it("maxAttempts turns the delivery 'failed'; retry() brings it back and it is delivered", async () => {
    let ok = false;
    const rx = await receiver(() => (ok ? 200 : 500));
    const { store, dispatcher } = setup({ retryIntervalMs: 30, timeoutMs: 2000, maxAttempts: 3 });
    const id = await store.enqueueCallback({ url: rx.url, callbackKey: KEY, eventType: 100, body: body(), fileId: "file-1" }, Date.now());
    const failed = next(dispatcher, "failed");
    dispatcher.start();
    expect(await failed).toEqual({ id, url: rx.url, error: "HTTP 500" });
    await sleep(100);
    expect(rx.received).toHaveLength(3);
    expect(await store.getCallback(id)).toMatchObject({ status: "failed", attempts: 3, lastError: "HTTP 500" });
    expect(await store.dueCallbacks(Date.now() + 3_600_000, 10)).toHaveLength(0);

    ok = true;
    const delivered = next(dispatcher, "delivered");
    await store.retryCallback(id, Date.now());
    dispatcher.kick();
    expect(await delivered).toEqual({ id, url: rx.url, attempts: 1 });
    expect(await store.getCallback(id)).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("stop() waits for the sends in flight, is idempotent, and nothing is sent afterwards", async () => {
    const rx = await receiver((n) => (n === 1 ? undefined : 200));
    const { store, dispatcher } = setup({ retryIntervalMs: 10, timeoutMs: 1000 });
    const id = await store.enqueueCallback({ url: rx.url, callbackKey: KEY, eventType: 100, body: body(), fileId: "" }, Date.now());
    dispatcher.start();
    while (rx.received.length === 0) await sleep(5);
    const t0 = Date.now();
    await dispatcher.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(dispatcher.inFlightCount).toBe(0);
    expect(await store.getCallback(id)).toMatchObject({ status: "pending", attempts: 1, lastError: NETWORK_FAILURE });
    await dispatcher.stop();
    dispatcher.kick();
    await sleep(100);
    expect(rx.received).toHaveLength(1);
  });
});

describe("CallbackDispatcher: what the outbox tells (issue 14 item 6)", () => {
  it("a refused port, a port that never answers and a name that does not resolve read the same; the detail is in the log", async () => {
    const silent = await receiver(() => undefined);
    const dead = await deadUrl();
    const notFound = async (host: string) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    };
    const { store, dispatcher, lines } = setup({ timeoutMs: 500, maxAttempts: 1, resolve: notFound });
    const urls = [dead, silent.url, "http://nowhere.test:8080/callback"];
    for (const [i, url] of urls.entries()) await store.enqueueCallback({ url, callbackKey: KEY, eventType: 100, body: body(i), fileId: "" }, Date.now());
    const failed: string[] = [];
    dispatcher.on("failed", (e) => failed.push(e.error));
    dispatcher.start();
    for (let i = 0; i < 200 && failed.length < urls.length; i++) await sleep(10);
    expect(failed).toEqual([NETWORK_FAILURE, NETWORK_FAILURE, NETWORK_FAILURE]);
    const { rows } = await store.listCallbacks({ offset: 0, limit: 10 });
    expect(new Set(rows.map((r) => r.lastError))).toEqual(new Set([NETWORK_FAILURE]));
    const log = lines.join("");
    for (const detail of ["ECONNREFUSED", "no response within 500 ms", "ENOTFOUND"]) expect(log).toContain(detail);
    expect(log).not.toContain(KEY);
  });

  it("the attack: targets the policy refuses (metadata, loopback of an exposed service, names resolving there) are never connected to and fail at once", async () => {
    const rx = await receiver(() => 200);
    // The service listens on a public address: loopback receivers are refused, like metadata.
    const policy = new CallbackPolicy({ allow: [], deny: [], serviceOnLoopback: false });
    const resolve = async (host: string) => [{ address: host === "metadata.test" ? "169.254.169.254" : "127.0.0.1", family: 4 }];
    const { store, dispatcher, lines } = setup({ policy, resolve, retryIntervalMs: 20 });
    const urls = [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/", // an IP literal, e.g. queued before the upgrade
      "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
      "http://metadata.test/latest/meta-data/",
      rx.url,
      `http://rebound.test:${rx.port}/callback`,
    ];
    const ids: number[] = [];
    for (const [i, url] of urls.entries()) ids.push(await store.enqueueCallback({ url, callbackKey: KEY, eventType: 100, body: body(i), fileId: "" }, Date.now()));
    const failed: string[] = [];
    dispatcher.on("failed", (e) => failed.push(e.error));
    dispatcher.start();
    for (let i = 0; i < 200 && failed.length < urls.length; i++) await sleep(10);
    await sleep(100); // no retries follow
    expect(failed).toEqual(urls.map(() => POLICY_REFUSAL));
    for (const id of ids) expect(await store.getCallback(id)).toMatchObject({ status: "failed", attempts: 1, lastError: POLICY_REFUSAL });
    expect(rx.connections).toBe(0);
    const log = lines.join("");
    expect(log).toContain("169.254.169.254 is cloud metadata");
    expect(log).toContain("127.0.0.1 is loopback");

    // Retrying by hand asks again, and is refused again.
    await store.retryCallback(ids[2]!, Date.now());
    dispatcher.kick();
    await next(dispatcher, "failed", (e) => e.id === ids[2]);
    expect(await store.getCallback(ids[2]!)).toMatchObject({ status: "failed", attempts: 1, lastError: POLICY_REFUSAL });
    expect(rx.connections).toBe(0);
  });
});
