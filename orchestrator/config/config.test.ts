import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordingSettings } from "../templates/recording-settings.js";
import { callbackPolicy, loadConfig, recordingsAccess } from "./config.js";

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const file = join(dir, "config.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe("loadConfig", () => {
  it("uses embedded defaults: RTMP 1935, HTTP 8080, ./data, all four formats every 1800 s", () => {
    const c = loadConfig({}, {});
    expect(c.rtmp.port).toBe(1935);
    expect(c.http.port).toBe(8080);
    expect(c.dataDir.endsWith("/data")).toBe(true);
    const s = recordingSettings(c.recording, c.recordTemplate);
    expect(Object.values(s.formats).every((f) => f.enabled && f.intervalSec === 1800)).toBe(true);
    expect(s.utcOffsetMinutes).toBe(480);
  });

  it("layers file < env < flags", () => {
    const file = configFile({ rtmp: { port: 2000 }, http: { port: 2001 }, recordTemplate: { AacParam: { Enable: 0 } } });
    const c = loadConfig({ configFile: file, httpPort: 3001 }, { RECORDER_RTMP_PORT: "2500" });
    expect(c.rtmp.port).toBe(2500);
    expect(c.http.port).toBe(3001);
    expect(c.recordTemplate.AacParam.Enable).toBe(0);
    expect(c.recordTemplate.FlvParam.Enable).toBe(1);
  });

  it("refuses unknown keys, bad values and bad files with a message naming the key", () => {
    expect(() => loadConfig({ configFile: configFile({ rtmp: { prot: 1 } }) }, {})).toThrow(/unknown config key rtmp.prot/);
    expect(() => loadConfig({ configFile: configFile({ recordTemplate: { FlvParam: { RecordInterval: 0 } } }) }, {})).toThrow(
      /recordTemplate.FlvParam.RecordInterval must be an integer 1-43200/,
    );
    expect(() => loadConfig({ configFile: configFile({ recordTemplate: { Mp4Param: { VodFileName: "{Nope}" } } }) }, {})).toThrow(
      /VodFileName must be a valid pattern \(Nope\)/,
    );
    expect(() => loadConfig({ configFile: configFile("{not json") }, {})).toThrow(expect.objectContaining({ code: "CONFIG_UNREADABLE" }));
    expect(() => loadConfig({ rtmpPort: 70000 }, {})).toThrow(/rtmp.port must be a port number/);
    expect(() => loadConfig({ configFile: configFile({ http: { allowedHosts: "rec.example.com" } }) }, {})).toThrow(/http.allowedHosts must be a list/);
    expect(() => loadConfig({ configFile: configFile({ http: { allowedHosts: ["a/b"] } }) }, {})).toThrow(/http.allowedHosts must be a list/);
    expect(() => loadConfig({ configFile: configFile({ http: { corsOrigins: ["https://player.example/path"] } }) }, {})).toThrow(/http.corsOrigins must be a list of origins/);
    expect(loadConfig({ configFile: configFile({ http: { allowedHosts: ["rec.example.com"], corsOrigins: ["https://player.example"] } }) }, {}).http).toMatchObject({
      allowedHosts: ["rec.example.com"],
      corsOrigins: ["https://player.example"],
    });
  });
});

