import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordingSettings } from "../templates/recording-settings.js";
import { loadConfig, recordingsAccess } from "./config.js";

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
