/**
 * The service's configuration: embedded defaults, then a JSON config file,
 * then environment variables, then command-line flags. Validated once, with
 * a message that names the key.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, errorMessage } from "../../engine/errors.js";
import type { LogLevel } from "../../engine/logger.js";
import { OUTPUT_FORMATS } from "../../engine/mux/types.js";
import { CallbackPolicy, parsePolicyEntry } from "../callbacks/callback-policy.js";
import { invalidVodFileNameParts, parseUtcOffset } from "../../engine/segment/naming.js";
import { parseStorageUrl } from "../storage/storage-url.js";
import { type FormatParams, type FormatRecordParam, TEMPLATE_KEYS } from "../templates/recording-settings.js";

/** What a push records when no recording rule matches: the formats of a cloud template, and its splice window. */
export type ConfigRecordTemplate = Required<FormatParams>;

export interface ServiceConfig {
  rtmp: {
    host: string;
    port: number;
    /** Connections at once; when full, a newcomer may take the slot of a flooding address's connection that has not published. */
    maxConnections: number;
    /** Connections not publishing yet per address (an IPv6 /64 counts as one). */
    maxPendingPerAddress: number;
    /** New connections a second per address, bursts of ten seconds' worth allowed; 0: no limit. */
    connectsPerSecondPerAddress: number;
    /** A connection that has not started publishing this long after connecting is closed. */
    publishTimeoutSec: number;
  };
  http: {
    host: string;
    port: number;
    /** Base URL recordings are reported at (video_url, MediaUrl); empty: http://<host>:<port>. */
    publicUrl: string;
    /** Extra host names requests may address the service by (besides loopback names, listen addresses and publicUrl's host). */
    allowedHosts: string[];
    /** Origins whose scripts may read recordings (CORS); "*" for any. Empty: none (same-origin players only). */
    corsOrigins: string[];
  };
  /** Everything the service writes lives under this folder. */
  dataDir: string;
  /** ffmpeg to run; empty: $FFMPEG_PATH, a system ffmpeg, or the bundled one. */
  ffmpegPath: string;
  logLevel: LogLevel;
  recording: {
    /** UTC offset of the times in file names; the cloud uses Beijing time. */
    fileNameUtcOffset: string;
    hlsSegmentSeconds: number;
    probeWindowMs: number;
    maxQueueMegabytes: number;
    /** How often files past their StorageTime are deleted (also once at start-up). */
    retentionSweepSeconds: number;
    /** New pushes are refused while the data folder's disk has less free space than this. */
    minFreeMegabytes: number;
    /** How H.265 is written into FLV files: Enhanced RTMP ("enhanced", hvc1) or the legacy codec id 12. */
    flvHevcMode: "enhanced" | "legacy";
  };
  /** What a push records when no recording rule (control API) matches it. */
  recordTemplate: ConfigRecordTemplate;
  /** Where finished-file and recording-status events go when no callback rule (control API) matches. */
  callbacks: {
    recordNotifyUrl: string;
    recordStatusNotifyUrl: string;
    /** CallbackKey: events are signed sign = md5(key + t) (spec §4.2). */
    callbackKey: string;
    /** The `appid` field of events. */
    appId: number;
    retryIntervalSec: number;
    timeoutSec: number;
    /** Retries after the first attempt (the cloud: 12, once a minute). */
    maxRetries: number;
    /** Receivers callbacks may go to (addresses, CIDRs, host names, "*.example.com"); empty: any not denied. */
    allow: string[];
    /** Receivers callbacks never go to, besides the built-in denials (callbacks/callback-policy.ts). */
    deny: string[];
  };
  /** Push authentication (spec §7): txSecret = md5(key + StreamName + txTime). */
  pushAuth: {
    /** "auto": required unless RTMP listens on loopback only. */
    mode: "auto" | "on" | "off";
    /** Per push domain ("*" for any other domain): primary and optional backup key. */
    keys: Record<string, { primary: string; backup?: string }>;
    /** Seconds a push URL stays valid after its txTime. */
    authDeltaSec: number;
    /** A push URL whose txTime is further ahead than this is refused (0: no cap). */
    maxValiditySec: number;
  };
  /** Who may fetch finished recordings at /recordings/. */
  recordings: {
    /** "signed": only URLs the service issued (t/sign); "public": any; "auto": signed when the API requires signatures. */
    access: "auto" | "public" | "signed";
    /** HMAC key of signed URLs; empty: one generated once and kept in the data folder. */
    urlKey: string;
    /** How long an issued URL (MediaUrl, a callback's video_url) stays valid. */
    urlValiditySec: number;
  };
  /** Where finished recordings go besides the local folder (issue 15): object storage or another folder. */
  storage: {
    /** "": local disk only. "s3://bucket/prefix?endpoint=…" or "file:///mnt/archive" (a mounted folder). */
    url: string;
    /** S3 credentials; empty: the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles…). */
    accessKeyId: string;
    secretAccessKey: string;
    /** Keep the local copy after a verified upload (default: removed). */
    keepLocal: boolean;
    /** Files uploaded at once. */
    uploadConcurrency: number;
  };
  /** The web console at /console/: operators log in with this password (empty: console disabled). */
  console: { password: string };
  api: {
    /** "auto": signatures required unless the HTTP port is bound to loopback only. */
    auth: "auto" | "on" | "off";
    /** SecretId/SecretKey pairs accepted for TC3-HMAC-SHA256 signatures. */
    credentials: { SecretId: string; SecretKey: string }[];
    /** Largest request body accepted. */
    maxBodyBytes: number;
    /** Signed POSTs must sign X-TC-Action too (the console does; the official SDK does not, so it is refused). */
    requireSignedAction: boolean;
  };
}

