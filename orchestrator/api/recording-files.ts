/**
 * Static serving of finished recordings: GET/HEAD `<urlPrefix><domain>/<app>/<stream>/<file>`
 * maps to `<root>/<domain>/<app>/<stream>/<file>`.
 *
 * Only recording formats are served (.flv, .mp4, .aac, .m3u8 and the .ts segments the playlists
 * reference); nothing whose path has a component starting with "." (in-progress files live in
 * hidden `.recording/` folders) and nothing outside the root, symlinks included.
 *
 * Choices (see also the comments on the helpers):
 * - Not found, hidden, outside the root, a directory, an unreadable file or an unknown extension
 *   all give the same 404, so probing reveals nothing. Only an undecodable path gives 400.
 * - Range (RFC 9110 §14) is honoured for GET only (HEAD ignores it, as the RFC requires). One
 *   `bytes=` range → 206; several ranges → the Range header is ignored and the whole file is sent
 *   with 200 (allowed by the RFC; it spares us multipart/byteranges). A malformed header is ignored
 *   (200). An unsatisfiable single range → 416 whose Content-Range is "bytes", "*", "/", size.
 * - ETags are weak (`W/"<size hex>-<mtime ms hex>"`; from an object store, its ETag made weak,
 *   with no Last-Modified, so date preconditions are ignored), so by the RFC's strong comparison an
 *   If-Range carrying an ETag never matches (the whole file is sent) and If-Match only passes
 *   with "*". If-Range with a date matches when it equals Last-Modified.
 * - Preconditions follow RFC 9110 §13.2.2: If-Match, If-Unmodified-Since (412), If-None-Match,
 *   If-Modified-Since (304), If-Range.
 * - CORS is opt-in (http.corsOrigins): an answer to an Origin in the list (or to any, with "*")
 *   carries `Access-Control-Allow-Origin` and exposes Content-Range, ETag and Accept-Ranges to
 *   scripts (players doing range requests need Content-Range); other origins' scripts cannot read
 *   the bytes (players on the service's own origin, like the console, need no CORS). There is no
 *   preflight handling: OPTIONS gets 405 like every method other than GET and HEAD; the requests
 *   players make (GET, optionally with a single-range Range header) need no preflight.
 * - The file is opened once (O_NOFOLLOW on its resolved path) and stat'ed through the handle, so the
 *   size, validators and bytes sent all come from the same file even if it is renamed meanwhile.
 * - The returned promise resolves once the response has been completed or aborted; it never
 *   rejects (unexpected failures answer 500, or cut the connection if the headers are already out).
 * - Signed access (recordings.access "signed", `opts.signer`): a request must carry the `t`/`sign`
 *   the service issued for exactly that file (recording-url-signer.ts). That is checked before the
 *   filesystem is touched, so every path, existing or not, answers the same 403 without one (a
 *   text body naming why: URL_SIGNATURE_MISSING, URL_SIGNATURE_INVALID or URL_EXPIRED). A signed
 *   playlist is served with each segment URI signed for its segment (same expiry); its ETag adds
 *   the expiry, since its bytes depend on it. Other answers are the public ones, except that
 *   Cache-Control is `private` and never outlives the URL. Public mode ignores `t`/`sign`.
 */
