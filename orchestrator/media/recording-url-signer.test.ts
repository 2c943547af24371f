import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../config/config.js";
import { loadOrCreateUrlKey, RecordingUrlSigner, recordingUrlSigner, signPlaylistUris, URL_KEY_FILE } from "./recording-url-signer.js";

const KEY = "0123456789abcdef-test-key";
const NOW_MS = 1_750_000_000_000;
const FILE = "127.0.0.1/live/cam1/cam1_2026-11-26-10-26-36_2026-11-26-10-56-36.flv";

function parts(query: string): { t: string; sign: string } {
  const q = new URLSearchParams(query);
  return { t: q.get("t")!, sign: q.get("sign")! };
}

describe("RecordingUrlSigner", () => {
  const signer = new RecordingUrlSigner(KEY, 3600, () => NOW_MS);

  it("issues t (lowercase hex expiry) and a 128-bit HMAC-SHA256 sign over t and the path, which it accepts", () => {
    const { t, sign } = parts(signer.query(FILE));
    expect(t).toBe((NOW_MS / 1000 + 3600).toString(16));
    const mac = createHmac("sha256", KEY).update(`live-recorder recording URL v1\n${t}\n${FILE}`).digest().subarray(0, 16).toString("hex");
    expect(sign).toBe(mac);
    expect(signer.check(FILE, t, sign)).toEqual({ ok: true, expiresSec: NOW_MS / 1000 + 3600 });
  });

  it("refuses an expired URL, but only once its expiry has passed", () => {
    const { t, sign } = parts(signer.query(FILE));
    const at = (ms: number) => new RecordingUrlSigner(KEY, 3600, () => ms).check(FILE, t, sign);
    expect(at(NOW_MS + 3600_000).ok).toBe(true);
    expect(at(NOW_MS + 3601_000)).toEqual({ ok: false, code: "URL_EXPIRED" });
  });

  it("refuses a missing, partial, malformed or tampered signature, and a later expiry", () => {
    const { t, sign } = parts(signer.query(FILE));
    expect(signer.check(FILE, null, null)).toEqual({ ok: false, code: "URL_SIGNATURE_MISSING" });
    for (const [tt, ss] of [
      [t, null],
      [null, sign],
      [t, sign.toUpperCase()],
      [t, sign.slice(0, 31)],
      [`${t}0`, sign],
      [(Number.parseInt(t, 16) + 86_400).toString(16), sign],
      [t.toUpperCase(), sign],
      [t, `${sign.slice(0, 31)}${sign[31] === "0" ? "1" : "0"}`],
    ] as const) {
      expect(signer.check(FILE, tt, ss), `${tt} ${ss}`).toEqual({ ok: false, code: "URL_SIGNATURE_INVALID" });
    }
    // Another key signs differently.
    expect(new RecordingUrlSigner("another-key-0123456789", 3600, () => NOW_MS).check(FILE, t, sign).ok).toBe(false);
  });

  it("covers exactly one file: not a sibling, another format, its folder, a sub-path or a traversal", () => {
    const { t, sign } = parts(signer.query(FILE));
    for (const other of [
      FILE.replace(/\.flv$/, ".mp4"),
      "127.0.0.1/live/cam1/other.flv",
      "127.0.0.1/live/cam1",
      `${FILE}/x.ts`,
      `127.0.0.1/live/cam1/../cam1/${FILE.split("/").pop()}`,
      `127.0.0.1/live/cam2/${FILE.split("/").pop()}`,
      FILE.toUpperCase(),
      "",
    ]) {
      expect(signer.check(other, t, sign).ok, other).toBe(false);
    }
  });
});

