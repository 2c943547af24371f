/**
 * TC3-HMAC-SHA256 in the browser (WebCrypto), exactly as the server's
 * verifier (orchestrator/api/tc3-auth.ts) and the cloud's SDKs sign:
 *
 *   CanonicalRequest = POST \n / \n "" \n content-type:<ct>\nhost:<host>\nx-tc-action:<action>\n \n
 *                      content-type;host;x-tc-action \n hex(sha256(body))
 * (the action is signed too, so a captured request cannot be re-sent as another action;
 * the server requires it of console sessions).
 *   StringToSign     = TC3-HMAC-SHA256 \n <timestamp> \n <date>/<service>/tc3_request \n hex(sha256(CanonicalRequest))
 *   key = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
 *
 * This file imports nothing, so the unit test can run it under Node too.
 */

const ALGORITHM = "TC3-HMAC-SHA256";
const TERMINATOR = "tc3_request";
const encoder = new TextEncoder();

export interface Tc3Request {
  secretId: string;
  secretKey: string;
  /** "live" for the control API. */
  service: string;
  /** The Host header the browser sends (location.host). */
  host: string;
  method: "POST" | "GET";
  /** Canonical URI; "/" when omitted. */
  path?: string;
  /** Canonical query string without "?" ("" for POST). */
  query?: string;
  contentType: string;
  payload: string;
  /** Unix seconds, sent as X-TC-Timestamp. */
  timestamp: number;
  /** The X-TC-Action header sent, signed with the request. */
  action: string;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

/** UTC date (YYYY-MM-DD) of a Unix-seconds timestamp. */
export function utcDate(timestampSec: number): string {
  return new Date(timestampSec * 1000).toISOString().slice(0, 10);
}

/** The Authorization header value for the request. */
export async function signTc3(req: Tc3Request): Promise<string> {
  if (!Number.isSafeInteger(req.timestamp) || req.timestamp < 0) throw new RangeError("timestamp must be whole Unix seconds");
  const date = utcDate(req.timestamp);
  const signedHeaders = "content-type;host;x-tc-action";
  const canonicalHeaders = `content-type:${req.contentType.trim().toLowerCase()}\nhost:${req.host.trim().toLowerCase()}\nx-tc-action:${req.action.trim().toLowerCase()}\n`;
  const canonicalRequest = [req.method, req.path ?? "/", req.query ?? "", canonicalHeaders, signedHeaders, await sha256Hex(req.payload)].join("\n");
  const scope = `${date}/${req.service}/${TERMINATOR}`;
  const stringToSign = `${ALGORITHM}\n${req.timestamp}\n${scope}\n${await sha256Hex(canonicalRequest)}`;
  const secretDate = await hmac(encoder.encode(`TC3${req.secretKey}`), date);
  const secretService = await hmac(secretDate, req.service);
  const secretSigning = await hmac(secretService, TERMINATOR);
  const signature = hex(await hmac(secretSigning, stringToSign));
  return `${ALGORITHM} Credential=${req.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}