import { constants as fsConstants, createReadStream } from "node:fs";
import { type FileHandle, open, realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
import { contentTypeOf, PLAYLIST_TYPE } from "../media/recording-paths.js";
import { type RecordingUrlSigner, signPlaylistUris } from "../media/recording-url-signer.js";
import { readObject } from "../storage/read-object.js";
import type { ObjectStore } from "../storage/types.js";

export interface ServeRecordingOptions {
  /** The recordings folder, absolute. */
  root: string;
  /** URL path prefix such as "/recordings/"; a missing trailing "/" is added. */
  urlPrefix: string;
  /** http.corsOrigins. */
  corsOrigins?: readonly string[];
  /** Present when recordings.access is "signed": only URLs it signed are served. */
  signer?: RecordingUrlSigner | undefined;
  /** Present when recordings are uploaded: what is no longer on local disk is served from it. */
  store?: ObjectStore | undefined;
}

/** A signed playlist is rewritten in memory: larger ones (weeks of 1 s segments) are not served signed. */
const MAX_SIGNED_PLAYLIST_BYTES = 64 * 1024 * 1024;
/** How long a client may keep a recording (public: shared caches too). */
const MAX_AGE_SEC = 3600;

const ALLOW = "GET, HEAD";
const EXPOSE_HEADERS = "Accept-Ranges, Content-Length, Content-Range, ETag";

/** Errors from fs that mean "there is nothing we may serve here". */
const NOT_FOUND_CODES = new Set(["ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG", "EACCES", "EPERM", "EISDIR", "EINVAL"]);

/** Lets scripts of the configured origins read the answer ("*": any origin). */
function allowCors(req: IncomingMessage, res: ServerResponse, origins: readonly string[]): void {
  if (origins.includes("*")) {
    res.setHeader("Access-Control-Allow-Origin", "*");
    return;
  }
  if (origins.length === 0) return;
  res.setHeader("Vary", "Origin");
  const origin = req.headers.origin;
  if (origin !== undefined && origins.includes(origin)) res.setHeader("Access-Control-Allow-Origin", origin);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    /** The body's text; by default the status's reason phrase. */
    readonly text: string = REASONS[status] ?? "Internal Server Error",
  ) {
    super(`HTTP ${status}`);
  }
}

const REASONS: Record<number, string> = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error" };

/** What a signed URL allows: its expiry, for the playlist's segments and the cache lifetime. */
interface Grant {
  signer: RecordingUrlSigner;
  expiresSec: number;
}

/**
 * Serves a recording file if the request URL starts with `opts.urlPrefix`; returns false (having
 * touched nothing) otherwise, so the caller can route the request elsewhere.
 */
export async function serveRecording(req: IncomingMessage, res: ServerResponse, opts: ServeRecordingOptions): Promise<boolean> {
  const prefix = opts.urlPrefix.endsWith("/") ? opts.urlPrefix : `${opts.urlPrefix}/`;
  const rawPath = requestPath(req.url ?? "");
  if (rawPath === undefined || !rawPath.startsWith(prefix)) return false;

  allowCors(req, res, opts.corsOrigins ?? []);
  try {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      res.setHeader("Allow", ALLOW);
      sendText(req, res, 405, "Method Not Allowed");
      return true;
    }
    const rawRest = rawPath.slice(prefix.length);
    const grant = opts.signer ? checkSignature(opts.signer, rawRest, req.url ?? "") : undefined;
    const components = decodeComponents(rawRest);
    const contentType = contentTypeOf(components[components.length - 1] ?? "");
    if (contentType === undefined) throw new HttpError(404);

    let handle: FileHandle;
    try {
      handle = await openInsideRoot(opts.root, components);
    } catch (err) {
      // Uploaded and no longer on local disk: served from the object store.
      if (opts.store === undefined || (err instanceof HttpError ? err.status : fsErrorStatus(err)) !== 404) throw err;
      await respondWithObject(req, res, opts.store, components, contentType, grant);
      return true;
    }
    let handed = false;
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new HttpError(404);
      const meta = { size: st.size, mtimeMs: st.mtimeMs, etag: `${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}` };
      if (grant && contentType === PLAYLIST_TYPE) {
        const playlist = await signedPlaylist(await readAll(handle, st.size), components, grant);
        await respondWithFile(req, res, { bytes: playlist }, { ...meta, size: playlist.length, etag: `${meta.etag}-${grant.expiresSec.toString(16)}` }, contentType, grant);
      } else {
        handed = await respondWithFile(req, res, { handle }, meta, contentType, grant);
      }
    } finally {
      if (!handed) await handle.close().catch(() => undefined);
    }
  } catch (err) {
    const status = err instanceof HttpError ? err.status : fsErrorStatus(err);
    if (!res.headersSent) {
      sendText(req, res, status, err instanceof HttpError ? err.text : (REASONS[status] ?? "Internal Server Error"));
    } else {
      res.destroy();
    }
  }
  return true;
}

/**
 * Signed access: the URL's `t`/`sign` must be those issued for exactly this path, else 403, the
 * same for every path (nothing about the file has been looked at yet).
 */