/** spec §1.2: RecordInterval defaults to 1800 s. */
export const DEFAULT_RECORD_INTERVAL = 1800;

export function defaultConfig(): ServiceConfig {
  const param = (): FormatRecordParam => ({ Enable: 1, RecordInterval: DEFAULT_RECORD_INTERVAL });
  return {
    rtmp: { host: "127.0.0.1", port: 1935, maxConnections: 1000, maxPendingPerAddress: 64, connectsPerSecondPerAddress: 20, publishTimeoutSec: 10 },
    http: { host: "127.0.0.1", port: 8080, publicUrl: "", allowedHosts: [], corsOrigins: [] },
    dataDir: "./data",
    ffmpegPath: "",
    logLevel: "info",
    recording: { fileNameUtcOffset: "+08:00", hlsSegmentSeconds: 10, probeWindowMs: 1000, maxQueueMegabytes: 64, retentionSweepSeconds: 60, minFreeMegabytes: 64, flvHevcMode: "enhanced" },
    recordTemplate: { FlvParam: param(), HlsParam: param(), Mp4Param: param(), AacParam: param(), HlsSpecialParam: { FlowContinueDuration: 0 } },
    callbacks: { recordNotifyUrl: "", recordStatusNotifyUrl: "", callbackKey: "", appId: 0, retryIntervalSec: 60, timeoutSec: 20, maxRetries: 12, allow: [], deny: [] },
    pushAuth: { mode: "auto", keys: {}, authDeltaSec: 0, maxValiditySec: 604_800 },
    recordings: { access: "auto", urlKey: "", urlValiditySec: 86_400 },
    storage: { url: "", accessKeyId: "", secretAccessKey: "", keepLocal: false, uploadConcurrency: 4 },
    console: { password: "" },
    api: { auth: "auto", credentials: [], maxBodyBytes: 1024 * 1024, requireSignedAction: false },
  };
}

const LOOPBACK = ["127.0.0.1", "::1", "localhost"];

/** Whether publishers must sign push URLs: "auto" means yes unless RTMP listens on loopback only. */
export function pushAuthRequired(c: ServiceConfig): boolean {
  if (c.pushAuth.mode !== "auto") return c.pushAuth.mode === "on";
  return !LOOPBACK.includes(c.rtmp.host);
}

/** Whether API requests must be signed: "auto" means yes unless HTTP listens on loopback only. */
export function apiAuthRequired(c: ServiceConfig): boolean {
  if (c.api.auth !== "auto") return c.api.auth === "on";
  return !LOOPBACK.includes(c.http.host);
}

