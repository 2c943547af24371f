/**
 * What keeps a web page from driving or reading the service through the
 * browser (issue 14, item 1). The API is open without signatures on loopback
 * by default, so a browser on the same machine is the one client that can
 * reach it on behalf of someone else. Three checks:
 *
 * - Host: every request must name this service (a loopback name, an address
 *   it listens on, http.publicUrl's host or one of http.allowedHosts). A DNS
 *   rebinding page reaches 127.0.0.1 under its own host name and is refused.
 * - Cross-site: requests that act (the API, console login/logout) are refused
 *   when the browser says they come from another site (Sec-Fetch-Site) or
 *   carry an Origin other than the Host they address.
 * - Content type: POST bodies must be JSON (application/json), which a page
 *   on another origin cannot send without a CORS preflight that we never
 *   grant.
 *
 * Plus, while the API needs no signature: a request that came through a
 * proxy (Forwarded, X-Forwarded-For, X-Real-IP) is refused, since the open
 * API is meant for loopback clients only.
 */
import type { IncomingHttpHeaders } from "node:http";
import { hostname, networkInterfaces } from "node:os";

/** A refusal: its stable code, and why. */
export interface GuardRefusal {
  code: "HOST_NOT_ALLOWED" | "CROSS_SITE_REQUEST" | "NOT_JSON" | "PROXIED_REQUEST";
  message: string;
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];
const ANY_ADDRESS = ["0.0.0.0", "::"];
const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

/** The host name of a Host header or URL authority: lowercased, without port and IPv6 brackets. */
export function hostNameOf(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith("[")) return a.slice(1, a.indexOf("]") > 0 ? a.indexOf("]") : undefined);
  const colon = a.indexOf(":");
  // More than one colon without brackets: a bare IPv6 address.
  if (colon >= 0 && a.indexOf(":", colon + 1) >= 0) return a;
  return colon >= 0 ? a.slice(0, colon) : a;
}

/**
 * The host names this service answers to: loopback names (when it listens on loopback or on every
 * interface), the address it listens on, every local address and the machine's name (when it listens
 * on every interface), publicUrl's host and the configured extra names.
 */
export function allowedHostNames(listenHost: string, publicUrl: string, extra: readonly string[]): Set<string> {
  const names = new Set<string>(extra.map((h) => hostNameOf(h)));
  const listen = hostNameOf(listenHost);
  names.add(listen);
  const loopback = LOOPBACK_NAMES.includes(listen) || listen.startsWith("127.");
  if (loopback || ANY_ADDRESS.includes(listen)) for (const n of LOOPBACK_NAMES) names.add(n);
  if (ANY_ADDRESS.includes(listen)) {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) names.add(i.address.toLowerCase());
  }
  if (publicUrl) names.add(hostNameOf(new URL(publicUrl).host));
  return names;
}

export class RequestGuard {
  constructor(
    private readonly hosts: ReadonlySet<string>,
    /** The API takes unsigned requests (api.auth off, or "auto" on loopback). */
    private readonly openApi: boolean,
  ) {}

  /** Every request: it must address this service by one of its names. */
  checkHost(headers: IncomingHttpHeaders): GuardRefusal | undefined {
    const host = headers.host;
    if (!host) return { code: "HOST_NOT_ALLOWED", message: "the request has no Host header" };
    if (!this.hosts.has(hostNameOf(host))) {
      return { code: "HOST_NOT_ALLOWED", message: `Host ${JSON.stringify(host.slice(0, 100))} is not a name of this service (add it to http.allowedHosts)` };
    }
    return undefined;
  }

  /** Requests that act (the API, console login/logout): same-site, JSON bodies, and not proxied to an open API. */
  checkAction(method: string, headers: IncomingHttpHeaders): GuardRefusal | undefined {
    const site = headerValue(headers, "sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      return { code: "CROSS_SITE_REQUEST", message: `requests from another site are refused (Sec-Fetch-Site: ${site.slice(0, 20)})` };
    }
    const origin = headerValue(headers, "origin");
    if (origin !== undefined && !sameOrigin(origin, headers.host ?? "")) {
      return { code: "CROSS_SITE_REQUEST", message: `requests from another origin are refused (Origin: ${origin.slice(0, 100)})` };
    }
    if (method === "POST" && !isJson(headerValue(headers, "content-type"))) {
      return { code: "NOT_JSON", message: "POST bodies must be JSON, sent with Content-Type: application/json" };
    }
    if (this.openApi && PROXY_HEADERS.some((h) => headers[h] !== undefined)) {
      return { code: "PROXIED_REQUEST", message: "the API needs no signature only for loopback clients; behind a proxy, set api.auth to on and sign requests" };
    }
    return undefined;
  }
}

/** The first value of a request header. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** An Origin header ("null" included) against the authority the request was sent to. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function isJson(contentType: string | undefined): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === "application/json";
}