describe("storage", () => {
  const load = (storage: object, env: NodeJS.ProcessEnv = {}) => loadConfig({ configFile: configFile({ storage }) }, env);

  it("defaults to local disk only; RECORDER_STORAGE_URL sets the URL", () => {
    expect(loadConfig({}, {}).storage).toEqual({ url: "", accessKeyId: "", secretAccessKey: "", keepLocal: false, uploadConcurrency: 4 });
    expect(load({}, { RECORDER_STORAGE_URL: "file:///mnt/archive" }).storage.url).toBe("file:///mnt/archive");
    expect(load({ url: "s3://bucket/prefix?endpoint=http://127.0.0.1:9000", keepLocal: true }).storage).toMatchObject({ keepLocal: true });
  });

  it("refuses bad values naming the key, never showing the URL or the secret", () => {
    expect(() => load({ url: "ftp://x" })).toThrow(/storage.url must be empty, "s3:\/\/bucket\/prefix\?…"/);
    expect(() => load({ url: "s3://AKIA:s3cr3tV4lue@bucket/p" })).toThrow(/storage.url: credentials do not go in/);
    expect(() => load({ url: "s3://bucket/p?endpont=http://127.0.0.1:9000" })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/endpont/) }));
    expect(() => load({ url: "s3://AKIA:s3cr3tV4lue@bucket/p" })).not.toThrow(/s3cr3tV4lue/);
    expect(() => load({ accessKeyId: "AKIA" })).toThrow(/storage.accessKeyId\/secretAccessKey must be both set or both empty/);
    expect(() => load({ uploadConcurrency: 0 })).toThrow(/storage.uploadConcurrency must be an integer 1-16/);
    expect(() => load({ url: "file:///mnt/a", uploadConcurrency: 17 })).toThrow(/storage.uploadConcurrency must be an integer 1-16/);
    expect(() => load({ keepLocal: true })).toThrow(/storage.keepLocal\/uploadConcurrency must be left at their defaults while storage.url is empty/);
    expect(() => load({ url: "file:///mnt/a", accessKeyId: "AKIA", secretAccessKey: "x" })).toThrow(/must be empty unless storage.url is an s3:\/\/ URL/);
  });
});

describe("rtmp admission limits", () => {
  const load = (rtmp: object) => loadConfig({ configFile: configFile({ rtmp }) }, {});

  it("default to 1000 connections, 64 pending and 20 connects a second per address, 10 s to publish", () => {
    expect(loadConfig({}, {}).rtmp).toMatchObject({ maxConnections: 1000, maxPendingPerAddress: 64, connectsPerSecondPerAddress: 20, publishTimeoutSec: 10 });
    expect(load({ maxConnections: 50, maxPendingPerAddress: 5, connectsPerSecondPerAddress: 0, publishTimeoutSec: 30 }).rtmp).toMatchObject({
      maxConnections: 50,
      maxPendingPerAddress: 5,
      connectsPerSecondPerAddress: 0,
      publishTimeoutSec: 30,
    });
  });

  it("refuses bad values naming the key", () => {
    expect(() => load({ maxConnections: 0 })).toThrow(/rtmp.maxConnections must be an integer 1-100000/);
    expect(() => load({ maxPendingPerAddress: 1.5 })).toThrow(/rtmp.maxPendingPerAddress must be an integer 1-100000/);
    expect(() => load({ connectsPerSecondPerAddress: -1 })).toThrow(/rtmp.connectsPerSecondPerAddress must be an integer 0-100000/);
    expect(() => load({ publishTimeoutSec: 0 })).toThrow(/rtmp.publishTimeoutSec must be an integer 1-600/);
  });
});

