/** The console's WebCrypto signer against the server's verifier and Node signer. */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { signTc3 as nodeSign, verifyTc3 } from "../../../orchestrator/api/tc3-auth.js";
import { signTc3 } from "./tc3.js";

describe("console TC3 signer", () => {
  const base = {
    secretId: "console-abc",
    secretKey: "s3cr3t-key_value",
    service: "live",
    host: "127.0.0.1:8080",
    method: "POST" as const,
    contentType: "application/json",
    payload: JSON.stringify({ TemplateName: "t_1", FlvParam: { Enable: 1 }, Description: "caf\u00e9 \u5f55\u5236" }),
    timestamp: 1_790_000_000,
    action: "CreateLiveRecordTemplate",
  };

  it("gives the same Authorization as the server's signer", async () => {
    expect(await signTc3(base)).toBe(nodeSign(base));
  });

  it("is accepted by the server's verifier, and a changed body is not", async () => {
    const authorization = await signTc3(base);
    const headers = { authorization, "content-type": base.contentType, host: base.host, "x-tc-action": base.action, "x-tc-timestamp": String(base.timestamp) };
    const request = { method: "POST", path: "/", query: "", headers, lookupSecret: () => base.secretKey, nowSec: base.timestamp };
    expect(verifyTc3({ ...request, body: Buffer.from(base.payload) })).toMatchObject({ secretId: "console-abc", service: "live", signedHeaders: ["content-type", "host", "x-tc-action"] });
    expect(() => verifyTc3({ ...request, body: Buffer.from(`${base.payload} `) })).toThrow(/signature does not match/);
    // The action is signed: the same request re-sent as another action does not verify.
    const swapped = { ...request, headers: { ...headers, "x-tc-action": "DeleteLiveRecordTemplate" } };
    expect(() => verifyTc3({ ...swapped, body: Buffer.from(base.payload) })).toThrow(/signature does not match/);
  });

  it("signs the logout call (its own path) as the server checks it", async () => {
    const logout = { ...base, path: "/console/api/logout", payload: "{}", action: "ConsoleLogout" };
    const authorization = await signTc3(logout);
    const headers = { authorization, "content-type": base.contentType, host: base.host, "x-tc-action": logout.action, "x-tc-timestamp": String(base.timestamp) };
    const request = { method: "POST", query: "", headers, body: Buffer.from("{}"), lookupSecret: () => base.secretKey, nowSec: base.timestamp };
    expect(verifyTc3({ ...request, path: "/console/api/logout" }).secretId).toBe("console-abc");
    expect(() => verifyTc3({ ...request, path: "/" })).toThrow(/signature does not match/);
  });
});