function checkSignature(signer: RecordingUrlSigner, rawRest: string, url: string): Grant {
  const q = url.indexOf("?");
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1).replace(/#.*$/, ""));
  let signedPath: string;
  try {
    signedPath = decodeComponents(rawRest).join("/");
  } catch {
    signedPath = ""; // no URL is ever issued for a path that does not decode: the check fails below
  }
  const checked = signer.check(signedPath, query.get("t"), query.get("sign"));
  if (!checked.ok || signedPath === "") throw new HttpError(403, `Forbidden: ${checked.ok ? "URL_SIGNATURE_INVALID" : checked.code}`);
  return { signer, expiresSec: checked.expiresSec };
}

async function readAll(handle: FileHandle, size: number): Promise<Buffer> {
  if (size > MAX_SIGNED_PLAYLIST_BYTES) throw new HttpError(500);
  const buffer = Buffer.alloc(size);
  const { bytesRead } = await handle.read(buffer, 0, size, 0);
  return buffer.subarray(0, bytesRead);
}

/** The playlist with each segment URI signed for its segment, valid as long as the playlist's URL. */
function signedPlaylist(bytes: Buffer, components: string[], grant: Grant): Buffer {
  return Buffer.from(signPlaylistUris(bytes.toString("utf8"), components.slice(0, -1), (p) => grant.signer.query(p, grant.expiresSec)));
}

/**
 * Answers from the object store (the same path under its prefix). Its ETag is the object's; no
 * Last-Modified (date preconditions are then ignored, as RFC 9110 allows without a validator).
 */
