/**
 * Where callbacks may be sent (issue 14 item 6): a callback URL is chosen by
 * API callers, so without a policy the service POSTs, on their behalf, to any
 * host and port it can reach — cloud metadata, link-local services, its own
 * loopback. The policy decides per connection, on the address actually
 * connected to (callback-post.ts resolves, checks, then connects to the
 * checked address), so a host name resolving to a denied address, or
 * re-resolving to one later (DNS rebinding), does not get through.
 *
 * The decision for a connection to `address` made for the URL host `name`,
 * first match wins:
 * 1. `callbacks.deny` (addresses, CIDRs, host names, "*.example.com") -> denied;
 * 2. built-in denials (BUILT_IN_DENIED; loopback too unless the service's own
 *    HTTP listener is on loopback) -> denied, unless an address entry of
 *    `callbacks.allow` lying inside that range names the address (allow
 *    "127.0.0.1" lifts loopback for that address; "0.0.0.0/0" lifts nothing,
 *    and host-name entries never lift a built-in denial);
 * 3. `callbacks.allow` non-empty -> only addresses and names it lists pass;
 * 4. otherwise allowed: private ranges (RFC 1918, fc00::/7) included, since a
 *    self-hosted service usually calls receivers on its own network.
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) IPv6 addresses
 * are judged as the IPv4 address they carry. CIDR matching is node's BlockList.
 */
import { BlockList, isIP } from "node:net";
import { RecorderError } from "../../engine/errors.js";

type Family = "ipv4" | "ipv6";

/** A connection the callbacks policy refuses (the message says which rule; it is for logs and the API's template checks). */
export class CallbackPolicyError extends RecorderError {
  constructor(message: string) {
    super("CALLBACK_TARGET_DENIED", message);
  }
}

interface Range {
  network: string;
  prefix: number;
  family: Family;
}

/** Ranges no callback goes to unless `callbacks.allow` names an address inside them. */
const BUILT_IN_DENIED: readonly (Range & { label: string })[] = [
  // On Linux a connection to 0.0.0.0 reaches the host itself.
  { label: "unspecified (this host)", network: "0.0.0.0", prefix: 8, family: "ipv4" },
  { label: "link-local", network: "169.254.0.0", prefix: 16, family: "ipv4" },
  // Listed on their own so that allowing 169.254.0.0/16 does not open them.
  { label: "cloud metadata (AWS, GCP, Azure, Oracle, OpenStack)", network: "169.254.169.254", prefix: 32, family: "ipv4" },
  { label: "cloud metadata (Tencent Cloud)", network: "169.254.0.23", prefix: 32, family: "ipv4" },
  { label: "cloud metadata (AWS ECS)", network: "169.254.170.2", prefix: 32, family: "ipv4" },
  { label: "cloud metadata (Alibaba Cloud)", network: "100.100.100.200", prefix: 32, family: "ipv4" },
  { label: "cloud platform endpoint (Azure WireServer)", network: "168.63.129.16", prefix: 32, family: "ipv4" },
  { label: "multicast", network: "224.0.0.0", prefix: 4, family: "ipv4" },
  { label: "reserved or broadcast", network: "240.0.0.0", prefix: 4, family: "ipv4" },
  { label: "unspecified (this host)", network: "::", prefix: 128, family: "ipv6" },
  { label: "link-local", network: "fe80::", prefix: 10, family: "ipv6" },
  { label: "multicast", network: "ff00::", prefix: 8, family: "ipv6" },
  { label: "cloud metadata (AWS)", network: "fd00:ec2::254", prefix: 128, family: "ipv6" },
];

/** Denied as well while the service's HTTP listener is not on loopback: API callers would reach this machine's loopback-only services. */
const LOOPBACK_RANGES: readonly (Range & { label: string })[] = [
  { label: "loopback", network: "127.0.0.0", prefix: 8, family: "ipv4" },
  { label: "loopback", network: "::1", prefix: 128, family: "ipv6" },
];

// IPv6 forms that carry an IPv4 address in their last 32 bits.
const EMBEDS_IPV4 = new BlockList();
EMBEDS_IPV4.addSubnet("::ffff:0:0", 96, "ipv6"); // IPv4-mapped
EMBEDS_IPV4.addSubnet("64:ff9b::", 96, "ipv6"); // NAT64 well-known prefix (RFC 6052)

/** The eight 16-bit groups of a canonical (URL-serialized) IPv6 address. */
function ipv6Groups(canonical: string): number[] {
  const [head = "", tail] = canonical.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16));
}

/**
 * An address as the policy judges it: brackets and zone (%eth0) removed,
 * IPv6 canonical, IPv4-mapped and NAT64 addresses as their IPv4 address.
 * Undefined when `text` is no IP address.
 */
export function canonicalAddress(text: string): { address: string; family: Family } | undefined {
  const bare = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const version = isIP(bare);
  if (version === 4) return { address: bare, family: "ipv4" };
  if (version !== 6) return undefined;
  // The URL parser writes IPv6 in its canonical form (lowercase, compressed, dotted quads as hex).
  const address = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  if (!EMBEDS_IPV4.check(address, "ipv6")) return { address, family: "ipv6" };
  const g = ipv6Groups(address);
  const hi = g[6] ?? 0;
  const lo = g[7] ?? 0;
  return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: "ipv4" };
}

