import { describe, expect, it } from "vitest";
import { domainOf, readConnectParams, splitQuery, trimTrailingSlashes } from "./connect-params.js";

describe("connect params", () => {
  it("reads app, its query, tcUrl, domain and objectEncoding from the connect object", () => {
    expect(readConnectParams({ app: "live//?k=v", tcUrl: "rtmp://Example.COM:1935/live", objectEncoding: 3 })).toEqual({
      app: "live",
      appQuery: "k=v",
      tcUrl: "rtmp://Example.COM:1935/live",
      domain: "example.com",
      objectEncoding: 3,
    });
  });

  it("gives empty values for a missing or malformed connect object", () => {
    for (const arg of [null, 5, "live", [1, 2], new Date(0)]) {
      expect(readConnectParams(arg)).toEqual({ app: "", appQuery: "", tcUrl: "", domain: "localhost", objectEncoding: 0 });
    }
    expect(readConnectParams({ app: 7, tcUrl: false, objectEncoding: "3" })).toMatchObject({ app: "", tcUrl: "", objectEncoding: 0 });
  });

  it("falls back to localhost for a tcUrl that is not a URL or has no host, and unwraps IPv6 hosts", () => {
    expect(domainOf("not a url")).toBe("localhost");
    expect(domainOf("rtmp:///live")).toBe("localhost");
    expect(domainOf("rtmp://[::1]:1935/live")).toBe("::1");
  });

  it("splits name?query and trims trailing slashes in linear time", () => {
    expect(splitQuery("s?a=1?b")).toEqual(["s", "a=1?b"]);
    expect(splitQuery("s")).toEqual(["s", ""]);
    expect(trimTrailingSlashes("a/b///")).toBe("a/b");
    const t0 = performance.now();
    expect(trimTrailingSlashes(`${"/".repeat(1 << 20)}x`)).toHaveLength((1 << 20) + 1);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
