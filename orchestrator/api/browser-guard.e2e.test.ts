/**
 * A web page on another origin, in Chromium, against the default service
 * (API open on loopback): it must neither change state nor read anything.
 * And a forged Host header (DNS rebinding) reaches nothing (issue 14, item 1).
 */
import { request } from "node:http";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, serveStatic } from "../test-support/browser.js";
import { callOk, type Harness, startService } from "../test-support/harness.js";

let h: Harness;
let browser: Browser;
let evil: { url: string; close: () => Promise<void> };
let api = "";

async function templateCount(): Promise<{ record: number; callback: number }> {
  const record = (await callOk(h, "DescribeLiveRecordTemplates", {})).Templates as unknown[];
  const callback = (await callOk(h, "DescribeLiveCallbackTemplates", {})).Templates as unknown[];
  return { record: record.length, callback: callback.length };
}

/** A raw request with any Host header (fetch would not let a test forge it). */
function rawRequest(path: string, host: string, body?: string, port = h.service.httpPort): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: body ? "POST" : "GET", headers: { host, ...(body ? { "content-type": "application/json", "x-tc-action": "CreateLiveCallbackTemplate" } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  h = await startService();
  api = `http://127.0.0.1:${h.service.httpPort}`;
  await callOk(h, "CreateLiveRecordTemplate", { TemplateName: "keep", HlsParam: { Enable: 1 } });
  const dir = h.streamDir("live", "cam");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "cam_2026-12-02-10-00-00_2026-12-02-10-01-00.mp4"), Buffer.alloc(4096, 7));
  evil = await serveStatic({}, { "/": "<!doctype html><title>another site</title>" });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await evil?.close();
  await h?.stop();
});

describe("a page on another origin", () => {
  it("cannot change state: text/plain POST, form-style GET with Action, even with no-cors", async () => {
    const before = await templateCount();
    const { record } = before;
    const page = await browser.newPage();
    await page.goto(evil.url);
    const outcomes = await page.evaluate(async (target) => {
      const tries: [string, RequestInit][] = [
        [
          `${target}/?Action=CreateLiveCallbackTemplate`,
          { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: JSON.stringify({ TemplateName: "evil", RecordNotifyUrl: "http://attacker.example/cb" }) },
        ],
        [`${target}/?Action=DeleteLiveRecordTemplate&TemplateId=1`, { method: "GET", mode: "no-cors" }],
        [`${target}/console/api/login`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: '{"password":"x"}' }],
      ];
      const out: string[] = [];
      for (const [url, init] of tries) {
        try {
          const r = await fetch(url, init);
          out.push(r.type);
        } catch (e) {
          out.push(String(e));
        }
      }
      return out;
    }, api);
    // The requests went out (opaque answers): the refusal is the server's, not the browser's.
    expect(outcomes).toEqual(["opaque", "opaque", "opaque"]);
    expect(await templateCount()).toEqual({ record, callback: before.callback });
  });

  it("cannot read a recording or the API's answers", async () => {
    const page = await browser.newPage();
    await page.goto(evil.url);
    const read = await page.evaluate(async (target) => {
      const results: string[] = [];
      for (const url of [`${target}/recordings/127.0.0.1/live/cam/cam_2026-12-02-10-00-00_2026-12-02-10-01-00.mp4`, `${target}/status`]) {
        try {
          const r = await fetch(url);
          results.push(`read ${(await r.arrayBuffer()).byteLength} bytes`);
        } catch (e) {
          results.push(e instanceof TypeError ? "blocked" : String(e));
        }
      }
      return results;
    }, api);
    expect(read).toEqual(["blocked", "blocked"]);
  });

  it("while the service's own pages (the console's origin) still drive the API", async () => {
    const page = await browser.newPage();
    await page.goto(`${api}/console/`);
    const answer = await page.evaluate(async () => {
      const r = await fetch("/", { method: "POST", headers: { "content-type": "application/json", "x-tc-action": "DescribeLiveRecordTemplates" }, body: "{}" });
      return (await r.json()) as { Response: { Templates?: unknown[]; Error?: unknown } };
    });
    expect(answer.Response.Error).toBeUndefined();
    expect(answer.Response.Templates?.length).toBeGreaterThan(0);
    // Nor can another site frame the console.
    const page2 = await fetch(`${api}/console/`);
    expect(page2.headers.get("x-frame-options")).toBe("DENY");
    expect(page2.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page2.headers.get("content-security-policy")).toContain("script-src 'self'");
  });
});

describe("a forged Host header (DNS rebinding)", () => {
  it("reaches nothing: no action, no recording, no status", async () => {
    const before = await templateCount();
    const created = await rawRequest("/", `attacker.example:${h.service.httpPort}`, JSON.stringify({ TemplateName: "evil", RecordNotifyUrl: "http://attacker.example/cb" }));
    expect(created.status).toBe(421);
    expect(JSON.parse(created.body)).toMatchObject({ error: { code: "HOST_NOT_ALLOWED" } });
    expect((await rawRequest("/recordings/127.0.0.1/live/cam/cam_2026-12-02-10-00-00_2026-12-02-10-01-00.mp4", "attacker.example")).status).toBe(421);
    expect((await rawRequest("/status", "attacker.example")).status).toBe(421);
    expect(await templateCount()).toEqual(before);
    // While the API is unsigned, a request that came through a proxy is refused; a body nested past 16 levels is refused unparsed.
    const post = async (headers: Record<string, string>, body: string) =>
      ((await (await fetch(`${api}/`, { method: "POST", headers: { "content-type": "application/json", "x-tc-action": "CreateLiveRecordTemplate", ...headers }, body })).json()) as {
        Response: { Error?: { Code: string; Message: string } };
      }).Response.Error;
    expect((await post({ "x-forwarded-for": "203.0.113.7" }, JSON.stringify({ TemplateName: "proxied" })))?.Message).toMatch(/^PROXIED_REQUEST/);
    expect((await post({}, `${"[".repeat(5000)}${"]".repeat(5000)}`))?.Message).toMatch(/nests deeper than 16 levels/);
    expect(await templateCount()).toEqual(before);
    // The service's own names still work.
    expect((await rawRequest("/status", `localhost:${h.service.httpPort}`)).status).toBe(200);
  });
});

describe("http.allowedHosts and http.corsOrigins", () => {
  it("a configured host name is served; a configured origin may read recordings", async () => {
    const open = await startService({}, (c) => {
      c.http.allowedHosts = ["cam-box.lan"];
      c.http.corsOrigins = [evil.url];
    });
    try {
      const dir = open.streamDir("live", "cam");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "cam.mp4"), Buffer.alloc(1000, 1));
      expect((await rawRequest("/status", "cam-box.lan", undefined, open.service.httpPort)).status).toBe(200);
      expect((await rawRequest("/status", "other.lan", undefined, open.service.httpPort)).status).toBe(421);
      const page = await browser.newPage();
      await page.goto(evil.url);
      const bytes = await page.evaluate(async (url) => (await (await fetch(url)).arrayBuffer()).byteLength, `http://127.0.0.1:${open.service.httpPort}/recordings/127.0.0.1/live/cam/cam.mp4`);
      expect(bytes).toBe(1000);
    } finally {
      await open.stop();
    }
  });
});
