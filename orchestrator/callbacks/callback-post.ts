/**
 * One callback POST, connected only to addresses the callbacks policy allows
 * (callback-policy.ts). The URL's host name is resolved here and every
 * address it resolves to is checked before the socket connects to one of
 * them — the same answer, so a second lookup (DNS rebinding) has no window.
 * An IP-literal host is checked before the request (node skips the lookup).
 *
 * node:http(s) rather than fetch: fetch takes no lookup hook without the
 * undici package. Redirects are not followed (node:http never does), the
 * response body is discarded unread, and each attempt has its own connection
 * (no agent), so each attempt resolves and checks afresh.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import * as http from "node:http";
import * as https from "node:https";
import type { LookupFunction } from "node:net";
import { CallbackPolicyError, type CallbackPolicy } from "./callback-policy.js";

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

/** The system resolver (getaddrinfo, as node's own connections use). */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

export interface CallbackPostOptions {
  policy: CallbackPolicy;
  resolve: Resolver;
  /** No complete response headers within this -> the attempt fails (TimeoutError). */
  timeoutMs: number;
}

/** A lookup for node:net that hands out only addresses the policy allows; any denied address fails the connection. */
function checkedLookup(policy: CallbackPolicy, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const refusals = addresses.map((a) => policy.refusal(hostname, a.address)).filter((r) => r !== undefined);
        if (addresses.length === 0) refusals.push(`${hostname} resolves to no address`);
        if (refusals.length > 0) return callback(new CallbackPolicyError(refusals.join("; ")), "", 0);
        if (options.all) return callback(null, addresses);
        const first = addresses[0]!;
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };
}

/**
 * POSTs `json` to `url` and resolves with the answer's HTTP status (any
 * status: the caller decides). Rejects with CallbackPolicyError when the
 * policy refuses the target (no connection is made), else with the network
 * error (DNS failure, refused, reset, TLS, TimeoutError).
 */
export function postCallback(url: string, json: string, opts: CallbackPostOptions): Promise<number> {
  const refused = opts.policy.refusalBeforeLookup(url);
  if (refused !== undefined) return Promise.reject(new CallbackPolicyError(refused));
  const target = new URL(url);
  const send = target.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(json) },
        agent: false,
        lookup: checkedLookup(opts.policy, opts.resolve),
      },
      (res) => {
        clearTimeout(timer);
        res.destroy();
        resolve(res.statusCode ?? 0);
      },
    );
    const timer = setTimeout(() => {
      const err = new Error(`no response within ${opts.timeoutMs} ms`);
      err.name = "TimeoutError";
      req.destroy(err);
    }, opts.timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(json);
  });
}