/** Where callbacks may go: callbacks.allow / deny; loopback receivers only while HTTP listens on loopback only. */
export function callbackPolicy(c: ServiceConfig): CallbackPolicy {
  return new CallbackPolicy({ allow: c.callbacks.allow, deny: c.callbacks.deny, serviceOnLoopback: LOOPBACK.includes(c.http.host) });
}

/** Whether recordings need a signed URL: "auto" means yes whenever the API requires signatures. */
export function recordingsAccess(c: ServiceConfig): "public" | "signed" {
  if (c.recordings.access !== "auto") return c.recordings.access;
  return apiAuthRequired(c) ? "signed" : "public";
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep-merges `patch` into `base`, refusing keys the base does not have (typos fail loudly). */
function merge(base: Json, patch: unknown, path: string): void {
  if (!isObject(patch)) throw new ConfigError("CONFIG_INVALID", `${path || "config"} must be an object`);
  for (const [key, value] of Object.entries(patch)) {
    const where = path ? `${path}.${key}` : key;
    if (!(key in base) && !(path.endsWith("Param") && (key === "VodFileName" || key === "StorageTime"))) {
      throw new ConfigError("CONFIG_UNKNOWN_KEY", `unknown config key ${where}`);
    }
    // Free-form maps (domain -> keys) are taken whole; everything else is checked key by key.
    if (where === "pushAuth.keys") base[key] = value;
    else if (isObject(base[key])) merge(base[key] as Json, value, where);
    else base[key] = value;
  }
}

function check(ok: boolean, key: string, expected: string, value: unknown): void {
  if (!ok) throw new ConfigError("CONFIG_INVALID", `${key} must be ${expected}, got ${JSON.stringify(value)}`);
}

const isInt = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

export function validateConfig(c: ServiceConfig): ServiceConfig {
  for (const side of ["rtmp", "http"] as const) {
    check(isInt(c[side].port, 0, 65535), `${side}.port`, "a port number 0-65535", c[side].port);
    check(typeof c[side].host === "string" && c[side].host.length > 0, `${side}.host`, "a host name or address", c[side].host);
  }
  check(isInt(c.rtmp.maxConnections, 1, 100_000), "rtmp.maxConnections", "an integer 1-100000", c.rtmp.maxConnections);
  check(isInt(c.rtmp.maxPendingPerAddress, 1, 100_000), "rtmp.maxPendingPerAddress", "an integer 1-100000", c.rtmp.maxPendingPerAddress);
  check(isInt(c.rtmp.connectsPerSecondPerAddress, 0, 100_000), "rtmp.connectsPerSecondPerAddress", "an integer 0-100000 (0: no limit)", c.rtmp.connectsPerSecondPerAddress);
  check(isInt(c.rtmp.publishTimeoutSec, 1, 600), "rtmp.publishTimeoutSec", "an integer 1-600", c.rtmp.publishTimeoutSec);
  check(typeof c.dataDir === "string" && c.dataDir.length > 0, "dataDir", "a folder path", c.dataDir);
  check(typeof c.http.publicUrl === "string" && (c.http.publicUrl === "" || /^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(c.http.publicUrl)), "http.publicUrl", "empty or an http(s) URL", c.http.publicUrl);
  const hosts = c.http.allowedHosts;
  check(Array.isArray(hosts) && hosts.every((h) => typeof h === "string" && /^[A-Za-z0-9.:[\]-]+$/.test(h)), "http.allowedHosts", "a list of host names or addresses", hosts);
  const origins = c.http.corsOrigins;
  check(
    Array.isArray(origins) && origins.every((o) => typeof o === "string" && (o === "*" || /^https?:\/\/[^/\s]+$/.test(o))),
    "http.corsOrigins",
    'a list of origins ("https://player.example.com", no path) or "*"',
    origins,
  );
  check(isInt(c.recording.minFreeMegabytes, 0, 1_048_576), "recording.minFreeMegabytes", "an integer 0-1048576", c.recording.minFreeMegabytes);
  check(["enhanced", "legacy"].includes(c.recording.flvHevcMode), "recording.flvHevcMode", "enhanced|legacy", c.recording.flvHevcMode);
  check(isInt(c.recording.retentionSweepSeconds, 1, 86_400), "recording.retentionSweepSeconds", "an integer 1-86400", c.recording.retentionSweepSeconds);
  check(typeof c.ffmpegPath === "string", "ffmpegPath", "a path or empty", c.ffmpegPath);
  check(["debug", "info", "warn", "error", "silent"].includes(c.logLevel), "logLevel", "debug|info|warn|error|silent", c.logLevel);
  try {
    parseUtcOffset(c.recording.fileNameUtcOffset);
  } catch (err) {
    throw new ConfigError("CONFIG_INVALID", `recording.fileNameUtcOffset: ${errorMessage(err)}`);
  }
  check(isInt(c.recording.hlsSegmentSeconds, 1, 60), "recording.hlsSegmentSeconds", "an integer 1-60", c.recording.hlsSegmentSeconds);
  check(isInt(c.recording.probeWindowMs, 0, 10_000), "recording.probeWindowMs", "an integer 0-10000", c.recording.probeWindowMs);
  check(isInt(c.recording.maxQueueMegabytes, 1, 4096), "recording.maxQueueMegabytes", "an integer 1-4096", c.recording.maxQueueMegabytes);
  const flow = c.recordTemplate.HlsSpecialParam.FlowContinueDuration;
  check(isInt(flow, 0, 1800), "recordTemplate.HlsSpecialParam.FlowContinueDuration", "an integer 0-1800 (seconds)", flow);
  for (const key of ["recordNotifyUrl", "recordStatusNotifyUrl"] as const) {
    const url = c.callbacks[key];
    check(typeof url === "string" && (url === "" || /^https?:\/\/[^/\s@]+(\/\S*)?$/.test(url)), `callbacks.${key}`, "empty or an http(s) URL", url);
  }
  check(typeof c.callbacks.callbackKey === "string" && c.callbacks.callbackKey.length <= 64, "callbacks.callbackKey", "a string of at most 64 characters", "(not shown)");
  check(isInt(c.callbacks.appId, 0, Number.MAX_SAFE_INTEGER), "callbacks.appId", "a non-negative integer", c.callbacks.appId);
  check(isInt(c.callbacks.retryIntervalSec, 1, 3600), "callbacks.retryIntervalSec", "an integer 1-3600", c.callbacks.retryIntervalSec);
  check(isInt(c.callbacks.timeoutSec, 1, 300), "callbacks.timeoutSec", "an integer 1-300", c.callbacks.timeoutSec);
  check(isInt(c.callbacks.maxRetries, 0, 100), "callbacks.maxRetries", "an integer 0-100", c.callbacks.maxRetries);
  for (const key of ["allow", "deny"] as const) {
    const list = c.callbacks[key];
    check(Array.isArray(list), `callbacks.${key}`, 'a list of addresses, CIDRs ("10.0.0.0/8") or host names ("hooks.example.com", "*.example.com")', list);
    for (const [i, entry] of list.entries()) {
      const parsed = parsePolicyEntry(entry);
      check(typeof parsed !== "string", `callbacks.${key}[${i}]`, 'an address, a CIDR ("10.0.0.0/8") or a host name ("hooks.example.com", "*.example.com")', entry);
    }
  }
  // A fallback receiver the policy refuses could never be reached: say so now, not at the first recording.
  const policy = callbackPolicy(c);
  for (const key of ["recordNotifyUrl", "recordStatusNotifyUrl"] as const) {
    const refused = c.callbacks[key] === "" ? undefined : policy.refusalBeforeLookup(c.callbacks[key]);
    if (refused !== undefined) throw new ConfigError("CONFIG_INVALID", `callbacks.${key} is refused by the callbacks policy: ${refused}`);
  }
  check(["auto", "on", "off"].includes(c.pushAuth.mode), "pushAuth.mode", "auto|on|off", c.pushAuth.mode);
  check(isInt(c.pushAuth.maxValiditySec, 0, 31_536_000), "pushAuth.maxValiditySec", "an integer 0-31536000", c.pushAuth.maxValiditySec);
  check(isInt(c.pushAuth.authDeltaSec, 0, 31_536_000), "pushAuth.authDeltaSec", "an integer 0-31536000", c.pushAuth.authDeltaSec);
  check(isObject(c.pushAuth.keys), "pushAuth.keys", "an object of domain -> {primary, backup}", "(not shown)");
  for (const [domain, k] of Object.entries(c.pushAuth.keys)) {
    const ok =
      isObject(k) &&
      typeof k.primary === "string" &&
      k.primary.length >= 8 &&
      (k.backup === undefined || (typeof k.backup === "string" && k.backup.length >= 8)) &&
      Object.keys(k).every((x) => x === "primary" || x === "backup");
    // Never echo the value: it holds secrets.
    check(ok, `pushAuth.keys[${JSON.stringify(domain)}]`, "{primary, backup?} with keys of 8+ characters", "(not shown)");
  }
  check(["auto", "public", "signed"].includes(c.recordings.access), "recordings.access", "auto|public|signed", c.recordings.access);
  // Never echo the key.
  check(typeof c.recordings.urlKey === "string" && (c.recordings.urlKey === "" || c.recordings.urlKey.length >= 16), "recordings.urlKey", "empty (generated) or 16+ characters", "(not shown)");
  check(c.recordings.access !== "public" || c.recordings.urlKey === "", "recordings.urlKey", 'empty while recordings.access is "public" (public URLs are not signed)', "(not shown)");
  check(isInt(c.recordings.urlValiditySec, 60, 31_536_000), "recordings.urlValiditySec", "an integer 60-31536000 (seconds)", c.recordings.urlValiditySec);
  const st = c.storage;
  check(typeof st.url === "string" && (st.url === "" || st.url.startsWith("s3://") || /^file:\/\/\/[^\s?#]*$/.test(st.url)), "storage.url", 'empty, "s3://bucket/prefix?…" (credentials go in storage.accessKeyId/secretAccessKey) or "file:///folder"', "(not shown)");
  // Every parameter of an s3:// URL is checked here, so a typo stops the start (never echoing the URL).
  if (st.url.startsWith("s3://")) parseStorageUrl(st.url);
  check(typeof st.accessKeyId === "string" && typeof st.secretAccessKey === "string" && (st.accessKeyId === "") === (st.secretAccessKey === ""), "storage.accessKeyId/secretAccessKey", "both set or both empty", "(not shown)");
  check(st.accessKeyId === "" || st.url.startsWith("s3://"), "storage.accessKeyId/secretAccessKey", "empty unless storage.url is an s3:// URL", "(not shown)");
  check(typeof st.keepLocal === "boolean", "storage.keepLocal", "true or false", st.keepLocal);
  // Each S3 upload holds up to 4 parts of 8 MiB in memory: 16 files at once is 512 MiB.
  check(isInt(st.uploadConcurrency, 1, 16), "storage.uploadConcurrency", "an integer 1-16", st.uploadConcurrency);
  // Without a destination they would do nothing: refused rather than silently ignored.
  check(st.url !== "" || (!st.keepLocal && st.uploadConcurrency === 4), "storage.keepLocal/uploadConcurrency", "left at their defaults while storage.url is empty", "(set)");
  check(typeof c.console.password === "string" && (c.console.password === "" || c.console.password.length >= 8), "console.password", "empty (console off) or 8+ characters", "(not shown)");
  check(["auto", "on", "off"].includes(c.api.auth), "api.auth", "auto|on|off", c.api.auth);
  check(Array.isArray(c.api.credentials), "api.credentials", "a list of {SecretId, SecretKey}", "(not shown)");
  for (const [i, cred] of c.api.credentials.entries()) {
    const ok = isObject(cred) && typeof cred.SecretId === "string" && cred.SecretId.length >= 1 && typeof cred.SecretKey === "string" && cred.SecretKey.length >= 8;
    // Never echo the value: it holds a secret.
    check(ok && Object.keys(cred).length === 2, `api.credentials[${i}]`, "{SecretId, SecretKey} with a SecretKey of 8+ characters", "(not shown)");
  }
  check(typeof c.api.requireSignedAction === "boolean", "api.requireSignedAction", "true or false", c.api.requireSignedAction);
  check(isInt(c.api.maxBodyBytes, 1024, 64 * 1024 * 1024), "api.maxBodyBytes", "an integer 1024-67108864", c.api.maxBodyBytes);
  for (const format of OUTPUT_FORMATS) {
    const key = `recordTemplate.${TEMPLATE_KEYS[format]}`;
    const p = c.recordTemplate[TEMPLATE_KEYS[format]];
    check(p.Enable === 0 || p.Enable === 1, `${key}.Enable`, "0 or 1", p.Enable);
    // The cloud API allows 60-43200 s; the engine also takes short intervals from config (tests roll every few seconds).
    check(isInt(p.RecordInterval, 1, 43200), `${key}.RecordInterval`, "an integer 1-43200 (seconds)", p.RecordInterval);
    if (p.StorageTime !== undefined) check(isInt(p.StorageTime, 0, 129_600_000), `${key}.StorageTime`, "an integer 0-129600000 (seconds, 0 = forever)", p.StorageTime);
    if (p.VodFileName !== undefined) {
      const bad = typeof p.VodFileName === "string" ? invalidVodFileNameParts(p.VodFileName) : ["not a string"];
      check(bad.length === 0, `${key}.VodFileName`, `a valid pattern (${bad.join(", ")})`, p.VodFileName);
    }
  }
  return c;
}

export interface ConfigOverrides {
  configFile?: string;
  rtmpPort?: number;
  httpPort?: number;
  host?: string;
  dataDir?: string;
  ffmpegPath?: string;
  logLevel?: string;
}

const ENV_KEYS: [string, (c: ServiceConfig, v: string) => void][] = [
  [
    "RECORDER_RTMP_PORT",
    (c, v) => {
      c.rtmp.port = Number(v);
    },
  ],
  [
    "RECORDER_HTTP_PORT",
    (c, v) => {
      c.http.port = Number(v);
    },
  ],
  [
    "RECORDER_HOST",
    (c, v) => {
      c.rtmp.host = v;
      c.http.host = v;
    },
  ],
  [
    "RECORDER_DATA_DIR",
    (c, v) => {
      c.dataDir = v;
    },
  ],
  [
    "RECORDER_FFMPEG_PATH",
    (c, v) => {
      c.ffmpegPath = v;
    },
  ],
  [
    "RECORDER_STORAGE_URL",
    (c, v) => {
      c.storage.url = v;
    },
  ],
  [
    "RECORDER_CONSOLE_PASSWORD",
    (c, v) => {
      c.console.password = v;
    },
  ],
  [
    "RECORDER_LOG_LEVEL",
    (c, v) => {
      c.logLevel = v as LogLevel;
    },
  ],
];

/** defaults <- config file <- environment <- flags. */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const config = defaultConfig();
  const file = overrides.configFile ?? env.RECORDER_CONFIG;
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new ConfigError("CONFIG_UNREADABLE", `cannot read config file ${file}: ${errorMessage(err)}`, { cause: err });
    }
    merge(config as unknown as Json, raw, "");
  }
  for (const [name, apply] of ENV_KEYS) {
    const v = env[name];
    if (v !== undefined && v !== "") apply(config, v);
  }
  if (overrides.rtmpPort !== undefined) config.rtmp.port = overrides.rtmpPort;
  if (overrides.httpPort !== undefined) config.http.port = overrides.httpPort;
  if (overrides.host !== undefined) {
    config.rtmp.host = overrides.host;
    config.http.host = overrides.host;
  }
  if (overrides.dataDir !== undefined) config.dataDir = overrides.dataDir;
  if (overrides.ffmpegPath !== undefined) config.ffmpegPath = overrides.ffmpegPath;
  if (overrides.logLevel !== undefined) config.logLevel = overrides.logLevel as LogLevel;
  config.dataDir = resolve(config.dataDir);
  return validateConfig(config);
}
