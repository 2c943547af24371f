import { describe, expect, it } from "vitest";
import { ConnectionAdmission, sourceKey } from "./connection-admission.js";

const limits = { maxConnections: 10, maxPendingPerSource: 4, connectsPerSecond: 0 };

describe("sourceKey", () => {
  it("counts IPv4 per address, IPv4-mapped IPv6 as IPv4, IPv6 per /64", () => {
    expect(sourceKey("127.0.0.2")).toBe("127.0.0.2");
    expect(sourceKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(sourceKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(sourceKey("::1")).toBe("0:0:0:0::/64");
    expect(sourceKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });
});

describe("ConnectionAdmission", () => {
  it("caps connections not yet publishing per source; publishing ones do not count", () => {
    const a = new ConnectionAdmission<string>(limits);
    for (let i = 0; i < 4; i++) expect(a.admit(`x${i}`, "10.0.0.1", 0).ok).toBe(true);
    const refused = a.admit("x4", "10.0.0.1", 0);
    expect(refused).toMatchObject({ ok: false, code: "RTMP_SOURCE_PENDING_LIMIT" });
    // Another address of the same /64 is the same source; another address is not.
    expect(a.admit("y0", "10.0.0.2", 0).ok).toBe(true);
    a.published("x0");
    expect(a.pending).toBe(4);
    expect(a.admit("x5", "10.0.0.1", 0).ok).toBe(true);
    a.closed("x1");
    a.closed("x1");
    expect(a.connections).toBe(5);
    expect(a.admit("x6", "10.0.0.1", 0).ok).toBe(true);
  });

  it("treats an IPv6 /64 as one source", () => {
    const a = new ConnectionAdmission<string>(limits);
    for (let i = 0; i < 4; i++) expect(a.admit(`v${i}`, `2001:db8:0:7::${i + 1}`, 0).ok).toBe(true);
    expect(a.admit("v4", "2001:db8:0:7::99", 0)).toMatchObject({ ok: false, code: "RTMP_SOURCE_PENDING_LIMIT" });
    expect(a.admit("w0", "2001:db8:0:8::1", 0).ok).toBe(true);
  });

  it("rate-limits new connections per source with a ten-second burst", () => {
    const a = new ConnectionAdmission<number>({ maxConnections: 1000, maxPendingPerSource: 1000, connectsPerSecond: 2 });
    let ok = 0;
    for (let i = 0; i < 30; i++) if (a.admit(i, "10.0.0.1", 0).ok) ok++;
    expect(ok).toBe(20);
    expect(a.admit(100, "10.0.0.1", 0)).toMatchObject({ ok: false, code: "RTMP_SOURCE_RATE_LIMIT" });
    expect(a.admit(101, "10.0.0.9", 0).ok).toBe(true);
    // Half a second later one more token, a second later two.
    expect(a.admit(102, "10.0.0.1", 500).ok).toBe(true);
    expect(a.admit(103, "10.0.0.1", 500).ok).toBe(false);
    expect(a.admit(104, "10.0.0.1", 1500).ok).toBe(true);
    expect(a.admit(105, "10.0.0.1", 1500).ok).toBe(true);
    expect(a.admit(106, "10.0.0.1", 1500).ok).toBe(false);
  });

  it("when full, a newcomer takes the oldest pending slot of the source holding the most", () => {
    const a = new ConnectionAdmission<string>({ maxConnections: 6, maxPendingPerSource: 5, connectsPerSecond: 0 });
    for (let i = 0; i < 5; i++) a.admit(`flood${i}`, "10.0.0.66", i);
    expect(a.admit("p0", "10.0.0.1", 10)).toEqual({ ok: true, source: "10.0.0.1", evict: null });
    // Full now: the flood's oldest goes.
    expect(a.admit("p1", "10.0.0.1", 11)).toEqual({ ok: true, source: "10.0.0.1", evict: "flood0" });
    expect(a.admit("p2", "10.0.0.1", 12)).toEqual({ ok: true, source: "10.0.0.1", evict: "flood1" });
    expect(a.connections).toBe(6);
    // 3 pending each: the newcomer would hold more than the flood, so it is refused.
    expect(a.admit("p3", "10.0.0.1", 13)).toMatchObject({ ok: false, code: "RTMP_TOO_MANY_CONNECTIONS" });
    // The flood's source cannot push others out either once even.
    expect(a.admit("flood5", "10.0.0.66", 14)).toMatchObject({ ok: false, code: "RTMP_TOO_MANY_CONNECTIONS" });
    // A third source takes a slot from the larger of the two.
    expect(a.admit("q0", "10.0.0.2", 15)).toMatchObject({ ok: true, evict: "flood2" });
  });

  it("never evicts a publishing connection", () => {
    const a = new ConnectionAdmission<string>({ maxConnections: 3, maxPendingPerSource: 5, connectsPerSecond: 0 });
    for (const c of ["a", "b", "c"]) a.admit(c, "10.0.0.66", 0);
    for (const c of ["a", "b", "c"]) a.published(c);
    expect(a.pending).toBe(0);
    expect(a.admit("new", "10.0.0.1", 1)).toMatchObject({ ok: false, code: "RTMP_TOO_MANY_CONNECTIONS" });
    a.closed("b");
    expect(a.admit("new", "10.0.0.1", 2)).toMatchObject({ ok: true, evict: null });
  });
});
