import { existsSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { mkdir, mkdtemp, open, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RecordingUrlSigner } from "../media/recording-url-signer.js";
import { parseRange, serveRecording } from "./recording-files.js";

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let tmp = "";
let root = "";
let server: Server;
let port = 0;
let lastServe: Promise<boolean> | undefined;
/** http.corsOrigins of the server under test: any origin, but in the CORS tests. */
let corsOrigins: readonly string[] = ["*"];
/** recordings.access "signed" when set (the signed-access tests). */
let signer: RecordingUrlSigner | undefined;

const A_MP4 = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff));
const SEGMENT = Buffer.alloc(376, 0x47);
const PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\npl/000000.ts\n#EXT-X-ENDLIST\n";
const SECRET = "SECRET-OUTSIDE-ROOT";
const BIG_SIZE = 16 * 1024 * 1024;

/** Raw HTTP request: the path is sent exactly as given (no normalisation). */
function send(rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: rawPath, method: opts.method ?? "GET", headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "recording-files-"));
  root = path.join(tmp, "recordings");
  const outside = path.join(tmp, "outside");
  await mkdir(path.join(root, "pl"), { recursive: true });
  await mkdir(path.join(root, ".recording"), { recursive: true });
  await mkdir(path.join(root, "live", "app", "stream"), { recursive: true });
  await mkdir(path.join(root, "dir.mp4"));
  await mkdir(outside);
  await writeFile(path.join(root, "a.mp4"), A_MP4);
  await utimes(path.join(root, "a.mp4"), new Date("2024-05-01T10:00:00Z"), new Date("2024-05-01T10:00:00Z"));
  await writeFile(path.join(root, "pl.m3u8"), PLAYLIST);
  await writeFile(path.join(root, "pl", "000000.ts"), SEGMENT);
  await writeFile(path.join(root, ".recording", "x.flv"), "IN-PROGRESS");
  await writeFile(path.join(root, ".hidden.mp4"), "HIDDEN");
  await writeFile(path.join(root, "notes.txt"), "not a recording");
  await writeFile(path.join(root, "empty.aac"), "");
  await writeFile(path.join(root, "live", "app", "stream", "big.flv"), Buffer.alloc(BIG_SIZE, 1));
  await writeFile(path.join(outside, "secret.mp4"), SECRET);
  await symlink("/etc/passwd", path.join(root, "passwd"));
  await symlink("/etc/passwd", path.join(root, "passwd.mp4"));
  await symlink(outside, path.join(root, "outdir"));
  await symlink(path.join(root, ".recording", "x.flv"), path.join(root, "sneaky.flv"));
  await symlink("a.mp4", path.join(root, "alias.mp4"));

  server = createServer((req, res) => {
    const p = serveRecording(req, res, { root, urlPrefix: "/recordings/", corsOrigins, signer });
    lastServe = p;
    p.then(
      (handled) => {
        if (!handled) {
          res.statusCode = 418;
          res.end("other route");
        }
      },
      () => {
        res.statusCode = 599;
        res.end("serveRecording rejected");
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await rm(tmp, { recursive: true, force: true });
});

describe("serveRecording: CORS (http.corsOrigins)", () => {
  afterEach(() => {
    corsOrigins = ["*"];
  });

  it("sends no Access-Control-Allow-Origin by default: other origins' scripts cannot read recordings", async () => {
    corsOrigins = [];
    const r = await send("/recordings/a.mp4", { headers: { Origin: "http://evil.example" } });
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("allows exactly the listed origins", async () => {
    corsOrigins = ["http://player.example"];
    const ok = await send("/recordings/a.mp4", { headers: { Origin: "http://player.example" } });
    expect(ok.headers["access-control-allow-origin"]).toBe("http://player.example");
    expect(ok.headers.vary).toBe("Origin");
    const other = await send("/recordings/a.mp4", { headers: { Origin: "http://evil.example" } });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("serveRecording: files", () => {
  it("serves a whole file with the recording headers", async () => {
    const r = await send("/recordings/a.mp4");
    expect(r.status).toBe(200);
    expect(r.body.equals(A_MP4)).toBe(true);
    expect(r.headers["content-type"]).toBe("video/mp4");
    expect(r.headers["content-length"]).toBe("100");
    expect(r.headers["accept-ranges"]).toBe("bytes");
    expect(r.headers["access-control-allow-origin"]).toBe("*");
    expect(r.headers["access-control-expose-headers"]).toContain("Content-Range");
    expect(r.headers["cache-control"]).toBe("public, max-age=3600");
    expect(r.headers["last-modified"]).toBe("Wed, 01 May 2024 10:00:00 GMT");
    expect(r.headers.etag).toMatch(/^W\/"64-[0-9a-f]+"$/);
  });

  it("serves playlists (no-cache) and their segments", async () => {
    const pl = await send("/recordings/pl.m3u8");
    expect(pl.status).toBe(200);
    expect(pl.headers["content-type"]).toBe("application/vnd.apple.mpegurl");
    expect(pl.headers["cache-control"]).toBe("no-cache");
    expect(pl.body.toString()).toBe(PLAYLIST);
    const seg = await send("/recordings/pl/000000.ts");
    expect(seg.status).toBe(200);
    expect(seg.headers["content-type"]).toBe("video/mp2t");
    expect(seg.body.equals(SEGMENT)).toBe(true);
  });

  it("answers HEAD with the headers and no body", async () => {
    const r = await send("/recordings/a.mp4", { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe("100");
    expect(r.headers["content-type"]).toBe("video/mp4");
    expect(r.body.length).toBe(0);
  });

  it("serves an empty file", async () => {
    const r = await send("/recordings/empty.aac");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("audio/aac");
    expect(r.headers["content-length"]).toBe("0");
    expect(r.body.length).toBe(0);
  });

  it("accepts percent-encoded names and absolute-form targets", async () => {
    expect((await send("/recordings/%61.mp4")).body.equals(A_MP4)).toBe(true);
    expect((await send("/recordings/a.mp4?x=1")).status).toBe(200);
    expect((await send(`http://127.0.0.1:${port}/recordings/a.mp4`)).body.equals(A_MP4)).toBe(true);
  });

  it("follows symlinks that stay inside the root", async () => {
    const r = await send("/recordings/alias.mp4");
    expect(r.status).toBe(200);
    expect(r.body.equals(A_MP4)).toBe(true);
  });
});

describe("serveRecording: ranges", () => {
  it("bytes=10-19 → 206 with the exact slice", async () => {
    const r = await send("/recordings/a.mp4", { headers: { Range: "bytes=10-19" } });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe("bytes 10-19/100");
    expect(r.headers["content-length"]).toBe("10");
    expect(r.body.equals(A_MP4.subarray(10, 20))).toBe(true);
  });

  it("bytes=-5 → the last five bytes", async () => {
    const r = await send("/recordings/a.mp4", { headers: { Range: "bytes=-5" } });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe("bytes 95-99/100");
    expect(r.body.equals(A_MP4.subarray(95))).toBe(true);
  });

  it("bytes=90- and an end past the size are clamped", async () => {
    const open = await send("/recordings/a.mp4", { headers: { Range: "bytes=90-" } });
    expect(open.status).toBe(206);
    expect(open.headers["content-range"]).toBe("bytes 90-99/100");
    expect(open.body.equals(A_MP4.subarray(90))).toBe(true);
    const past = await send("/recordings/a.mp4", { headers: { Range: "bytes=98-5000" } });
    expect(past.headers["content-range"]).toBe("bytes 98-99/100");
    expect(past.body.equals(A_MP4.subarray(98))).toBe(true);
  });

  it("bytes=100000- → 416 with bytes */size", async () => {
    const r = await send("/recordings/a.mp4", { headers: { Range: "bytes=100000-" } });
    expect(r.status).toBe(416);
    expect(r.headers["content-range"]).toBe("bytes */100");
    expect(r.body.length).toBe(0);
  });

  it("malformed or foreign-unit Range headers are ignored (200)", async () => {
    for (const range of ["bytes=abc", "bytes=20-10", "items=0-5", "bytes=", "bytes=--5", "bytes 0-5"]) {
      const r = await send("/recordings/a.mp4", { headers: { Range: range } });
      expect(r.status, range).toBe(200);
      expect(r.body.equals(A_MP4), range).toBe(true);
    }
  });

  it("several ranges → the whole file with 200", async () => {
    const r = await send("/recordings/a.mp4", { headers: { Range: "bytes=0-1,5-9" } });
    expect(r.status).toBe(200);
    expect(r.headers["content-range"]).toBeUndefined();
    expect(r.body.equals(A_MP4)).toBe(true);
  });

  it("HEAD ignores Range", async () => {
    const r = await send("/recordings/a.mp4", { method: "HEAD", headers: { Range: "bytes=0-9" } });
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe("100");
  });

  it("If-Range: a date equal to Last-Modified keeps the range, an ETag (weak) does not", async () => {
    const full = await send("/recordings/a.mp4");
    const byDate = await send("/recordings/a.mp4", {
      headers: { Range: "bytes=0-3", "If-Range": String(full.headers["last-modified"]) },
    });
    expect(byDate.status).toBe(206);
    const byTag = await send("/recordings/a.mp4", { headers: { Range: "bytes=0-3", "If-Range": String(full.headers.etag) } });
    expect(byTag.status).toBe(200);
    expect(byTag.body.equals(A_MP4)).toBe(true);
  });

  it("parseRange edge cases", () => {
    expect(parseRange("bytes=0-0", 10)).toEqual([0, 0]);
    expect(parseRange("bytes=-100", 10)).toEqual([0, 9]);
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
    expect(parseRange("bytes=10-", 10)).toBe("unsatisfiable");
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=-5", 0)).toBeUndefined();
    expect(parseRange("BYTES=1-2", 10)).toEqual([1, 2]);
    expect(parseRange("bytes=1-2,", 10)).toEqual([1, 2]);
    expect(parseRange(`bytes=${"9".repeat(400)}-`, 10)).toBe("unsatisfiable");
    expect(parseRange(`bytes=0-${"9".repeat(400)}`, 10)).toEqual([0, 9]);
    expect(parseRange("bytes=1.5-2", 10)).toBeUndefined();
  });
});

describe("serveRecording: conditional requests", () => {
  it("If-None-Match with the ETag → 304 without body", async () => {
    const { headers } = await send("/recordings/a.mp4");
    const etag = String(headers.etag);
    const r = await send("/recordings/a.mp4", { headers: { "If-None-Match": `"other", ${etag}` } });
    expect(r.status).toBe(304);
    expect(r.headers.etag).toBe(etag);
    expect(r.body.length).toBe(0);
    // weak comparison: the strong form of the same tag matches too
    expect((await send("/recordings/a.mp4", { headers: { "If-None-Match": etag.slice(2) } })).status).toBe(304);
    expect((await send("/recordings/a.mp4", { headers: { "If-None-Match": '"nope"' } })).status).toBe(200);
  });

  it("If-Modified-Since → 304 when not newer, ignored when If-None-Match is present", async () => {
    const ims = "Wed, 01 May 2024 10:00:00 GMT";
    expect((await send("/recordings/a.mp4", { headers: { "If-Modified-Since": ims } })).status).toBe(304);
    expect(
      (await send("/recordings/a.mp4", { headers: { "If-Modified-Since": "Wed, 01 May 2024 09:59:59 GMT" } })).status,
    ).toBe(200);
    expect((await send("/recordings/a.mp4", { headers: { "If-Modified-Since": "garbage" } })).status).toBe(200);
    expect(
      (await send("/recordings/a.mp4", { headers: { "If-Modified-Since": ims, "If-None-Match": '"nope"' } })).status,
    ).toBe(200);
  });

  it("If-Match other than * → 412 (weak ETags never match strongly)", async () => {
    const { headers } = await send("/recordings/a.mp4");
    expect((await send("/recordings/a.mp4", { headers: { "If-Match": String(headers.etag) } })).status).toBe(412);
    expect((await send("/recordings/a.mp4", { headers: { "If-Match": "*" } })).status).toBe(200);
  });
});

describe("serveRecording: refusals", () => {
  const traversals = [
    "/recordings/../etc/passwd",
    "/recordings/%2e%2e/%2e%2e/etc/passwd",
    "/recordings/a/..%2f..%2fx",
    "/recordings/..%2f..%2f..%2fetc%2fpasswd",
    "/recordings/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
    "/recordings/.recording/x.flv",
    "/recordings/%2erecording/x.flv",
    "/recordings/.hidden.mp4",
    "/recordings/./a.mp4",
    "/recordings//a.mp4",
    "/recordings/%00",
    "/recordings/a.mp4%00.mp4",
    "/recordings/passwd",
    "/recordings/passwd.mp4",
    "/recordings/outdir/secret.mp4",
    "/recordings/sneaky.flv",
    "/recordings/notes.txt",
    "/recordings/missing.mp4",
    "/recordings/nope/missing.ts",
  ];
  for (const raw of traversals) {
    it(`refuses ${raw}`, async () => {
      const r = await send(raw);
      expect([400, 404]).toContain(r.status);
      const text = r.body.toString("latin1");
      expect(text).not.toContain("root:");
      expect(text).not.toContain("IN-PROGRESS");
      expect(text).not.toContain("HIDDEN");
      expect(text).not.toContain(SECRET);
      expect(r.headers["access-control-allow-origin"]).toBe("*");
    });
  }

  it("symlinks leaving the root are 404", async () => {
    expect((await send("/recordings/passwd.mp4")).status).toBe(404);
    expect((await send("/recordings/outdir/secret.mp4")).status).toBe(404);
  });

  it("bad percent-encoding → 400", async () => {
    expect((await send("/recordings/%zz.mp4")).status).toBe(400);
    expect((await send("/recordings/%E0%A4%A.mp4")).status).toBe(400);
  });

  it("directories → 404", async () => {
    for (const raw of ["/recordings/pl", "/recordings/pl/", "/recordings/", "/recordings/dir.mp4", "/recordings/live/app"]) {
      expect((await send(raw)).status, raw).toBe(404);
    }
  });

  it("methods other than GET/HEAD → 405 with Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const r = await send("/recordings/a.mp4", { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe("GET, HEAD");
    }
  });

  it("returns false when the URL is not under the prefix", async () => {
    for (const raw of ["/other", "/recordings", "/recordingsX/a.mp4", "/%72ecordings/a.mp4", "/"]) {
      const r = await send(raw);
      expect(r.status, raw).toBe(418);
      expect(r.body.toString()).toBe("other route");
    }
  });
});

describe("serveRecording: signed access (recordings.access \"signed\")", () => {
  const urlSigner = new RecordingUrlSigner("recording-files-test-key", 3600);
  const signed = (p: string, expiresSec?: number) => `/recordings/${p}?${urlSigner.query(p, expiresSec)}`;
  beforeAll(() => {
    signer = urlSigner;
  });
  afterAll(() => {
    signer = undefined;
  });

  it("without a signature every path answers the same 403, existing or not, GET or HEAD (no oracle)", async () => {
    const paths = ["a.mp4", "pl.m3u8", "pl/000000.ts", "live/app/stream/big.flv", "missing.mp4", "nope/000000.ts", "pl", "notes.txt", ".recording/x.flv", "..%2fx.mp4", "%zz.mp4", "passwd.mp4"];
    const answers = [];
    for (const p of paths) {
      for (const method of ["GET", "HEAD"]) {
        const r = await send(`/recordings/${p}`, { method });
        answers.push({ status: r.status, body: r.body.toString(), headers: { ...r.headers, date: "" } });
      }
    }
    expect(answers[0]).toMatchObject({ status: 403, body: "Forbidden: URL_SIGNATURE_MISSING\n" });
    expect(answers[1]).toMatchObject({ status: 403, body: "" });
    for (const [i, a] of answers.entries()) expect(a, `${paths[i >> 1]} ${i % 2 ? "HEAD" : "GET"}`).toEqual(answers[i % 2]);
    expect(answers[0]!.headers["access-control-allow-origin"]).toBe("*");
  });

  it("a signature opens exactly its file: not another path, nor after tampering or expiry", async () => {
    const q = urlSigner.query("a.mp4");
    const forbidden = async (raw: string, code: string) => {
      const r = await send(raw);
      expect(r.status, raw).toBe(403);
      expect(r.body.toString(), raw).toBe(`Forbidden: ${code}\n`);
    };
    for (const other of ["pl.m3u8", "alias.mp4", "pl/000000.ts", "missing.mp4", "./a.mp4", "x/../a.mp4", "%2e%2e/a.mp4", "a.mp4/", "/a.mp4"]) {
      await forbidden(`/recordings/${other}?${q}`, "URL_SIGNATURE_INVALID");
    }
    await forbidden(`/recordings/a.mp4?${q.replace(/sign=(.)/, (_m, c: string) => `sign=${c === "0" ? "1" : "0"}`)}`, "URL_SIGNATURE_INVALID");
    await forbidden(`/recordings/a.mp4?${q.replace(/&sign=.*/, "")}`, "URL_SIGNATURE_INVALID");
    await forbidden(signed("a.mp4", Math.floor(Date.now() / 1000) - 1), "URL_EXPIRED");
    // Path safety still applies to what was signed: a symlink out of the root stays 404.
    expect((await send(signed("passwd.mp4"))).status).toBe(404);
    expect((await send(signed("missing.mp4"))).status).toBe(404);
  });

  it("serves a signed file as in public mode: body, ETag, type, CORS, ranges, HEAD, 304; cached privately, never past the URL", async () => {
    const r = await send(signed("a.mp4"));
    expect(r.status).toBe(200);
    expect(r.body.equals(A_MP4)).toBe(true);
    expect(r.headers["content-type"]).toBe("video/mp4");
    expect(r.headers.etag).toMatch(/^W\/"64-[0-9a-f]+"$/);
    expect(r.headers["access-control-allow-origin"]).toBe("*");
    expect(r.headers["cache-control"]).toMatch(/^private, max-age=(3600|359\d)$/);
    const soon = await send(signed("a.mp4", Math.floor(Date.now() / 1000) + 100));
    expect(Number(/max-age=(\d+)/.exec(String(soon.headers["cache-control"]))?.[1])).toBeLessThanOrEqual(100);
    const part = await send(signed("a.mp4"), { headers: { Range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.body.equals(A_MP4.subarray(10, 20))).toBe(true);
    const head = await send(signed("a.mp4"), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("100");
    expect((await send(signed("a.mp4"), { headers: { "If-None-Match": String(r.headers.etag) } })).status).toBe(304);
  });

  it("a signed playlist comes with each segment signed: the player's relative URI plays", async () => {
    const expires = Math.floor(Date.now() / 1000) + 600;
    const pl = await send(signed("pl.m3u8", expires));
    expect(pl.status).toBe(200);
    expect(pl.headers["cache-control"]).toBe("no-cache");
    const text = pl.body.toString();
    expect(text).toBe(PLAYLIST.replace("pl/000000.ts", `pl/000000.ts?${urlSigner.query("pl/000000.ts", expires)}`));
    expect(pl.headers["content-length"]).toBe(String(Buffer.byteLength(text)));
    expect(pl.headers.etag).toMatch(new RegExp(`^W/"[0-9a-f]+-[0-9a-f]+-${expires.toString(16)}"$`));
    const uri = text.split("\n").find((l) => l.startsWith("pl/"))!;
    const seg = await send(`/recordings/${uri}`);
    expect(seg.status).toBe(200);
    expect(seg.body.equals(SEGMENT)).toBe(true);
    const part = await send(signed("pl.m3u8", expires), { headers: { Range: "bytes=0-6" } });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe("#EXTM3U");
    expect((await send(signed("pl.m3u8", expires), { method: "HEAD" })).headers["content-length"]).toBe(String(Buffer.byteLength(text)));
  });

  it("public mode ignores t and sign", async () => {
    signer = undefined;
    try {
      expect((await send("/recordings/a.mp4?t=0&sign=nope")).status).toBe(200);
      expect((await send("/recordings/pl.m3u8?t=0&sign=nope")).body.toString()).toBe(PLAYLIST);
    } finally {
      signer = urlSigner;
    }
  });
});

describe("serveRecording: client aborts", () => {
  it("releases the file when the client goes away mid-download", async () => {
    const bigPath = realpathSync(path.join(root, "live", "app", "stream", "big.flv"));
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/recordings/live/app/stream/big.flv", agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== "ECONNRESET") reject(err);
      });
      req.end();
    });
    // the handler's promise settles once the response is closed
    await expect(lastServe).resolves.toBe(true);
    if (existsSync("/proc/self/fd")) {
      const deadline = Date.now() + 2000;
      const openOnBig = () =>
        readdirSync("/proc/self/fd").filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`) === bigPath;
          } catch {
            return false;
          }
        }).length;
      while (openOnBig() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(openOnBig()).toBe(0);
    }
    // and the server still serves
    expect((await send("/recordings/a.mp4")).status).toBe(200);
  });
});

describe("serveRecording: read errors", () => {
  /** Makes the n-th FileHandle.read from now on fail with EIO (read streams over a FileHandle use it). */
  async function failRead(n: number): Promise<() => void> {
    const probe = await open(path.join(root, "a.mp4"), "r");
    const proto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const original = proto.read;
    let left = n;
    proto.read = function (this: unknown, ...args: unknown[]) {
      left -= 1;
      if (left === 0) return Promise.reject(Object.assign(new Error("simulated EIO"), { code: "EIO" }));
      return original.apply(this, args);
    };
    return () => {
      proto.read = original;
    };
  }

  it("a failing first read → 500", async () => {
    const restore = await failRead(1);
    try {
      const r = await send("/recordings/live/app/stream/big.flv");
      expect(r.status).toBe(500);
      expect(r.headers["content-range"]).toBeUndefined();
      expect(r.body.toString()).toContain("Internal Server Error");
    } finally {
      restore();
    }
  });

  it("a read failing mid-stream cuts the connection", async () => {
    const restore = await failRead(3);
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = request({ host: "127.0.0.1", port, path: "/recordings/live/app/stream/big.flv", agent: false }, (res) => {
          let n = 0;
          res.on("data", (c: Buffer) => {
            n += c.length;
          });
          res.on("end", () => resolve(n === BIG_SIZE ? "complete" : "short"));
          res.on("error", () => resolve("cut"));
        });
        req.on("error", () => resolve("cut"));
        req.end();
      });
      expect(outcome).not.toBe("complete");
    } finally {
      restore();
    }
    expect((await send("/recordings/a.mp4")).status).toBe(200);
  });
});
