/**
 * TC3-HMAC-SHA256 ("API 3.0 signature v3") as the cloud's control API uses it:
 * `signTc3` computes the Authorization header a client sends, `verifyTc3`
 * checks one on a received request.
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n
 *                      CanonicalHeaders \n SignedHeaders \n hex(sha256(payload))
 *   StringToSign     = "TC3-HMAC-SHA256" \n timestamp \n date/service/tc3_request \n
 *                      hex(sha256(CanonicalRequest))
 *   SecretDate = HMAC("TC3" + key, date); SecretService = HMAC(SecretDate, service);
 *   SecretSigning = HMAC(SecretService, "tc3_request");
 *   Signature = hex(HMAC(SecretSigning, StringToSign))
 *
 * CanonicalHeaders is one `name:value\n` line per entry of SignedHeaders, in
 * the order listed there. Names are lowercase; the documented form lowercases
 * and trims the value. The official SDKs differ in two details from that, so a
 * verifier that wants them to work accepts those forms too:
 * - they put the Content-Type value in as given (not lowercased);
 * - tencentcloud-sdk-nodejs signs `host` as the URL's host *name*, without the
 *   port, while the Host header it sends carries the port.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ApiError } from "../control/api-error.js";

const ALGORITHM = "TC3-HMAC-SHA256";
const TERMINATOR = "tc3_request";
/** Allowed |now - X-TC-Timestamp| by default, seconds: how long a signature verifies. */
export const DEFAULT_MAX_SKEW_SEC = 300;

export interface SignTc3Request {
  secretId: string;
  secretKey: string;
  service: string;
  host: string;
  method: "POST" | "GET";
  /** Canonical URI; "/" when omitted. */
  path?: string;
  /** Raw canonical query string for GET, without "?"; "" when omitted. */
  query?: string;
  contentType: string;
  payload: string | Buffer;
  /** Unix seconds, the value sent as X-TC-Timestamp. */
  timestamp: number;
  /** When set, X-TC-Action is signed too (the console does; the official SDK does not). */
  action?: string;
}

export interface VerifyTc3Request {
  method: string;
  path: string;
  /** The raw query string, without "?". */
  query: string;
  /** Node's IncomingHttpHeaders (lowercased names). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  lookupSecret: (secretId: string) => string | undefined;
  nowSec: number;
  /** Allowed |now - X-TC-Timestamp|, seconds; default 300. */
  maxSkewSec?: number;
  /** Services a Credential may name; undefined = any. */
  allowedServices?: readonly string[];
}

export interface VerifiedTc3 {
  secretId: string;
  service: string;
  /** The header names the signature covers, lowercase. */
  signedHeaders: string[];
  /** The signature (lowercase hex): unique to this request, for a replay check. */
  signature: string;
}