async function respondWithObject(req: IncomingMessage, res: ServerResponse, store: ObjectStore, components: string[], contentType: string, grant: Grant | undefined): Promise<void> {
  let key: string;
  try {
    key = store.keyFor(components.join("/"));
  } catch {
    throw new HttpError(404);
  }
  const head = await store.head(key);
  if (head === null) throw new HttpError(404);
  const meta = { size: head.size, mtimeMs: undefined, etag: head.etag.replace(/^W\//, "").replace(/"/g, "") };
  if (grant && contentType === PLAYLIST_TYPE) {
    if (head.size > MAX_SIGNED_PLAYLIST_BYTES) throw new HttpError(500);
    const playlist = signedPlaylist(await readObject(store, key), components, grant);
    await respondWithFile(req, res, { bytes: playlist }, { ...meta, size: playlist.length, etag: `${meta.etag}-${grant.expiresSec.toString(16)}` }, contentType, grant);
    return;
  }
  await respondWithFile(req, res, { object: store, key }, meta, contentType, grant);
}

/** The path part of the request target (no query), or undefined for forms we do not route ("*"). */
function requestPath(url: string): string | undefined {
  let target = url;
  if (!target.startsWith("/")) {
    // absolute-form ("http://host/path"): drop scheme and authority, keep the raw path
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (m === null) return undefined;
    target = target.slice(m[0].length) || "/";
    if (!target.startsWith("/")) return undefined;
  }
  const q = target.search(/[?#]/);
  return q === -1 ? target : target.slice(0, q);
}

/**
 * Splits the raw (still percent-encoded) path on "/" and decodes each component. Bad
 * percent-encoding → 400; empty, ".", "..", dot-prefixed, or decoding to something containing
 * "/", "\" or NUL → 404.
 */
function decodeComponents(rawRest: string): string[] {
  return rawRest.split("/").map((raw) => {
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400);
    }
    if (name === "" || name.startsWith(".") || /[/\\\0]/.test(name)) throw new HttpError(404);
    return name;
  });
}

function isInside(root: string, p: string): boolean {
  return p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * Resolves the components under root, resolves symlinks, re-checks containment, hidden components
 * and the format of the file actually reached, and opens it without following a final symlink.
 */
async function openInsideRoot(rootOpt: string, components: string[]): Promise<FileHandle> {
  const root = path.resolve(rootOpt);
  const target = path.resolve(root, ...components);
  if (!isInside(root, target)) throw new HttpError(404);

  const realRoot = await realpath(root);
  const realTarget = await realpath(target);
  if (!isInside(realRoot, realTarget)) throw new HttpError(404);
  const relative = path.relative(realRoot, realTarget).split(path.sep);
  if (relative.some((c) => c === "" || c.startsWith("."))) throw new HttpError(404);
  if (contentTypeOf(realTarget) === undefined) throw new HttpError(404);

  // Checked before opening so that a FIFO or device never blocks open(); re-checked on the handle.
  if (!(await stat(realTarget)).isFile()) throw new HttpError(404);
  return open(realTarget, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
}

function fsErrorStatus(err: unknown): number {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && NOT_FOUND_CODES.has(code) ? 404 : 500;
}

function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  for (const name of res.getHeaderNames()) {
    if (name !== "access-control-allow-origin" && name !== "allow") res.removeHeader(name);
  }
  const body = Buffer.from(`${text}\n`);
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("Content-Length", body.length);
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Content-Type-Options", "nosniff");
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/**
 * What is sent: the open file, or bytes made from it (a signed playlist) with what tells them
 * apart from the file's in the ETag.
 */
type Body = { handle: FileHandle } | { bytes: Buffer } | { object: ObjectStore; key: string };

/** What the validators are made of: size, modification time when known, an opaque tag. */
interface BodyMeta {
  size: number;
  mtimeMs: number | undefined;
  etag: string;
}

/**
 * Answers with the open file (or the bytes made from it). Returns true if ownership of the handle
 * passed to a read stream (which closes it); false if the caller must close it.
 */
async function respondWithFile(
  req: IncomingMessage,
  res: ServerResponse,
  body: Body,
  meta: BodyMeta,
  contentType: string,
  grant: Grant | undefined,
): Promise<boolean> {
  const { size } = meta;
  const mtimeSec = meta.mtimeMs === undefined ? undefined : Math.floor(meta.mtimeMs / 1000);
  const etag = `W/"${meta.etag}"`;
  const lastModified = mtimeSec === undefined ? undefined : new Date(mtimeSec * 1000).toUTCString();

  res.setHeader("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("ETag", etag);
  if (lastModified !== undefined) res.setHeader("Last-Modified", lastModified);
  res.setHeader("Cache-Control", cacheControl(contentType, grant));
  res.setHeader("X-Content-Type-Options", "nosniff");

  const pre = evaluatePreconditions(req, etag, mtimeSec);
  if (pre !== undefined) {
    res.statusCode = pre;
    if (pre === 412) res.setHeader("Content-Length", 0);
    res.end();
    return false;
  }

  res.setHeader("Content-Type", contentType);
  let start = 0;
  let end = size - 1;
  res.statusCode = 200;
  const rangeHeader = req.headers.range;
  if (req.method === "GET" && rangeHeader !== undefined && ifRangeAllows(req, lastModified)) {
    const range = parseRange(rangeHeader, size);
    if (range === "unsatisfiable") {
      res.statusCode = 416;
      res.setHeader("Content-Range", `bytes */${size}`);
      res.setHeader("Content-Length", 0);
      res.removeHeader("Content-Type");
      res.end();
      return false;
    }
    if (range !== undefined) {
      [start, end] = range;
      res.statusCode = 206;
      res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    }
  }
  res.setHeader("Content-Length", end - start + 1);

  if (req.method === "HEAD" || end < start) {
    res.end();
    return false;
  }
  if (res.destroyed) return false; // the client left while we were looking the file up

  const done = new Promise<void>((resolve) => {
    res.once("close", resolve);
  });
  const stream =
    "bytes" in body
      ? Readable.from([body.bytes.subarray(start, end + 1)])
      : "handle" in body
        ? createReadStream("", { fd: body.handle, start, end })
        : (await body.object.read(body.key, { start, end })).body;
  if (res.destroyed) {
    // The client left while the object store answered: release its connection now.
    stream.destroy();
    return "handle" in body;
  }
  res.once("close", () => stream.destroy()); // client abort (or normal completion): releases the fd
  stream.on("error", () => {
    stream.unpipe(res);
    if (!res.headersSent) {
      sendText(req, res, 500, "Internal Server Error");
    } else {
      res.destroy();
    }
  });
  stream.pipe(res);
  await done;
  return "handle" in body;
}

/** Playlists are revalidated; other files kept an hour, by the client only (and never past its URL's expiry) when signed. */
function cacheControl(contentType: string, grant: Grant | undefined): string {
  if (contentType === PLAYLIST_TYPE) return "no-cache";
  if (!grant) return `public, max-age=${MAX_AGE_SEC}`;
  const left = Math.max(0, Math.min(MAX_AGE_SEC, grant.expiresSec - Math.floor(Date.now() / 1000)));
  return `private, max-age=${left}`;
}

/**
 * RFC 9110 §13.2.2 steps 1–4 (step 5, If-Range, is `ifRangeAllows`). Returns 412 or 304 when a
 * precondition decides the answer, undefined to go on.
 */
function evaluatePreconditions(req: IncomingMessage, etag: string, mtimeSec: number | undefined): 304 | 412 | undefined {
  const h = req.headers;
  const ifMatch = h["if-match"];
  if (ifMatch !== undefined) {
    // strong comparison: a weak ETag never matches, only "*" (the file exists) passes
    if (ifMatch.trim() !== "*") return 412;
  } else if (h["if-unmodified-since"] !== undefined && mtimeSec !== undefined) {
    const date = parseHttpDate(h["if-unmodified-since"]);
    if (date !== undefined && mtimeSec * 1000 > date) return 412;
  }
  const ifNoneMatch = h["if-none-match"];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === "*" || entityTags(ifNoneMatch).some((t) => weakMatch(t, etag))) return 304;
  } else if (h["if-modified-since"] !== undefined && mtimeSec !== undefined) {
    const date = parseHttpDate(h["if-modified-since"]);
    if (date !== undefined && mtimeSec * 1000 <= date) return 304;
  }
  return undefined;
}

/** If-Range: absent → use Range; an entity tag → never (ours are weak); a date → equal to Last-Modified. */
function ifRangeAllows(req: IncomingMessage, lastModified: string | undefined): boolean {
  const ifRange: unknown = req.headers["if-range"];
  if (ifRange === undefined) return true;
  if (typeof ifRange !== "string") return false;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith("W/")) return false;
  const date = parseHttpDate(v);
  return date !== undefined && lastModified !== undefined && date === Date.parse(lastModified);
}

function entityTags(list: string): string[] {
  return [...list.matchAll(/(?:W\/)?"[^"]*"/g)].map((m) => m[0]);
}

function weakMatch(a: string, b: string): boolean {
  const opaque = (t: string) => (t.startsWith("W/") ? t.slice(2) : t);
  return opaque(a) === opaque(b);
}

function parseHttpDate(value: string): number | undefined {
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Parses a Range header against a file of `size` bytes. Returns [start, end] (inclusive) for one
 * satisfiable range, "unsatisfiable" for one range that is not, and undefined when the header is
 * to be ignored: malformed, another unit, several ranges, or a suffix range of an empty file
 * (whose "last n bytes" are the whole, empty, file).
 */
export function parseRange(header: string, size: number): [number, number] | "unsatisfiable" | undefined {
  const m = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (m === null) return undefined;
  const specs = (m[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length === 0) return undefined;
  const parsed: Array<[number, number | undefined] | [undefined, number]> = [];
  for (const spec of specs) {
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (r === null) return undefined;
    const first = r[1] ?? "";
    const last = r[2] ?? "";
    if (first === "" && last === "") return undefined;
    if (first === "") {
      parsed.push([undefined, Number(last)]);
    } else {
      const a = Number(first);
      const b = last === "" ? undefined : Number(last);
      if (b !== undefined && b < a) return undefined; // invalid range-spec → the whole header is invalid
      parsed.push([a, b]);
    }
  }
  if (parsed.length > 1) return undefined; // several ranges: send the whole file (200)
  const only = parsed[0];
  if (only === undefined) return undefined;
  const [first, last] = only;
  if (first === undefined) {
    const suffix = last;
    if (suffix === 0) return "unsatisfiable";
    if (size === 0) return undefined;
    return [Math.max(0, size - suffix), size - 1];
  }
  if (first >= size) return "unsatisfiable";
  return [first, last === undefined ? size - 1 : Math.min(last, size - 1)];
}
