/**
 * The web console end to end, in Debian's Chromium (playwright-core) against
 * the service in-process with signatures required (api.auth "on"): every
 * click below goes through the signed control API with the session
 * credential of the login.
 *
 * Log in (a wrong password first), create a template (an invalid interval
 * first: the API's message shows at the field) and a rule, push a fixture,
 * see it live with its rule and template, stop it (DropLiveStream), find its
 * recordings, play the HLS, MP4, FLV and AAC files to the end in the page (through the signed
 * URLs the API issues, recordings.access being "auto"), delete
 * one, retry a callback delivery that failed, and create, stop and delete a
 * record task. Screenshots go to test-output/console/.
 */
import { mkdir, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../fixtures/fixtures.js";
import { replayFlv } from "../orchestrator/cli/replay.js";
import { launchChromium } from "../orchestrator/test-support/browser.js";
import { callApi, type Harness, startService } from "../orchestrator/test-support/harness.js";

const PASSWORD = "operator-pass-e2e";
const OUT = fileURLToPath(new URL("../test-output/console/", import.meta.url));
const OFF = { Enable: 0 as const, RecordInterval: 1800 };
/** The config's fallback template records nothing: only the rule made in the UI records. */
const NOTHING = { FlvParam: OFF, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF };

/** A callback receiver that answers 500 to its first request and 200 afterwards. */
async function flakyReceiver(): Promise<{ url: string; bodies: Record<string, unknown>[]; server: Server }> {
  const bodies: Record<string, unknown>[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      requests++;
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      if (requests === 1) res.writeHead(500).end("receiver down for maintenance");
      else res.writeHead(200, { "content-type": "application/json" }).end('{"code":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, server };
}

async function go(page: Page, nav: string): Promise<void> {
  await page.locator("header nav").getByRole("link", { name: nav, exact: true }).click();
  await page.locator("h1").first().waitFor();
}

/** Plays the recording of `row` in the page and waits for the end; returns the player's clock. */
async function playToEnd(page: Page, row: string, screenshot?: string) {
  await page.locator(row).getByRole("button", { name: "Play" }).click();
  const fileId = await page.locator(row).getAttribute("data-file-id");
  await page.locator(`.player[data-file-id="${fileId}"] .media`).waitFor();
  if (screenshot) {
    await page.waitForFunction(() => (document.querySelector<HTMLMediaElement>(".player .media")?.currentTime ?? 0) > 1.5, null, { timeout: 15_000 });
    await page.screenshot({ path: join(OUT, screenshot), fullPage: true });
  }
  const handle = await page.waitForFunction(
    () => {
      const v = document.querySelector<HTMLMediaElement>(".player .media");
      if (!v || !Number.isFinite(v.duration) || v.duration <= 0) return false;
      return v.ended || v.currentTime >= v.duration - 0.05 ? { currentTime: v.currentTime, duration: v.duration, ended: v.ended } : false;
    },
    null,
    { timeout: 30_000, polling: 100 },
  );
  const result = (await handle.jsonValue()) as { currentTime: number; duration: number; ended: boolean };
  return { ...result, engine: await page.locator(".player").getAttribute("data-engine"), error: await page.locator(".player [role=alert]").count() };
}

describe("web console", () => {
  let h: Harness;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof flakyReceiver>>;

  beforeAll(async () => {
    await mkdir(OUT, { recursive: true });
    receiver = await flakyReceiver();
    h = await startService(NOTHING, (c) => {
      c.console.password = PASSWORD;
      c.api.auth = "on";
      c.callbacks.recordNotifyUrl = receiver.url;
      c.callbacks.maxRetries = 0; // the first failure parks the delivery as failed
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    await new Promise((r) => receiver?.server.close(r));
  });

  it("logs in, creates a template and a rule, shows a live push, stops it, plays and deletes its recordings, retries a failed callback", async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const base = `http://127.0.0.1:${h.service.httpPort}`;

    // No unauthenticated write path: the API refuses an unsigned call.
    expect((await callApi(h, "CreateLiveRecordTemplate", { TemplateName: "nope" })).Error).toMatchObject({ Code: "AuthFailure.InvalidAuthorization" });

    // Log in: a wrong password shows the server's message first.
    await page.goto(`${base}/console/`);
    await page.locator("input[name=password]").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.locator("[role=alert]").textContent()).toContain("wrong password");
    await page.screenshot({ path: join(OUT, "login.png") });
    await page.locator("input[name=password]").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("header nav").waitFor();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Live streams");

    // A template: an invalid interval gets the API's message at the field, then it is created.
    await go(page, "Templates");
    await page.getByRole("button", { name: "New template" }).click();
    await page.locator('input[name="TemplateName"]').fill("console_e2e");
    await page.locator('input[name="Description"]').fill("made by the console test");
    for (const f of ["FlvParam", "HlsParam", "Mp4Param", "AacParam"]) await page.locator(`input[name="${f}.Enable"]`).check();
    await page.locator('input[name="FlvParam.RecordInterval"]').fill("30");
    await page.getByRole("button", { name: "Create template" }).click();
    const fieldError = page.locator(".field.has-error .field-error");
    await expect.poll(() => fieldError.textContent()).toMatch(/^FlvParam\.RecordInterval must be .*60.*43200/);
    await page.locator('input[name="FlvParam.RecordInterval"]').fill("600");
    await page.getByRole("button", { name: "Create template" }).click();
    await page.locator('tr[data-template="console_e2e"]').waitFor();
    await page.locator('tr[data-template="console_e2e"]').getByRole("button", { name: "Edit" }).click();
    await page.screenshot({ path: join(OUT, "templates.png"), fullPage: true });
    await page.getByRole("button", { name: "Cancel" }).click();

    // A rule binding it to 127.0.0.1/live/cam1.
    await go(page, "Rules");
    await page.locator('input[name="AppName"]').fill("live");
    await page.locator('input[name="StreamName"]').fill("cam1");
    await page.locator('select[name="TemplateId"]').selectOption({ label: "#1 console_e2e" });
    await page.getByRole("button", { name: "Bind" }).click();
    await page.locator('tr[data-rule="127.0.0.1/live/cam1"]').waitFor();

    // Push a fixture in real time; it appears live with its rule and template.
    const pushed = replayFlv(FIXTURES["av-h264-aac-20s"].path, h.url("live", "cam1"), { speed: 1 }).then(
      () => "finished",
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    await go(page, "Live");
    const liveRow = page.locator('tr[data-stream="cam1"]');
    await liveRow.waitFor({ timeout: 10_000 });
    await expect.poll(() => liveRow.locator(".live-template").textContent(), { timeout: 10_000 }).toBe("#1 console_e2e");
    expect(await liveRow.locator(".live-rule").textContent()).toContain("127.0.0.1/live/cam1");
    await expect.poll(() => liveRow.locator(".badge-recording").count(), { timeout: 10_000 }).toBe(1);
    expect(await liveRow.textContent()).toMatch(/video H\.264.*audio AAC/);
    expect(await liveRow.locator(".badge-format").allTextContents()).toEqual(["FLV", "HLS", "MP4", "AAC"]);
    await page.waitForTimeout(4500); // some media to record, and a moving uptime
    await page.screenshot({ path: join(OUT, "live.png") });

    // Stop it from the page (DropLiveStream).
    await liveRow.getByRole("button", { name: "Stop push" }).click();
    await liveRow.getByRole("button", { name: "Disconnect" }).click();
    expect(await pushed).toMatch(/closed/);
    await h.closed("cam1");
    await expect.poll(() => page.locator(".empty").textContent(), { timeout: 10_000 }).toContain("No stream is being pushed");

    // Find the recordings and play HLS, then MP4, to the end.
    await go(page, "Recordings");
    await page.locator('input[name="stream"]').fill("cam1");
    await expect
      .poll(
        async () => {
          await page.getByRole("button", { name: "Search" }).click();
          await page.waitForTimeout(300);
          return (await page.locator("tr[data-type]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-type")))).sort();
        },
        { timeout: 15_000 },
      )
      .toEqual(["aac", "flv", "m3u8", "mp4"]);
    // With signatures required, recordings are signed (recordings.access "auto"): the page plays and downloads through the URLs the API issued.
    const download = (await page.locator('tr[data-type="mp4"] a[download]').getAttribute("href")) ?? "";
    expect(download).toMatch(/\/recordings\/.+\.mp4\?t=[0-9a-f]+&sign=[0-9a-f]{32}$/);
    expect((await fetch(download, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(download.replace(/\?.*$/, ""), { method: "HEAD" })).status).toBe(403);
    const hls = await playToEnd(page, 'tr[data-type="m3u8"]', "recordings.png");
    expect(hls.engine).toBe("hls.js");
    expect(hls.error).toBe(0);
    expect(hls.duration).toBeGreaterThan(2);
    expect(Math.abs(hls.currentTime - hls.duration)).toBeLessThanOrEqual(0.5);
    const mp4 = await playToEnd(page, 'tr[data-type="mp4"]');
    expect(mp4.engine).toBe("native");
    expect(mp4.error).toBe(0);
    expect(Math.abs(mp4.currentTime - mp4.duration)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(mp4.duration - hls.duration)).toBeLessThan(1);
    const flv = await playToEnd(page, 'tr[data-type="flv"]');
    expect(flv.engine).toBe("mpegts.js");
    expect(flv.error).toBe(0);
    expect(Math.abs(flv.currentTime - flv.duration)).toBeLessThanOrEqual(0.5);
    const aac = await playToEnd(page, 'tr[data-type="aac"]');
    expect(aac.engine).toBe("native");
    expect(aac.error).toBe(0);
    expect(Math.abs(aac.currentTime - aac.duration)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(aac.duration - hls.duration)).toBeLessThan(1);

    // Delete the MP4: gone from the list, the catalog and the disk.
    const mp4Row = page.locator('tr[data-type="mp4"]');
    const mp4Id = (await mp4Row.getAttribute("data-file-id"))!;
    const mp4Path = (await h.service.catalog.searchRecordings({ fileIds: [mp4Id], order: "Asc", offset: 0, limit: 1 })).files[0]!.path;
    await mp4Row.getByRole("button", { name: "Delete" }).click();
    await mp4Row.getByRole("button", { name: "Delete: confirm" }).click();
    await expect.poll(() => page.locator("tr[data-type]").count()).toBe(3);
    expect((await h.service.catalog.searchRecordings({ fileIds: [mp4Id], order: "Asc", offset: 0, limit: 1 })).files).toEqual([]);
    await expect(stat(join(h.dataDir, mp4Path))).rejects.toMatchObject({ code: "ENOENT" });

    // Callbacks: the receiver refused the first event, so one delivery failed; retry it from the page.
    await go(page, "Callbacks");
    const failed = page.locator('tr[data-status="failed"]');
    await failed.first().waitFor({ timeout: 15_000 });
    expect(await failed.count()).toBe(1);
    expect(await failed.locator(".last-error").textContent()).toContain("500");
    await expect.poll(() => page.locator('tr[data-status="delivered"]').count(), { timeout: 10_000 }).toBe(3);
    await page.screenshot({ path: join(OUT, "callbacks.png") });
    const deliveryId = await failed.getAttribute("data-delivery");
    await failed.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => page.locator(`tr[data-delivery="${deliveryId}"]`).getAttribute("data-status"), { timeout: 10_000 }).toBe("delivered");
    const fileIds = receiver.bodies.map((b) => b.file_id);
    expect(fileIds).toHaveLength(5); // four files, the first one twice
    expect(new Set(fileIds).size).toBe(4);

    // A record task with the date-time pickers: an end in the past is refused with the API's message, then created, stopped, deleted.
    await go(page, "Tasks");
    const local = (ms: number) => {
      const d = new Date(ms);
      const p = (n: number) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    const taskForm = page.getByRole("form", { name: "New task" });
    await taskForm.locator('input[name="StreamName"]').fill("lobby");
    await taskForm.locator('input[name="EndTime"]').fill(local(Date.now() - 3_600_000));
    await taskForm.getByRole("button", { name: "Create task" }).click();
    await expect.poll(() => taskForm.locator(".field.has-error .field-error").textContent()).toMatch(/^EndTime must be later than/);
    await taskForm.locator('input[name="EndTime"]').fill(local(Date.now() + 2 * 3_600_000));
    await taskForm.locator('select[name="TemplateId"]').selectOption({ label: "#1 console_e2e" });
    await taskForm.getByRole("button", { name: "Create task" }).click();
    const taskRow = page.locator("tr[data-task]");
    await taskRow.waitFor();
    expect(await taskRow.textContent()).toContain("127.0.0.1/live/lobby");
    expect(await taskRow.locator(".badge").textContent()).toBe("in window");
    await taskRow.getByRole("button", { name: "Stop" }).click();
    await taskRow.getByRole("button", { name: "Stop for good" }).click();
    await expect.poll(() => taskRow.locator(".badge").textContent()).toBe("stopped");
    await page.screenshot({ path: join(OUT, "tasks.png"), fullPage: true });
    await taskRow.getByRole("button", { name: "Delete" }).click();
    await taskRow.getByRole("button", { name: "Delete: confirm" }).click();
    await expect.poll(() => page.locator("tr[data-task]").count()).toBe(0);

    // Log out: the server ends the session (the call is signed with it), the login form is back.
    expect(await page.evaluate(() => sessionStorage.length)).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.locator("input[name=password]").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    expect(pageErrors).toEqual([]);
  }, 90_000);
});
