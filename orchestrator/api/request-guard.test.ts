import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { allowedHostNames, hostNameOf, RequestGuard } from "./request-guard.js";

const JSON_POST = { host: "127.0.0.1:8080", "content-type": "application/json; charset=utf-8" };

describe("hostNameOf", () => {
  it("drops the port and IPv6 brackets, lowercases", () => {
    expect(hostNameOf("LocalHost:8080")).toBe("localhost");
    expect(hostNameOf("[::1]:8080")).toBe("::1");
    expect(hostNameOf("::1")).toBe("::1");
    expect(hostNameOf("rec.example.com")).toBe("rec.example.com");
  });
});

describe("allowedHostNames", () => {
  it("on loopback: the loopback names, plus publicUrl's host and the configured ones", () => {
    const names = allowedHostNames("127.0.0.1", "https://Rec.Example.com:8443/base", ["cam-box.lan"]);
    expect([...names].sort()).toEqual(["127.0.0.1", "::1", "cam-box.lan", "localhost", "rec.example.com"]);
  });

  it("on a specific address: that address only (loopback names are not this service's then)", () => {
    expect([...allowedHostNames("10.1.2.3", "", [])]).toEqual(["10.1.2.3"]);
  });

  it("on every interface: loopback names, local addresses and the machine's name", () => {
    const names = allowedHostNames("0.0.0.0", "", []);
    for (const n of ["localhost", "127.0.0.1", hostname().toLowerCase()]) expect(names.has(n)).toBe(true);
  });
});

describe("RequestGuard", () => {
  const guard = new RequestGuard(allowedHostNames("127.0.0.1", "", []), true);

  it("refuses a Host that is not a name of this service (DNS rebinding), and a missing Host", () => {
    expect(guard.checkHost({ host: "127.0.0.1:8080" })).toBeUndefined();
    expect(guard.checkHost({ host: "localhost:8080" })).toBeUndefined();
    expect(guard.checkHost({ host: "attacker.example:8080" })?.code).toBe("HOST_NOT_ALLOWED");
    expect(guard.checkHost({})?.code).toBe("HOST_NOT_ALLOWED");
  });

  it("takes same-origin, direct and non-browser requests", () => {
    expect(guard.checkAction("POST", JSON_POST)).toBeUndefined();
    expect(guard.checkAction("POST", { ...JSON_POST, "sec-fetch-site": "same-origin", origin: "http://127.0.0.1:8080" })).toBeUndefined();
    expect(guard.checkAction("GET", { host: "127.0.0.1:8080", "sec-fetch-site": "none" })).toBeUndefined();
  });

  it("refuses what a browser marks as coming from another site or origin", () => {
    expect(guard.checkAction("POST", { ...JSON_POST, "sec-fetch-site": "cross-site" })?.code).toBe("CROSS_SITE_REQUEST");
    expect(guard.checkAction("GET", { host: "127.0.0.1:8080", "sec-fetch-site": "same-site" })?.code).toBe("CROSS_SITE_REQUEST");
    expect(guard.checkAction("POST", { ...JSON_POST, origin: "http://127.0.0.1:9999" })?.code).toBe("CROSS_SITE_REQUEST");
    expect(guard.checkAction("POST", { ...JSON_POST, origin: "null" })?.code).toBe("CROSS_SITE_REQUEST");
  });

  it("refuses POST bodies that are not declared JSON (the 'simple' requests a page can send without preflight)", () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
      expect(guard.checkAction("POST", { host: "127.0.0.1:8080", ...(type ? { "content-type": type } : {}) })?.code).toBe("NOT_JSON");
    }
  });

  it("refuses proxied requests only while the API is open", () => {
    for (const h of ["forwarded", "x-forwarded-for", "x-real-ip"]) {
      expect(guard.checkAction("POST", { ...JSON_POST, [h]: "203.0.113.9" })?.code).toBe("PROXIED_REQUEST");
      expect(new RequestGuard(allowedHostNames("127.0.0.1", "", []), false).checkAction("POST", { ...JSON_POST, [h]: "203.0.113.9" })).toBeUndefined();
    }
  });
});
