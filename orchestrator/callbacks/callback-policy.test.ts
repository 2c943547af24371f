import { describe, expect, it } from "vitest";
import { CallbackPolicy, CallbackPolicyError, canonicalAddress, parsePolicyEntry } from "./callback-policy.js";

const exposed = (allow: string[] = [], deny: string[] = []) => new CallbackPolicy({ allow, deny, serviceOnLoopback: false });
const local = (allow: string[] = [], deny: string[] = []) => new CallbackPolicy({ allow, deny, serviceOnLoopback: true });
/** The verdict for a connection to `address` made for the URL host `host` (default: the address itself). */
const allowed = (p: CallbackPolicy, address: string, host = address) => p.refusal(host, address) === undefined;

describe("canonicalAddress", () => {
  it("judges IPv4-mapped and NAT64 IPv6 addresses as their IPv4 address, whatever the spelling", () => {
    for (const text of ["::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "[::FFFF:169.254.169.254]", "0:0:0:0:0:ffff:a9fe:a9fe", "64:ff9b::169.254.169.254"]) {
      expect(canonicalAddress(text), text).toEqual({ address: "169.254.169.254", family: "ipv4" });
    }
    expect(canonicalAddress("::ffff:0:1")).toEqual({ address: "0.0.0.1", family: "ipv4" });
    expect(canonicalAddress("[0:0:0:0:0:0:0:1]")).toEqual({ address: "::1", family: "ipv6" });
    expect(canonicalAddress("FE80::1%eth0")).toEqual({ address: "fe80::1", family: "ipv6" });
    expect(canonicalAddress("10.1.2.3")).toEqual({ address: "10.1.2.3", family: "ipv4" });
    expect(canonicalAddress("hooks.example.com")).toBeUndefined();
  });
});

describe("parsePolicyEntry", () => {
  it("takes CIDRs, single addresses and host names (optionally *.), and says what is wrong otherwise", () => {
    expect(parsePolicyEntry("10.0.0.0/8")).toEqual({ kind: "subnet", network: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parsePolicyEntry("fd00::/8")).toEqual({ kind: "subnet", network: "fd00::", prefix: 8, family: "ipv6" });
    expect(parsePolicyEntry("192.168.1.20")).toEqual({ kind: "subnet", network: "192.168.1.20", prefix: 32, family: "ipv4" });
    expect(parsePolicyEntry("::ffff:10.0.0.1")).toEqual({ kind: "subnet", network: "10.0.0.1", prefix: 32, family: "ipv4" });
    expect(parsePolicyEntry("Hooks.Example.com.")).toEqual({ kind: "name", name: "hooks.example.com", wildcard: false });
    expect(parsePolicyEntry("*.example.com")).toEqual({ kind: "name", name: ".example.com", wildcard: true });
    for (const bad of ["", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "host/8", "http://hooks.example.com", "*", "a.*.com", "bad_name.com", "1.2.3", "x".repeat(64), 7]) {
      expect(typeof parsePolicyEntry(bad), String(bad)).toBe("string");
    }
  });

  it("the policy refuses entries that do not parse", () => {
    expect(() => exposed(["10.0.0.0/33"])).toThrow(CallbackPolicyError);
  });
});

describe("CallbackPolicy defaults", () => {
  it("denies link-local, cloud metadata, unspecified, multicast and broadcast, in every spelling", () => {
    for (const p of [exposed(), local()]) {
      for (const a of ["169.254.169.254", "169.254.0.23", "169.254.170.2", "169.254.1.1", "100.100.100.200", "168.63.129.16", "0.0.0.0", "0.1.2.3", "224.0.0.1", "255.255.255.255", "::", "fe80::1", "ff02::1", "fd00:ec2::254", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "64:ff9b::a9fe:a9fe"]) {
        expect(allowed(p, a), a).toBe(false);
      }
    }
    expect(exposed().refusal("169.254.169.254", "169.254.169.254")).toMatch(/cloud metadata/);
    expect(exposed().refusal("169.254.1.1", "169.254.1.1")).toMatch(/link-local \(169\.254\.0\.0\/16\)/);
  });

  it("allows public and private receivers (RFC 1918, fc00::/7, CGNAT)", () => {
    for (const a of ["203.0.113.7", "10.1.2.3", "172.16.0.9", "192.168.1.20", "100.64.1.1", "fd12:3456::1", "2001:db8::1", "::ffff:10.1.2.3"]) {
      expect(allowed(exposed(), a), a).toBe(true);
    }
  });

  it("allows loopback only while the service itself listens on loopback", () => {
    for (const a of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"]) {
      expect(allowed(local(), a), a).toBe(true);
      expect(allowed(exposed(), a), a).toBe(false);
    }
    expect(exposed().refusal("localhost", "127.0.0.1")).toMatch(/loopback/);
  });
});

describe("CallbackPolicy allow and deny", () => {
  it("deny wins over everything, by address, CIDR or host name", () => {
    const p = local(["10.0.0.0/8", "hooks.example.com"], ["10.9.0.0/16", "::1", "*.internal.example", "hooks.example.com"]);
    expect(allowed(p, "10.1.2.3")).toBe(true);
    expect(allowed(p, "10.9.1.1")).toBe(false);
    expect(allowed(p, "::1")).toBe(false);
    expect(allowed(p, "127.0.0.1")).toBe(false); // allow is not empty and does not list it
    expect(p.refusal("a.b.internal.example", "10.1.2.3")).toMatch(/matches callbacks.deny/);
    expect(p.refusal("hooks.example.com", "10.1.2.3")).toMatch(/matches callbacks.deny/);
    expect(allowed(local([], ["*.internal.example"]), "10.1.2.3", "internal.example")).toBe(true); // *. is subdomains only
  });

  it("a non-empty allow lets only what it lists through (by address, CIDR or host name)", () => {
    const p = exposed(["10.0.0.0/8", "2001:db8::/32", "hooks.example.com", "*.hooks.example.net"]);
    expect(allowed(p, "10.200.0.1")).toBe(true);
    expect(allowed(p, "2001:db8::5")).toBe(true);
    expect(allowed(p, "203.0.113.7", "hooks.example.com")).toBe(true);
    expect(allowed(p, "203.0.113.7", "a.hooks.example.net")).toBe(true);
    expect(allowed(p, "203.0.113.7", "other.example.com")).toBe(false);
    expect(p.refusal("other.example.com", "203.0.113.7")).toBe("other.example.com (203.0.113.7) is not in callbacks.allow");
    expect(allowed(p, "192.168.1.1")).toBe(false);
  });

  it("a built-in denial is lifted only by an allow entry inside it, never by a host name or a wider range", () => {
    expect(allowed(exposed(["127.0.0.1"]), "127.0.0.1")).toBe(true);
    expect(allowed(exposed(["127.0.0.1"]), "127.0.0.2")).toBe(false);
    expect(allowed(exposed(["127.0.0.0/8", "::1"]), "::1")).toBe(true);
    expect(allowed(exposed(["169.254.10.0/24"]), "169.254.10.5")).toBe(true);
    // Allowing all of link-local does not open the metadata address inside it.
    expect(allowed(exposed(["169.254.0.0/16"]), "169.254.169.254")).toBe(false);
    expect(allowed(exposed(["0.0.0.0/0", "::/0"]), "169.254.169.254")).toBe(false);
    expect(allowed(exposed(["0.0.0.0/0"]), "127.0.0.1")).toBe(false);
    expect(allowed(exposed(["0.0.0.0/0"]), "8.8.8.8")).toBe(true);
    // A name the operator trusts that resolves to a denied address (rebinding) stays denied.
    expect(allowed(exposed(["hooks.example.com"]), "169.254.169.254", "hooks.example.com")).toBe(false);
    expect(allowed(exposed(["hooks.example.com"]), "127.0.0.1", "hooks.example.com")).toBe(false);
  });
});

describe("CallbackPolicy.refusalBeforeLookup", () => {
  it("judges IP-literal URLs and denied names at once, and leaves other names to the send-time check", () => {
    const p = exposed([], ["*.internal.example"]);
    expect(p.refusalBeforeLookup("http://169.254.169.254/latest/meta-data/")).toMatch(/cloud metadata/);
    expect(p.refusalBeforeLookup("http://[::ffff:169.254.169.254]/")).toMatch(/cloud metadata/);
    expect(p.refusalBeforeLookup("http://[::ffff:a9fe:a9fe]:8080/x")).toMatch(/cloud metadata/);
    expect(p.refusalBeforeLookup("http://2852039166/")).toMatch(/cloud metadata/); // 169.254.169.254 as one number
    expect(p.refusalBeforeLookup("http://0x7f.1:8080/")).toMatch(/loopback/);
    expect(p.refusalBeforeLookup("http://[::1]:8080/")).toMatch(/loopback/);
    expect(p.refusalBeforeLookup("http://0.0.0.0:8080/")).toMatch(/unspecified/);
    expect(p.refusalBeforeLookup("https://hooks.internal.example./cb")).toMatch(/matches callbacks.deny/);
    expect(p.refusalBeforeLookup("http://10.1.2.3:9000/cb")).toBeUndefined();
    expect(p.refusalBeforeLookup("http://localhost:8080/")).toBeUndefined(); // a name: checked on its addresses when sending
    expect(local().refusalBeforeLookup("http://127.0.0.1:8080/")).toBeUndefined();
  });
});