/** The Authorization header value for a request signed with TC3-HMAC-SHA256. */
export function signTc3(req: SignTc3Request): string {
  if (!Number.isSafeInteger(req.timestamp) || req.timestamp < 0) {
    throw new RangeError("signTc3: timestamp must be a non-negative integer number of Unix seconds");
  }
  const date = utcDate(req.timestamp);
  const signedHeaders = ["content-type", "host", ...(req.action === undefined ? [] : ["x-tc-action"])];
  let canonicalHeaders = `content-type:${normalizeValue(req.contentType)}\nhost:${normalizeValue(req.host)}\n`;
  if (req.action !== undefined) canonicalHeaders += `x-tc-action:${normalizeValue(req.action)}\n`;
  const canonicalRequest = buildCanonicalRequest(
    req.method,
    req.path ?? "/",
    req.query ?? "",
    canonicalHeaders,
    signedHeaders.join(";"),
    sha256Hex(typeof req.payload === "string" ? Buffer.from(req.payload, "utf8") : req.payload),
  );
  const signature = signatureHex(req.secretKey, date, req.service, String(req.timestamp), canonicalRequest);
  return `${ALGORITHM} Credential=${req.secretId}/${date}/${req.service}/${TERMINATOR}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
}

/**
 * Checks the TC3-HMAC-SHA256 signature of a received request. Returns the
 * SecretId and the service named in the Credential; throws ApiError
 * (AuthFailure.*) otherwise.
 */
export function verifyTc3(req: VerifyTc3Request): VerifiedTc3 {
  const auth = parseAuthorization(singleHeader(req.headers, "authorization"));

  // Every signed header must be present. Per header: the documented canonical
  // value, the value as sent (trimmed only), and for host the name without port.
  const variants: { documented: string; raw: string; hostname?: string }[] = [];
  for (const name of auth.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) {
      throw new ApiError("AuthFailure.InvalidAuthorization", `signed header "${name}" is missing from the request`);
    }
    const documented = normalizeValue(value);
    if (name === "host") {
      variants.push({ documented, raw: documented, hostname: stripPort(documented) });
    } else {
      variants.push({ documented, raw: value.trim() });
    }
  }

  // Timestamp and credential date.
  const tsHeader = singleHeader(req.headers, "x-tc-timestamp");
  if (tsHeader === undefined) {
    throw new ApiError("AuthFailure.SignatureExpire", "X-TC-Timestamp header is missing");
  }
  const tsText = tsHeader.trim();
  if (!/^\d{1,12}$/.test(tsText)) {
    throw new ApiError("AuthFailure.SignatureExpire", "X-TC-Timestamp is not an integer number of seconds");
  }
  const timestamp = Number(tsText);
  const maxSkew = req.maxSkewSec ?? DEFAULT_MAX_SKEW_SEC;
  if (Math.abs(req.nowSec - timestamp) > maxSkew) {
    throw new ApiError(
      "AuthFailure.SignatureExpire",
      `signature expired: X-TC-Timestamp ${tsText} is more than ${maxSkew} s away from the server time ${req.nowSec}`,
    );
  }
  const date = utcDate(timestamp);
  if (auth.date !== date) {
    throw new ApiError(
      "AuthFailure.SignatureExpire",
      `credential date ${auth.date} does not match the UTC date ${date} of X-TC-Timestamp`,
    );
  }

  if (req.allowedServices !== undefined && !req.allowedServices.includes(auth.service)) {
    throw new ApiError("AuthFailure.SignatureFailure", `credential service "${auth.service}" is not accepted here`);
  }

  const secretKey = req.lookupSecret(auth.secretId);
  if (secretKey === undefined) {
    throw new ApiError("AuthFailure.SecretIdNotFound", `SecretId "${auth.secretId}" not found`);
  }

  const method = req.method.toUpperCase();
  const path = req.path === "" ? "/" : req.path;
  const payloadHash = sha256Hex(req.body);
  const signedHeaders = auth.signedHeaders.join(";");
  const given = Buffer.from(auth.signature, "hex");

  // Candidate canonical header blocks: the documented form, the value-as-sent
  // form (official SDKs), each with the host as sent and without its port.
  const blocks = new Set<string>();
  for (const useRaw of [false, true]) {
    for (const stripHostPort of [false, true]) {
      let block = "";
      auth.signedHeaders.forEach((name, i) => {
        const v = variants[i]!;
        const value = stripHostPort && v.hostname !== undefined ? v.hostname : useRaw ? v.raw : v.documented;
        block += `${name}:${value}\n`;
      });
      blocks.add(block);
    }
  }

  let matched = false;
  for (const block of blocks) {
    const canonicalRequest = buildCanonicalRequest(method, path, req.query, block, signedHeaders, payloadHash);
    const expected = Buffer.from(signatureHex(secretKey, date, auth.service, tsText, canonicalRequest), "hex");
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
  }
  if (!matched) {
    throw new ApiError(
      "AuthFailure.SignatureFailure",
      "the request signature does not match the signature computed for it; check the SecretKey and the signing steps",
    );
  }
  return { secretId: auth.secretId, service: auth.service, signedHeaders: auth.signedHeaders, signature: auth.signature };
}

interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function invalid(message: string): ApiError {
  return new ApiError("AuthFailure.InvalidAuthorization", message);
}

function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === "") throw invalid("Authorization header is missing");
  const text = header.trim();
  const sp = text.search(/\s/);
  const algorithm = sp < 0 ? text : text.slice(0, sp);
  if (algorithm !== ALGORITHM) {
    throw invalid(`Authorization algorithm must be ${ALGORITHM}`);
  }
  const fields = new Map<string, string>();
  for (const part of text.slice(sp < 0 ? text.length : sp).split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq <= 0) throw invalid("Authorization header is malformed");
    const key = item.slice(0, eq).trim();
    if (fields.has(key)) throw invalid(`Authorization field ${key} is repeated`);
    fields.set(key, item.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeadersText = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined || signedHeadersText === undefined || signature === undefined) {
    throw invalid("Authorization header must carry Credential, SignedHeaders and Signature");
  }

  const parts = credential.split("/");
  const [secretId, date, service, terminator] = parts;
  if (
    parts.length !== 4 ||
    secretId === undefined ||
    secretId === "" ||
    date === undefined ||
    !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
    service === undefined ||
    !/^[A-Za-z0-9._-]+$/.test(service) ||
    terminator !== TERMINATOR
  ) {
    throw invalid(`Authorization Credential must be <SecretId>/<YYYY-MM-DD>/<service>/${TERMINATOR}`);
  }

  const signedHeaders = signedHeadersText.split(";").map((h) => h.trim());
  const seen = new Set<string>();
  for (const name of signedHeaders) {
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      throw invalid("Authorization SignedHeaders must be lowercase header names separated by ';'");
    }
    if (seen.has(name)) throw invalid(`Authorization SignedHeaders lists "${name}" twice`);
    seen.add(name);
  }
  if (!seen.has("content-type") || !seen.has("host")) {
    throw invalid("Authorization SignedHeaders must include content-type and host");
  }

  if (!/^[0-9a-fA-F]{64}$/.test(signature)) {
    throw invalid("Authorization Signature must be 64 hex digits");
  }
  return { secretId, date, service, signedHeaders, signature: signature.toLowerCase() };
}

/** A header that must occur once (an array of several values is refused). */
function singleHeader(headers: VerifyTc3Request["headers"], name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) {
    if (v.length > 1) {
      throw name === "authorization" ? invalid("Authorization header is repeated") : new ApiError("AuthFailure.SignatureExpire", `${name} header is repeated`);
    }
    return v[0];
  }
  return v;
}

/** A header's value as one string (repeated values joined as HTTP does). */
function headerValue(headers: VerifyTc3Request["headers"], name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.join(", ");
  return v;
}

/** The documented canonical value: trimmed and lowercased. */
function normalizeValue(value: string): string {
  return value.trim().toLowerCase();
}

/** "host:port" → "host", "[::1]:port" → "[::1]"; other values unchanged. */
function stripPort(host: string): string {
  const m = /^(\[[^\]]*\]|[^:[\]]*):\d+$/.exec(host);
  return m?.[1] ?? host;
}

function buildCanonicalRequest(
  method: string,
  path: string,
  query: string,
  canonicalHeaders: string,
  signedHeaders: string,
  payloadHash: string,
): string {
  return `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
}

function signatureHex(secretKey: string, date: string, service: string, timestamp: string, canonicalRequest: string): string {
  const stringToSign = `${ALGORITHM}\n${timestamp}\n${date}/${service}/${TERMINATOR}\n${sha256Hex(canonicalRequest)}`;
  const secretDate = hmac(`TC3${secretKey}`, date);
  const secretService = hmac(secretDate, service);
  const secretSigning = hmac(secretService, TERMINATOR);
  return hmac(secretSigning, stringToSign).toString("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** UTC date (YYYY-MM-DD) of a Unix-seconds timestamp. */
function utcDate(timestampSec: number): string {
  return new Date(timestampSec * 1000).toISOString().slice(0, 10);
}
