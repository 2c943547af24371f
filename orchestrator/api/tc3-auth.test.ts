import { createRequire } from "node:module";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import tencentcloud from "tencentcloud-sdk-nodejs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, type ApiErrorCode } from "../control/api-error.js";
import { signTc3, type VerifyTc3Request, verifyTc3 } from "./tc3-auth.js";

interface Sign3Args {
  method: string;
  url: string;
  payload: unknown;
  timestamp: number;
  service: string;
  secretId: string;
  secretKey: string;
  multipart: boolean;
  headers: Record<string, string>;
}
/** The SDK's own TC3 signer (tencentcloud/common/sign.js). */
const sdkSign3 = (
  createRequire(import.meta.url)("tencentcloud-sdk-nodejs/tencentcloud/common/sign.js") as {
    default: { sign3(args: Sign3Args): string };
  }
).default.sign3;

const SECRET_ID = "AKIDtc3testSecretId0001";
const SECRET_KEY = "tc3TestSecretKeyDoNotLeak0123456789";

interface Captured {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const captured: Captured[] = [];
let server: Server;
let port = 0;

function lookup(id: string): string | undefined {
  return id === SECRET_ID ? SECRET_KEY : undefined;
}

function timestampOf(c: Captured): number {
  return Number(c.headers["x-tc-timestamp"]);
}

function verifyInput(c: Captured, overrides: Partial<VerifyTc3Request> = {}): VerifyTc3Request {
  return {
    method: c.method,
    path: c.path,
    query: c.query,
    headers: c.headers,
    body: c.body,
    lookupSecret: lookup,
    nowSec: timestampOf(c),
    ...overrides,
  };
}

function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError, but the call succeeded");
}

function expectCode(fn: () => unknown, code: ApiErrorCode): ApiError {
  const err = apiErrorOf(fn);
  expect(err.apiCode).toBe(code);
  expect(err.code).toBe(code);
  expect(err.message).not.toContain(SECRET_KEY);
  return err;
}

type LiveClient = InstanceType<typeof tencentcloud.live.v20180801.Client>;

function sdkClient(reqMethod: "POST" | "GET"): LiveClient {
  return new tencentcloud.live.v20180801.Client({
    credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
    region: "",
    profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: "http://", reqMethod, reqTimeout: 5 } },
  });
}

