/**
 * The action is bound to the signature (issue 14, item 2): with signatures
 * required, a captured signed request cannot be re-sent as another action,
 * nor carried out twice; console sessions must sign X-TC-Action; and
 * api.requireSignedAction asks it of every client (the official SDK, which
 * signs only content-type;host, is then refused).
 */
import tencentcloud from "tencentcloud-sdk-nodejs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startService } from "../test-support/harness.js";
import { signTc3 } from "./tc3-auth.js";

const SECRET_ID = "AKIDsignedaction";
const SECRET_KEY = "signed-action-secret-key";
const OFF = { Enable: 0 as const, RecordInterval: 1800 };
const nowSec = () => Math.floor(Date.now() / 1000);

interface Signed {
  method: "GET" | "POST";
  query: string;
  body: string;
  headers: Record<string, string>;
}

/** A request signed as a client would sign it; `action` is signed only when `signAction`. */
function sign(h: Harness, action: string, body: object, opts: { method?: "GET" | "POST"; signAction?: boolean; secretId?: string; secretKey?: string; query?: string } = {}): Signed {
  const method = opts.method ?? "POST";
  const host = `127.0.0.1:${h.service.httpPort}`;
  const payload = method === "POST" ? JSON.stringify(body) : "";
  const query = opts.query ?? "";
  const timestamp = nowSec();
  const authorization = signTc3({
    secretId: opts.secretId ?? SECRET_ID,
    secretKey: opts.secretKey ?? SECRET_KEY,
    service: "live",
    host,
    method,
    query,
    contentType: "application/json",
    payload,
    timestamp,
    ...(opts.signAction ? { action } : {}),
  });
  return { method, query, body: payload, headers: { authorization, "content-type": "application/json", "x-tc-action": action, "x-tc-timestamp": String(timestamp), "x-tc-version": "2018-08-01" } };
}

