/**
 * Push authentication, as the cloud's hotlink protection (spec §7):
 * `txSecret = md5(KEY + StreamName + txTime)` (lowercase hex), txTime the
 * URL's expiry as a Unix timestamp in hex (decimal also accepted), checked
 * against a domain's primary or backup key; the URL is valid until
 * txTime + AuthDelta. Pure: the clock is a parameter.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export interface PushKeys {
  primary: string;
  backup?: string;
}

export interface PushAuthConfig {
  /** Keys per push domain; "*" applies to domains without their own. */
  keys: Record<string, PushKeys>;
  /** Seconds a URL stays valid after txTime (the cloud's AuthDelta). */
  authDeltaSec: number;
  /** A txTime further than this in the future is refused (a URL signed to stay valid for years); 0: no cap. */
  maxValiditySec?: number;
}

export type PushAuthResult = { ok: true } | { ok: false; reason: string };

/** spec §7: hex (as in the cloud's examples) or decimal Unix seconds. */
export function parseTxTime(text: string): number | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(text)) return Number.parseInt(text, 16);
  if (/^\d{9,11}$/.test(text)) return Number(text);
  return undefined;
}

export function txSecretFor(key: string, stream: string, txTime: string): string {
  return createHash("md5").update(key + stream + txTime).digest("hex");
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a publish's query string. Reasons never contain the key or the expected secret. */
export function checkPushAuth(cfg: PushAuthConfig, domain: string, stream: string, query: string, nowSec: number): PushAuthResult {
  const keys = keysFor(cfg.keys, domain);
  if (!keys) return { ok: false, reason: `no push key is configured for domain ${domain}` };
  const params = new URLSearchParams(query);
  const txSecret = params.get("txSecret");
  const txTimeText = params.get("txTime");
  if (!txSecret || !txTimeText) return { ok: false, reason: "missing txSecret or txTime in the push URL" };
  const txTime = parseTxTime(txTimeText);
  if (txTime === undefined) return { ok: false, reason: "txTime must be a Unix time in hex (8 digits) or decimal" };
  const valid = [keys.primary, keys.backup].filter((k): k is string => !!k).some((k) => sameHex(txSecretFor(k, stream, txTimeText), txSecret));
  if (!valid) return { ok: false, reason: "txSecret does not match this stream and txTime" };
  const maxValidity = cfg.maxValiditySec ?? 0;
  if (maxValidity > 0 && txTime - nowSec > maxValidity) return { ok: false, reason: `txTime is more than ${maxValidity} s ahead (pushAuth.maxValiditySec)` };
  if (nowSec > txTime + cfg.authDeltaSec) return { ok: false, reason: `push URL expired at ${new Date((txTime + cfg.authDeltaSec) * 1000).toISOString()}` };
  return { ok: true };
}

/** The keys of a push domain (compared case-insensitively, own entries only), else the "*" keys. */
function keysFor(all: Record<string, PushKeys>, domain: string): PushKeys | undefined {
  const wanted = domain.toLowerCase();
  for (const [name, keys] of Object.entries(all)) if (name !== "*" && name.toLowerCase() === wanted) return keys;
  return Object.hasOwn(all, "*") ? all["*"] : undefined;
}

/** The push query string without its txSecret (kept as stream_param: the secret must not travel on). */
export function withoutPushSecret(query: string): string {
  return query
    .split("&")
    .filter((part) => {
      const name = part.split("=")[0] ?? "";
      try {
        return decodeURIComponent(name.replace(/\+/g, " ")) !== "txSecret";
      } catch {
        return true;
      }
    })
    .join("&");
}
