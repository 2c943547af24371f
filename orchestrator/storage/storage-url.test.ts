import { describe, expect, it } from "vitest";
import { ConfigError } from "../../engine/errors.js";
import { describeTarget, parseStorageUrl } from "./storage-url.js";

function refusal(url: string): ConfigError {
  try {
    parseStorageUrl(url);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe("CONFIG_INVALID");
    expect((err as ConfigError).message.startsWith("storage.url: ")).toBe(true);
    return err as ConfigError;
  }
  throw new Error(`accepted: ${url}`);
}

describe("parseStorageUrl", () => {
  it("reads every parameter", () => {
    const t = parseStorageUrl(
      "s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&forcePathStyle=true&checksums=when_required&storageClass=STANDARD&coldStorageClass=STANDARD_IA",
    );
    expect(t).toEqual({
      bucket: "bucket",
      prefix: "prefix",
      endpoint: "http://127.0.0.1:9000",
      region: "us-east-1",
      forcePathStyle: true,
      checksums: "when_required",
      storageClass: "STANDARD",
      coldStorageClass: "STANDARD_IA",
    });
    expect(describeTarget(t)).toBe("s3://bucket/prefix");
  });

  it("defaults: AWS S3 in us-east-1, virtual-hosted style, the SDK's checksums, STANDARD and no cold class", () => {
    expect(parseStorageUrl("s3://bucket")).toEqual({
      bucket: "bucket",
      prefix: "",
      endpoint: undefined,
      region: "us-east-1",
      forcePathStyle: false,
      checksums: "when_supported",
      storageClass: "STANDARD",
      coldStorageClass: "",
    });
    expect(describeTarget(parseStorageUrl("s3://bucket/"))).toBe("s3://bucket");
  });

  it("an endpoint implies path-style unless told otherwise", () => {
    expect(parseStorageUrl("s3://b-1?endpoint=https://s3.example.com").forcePathStyle).toBe(true);
    expect(parseStorageUrl("s3://b-1?endpoint=https://cos.ap-guangzhou.myqcloud.com&forcePathStyle=false&region=ap-guangzhou").forcePathStyle).toBe(false);
  });

  it("trims the prefix's slashes, keeps inner ones and decodes %-escapes", () => {
    expect(parseStorageUrl("s3://bucket//a/b c%20d/").prefix).toBe("a/b c d");
    expect(parseStorageUrl("s3://bucket/live/2026?region=eu-west-1").prefix).toBe("live/2026");
  });

  it("keeps the endpoint's origin only (a trailing slash is fine)", () => {
    expect(parseStorageUrl("s3://bucket?endpoint=http%3A%2F%2Flocalhost%3A8080%2F").endpoint).toBe("http://localhost:8080");
  });

  it("an empty storageClass sends none; an empty coldStorageClass means no cold class", () => {
    const t = parseStorageUrl("s3://bucket?storageClass=&coldStorageClass=");
    expect(t.storageClass).toBe("");
    expect(t.coldStorageClass).toBe("");
  });

  it("takes legacy bucket names only path-style", () => {
    expect(parseStorageUrl("s3://My_Bucket?forcePathStyle=true").bucket).toBe("My_Bucket");
    expect(refusal("s3://My_Bucket").message).toMatch(/bucket name.*forcePathStyle=true/);
  });

  it.each([
    ["http://bucket/x", /must start with s3:\/\//],
    ["s3:/bucket", /must start with s3:\/\//],
    ["s3://bucket/x#frag", /no #fragment/],
    ["s3://", /bucket name/],
    ["s3://ab", /bucket name/],
    ["s3://-bucket", /bucket name/],
    ["s3://bucket/a/../b", /prefix has a hidden component/],
    ["s3://bucket/a//b", /prefix has an empty component/],
    ["s3://bucket/.hidden", /prefix has a hidden component/],
    ["s3://bucket/a%00b", /prefix holds a control character/],
    ["s3://bucket/%E0%A4%A", /prefix has a malformed %-escape/],
    ["s3://bucket?endpont=http://x", /unknown parameter "endpont" \(known: endpoint, region/],
    ["s3://bucket?region", /parameter region needs a value/],
    ["s3://bucket?region=us-east-1&region=eu-west-1", /region is given twice/],
    ["s3://bucket?region=us east", /region must be/],
    ["s3://bucket?forcePathStyle=yes", /forcePathStyle must be true or false/],
    ["s3://bucket?checksums=off", /checksums must be when_supported or when_required/],
    ["s3://bucket?storageClass=standard", /storageClass must be/],
    ["s3://bucket?coldStorageClass=GLACIER%20IR", /coldStorageClass must be/],
    ["s3://bucket?endpoint=127.0.0.1:9000", /endpoint must be an http/],
    ["s3://bucket?endpoint=ftp://host", /endpoint must be an http/],
    ["s3://bucket?endpoint=http://host:9000/s3", /scheme:\/\/host\[:port\] only/],
    ["s3://bucket?endpoint=http://host?x=1", /scheme:\/\/host\[:port\] only/],
  ])("refuses %s", (url, message) => {
    expect(refusal(url).message).toMatch(message);
  });

  it("refuses credentials anywhere in the URL without echoing them", () => {
    const secret = "wJalrXUtnFEMI-K7MDENG";
    for (const url of [
      `s3://AKIDEXAMPLE:${secret}@bucket/x`,
      `s3://bucket?secretAccessKey=${secret}`,
      `s3://bucket?accessKeyId=AKIDEXAMPLE&secretAccessKey=${secret}`,
      `s3://bucket?sessionToken=${secret}`,
      `s3://bucket?endpoint=http://user:${secret}@127.0.0.1:9000`,
    ]) {
      const err = refusal(url);
      expect(err.message).toMatch(/credentials/);
      expect(err.message).not.toContain(secret);
      expect(err.message).not.toContain("AKIDEXAMPLE");
    }
  });

  it("names the setting it reads in errors", () => {
    expect(() => parseStorageUrl("s3://x", "storage.buckets.archive.url")).toThrow(/^storage\.buckets\.archive\.url: /);
  });
});
