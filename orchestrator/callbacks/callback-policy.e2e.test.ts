/**
 * Issue 14 item 6, the attack end to end: an API caller aims callbacks at
 * cloud metadata and, through a host name, at a service on this machine the
 * operator has put off limits. The API refuses what the URL alone tells; what
 * only DNS tells is refused when sending, before any connection, and the
 * outbox says no more than "refused by the callbacks policy". A control
 * stream aimed at an allowed receiver proves the same push does reach one.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../../fixtures/fixtures.js";
import { waitFor } from "../../scripts/test-support/wait-for.js";
import { replayFlv } from "../cli/replay.js";
import { callApi, callOk, type Harness, startService } from "../test-support/harness.js";
import { POLICY_REFUSAL } from "./callback-dispatcher.js";

const OFF = { Enable: 0 as const, RecordInterval: 1800 };

/** A receiver counting TCP connections, so "never connected to" is observed, not inferred. */
async function receiver(host: string): Promise<{ port: number; connections: () => number; events: unknown[]; server: Server }> {
  let connections = 0;
  const events: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      events.push(JSON.parse(body));
      res.end('{"code":0}');
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, events, server };
}

interface Delivery {
  Url: string;
  EventType: number;
  Status: string;
  Attempts: number;
  LastError: string;
}

describe("callbacks policy against the SSRF attack (issue 14 item 6)", () => {
  let h: Harness;
  let target: Awaited<ReturnType<typeof receiver>>;
  let control: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    // The "internal service": on 127.0.0.1, which the operator has denied to callbacks.
    target = await receiver("127.0.0.1");
    control = await receiver("127.0.0.2");
    h = await startService({ FlvParam: { Enable: 1, RecordInterval: 60 }, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF }, (c) => {
      c.callbacks.deny = ["127.0.0.1", "::1"];
      c.callbacks.retryIntervalSec = 1;
    });
  });
  afterAll(async () => {
    await h?.stop();
    for (const r of [target, control]) r?.server.close();
  });

  it("metadata and denied addresses are refused by CreateLiveCallbackTemplate; a name resolving to a denied address is never connected to", async () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "http://[::ffff:169.254.169.254]/latest/meta-data/",
      "http://2852039166/latest/meta-data/",
      "http://100.100.100.200/latest/meta-data/",
      `http://127.0.0.1:${target.port}/`,
    ]) {
      const r = await callApi(h, "CreateLiveCallbackTemplate", { TemplateName: "probe", RecordNotifyUrl: url });
      expect(r.Error, url).toMatchObject({ Code: "InvalidParameterValue", Message: expect.stringContaining("RecordNotifyUrl is refused by the callbacks policy") });
    }
    expect((await callOk(h, "DescribeLiveCallbackTemplates", {})).Templates).toEqual([]);

    // A host name passes the API (only DNS can tell) and is judged on its addresses when sending.
    const attackUrl = `http://localhost:${target.port}/cb`;
    const attack = (await callOk(h, "CreateLiveCallbackTemplate", { TemplateName: "rebound", RecordNotifyUrl: attackUrl, RecordStatusNotifyUrl: attackUrl })).TemplateId;
    const controlUrl = `http://127.0.0.2:${control.port}/cb`;
    const allowed = (await callOk(h, "CreateLiveCallbackTemplate", { TemplateName: "control", RecordNotifyUrl: controlUrl, RecordStatusNotifyUrl: controlUrl })).TemplateId;
    await callOk(h, "CreateLiveCallbackRule", { DomainName: "127.0.0.1", AppName: "live", TemplateId: attack });
    await callOk(h, "CreateLiveCallbackRule", { DomainName: "127.0.0.1", AppName: "ctl", TemplateId: allowed });

    const source = FIXTURES["av-h264-aac-3s"].path;
    await Promise.all([replayFlv(source, h.url("live", "ssrf")), replayFlv(source, h.url("ctl", "ssrf"))]);
    await h.closed("ssrf", 2);

    // The control stream's file and status events reach the allowed receiver.
    await waitFor(() => control.events.some((e) => (e as { event_type: number }).event_type === 100), { timeoutMs: 30_000, what: "the control file callback" });
    const deliveries = await waitFor(
      async () => {
        const set = (await callOk(h, "DescribeCallbackDeliveries", { Limit: 100 })).DeliverySet as Delivery[];
        const attacks = set.filter((d) => d.Url === attackUrl);
        return attacks.some((d) => d.EventType === 100) && attacks.every((d) => d.Status !== "pending") ? attacks : undefined;
      },
      { timeoutMs: 30_000, what: "the attack deliveries settled" },
    );
    expect(deliveries.map((d) => d.EventType)).toContain(332);
    for (const d of deliveries) expect(d).toMatchObject({ Status: "failed", Attempts: 1, LastError: POLICY_REFUSAL });
    expect(target.connections()).toBe(0);
    expect(control.connections()).toBeGreaterThan(0);
  }, 90_000);
});
