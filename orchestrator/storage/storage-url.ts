/**
 * One setting names an S3-compatible target:
 *
 *   s3://<bucket>[/<prefix>][?endpoint=<http(s)://host[:port]>&region=<region>&forcePathStyle=<true|false>
 *                            &checksums=<when_supported|when_required>&storageClass=<class>&coldStorageClass=<class>]
 *
 * | parameter          | default                                   | why it exists |
 * |--------------------|-------------------------------------------|---------------|
 * | `endpoint`         | none: AWS S3 of `region`                   | any other store (COS, Ceph RGW, MinIO, Swift, Garage, SeaweedFS) |
 * | `region`           | `us-east-1`                               | signatures name it; Swift's s3api `location` and Garage's `s3_region` must equal it |
 * | `forcePathStyle`   | `true` with an `endpoint`, else `false`   | `host/bucket/key` instead of `bucket.host/key`: IP endpoints, most self-hosted stores |
 * | `checksums`        | `when_supported` (the SDK's default)       | `when_required` for stores that refuse the SDK's CRC checksums / aws-chunked bodies (Swift, older Ceph RGW and MinIO) |
 * | `storageClass`     | `STANDARD`                                | StorageMode "normal"; empty: send none (the store's default) |
 * | `coldStorageClass` | empty: this target has no cold class       | StorageMode "cold" (e.g. `STANDARD_IA`); Swift knows only STANDARD |
 *
 * Credentials never go in the URL (they would end up in logs and the catalog): they come from
 * the store's options or the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 * profiles, instance roles). A URL with user info or a credential-like parameter is refused,
 * and no refusal ever echoes a value that could be one.
 * Anything unknown is refused (ConfigError CONFIG_INVALID naming the parameter): a typo in an
 * optional parameter must not silently fall back to a default.
 */
import { ConfigError } from "../../engine/errors.js";
import { keyPathProblem } from "./object-key.js";

type ChecksumMode = "when_supported" | "when_required";

export interface S3Target {
  bucket: string;
  /** Without leading or trailing slash; "" for the bucket's root. */
  prefix: string;
  /** Origin of a non-AWS store (`http://127.0.0.1:9000`); undefined: AWS S3 of `region`. */
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  checksums: ChecksumMode;
  /** Storage class for StorageMode "normal"; "" sends none. */
  storageClass: string;
  /** Storage class for StorageMode "cold"; "" when the target has none. */
  coldStorageClass: string;
}

const DEFAULT_REGION = "us-east-1";
const DEFAULT_STORAGE_CLASS = "STANDARD";

const PARAMETERS = ["endpoint", "region", "forcePathStyle", "checksums", "storageClass", "coldStorageClass"] as const;
type Parameter = (typeof PARAMETERS)[number];

const CREDENTIAL_LIKE = /key|secret|token|password|credential/i;
/** S3's rules for new buckets; legacy names (capitals, underscores) only work path-style. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LEGACY_BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/i;
const STORAGE_CLASS = /^[A-Z0-9_]{0,64}$/;
const URL_SHAPE = /^s3:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/;

/** "s3://bucket/prefix": for logs and the catalog. */
export function describeTarget(target: S3Target): string {
  return target.prefix === "" ? `s3://${target.bucket}` : `s3://${target.bucket}/${target.prefix}`;
}

/**
 * Parses a storage URL. `where` names the setting in errors (`storage.url`,
 * `storage.buckets.archive.url`, ...).
 */