async function send(h: Harness, r: Signed, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${h.service.httpPort}/${r.query ? `?${r.query}` : ""}`, {
    method: r.method,
    headers: { ...r.headers, ...headers },
    ...(r.method === "POST" ? { body: r.body } : {}),
  });
  return ((await res.json()) as { Response: Record<string, unknown> }).Response;
}

function errorCode(r: Record<string, unknown>): string | undefined {
  return (r.Error as { Code?: string } | undefined)?.Code;
}

const TEMPLATE = { TemplateName: "bound", HlsParam: { Enable: 1, RecordInterval: 1800 } };

describe("signatures bind the action", () => {
  let h: Harness;
  let sdkOk: InstanceType<typeof tencentcloud.live.v20180801.Client>;
  beforeAll(async () => {
    h = await startService({ FlvParam: OFF, HlsParam: OFF, Mp4Param: OFF, AacParam: OFF }, (c) => {
      c.api.auth = "on";
      c.api.credentials = [{ SecretId: SECRET_ID, SecretKey: SECRET_KEY }];
      c.console.password = "console-password-1";
    });
    sdkOk = new tencentcloud.live.v20180801.Client({
      credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
      region: "",
      profile: { httpProfile: { endpoint: `127.0.0.1:${h.service.httpPort}`, protocol: "http://", reqTimeout: 10 } },
    });
  });
  afterAll(() => h?.stop());

  it("a signed create sent twice makes one template; the SDK's own calls still work", async () => {
    const create = sign(h, "CreateLiveRecordTemplate", TEMPLATE);
    const first = await send(h, create);
    expect(first.TemplateId).toBeGreaterThan(0);
    const again = await send(h, create);
    expect(errorCode(again)).toBe("AuthFailure.InvalidAuthorization");
    expect(String((again.Error as { Message: string }).Message)).toMatch(/already carried out/);
    const { Templates } = await sdkOk.DescribeLiveRecordTemplates({});
    expect(Templates?.filter((t) => t.TemplateName === "bound")).toHaveLength(1);
  });

  it("a request that signs its action cannot be re-sent as another; a GET takes the action of its signed query only", async () => {
    const TemplateId = (await sdkOk.CreateLiveRecordTemplate({ TemplateName: "victim", HlsParam: { Enable: 1, RecordInterval: 1800 } })).TemplateId!;
    const read = sign(h, "DescribeLiveRecordTemplate", { TemplateId }, { signAction: true });
    expect(errorCode(await send(h, read))).toBeUndefined();
    expect(errorCode(await send(h, read))).toBeUndefined(); // the same read again is fine
    expect(errorCode(await send(h, read, { "x-tc-action": "DeleteLiveRecordTemplate" }))).toBe("AuthFailure.SignatureFailure");

    const get = sign(h, "DescribeLiveRecordTemplate", {}, { method: "GET", query: `Action=DescribeLiveRecordTemplate&TemplateId=${TemplateId}` });
    const viaGet = await send(h, get, { "x-tc-action": "DeleteLiveRecordTemplate" });
    expect(errorCode(viaGet)).toBeUndefined();
    expect((viaGet.Template as { TemplateId: number }).TemplateId).toBe(TemplateId);
    expect((await sdkOk.DescribeLiveRecordTemplate({ TemplateId })).Template?.TemplateName).toBe("victim");
  });

  it("the SDK's calls with the same body in the same second all go through (it signs no action)", async () => {
    const [rules, templates, callbacks] = await Promise.all([
      sdkOk.DescribeLiveRecordRules(),
      sdkOk.DescribeLiveRecordTemplates({}),
      sdkOk.DescribeLiveCallbackTemplates(),
    ]);
    expect(rules.Rules).toBeDefined();
    expect(templates.Templates).toBeDefined();
    expect(callbacks.Templates).toBeDefined();
  });

  it("console sessions must sign X-TC-Action", async () => {
    const login = (await (
      await fetch(`http://127.0.0.1:${h.service.httpPort}/console/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ password: "console-password-1" }),
      })
    ).json()) as { Response: { SecretId: string; SecretKey: string } };
    const session = { secretId: login.Response.SecretId, secretKey: login.Response.SecretKey };
    const unbound = await send(h, sign(h, "DescribeLiveRecordTemplates", {}, session));
    expect(errorCode(unbound)).toBe("AuthFailure.InvalidAuthorization");
    expect(String((unbound.Error as { Message: string }).Message)).toMatch(/X-TC-Action must be signed/);
    const bound = await send(h, sign(h, "DescribeLiveRecordTemplates", {}, { ...session, signAction: true }));
    expect(errorCode(bound)).toBeUndefined();

    // Logout needs the session's key, not just its SecretId.
    const logoutUrl = `http://127.0.0.1:${h.service.httpPort}/console/api/logout`;
    const unsignedLogout = await fetch(logoutUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ SecretId: session.secretId }) });
    expect(((await unsignedLogout.json()) as { Response: { Error?: { Code: string } } }).Response.Error?.Code).toMatch(/^AuthFailure/);
    expect(errorCode(await send(h, sign(h, "DescribeLiveRecordRules", {}, { ...session, signAction: true })))).toBeUndefined();
    const host = `127.0.0.1:${h.service.httpPort}`;
    const timestamp = nowSec();
    const authorization = signTc3({ ...session, service: "live", host, method: "POST", path: "/console/api/logout", contentType: "application/json", payload: "{}", timestamp, action: "ConsoleLogout" });
    const signedLogout = await fetch(logoutUrl, {
      method: "POST",
      headers: { authorization, "content-type": "application/json", "x-tc-action": "ConsoleLogout", "x-tc-timestamp": String(timestamp) },
      body: "{}",
    });
    expect(((await signedLogout.json()) as { Response: { Error?: unknown } }).Response.Error).toBeUndefined();
    expect(errorCode(await send(h, sign(h, "DescribeLiveCallbackRules", {}, { ...session, signAction: true })))).toBe("AuthFailure.SecretIdNotFound");
  });
});

describe("api.requireSignedAction", () => {
  it("refuses POSTs that do not sign X-TC-Action (the official SDK), takes those that do", async () => {
    const h = await startService({}, (c) => {
      c.api.auth = "on";
      c.api.credentials = [{ SecretId: SECRET_ID, SecretKey: SECRET_KEY }];
      c.api.requireSignedAction = true;
    });
    try {
      const sdk = new tencentcloud.live.v20180801.Client({
        credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
        region: "",
        profile: { httpProfile: { endpoint: `127.0.0.1:${h.service.httpPort}`, protocol: "http://", reqTimeout: 10 } },
      });
      await expect(sdk.DescribeLiveRecordTemplates({})).rejects.toThrow(/X-TC-Action must be signed/);
      expect(errorCode(await send(h, sign(h, "DescribeLiveRecordTemplates", {}, { signAction: true })))).toBeUndefined();
    } finally {
      await h.stop();
    }
  });
});