let postReq: Captured;
let getReq: Captured;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      captured.push({
        method: req.method ?? "",
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? "" : url.slice(q + 1),
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.setHeader("Content-Type", "application/json");
      res.end('{"Response":{"TemplateId":1,"RequestId":"00000000-0000-0000-0000-000000000000"}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;

  const post = await sdkClient("POST").CreateLiveRecordTemplate({
    TemplateName: "t1",
    Mp4Param: { Enable: 1, RecordInterval: 60 },
  });
  expect(post.TemplateId).toBe(1);
  postReq = captured[0]!;

  const get = await sdkClient("GET").CreateLiveRecordTemplate({
    TemplateName: "t1",
    Mp4Param: { Enable: 1, RecordInterval: 60 },
  });
  expect(get.TemplateId).toBe(1);
  getReq = captured[1]!;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("verifyTc3 against the official SDK (POST)", () => {
  it("captured what the SDK sends", () => {
    expect(postReq.method).toBe("POST");
    expect(postReq.path).toBe("/");
    expect(postReq.query).toBe("");
    expect(postReq.headers["content-type"]).toBe("application/json");
    expect(postReq.headers["x-tc-action"]).toBe("CreateLiveRecordTemplate");
    expect(JSON.parse(postReq.body.toString("utf8"))).toEqual({
      TemplateName: "t1",
      Mp4Param: { Enable: 1, RecordInterval: 60 },
    });
    expect(postReq.headers.authorization).toMatch(
      /^TC3-HMAC-SHA256 Credential=AKIDtc3testSecretId0001\/\d{4}-\d{2}-\d{2}\/127\/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$/,
    );
  });

  it("accepts the request with the right secret", () => {
    expect(verifyTc3(verifyInput(postReq))).toMatchObject({ secretId: SECRET_ID, service: "127" });
    // Within the skew window on either side.
    expect(verifyTc3(verifyInput(postReq, { nowSec: timestampOf(postReq) - 300 })).secretId).toBe(SECRET_ID);
    expect(verifyTc3(verifyInput(postReq, { nowSec: timestampOf(postReq) + 300 })).secretId).toBe(SECRET_ID);
  });

  it("rejects a wrong secret with SignatureFailure, without leaking the key or expected signature", () => {
    const err = expectCode(
      () => verifyTc3(verifyInput(postReq, { lookupSecret: () => "not-the-key" })),
      "AuthFailure.SignatureFailure",
    );
    const sig = /Signature=([0-9a-f]+)/.exec(String(postReq.headers.authorization))?.[1];
    expect(sig).toBeDefined();
    expect(err.message).not.toContain(sig);
    expect(err.message).not.toContain("not-the-key");
  });

  it("rejects a tampered body with SignatureFailure", () => {
    const body = Buffer.from(postReq.body.toString("utf8").replace('"t1"', '"t2"'), "utf8");
    expect(body.equals(postReq.body)).toBe(false);
    expectCode(() => verifyTc3(verifyInput(postReq, { body })), "AuthFailure.SignatureFailure");
  });

  it("rejects a tampered signed header / method / query with SignatureFailure", () => {
    expectCode(
      () => verifyTc3(verifyInput(postReq, { headers: { ...postReq.headers, host: "evil.example:80" } })),
      "AuthFailure.SignatureFailure",
    );
    expectCode(() => verifyTc3(verifyInput(postReq, { method: "GET" })), "AuthFailure.SignatureFailure");
    expectCode(() => verifyTc3(verifyInput(postReq, { query: "a=1" })), "AuthFailure.SignatureFailure");
  });

  it("rejects an unknown SecretId with SecretIdNotFound", () => {
    expectCode(() => verifyTc3(verifyInput(postReq, { lookupSecret: () => undefined })), "AuthFailure.SecretIdNotFound");
  });

  it("rejects a stale or future timestamp with SignatureExpire", () => {
    expectCode(
      () => verifyTc3(verifyInput(postReq, { nowSec: timestampOf(postReq) + 400 })),
      "AuthFailure.SignatureExpire",
    );
    expectCode(
      () => verifyTc3(verifyInput(postReq, { nowSec: timestampOf(postReq) - 400 })),
      "AuthFailure.SignatureExpire",
    );
    expectCode(
      () => verifyTc3(verifyInput(postReq, { nowSec: timestampOf(postReq) + 20, maxSkewSec: 10 })),
      "AuthFailure.SignatureExpire",
    );
  });

  it("checks the credential's service against allowedServices", () => {
    expectCode(
      () => verifyTc3(verifyInput(postReq, { allowedServices: ["live"] })),
      "AuthFailure.SignatureFailure",
    );
    expect(verifyTc3(verifyInput(postReq, { allowedServices: ["live", "127"] }))).toMatchObject({
      secretId: SECRET_ID,
      service: "127",
    });
  });
});

describe("verifyTc3 against the official SDK (GET)", () => {
  it("the SDK signs GET with TC3, params in the query string", () => {
    expect(getReq.method).toBe("GET");
    expect(getReq.path).toBe("/");
    expect(getReq.body.length).toBe(0);
    expect(getReq.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const params = new URLSearchParams(getReq.query);
    expect(params.get("TemplateName")).toBe("t1");
    expect(params.get("Mp4Param.Enable")).toBe("1");
    expect(params.get("Mp4Param.RecordInterval")).toBe("60");
    expect(getReq.headers.authorization).toMatch(/^TC3-HMAC-SHA256 Credential=.*\/127\/tc3_request, SignedHeaders=content-type;host, /);
  });

  it("accepts the GET request and rejects a tampered query", () => {
    expect(verifyTc3(verifyInput(getReq))).toMatchObject({ secretId: SECRET_ID, service: "127" });
    const query = getReq.query.replace("RecordInterval=60", "RecordInterval=61");
    expect(query).not.toBe(getReq.query);
    expectCode(() => verifyTc3(verifyInput(getReq, { query })), "AuthFailure.SignatureFailure");
    expectCode(
      () => verifyTc3(verifyInput(getReq, { lookupSecret: () => "wrong" })),
      "AuthFailure.SignatureFailure",
    );
  });
});

describe("signTc3", () => {
  it("reproduces the SDK's Authorization header for the captured POST", () => {
    const auth = signTc3({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      service: "127",
      host: "127.0.0.1",
      method: "POST",
      contentType: String(postReq.headers["content-type"]),
      payload: postReq.body.toString("utf8"),
      timestamp: timestampOf(postReq),
    });
    expect(auth).toBe(postReq.headers.authorization);
    // Buffer payload and explicit path/query give the same value.
    expect(
      signTc3({
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: "127",
        host: "127.0.0.1",
        method: "POST",
        path: "/",
        query: "",
        contentType: "application/json",
        payload: postReq.body,
        timestamp: timestampOf(postReq),
      }),
    ).toBe(auth);
  });

  it("reproduces the SDK's Authorization header for the captured GET", () => {
    const auth = signTc3({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      service: "127",
      host: "127.0.0.1",
      method: "GET",
      query: getReq.query,
      contentType: "application/x-www-form-urlencoded",
      payload: "",
      timestamp: timestampOf(getReq),
    });
    expect(auth).toBe(getReq.headers.authorization);
  });

  it("round-trips POST through verifyTc3 (host with port, service live)", () => {
    const timestamp = 1_764_115_200; // 2025-11-26T00:00:00Z
    const body = Buffer.from('{"TemplateName":"x","HlsParam":{"Enable":1}}', "utf8");
    const authorization = signTc3({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      service: "live",
      host: "live.example.com:8443",
      method: "POST",
      contentType: "application/json; charset=utf-8",
      payload: body,
      timestamp,
    });
    expect(authorization).toContain(`Credential=${SECRET_ID}/2025-11-26/live/tc3_request`);
    const headers = {
      authorization,
      "content-type": "application/json; charset=utf-8",
      host: "live.example.com:8443",
      "x-tc-timestamp": String(timestamp),
    };
    const input: VerifyTc3Request = {
      method: "POST",
      path: "/",
      query: "",
      headers,
      body,
      lookupSecret: lookup,
      nowSec: timestamp + 5,
      allowedServices: ["live"],
    };
    expect(verifyTc3(input)).toMatchObject({ secretId: SECRET_ID, service: "live" });
    // Header values are compared in canonical form (trimmed, lowercased).
    expect(
      verifyTc3({
        ...input,
        headers: { ...headers, "content-type": "  Application/JSON; charset=UTF-8 ", host: "LIVE.example.com:8443" },
      }).service,
    ).toBe("live");
    expectCode(() => verifyTc3({ ...input, body: Buffer.concat([body, Buffer.from(" ")]) }), "AuthFailure.SignatureFailure");
  });

  it("round-trips GET through verifyTc3", () => {
    const timestamp = 1_764_201_599; // 2025-11-26T23:59:59Z
    const query = "Action=DescribeLiveRecordTemplates&Version=2018-08-01";
    const authorization = signTc3({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      service: "live",
      host: "live.tencentcloudapi.com",
      method: "GET",
      query,
      contentType: "application/x-www-form-urlencoded",
      payload: "",
      timestamp,
    });
    const input: VerifyTc3Request = {
      method: "GET",
      path: "/",
      query,
      headers: {
        authorization,
        "content-type": "application/x-www-form-urlencoded",
        host: "live.tencentcloudapi.com",
        "x-tc-timestamp": String(timestamp),
      },
      body: Buffer.alloc(0),
      lookupSecret: lookup,
      nowSec: timestamp,
    };
    expect(verifyTc3(input).service).toBe("live");
    expectCode(() => verifyTc3({ ...input, query: `${query}&x=1` }), "AuthFailure.SignatureFailure");
  });

  it("accepts a Content-Type value signed as sent (the SDK does not lowercase it)", () => {
    // The SDK's own signer, called directly: it puts the Content-Type value into
    // the canonical headers unchanged and signs the host name without the port.
    const ct = "application/octet-stream; charset=UTF-8";
    const timestamp = 1_764_115_200;
    const payload = Buffer.from("x");
    const authorization = sdkSign3({
      method: "POST",
      url: "http://live.example.com:9000/",
      payload,
      timestamp,
      service: "live",
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      multipart: false,
      headers: { "Content-Type": ct },
    });
    const input: VerifyTc3Request = {
      method: "POST",
      path: "/",
      query: "",
      headers: { authorization, "content-type": ct, host: "live.example.com:9000", "x-tc-timestamp": String(timestamp) },
      body: payload,
      lookupSecret: lookup,
      nowSec: timestamp,
    };
    expect(verifyTc3(input).secretId).toBe(SECRET_ID);
    // Our signer uses the documented (lowercased) form, which differs here.
    expect(
      signTc3({
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: "live",
        host: "live.example.com",
        method: "POST",
        contentType: ct,
        payload,
        timestamp,
      }),
    ).not.toBe(authorization);
    expectCode(() => verifyTc3({ ...input, body: Buffer.from("y") }), "AuthFailure.SignatureFailure");
  });
});

describe("verifyTc3 rejects malformed requests", () => {
  const timestamp = 1_764_115_200;
  const body = Buffer.from("{}");
  const good = signTc3({
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    service: "live",
    host: "127.0.0.1",
    method: "POST",
    contentType: "application/json",
    payload: body,
    timestamp,
  });
  const baseHeaders = { "content-type": "application/json", host: "127.0.0.1", "x-tc-timestamp": String(timestamp) };
  const run = (headers: VerifyTc3Request["headers"]) =>
    verifyTc3({ method: "POST", path: "/", query: "", headers, body, lookupSecret: lookup, nowSec: timestamp });

  it("the baseline request is accepted", () => {
    expect(run({ ...baseHeaders, authorization: good }).service).toBe("live");
  });

  it.each([
    ["missing Authorization", undefined],
    ["empty Authorization", ""],
    ["Basic scheme", "Basic dXNlcjpwYXNz"],
    ["other algorithm", good.replace("TC3-HMAC-SHA256", "HMAC-SHA256")],
    ["algorithm only", "TC3-HMAC-SHA256"],
    ["missing Signature", good.replace(/, Signature=[0-9a-f]+/, "")],
    ["missing SignedHeaders", good.replace(/SignedHeaders=[^,]+, /, "")],
    ["Credential without service and terminator", good.replace(/\/live\/tc3_request/, "")],
    ["Credential with wrong terminator", good.replace("/tc3_request", "/tc2_request")],
    ["Credential without SecretId", good.replace(`Credential=${SECRET_ID}/`, "Credential=/")],
    ["Credential with a bad date", good.replace("2025-11-26", "20251126")],
    ["SignedHeaders without host", good.replace("SignedHeaders=content-type;host", "SignedHeaders=content-type")],
    ["SignedHeaders without content-type", good.replace("SignedHeaders=content-type;host", "SignedHeaders=host")],
    ["SignedHeaders with a duplicate", good.replace("SignedHeaders=content-type;host", "SignedHeaders=content-type;host;host")],
    ["short Signature", good.slice(0, -2)],
    ["non-hex Signature", `${good.slice(0, -1)}z`],
  ])("%s → InvalidAuthorization", (_name, authorization) => {
    expectCode(() => run({ ...baseHeaders, authorization }), "AuthFailure.InvalidAuthorization");
  });

  it("a signed header absent from the request → InvalidAuthorization", () => {
    const withExtra = good.replace("SignedHeaders=content-type;host", "SignedHeaders=content-type;host;x-tc-action");
    expectCode(() => run({ ...baseHeaders, authorization: withExtra }), "AuthFailure.InvalidAuthorization");
    expectCode(
      () => run({ authorization: good, "content-type": "application/json", "x-tc-timestamp": String(timestamp) }),
      "AuthFailure.InvalidAuthorization",
    );
  });

  it("a repeated Authorization header → InvalidAuthorization", () => {
    expectCode(() => run({ ...baseHeaders, authorization: [good, good] }), "AuthFailure.InvalidAuthorization");
  });

  it.each([
    ["non-numeric", "abc"],
    ["fractional", "1764115200.5"],
    ["negative", "-1764115200"],
    ["empty", ""],
  ])("%s X-TC-Timestamp → SignatureExpire", (_name, ts) => {
    expectCode(() => run({ ...baseHeaders, "x-tc-timestamp": ts, authorization: good }), "AuthFailure.SignatureExpire");
  });

  it("missing X-TC-Timestamp → SignatureExpire", () => {
    const { "x-tc-timestamp": _omit, ...rest } = baseHeaders;
    expectCode(() => run({ ...rest, authorization: good }), "AuthFailure.SignatureExpire");
  });

  it("credential date not the UTC date of X-TC-Timestamp → SignatureExpire", () => {
    const otherDay = good.replace("2025-11-26", "2025-11-25");
    expectCode(() => run({ ...baseHeaders, authorization: otherDay }), "AuthFailure.SignatureExpire");
  });

  it("a signature of the right shape but wrong value → SignatureFailure", () => {
    const flipped = good.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === "0" ? "1" : "0"}`);
    expect(flipped).not.toBe(good);
    expectCode(() => run({ ...baseHeaders, authorization: flipped }), "AuthFailure.SignatureFailure");
  });
});