describe("callbacks.allow / callbacks.deny", () => {
  const load = (config: unknown) => loadConfig({ configFile: configFile(config) }, {});

  it("default to empty lists; bad entries are refused with a message naming the key", () => {
    expect(loadConfig({}, {}).callbacks).toMatchObject({ allow: [], deny: [] });
    expect(load({ callbacks: { allow: ["10.0.0.0/8", "fd00::/8", "192.168.1.20", "hooks.example.com", "*.example.net"], deny: ["10.9.0.0/16"] } }).callbacks).toMatchObject({
      allow: ["10.0.0.0/8", "fd00::/8", "192.168.1.20", "hooks.example.com", "*.example.net"],
      deny: ["10.9.0.0/16"],
    });
    expect(() => load({ callbacks: { allow: "10.0.0.0/8" } })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/^callbacks.allow must be a list/) }));
    expect(() => load({ callbacks: { deny: ["10.0.0.0/8", "10.0.0.0/40"] } })).toThrow(/callbacks.deny\[1\] must be an address, a CIDR/);
    expect(() => load({ callbacks: { deny: ["http://evil.example"] } })).toThrow(/callbacks.deny\[0\] must be an address, a CIDR/);
  });

  it("a fallback URL the policy refuses stops the service at start-up (ConfigError naming the key)", () => {
    expect(() => load({ callbacks: { recordNotifyUrl: "http://169.254.169.254/latest/meta-data/" } })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringMatching(/^callbacks.recordNotifyUrl is refused by the callbacks policy: 169.254.169.254 is cloud metadata/) }),
    );
    expect(() => load({ callbacks: { recordStatusNotifyUrl: "http://10.9.1.1/cb", deny: ["10.9.0.0/16"] } })).toThrow(/callbacks.recordStatusNotifyUrl is refused by the callbacks policy/);
    // Loopback receivers: fine while the service itself is on loopback, refused once it is exposed, unless allowed by address.
    const loopbackReceiver = { callbacks: { recordNotifyUrl: "http://127.0.0.1:9000/cb" } };
    expect(load(loopbackReceiver).callbacks.recordNotifyUrl).toBe("http://127.0.0.1:9000/cb");
    expect(() => loadConfig({ configFile: configFile(loopbackReceiver), host: "0.0.0.0" }, {})).toThrow(/127.0.0.1 is loopback/);
    expect(() => loadConfig({ configFile: configFile(loopbackReceiver) }, { RECORDER_HOST: "10.0.0.5" })).toThrow(/127.0.0.1 is loopback/);
    const allowed = { callbacks: { ...loopbackReceiver.callbacks, allow: ["127.0.0.1"] } };
    expect(loadConfig({ configFile: configFile(allowed), host: "0.0.0.0" }, {}).callbacks.allow).toEqual(["127.0.0.1"]);
    // Host names are judged on their addresses when sending.
    expect(loadConfig({ configFile: configFile({ callbacks: { recordNotifyUrl: "http://localhost:9000/cb" } }), host: "0.0.0.0" }, {}).callbacks.recordNotifyUrl).toBe("http://localhost:9000/cb");
  });

  it("callbackPolicy allows loopback receivers only while HTTP listens on loopback", () => {
    const c = loadConfig({}, {});
    expect(callbackPolicy(c).refusal("127.0.0.1", "127.0.0.1")).toBeUndefined();
    expect(callbackPolicy({ ...c, http: { ...c.http, host: "0.0.0.0" } }).refusal("localhost", "127.0.0.1")).toMatch(/loopback/);
    expect(callbackPolicy({ ...c, http: { ...c.http, host: "::1" } }).refusal("localhost", "::1")).toBeUndefined();
    });
  });

describe("recordings.access", () => {
  const load = (recordings: object, rest: object = {}) => loadConfig({ configFile: configFile({ ...rest, recordings }) }, {});

  it("auto: signed exactly when the API requires signatures", () => {
    expect(recordingsAccess(load({}))).toBe("public");
    expect(recordingsAccess(load({}, { api: { auth: "on" } }))).toBe("signed");
    expect(recordingsAccess(load({}, { http: { host: "0.0.0.0" } }))).toBe("signed");
    expect(recordingsAccess(load({ access: "public" }, { api: { auth: "on" } }))).toBe("public");
    expect(recordingsAccess(load({ access: "signed" }))).toBe("signed");
  });

  it("refuses bad values naming the key, and never shows the key", () => {
    expect(() => load({ access: "private" })).toThrow(/recordings.access must be auto\|public\|signed/);
    expect(() => load({ urlKey: "short-SECRET" })).toThrow(/recordings.urlKey must be empty \(generated\) or 16\+ characters, got "\(not shown\)"/);
    expect(() => load({ access: "public", urlKey: "a-long-enough-SECRET-key" })).toThrow(/recordings.urlKey must be empty while recordings.access is "public"/);
    expect(() => load({ access: "public", urlKey: "a-long-enough-SECRET-key" })).not.toThrow(/SECRET/);
    expect(() => load({ urlValiditySec: 10 })).toThrow(/recordings.urlValiditySec must be an integer 60-31536000/);
    expect(() => load({ urlTtl: 10 })).toThrow(/unknown config key recordings.urlTtl/);
    expect(load({ access: "signed", urlKey: "a-long-enough-key-1", urlValiditySec: 600 }).recordings).toEqual({ access: "signed", urlKey: "a-long-enough-key-1", urlValiditySec: 600 });
  });
});

describe("config.example.json", () => {
  it("is valid and equals the embedded defaults, so the README's table stays true", async () => {
    const { fileURLToPath } = await import("node:url");
    const { defaultConfig } = await import("./config.js");
    const example = fileURLToPath(new URL("../../config.example.json", import.meta.url));
    const loaded = loadConfig({ configFile: example }, {});
    expect(loaded).toEqual(loadConfig({}, {}));
    expect(JSON.parse((await import("node:fs")).readFileSync(example, "utf8"))).toEqual(defaultConfig());
  });
});