export function parseStorageUrl(url: string, where = "storage.url"): S3Target {
  const fail = (message: string): never => {
    throw new ConfigError("CONFIG_INVALID", `${where}: ${message}`);
  };
  if (!url.startsWith("s3://")) fail("must start with s3:// (no other scheme is supported)");
  const shape = URL_SHAPE.exec(url);
  if (!shape) fail("must look like s3://bucket/prefix?parameters (no #fragment)");
  const [, authority = "", path = "", query = ""] = shape!;
  if (authority.includes("@")) fail("credentials do not go in the URL: use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the config's credentials");

  const params = readParameters(query, fail);
  const endpoint = params.endpoint === undefined ? undefined : parseEndpoint(params.endpoint, fail);
  const forcePathStyle = params.forcePathStyle === undefined ? endpoint !== undefined : parseBoolean("forcePathStyle", params.forcePathStyle, fail);

  const bucket = authority;
  if (!(forcePathStyle ? LEGACY_BUCKET : BUCKET).test(bucket)) {
    fail(
      forcePathStyle
        ? "the bucket name must be 3-63 characters from A-Z a-z 0-9 . _ - starting and ending with a letter or digit"
        : "the bucket name must be 3-63 characters from a-z 0-9 . - starting and ending with a letter or digit (legacy names need forcePathStyle=true)",
    );
  }

  const prefix = decodePrefix(path, fail);

  const region = params.region ?? DEFAULT_REGION;
  if (!REGION.test(region)) fail("region must be letters, digits and '-' (like us-east-1 or ap-guangzhou)");

  let checksums: ChecksumMode = "when_supported";
  if (params.checksums !== undefined) {
    if (params.checksums !== "when_supported" && params.checksums !== "when_required") fail("checksums must be when_supported or when_required");
    checksums = params.checksums as ChecksumMode;
  }

  const storageClass = params.storageClass ?? DEFAULT_STORAGE_CLASS;
  if (!STORAGE_CLASS.test(storageClass)) fail("storageClass must be an S3 storage class name (A-Z 0-9 _, like STANDARD)");
  const coldStorageClass = params.coldStorageClass ?? "";
  if (!STORAGE_CLASS.test(coldStorageClass)) fail("coldStorageClass must be an S3 storage class name (A-Z 0-9 _, like STANDARD_IA) or empty");

  return { bucket, prefix, endpoint, region, forcePathStyle, checksums, storageClass, coldStorageClass };
}

function readParameters(query: string, fail: (message: string) => never): Partial<Record<Parameter, string>> {
  const out: Partial<Record<Parameter, string>> = {};
  if (query === "") return out;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decode(rawName, "a parameter name", fail);
    if (CREDENTIAL_LIKE.test(name)) {
      fail(`parameter "${printable(name)}": credentials do not go in the URL; use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the config's credentials`);
    }
    if (!(PARAMETERS as readonly string[]).includes(name)) fail(`unknown parameter "${printable(name)}" (known: ${PARAMETERS.join(", ")})`);
    if (eq < 0) fail(`parameter ${name} needs a value (${name}=...)`);
    if (out[name as Parameter] !== undefined) fail(`parameter ${name} is given twice`);
    out[name as Parameter] = decode(pair.slice(eq + 1), `parameter ${name}`, fail);
  }
  return out;
}

/** Percent-decoding only: "+" stays "+" (an endpoint or prefix may hold one). */
function decode(text: string, what: string, fail: (message: string) => never): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(`${what} has a malformed %-escape`);
  }
}

/** A parameter name as typed, limited to visible ASCII and 40 characters. */
function printable(name: string): string {
  return name.replace(/[^\x21-\x7e]/g, "?").slice(0, 40);
}

function parseEndpoint(value: string, fail: (message: string) => never): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail("endpoint must be an http:// or https:// URL like http://127.0.0.1:9000");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail("endpoint must be an http:// or https:// URL");
  if (url.username !== "" || url.password !== "") fail("endpoint must not hold credentials");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    fail("endpoint must be scheme://host[:port] only (no path, query or fragment)");
  }
  return url.origin;
}

function parseBoolean(name: string, value: string, fail: (message: string) => never): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  return fail(`${name} must be true or false`);
}

function decodePrefix(path: string, fail: (message: string) => never): string {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  const prefix = trimmed
    .split("/")
    .map((c) => decode(c, "the prefix", fail))
    .join("/");
  const problem = keyPathProblem(prefix);
  if (problem !== undefined) fail(`the prefix ${problem}`);
  return prefix;
}