/** A URL's host as the policy matches it: lowercase, no brackets, no trailing dot. Undefined when the URL does not parse. */
function urlHost(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  } catch {
    return undefined;
  }
}

type Entry = ({ kind: "subnet" } & Range) | { kind: "name"; name: string; wildcard: boolean };

const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const NAME_RE = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);

/** An entry of `callbacks.allow` / `callbacks.deny`, or why `text` is not one. */
export function parsePolicyEntry(text: unknown): Entry | string {
  if (typeof text !== "string" || text === "") return "not a non-empty string";
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const base = text.slice(0, slash);
    const family = isIP(base) === 4 ? "ipv4" : isIP(base) === 6 ? "ipv6" : undefined;
    const bits = text.slice(slash + 1);
    const max = family === "ipv4" ? 32 : 128;
    if (family === undefined || !/^\d{1,3}$/.test(bits) || Number(bits) > max) return "not a CIDR (address/prefix length)";
    return { kind: "subnet", network: base, prefix: Number(bits), family };
  }
  const single = canonicalAddress(text);
  if (single) return { kind: "subnet", network: single.address, prefix: single.family === "ipv4" ? 32 : 128, family: single.family };
  const name = text.toLowerCase().replace(/\.$/, "");
  // A name whose last label is a number would be read by URLs as an IPv4 address, never as this name.
  if (!NAME_RE.test(name) || /(^|\.)\d+$/.test(name)) return "not an address, a CIDR or a host name (ASCII; \"*.\" allowed in front)";
  return name.startsWith("*.") ? { kind: "name", name: name.slice(1), wildcard: true } : { kind: "name", name, wildcard: false };
}

function parseAll(texts: readonly string[]): Entry[] {
  return texts.map((t) => {
    const e = parsePolicyEntry(t);
    if (typeof e === "string") throw new CallbackPolicyError(`callbacks policy entry ${JSON.stringify(t)}: ${e}`);
    return e;
  });
}

function blockList(ranges: readonly Range[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.network, r.prefix, r.family);
  return list;
}

const nameMatches = (entries: readonly Entry[], host: string): boolean =>
  entries.some((e) => e.kind === "name" && (e.wildcard ? host.endsWith(e.name) : host === e.name));

export interface CallbackPolicyOptions {
  allow: readonly string[];
  deny: readonly string[];
  /** The HTTP listener is on loopback only: loopback receivers then give API callers no reach they lack. */
  serviceOnLoopback: boolean;
}

export class CallbackPolicy {
  private readonly denyEntries: Entry[];
  private readonly allowEntries: Entry[];
  private readonly denied: BlockList;
  private readonly allowed: BlockList;
  private readonly builtIn: { label: string; cidr: string; range: BlockList; lifted: BlockList }[];

  constructor(opts: CallbackPolicyOptions) {
    this.denyEntries = parseAll(opts.deny);
    this.allowEntries = parseAll(opts.allow);
    const subnets = (entries: Entry[]) => entries.flatMap((e) => (e.kind === "subnet" ? [e] : []));
    this.denied = blockList(subnets(this.denyEntries));
    this.allowed = blockList(subnets(this.allowEntries));
    const ranges = opts.serviceOnLoopback ? BUILT_IN_DENIED : [...BUILT_IN_DENIED, ...LOOPBACK_RANGES];
    // Narrowest first, so a refusal names the most specific range (metadata before link-local).
    this.builtIn = [...ranges].sort((x, y) => y.prefix - x.prefix).map((r) => {
      const range = blockList([r]);
      // Only allow entries at least as narrow as the range, and inside it, lift it.
      const inside = subnets(this.allowEntries).filter((e) => e.family === r.family && e.prefix >= r.prefix && range.check(e.network, e.family));
      return { label: r.label, cidr: `${r.network}/${r.prefix}`, range, lifted: blockList(inside) };
    });
  }

  /** Why a connection to `address` for the URL host `host` is refused, or undefined when it is allowed. */
  refusal(host: string, address: string): string | undefined {
    const name = host.toLowerCase().replace(/\.$/, "");
    const ip = canonicalAddress(address);
    if (!ip) return `${address} is not an IP address`;
    if (nameMatches(this.denyEntries, name)) return `${name} matches callbacks.deny`;
    if (this.denied.check(ip.address, ip.family)) return `${ip.address} is in callbacks.deny`;
    for (const b of this.builtIn) {
      if (b.range.check(ip.address, ip.family) && !b.lifted.check(ip.address, ip.family)) {
        return `${ip.address} is ${b.label} (${b.cidr}), denied unless callbacks.allow lists it`;
      }
    }
    if (this.allowEntries.length > 0 && !this.allowed.check(ip.address, ip.family) && !nameMatches(this.allowEntries, name)) {
      return `${name === ip.address ? name : `${name} (${ip.address})`} is not in callbacks.allow`;
    }
    return undefined;
  }

  /**
   * Why `url` is refused before any DNS lookup: its host is an IP address the
   * policy denies, or a name `callbacks.deny` lists. Undefined when only the
   * addresses the name resolves to can tell (checked when sending).
   */
  refusalBeforeLookup(url: string): string | undefined {
    const host = urlHost(url);
    if (host === undefined) return "the URL does not parse";
    if (canonicalAddress(host)) return this.refusal(host, host);
    return nameMatches(this.denyEntries, host) ? `${host} matches callbacks.deny` : undefined;
  }
}
