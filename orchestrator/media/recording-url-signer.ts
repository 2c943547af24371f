/**
 * Signed recording URLs (`recordings.access: "signed"`), in the manner of Tencent Cloud VOD's key
 * hotlink protection: the file's usual URL plus `?t=<expiry>&sign=<signature>`, with `t` the
 * expiry in lowercase hex Unix seconds, as the cloud writes it.
 *
 * - `sign` = the first 16 bytes (32 hex digits) of HMAC-SHA256(key, "<domain tag>\n<t>\n<path>"),
 *   `path` being the file's decoded path components under recordings/ joined by "/". A signature
 *   therefore covers exactly one file: no folder, no other name. Components never contain "/"
 *   (the server refuses them), so the joined path names one file only.
 * - HLS players fetch segments by URIs relative to the playlist, which drop the playlist's query.
 *   So a playlist served under a valid signature is rewritten on the fly: each segment URI gets
 *   its own `t`/`sign` for that segment, with the playlist's expiry (`signPlaylistUris`).
 * - Only the server signs, so no cap on `t` is needed; the signature is compared in constant time
 *   and the expiry checked after it (an "expired" answer is only given for a genuine URL).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../engine/errors.js";
import { recordingsAccess, type ServiceConfig } from "../config/config.js";

/** Where a generated key is kept (in the data folder, outside recordings/). */
export const URL_KEY_FILE = "recordings-url.key";
/** Signatures are HMAC-SHA256 truncated to 128 bits: as long as the cloud's MD5 `sign`. */
const SIGN_BYTES = 16;
/** Separates these MACs from any other use of the same key. */
const MAC_TAG = "live-recorder recording URL v1";

/** Why a URL was refused (the 403 body says it; none depends on whether the file exists). */
export type UrlRefusal = "URL_SIGNATURE_MISSING" | "URL_SIGNATURE_INVALID" | "URL_EXPIRED";

export type UrlCheck = { ok: true; expiresSec: number } | { ok: false; code: UrlRefusal };

export class RecordingUrlSigner {
  constructor(
    private readonly key: string,
    /** How long an issued URL stays valid. */
    readonly validitySec: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The expiry (Unix seconds) of a URL issued now. */
  expiry(): number {
    return Math.floor(this.nowMs() / 1000) + this.validitySec;
  }

  /** `t=…&sign=…` for the file at `path` (decoded components under recordings/, "/"-joined). */
  query(path: string, expiresSec: number = this.expiry()): string {
    const t = expiresSec.toString(16);
    return `t=${t}&sign=${this.mac(t, path)}`;
  }

  /** Checks a request for `path` carrying these `t` and `sign` query values (null: absent). */
  check(path: string, t: string | null, sign: string | null): UrlCheck {
    if (t === null && sign === null) return { ok: false, code: "URL_SIGNATURE_MISSING" };
    if (t === null || sign === null || !/^[0-9a-f]{1,13}$/.test(t) || !/^[0-9a-f]{32}$/.test(sign)) return { ok: false, code: "URL_SIGNATURE_INVALID" };
    if (!timingSafeEqual(Buffer.from(this.mac(t, path), "hex"), Buffer.from(sign, "hex"))) return { ok: false, code: "URL_SIGNATURE_INVALID" };
    const expiresSec = Number.parseInt(t, 16);
    if (expiresSec * 1000 < this.nowMs()) return { ok: false, code: "URL_EXPIRED" };
    return { ok: true, expiresSec };
  }

  private mac(t: string, path: string): string {
    return createHmac("sha256", this.key).update(`${MAC_TAG}\n${t}\n${path}`).digest().subarray(0, SIGN_BYTES).toString("hex");
  }
}

/**
 * Appends a signature to every segment URI of a playlist found at `dir` (its folder's components
 * under recordings/). Only relative paths are signed, and only those that stay inside recordings/
 * and name no hidden component (nothing else would be served); absolute URLs, tags and comments
 * are left as they are. Our HLS writer puts segment URIs on URI lines only (no URI attributes).
 */
export function signPlaylistUris(text: string, dir: readonly string[], query: (path: string) => string): string {
  return text
    .split("\n")
    .map((line) => {
      const cr = line.endsWith("\r") ? "\r" : "";
      const uri = (cr ? line.slice(0, -1) : line).trim();
      if (uri === "" || uri.startsWith("#")) return line;
      const path = resolveRelative(dir, uri);
      return path === undefined ? line : `${uri}?${query(path)}${cr}`;
    })
    .join("\n");
}

/** The "/"-joined decoded path a relative URI reaches from `dir`, or undefined if it leaves recordings/ or is not a plain relative path. */
function resolveRelative(dir: readonly string[], uri: string): string | undefined {
  if (!/^[^/?#:]+(\/[^/?#]+)*$/.test(uri)) return undefined; // a scheme, an absolute path, a query or an empty segment
  const parts = [...dir];
  for (const raw of uri.split("/")) {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (name === ".") continue;
    if (name === "..") {
      if (parts.pop() === undefined) return undefined;
      continue;
    }
    if (name.startsWith(".") || /[/\\\0]/.test(name)) return undefined;
    parts.push(name);
  }
  return parts.join("/");
}

/**
 * The key of signed URLs: `recordings.urlKey`, or one generated once (32 random bytes, hex) and
 * kept in `<dataDir>/recordings-url.key` (mode 0600), so issued URLs survive restarts. Deleting
 * the file (or changing the key) invalidates every URL issued with the old one.
 */
export function loadOrCreateUrlKey(dataDir: string): string {
  const file = join(dataDir, URL_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const key = readFileSync(file, "utf8").trim();
  // Never echo the content: it is the key.
  if (!/^[0-9a-f]{64}$/.test(key)) {
    throw new ConfigError("URL_KEY_INVALID", `${file} does not hold a recording URL key (64 hex digits); delete it to have a new one made (URLs issued before stop working)`);
  }
  return key;
}

/** The signer for this configuration, or undefined when recordings are public. */
export function recordingUrlSigner(config: ServiceConfig): RecordingUrlSigner | undefined {
  if (recordingsAccess(config) !== "signed") return undefined;
  return new RecordingUrlSigner(config.recordings.urlKey || loadOrCreateUrlKey(config.dataDir), config.recordings.urlValiditySec);
}