describe("signPlaylistUris", () => {
  const signer = new RecordingUrlSigner(KEY, 3600, () => NOW_MS);
  const expires = NOW_MS / 1000 + 600;
  const sign = (p: string) => signer.query(p, expires);
  const dir = ["127.0.0.1", "live", "cam1"];

  it("signs each segment URI for its own path, with the playlist's expiry; tags and blank lines unchanged", () => {
    const text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\ncam1_x/000000.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.5,\ncam1_x/000001.ts\n#EXT-X-ENDLIST\n";
    const out = signPlaylistUris(text, dir, sign);
    const lines = out.split("\n");
    expect(lines.filter((l) => l.startsWith("#") || l === "")).toEqual(text.split("\n").filter((l) => l.startsWith("#") || l === ""));
    const uris = lines.filter((l) => l !== "" && !l.startsWith("#"));
    expect(uris).toHaveLength(2);
    uris.forEach((uri, i) => {
      const [path, query] = uri.split("?") as [string, string];
      expect(path).toBe(`cam1_x/00000${i}.ts`);
      const { t, sign: s } = parts(query);
      expect(Number.parseInt(t, 16)).toBe(expires);
      expect(signer.check(`127.0.0.1/live/cam1/cam1_x/00000${i}.ts`, t, s).ok).toBe(true);
      // A segment's signature is for that segment only.
      expect(signer.check(`127.0.0.1/live/cam1/cam1_x/00000${1 - i}.ts`, t, s).ok).toBe(false);
    });
  });

  it("resolves . and .. inside recordings/, keeps CRLF, and leaves absolute, escaping, hidden or odd URIs unsigned", () => {
    const out = signPlaylistUris("#EXTM3U\r\n./seg/a.ts\r\n../cam2/b.ts\r\n", dir, sign);
    expect(out).toBe(`#EXTM3U\r\n./seg/a.ts?${sign("127.0.0.1/live/cam1/seg/a.ts")}\r\n../cam2/b.ts?${sign("127.0.0.1/live/cam2/b.ts")}\r\n`);
    for (const uri of ["../../../../etc/x.ts", "/recordings/x.ts", "http://cdn.example/x.ts", ".recording/x.ts", "seg//a.ts", "a.ts?x=1", "%zz.ts", "seg/%2e%2e%2fx.ts"]) {
      expect(signPlaylistUris(uri, dir, sign), uri).toBe(uri);
    }
    expect(signPlaylistUris("%61.ts", dir, sign)).toBe(`%61.ts?${sign("127.0.0.1/live/cam1/a.ts")}`);
  });
});

describe("the URL key", () => {
  it("is generated once in the data folder (0600) and read back after a restart", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "url-key-"));
    const key = loadOrCreateUrlKey(dataDir);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dataDir, URL_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateUrlKey(dataDir)).toBe(key);
  });

  it("refuses a damaged key file without showing its content", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "url-key-"));
    writeFileSync(join(dataDir, URL_KEY_FILE), "not-a-key-SECRETISH");
    expect(() => loadOrCreateUrlKey(dataDir)).toThrow(expect.objectContaining({ code: "URL_KEY_INVALID" }));
    expect(() => loadOrCreateUrlKey(dataDir)).not.toThrow(/SECRETISH/);
  });

  it("recordingUrlSigner: none when public; the configured key, else the generated one, when signed", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "url-key-"));
    const config = { ...defaultConfig(), dataDir };
    expect(recordingUrlSigner(config)).toBeUndefined(); // auto on loopback with api.auth auto: public
    const generated = recordingUrlSigner({ ...config, api: { ...config.api, auth: "on" } })!;
    expect(generated.validitySec).toBe(86_400);
    const key = readFileSync(join(dataDir, URL_KEY_FILE), "utf8").trim();
    const { t, sign } = parts(generated.query(FILE));
    expect(new RecordingUrlSigner(key, 1).check(FILE, t, sign).ok).toBe(true);
    const configured = recordingUrlSigner({ ...config, recordings: { access: "signed", urlKey: KEY, urlValiditySec: 60 } })!;
    const q = parts(configured.query(FILE));
    expect(new RecordingUrlSigner(KEY, 1).check(FILE, q.t, q.sign).ok).toBe(true);
  });
});
