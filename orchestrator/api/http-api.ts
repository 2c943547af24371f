/**
 * The HTTP side of the service: the cloud-compatible control API at "/"
 * (POST JSON with X-TC-Action, or GET with Action and flattened fields;
 * TC3-HMAC-SHA256 signatures; the {"Response": ...} envelope with HTTP 200),
 * plus /healthz and /status.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { errorMessage } from "../../engine/errors.js";
import type { Logger } from "../../engine/logger.js";
import type { FfmpegBinary } from "../../engine/ffmpeg/ffmpeg-binary.js";
import { apiAuthRequired, type ServiceConfig } from "../config/config.js";
import type { ControlServices } from "../control/control-services.js";
import { ApiError } from "../control/api-error.js";
import { effectiveMatrix } from "../../engine/mux/codec-matrix.js";
import { ffmpegCapabilitiesSync } from "../../engine/ffmpeg/ffmpeg-capabilities.js";
import { ACTIONS } from "./actions.js";
import { serveConsole } from "./console-files.js";
import { parseJsonBody } from "./json-body.js";
import { ConsoleSessions } from "./console-session.js";
import { COMMON_QUERY_PARAMETERS, flattenedQueryToObject } from "../control/input.js";
import { serveRecording } from "./recording-files.js";
import { ReplayCache } from "./replay-cache.js";
import { allowedHostNames, type GuardRefusal, headerValue, RequestGuard } from "./request-guard.js";
import { DEFAULT_MAX_SKEW_SEC, type VerifiedTc3, verifyTc3 } from "./tc3-auth.js";
import { RECORDINGS_URL_PREFIX } from "../media/media-library.js";
import type { UploadQueueStats } from "../catalog/types.js";
import type { ObjectStore } from "../storage/types.js";
import type { RecordingUrlSigner } from "../media/recording-url-signer.js";

const LOGOUT_PATH = "/console/api/logout";

/** What the HTTP side serves: the control services, the recordings folder, health facts. */
export interface HttpApiDeps {
  config: ServiceConfig;
  logger: Logger;
  control: ControlServices;
  /** data/recordings: finished files are served from here. */
  recordingsDir: string;
  /** Checks signed recording URLs (recordings.access "signed"); none: recordings are public. */
  urlSigner?: RecordingUrlSigner | undefined;
  ffmpeg: FfmpegBinary;
  uptimeSec(): number;
  /** Where uploaded recordings are (storage.url): what is no longer on local disk is served from it. */
  store?: ObjectStore | undefined;
  /** The upload queue, when recordings are uploaded. */
  uploadQueue?: (() => Promise<UploadQueueStats>) | undefined;
}

export class HttpApi {
  private readonly server: Server;
  private closing: Promise<void> | undefined;
  readonly authRequired: boolean;
  private readonly secrets: Map<string, string>;
  private readonly consoleSessions: ConsoleSessions;
  private readonly guard: RequestGuard;
  /** Signatures already used, while they could still verify (the allowed clock skew). */
  private readonly replays = new ReplayCache(DEFAULT_MAX_SKEW_SEC);

  constructor(private readonly deps: HttpApiDeps) {
    const { config, logger } = deps;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        logger.error("http handler failed", { error: errorMessage(err) });
        if (!res.headersSent) this.sendJson(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
      });
    });
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.authRequired = apiAuthRequired(config);
    this.secrets = new Map(config.api.credentials.map((c) => [c.SecretId, c.SecretKey]));
    this.consoleSessions = new ConsoleSessions(config.console.password);
    this.guard = new RequestGuard(allowedHostNames(config.http.host, config.http.publicUrl, config.http.allowedHosts), !this.authRequired);
    if (this.authRequired && this.secrets.size === 0) {
      logger.warn("API signatures are required and no api.credentials are configured: only web console sessions can call the API");
    }
  }

  get port(): number {
    const addr = this.server.address();
    return addr !== null && typeof addr === "object" ? addr.port : 0;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://recorder.invalid");
    // A page of another site (DNS rebinding included) must reach nothing here.
    const wrongHost = this.guard.checkHost(req.headers);
    if (wrongHost) {
      this.refuse(req, res, 421, wrongHost);
      return;
    }
    if (url.pathname === "/") {
      await this.handleAction(req, res, url);
      return;
    }
    if (url.pathname === "/console/api/login" || url.pathname === LOGOUT_PATH) {
      await this.handleConsoleAuth(req, res, url.pathname !== LOGOUT_PATH);
      return;
    }
    if (await serveConsole(req, res, url.pathname)) return;
    // Finished recordings, at the URLs the API and callbacks report (in-progress files are never served).
    const recordings = { root: this.deps.recordingsDir, urlPrefix: RECORDINGS_URL_PREFIX, corsOrigins: this.deps.config.http.corsOrigins, signer: this.deps.urlSigner, store: this.deps.store };
    if (await serveRecording(req, res, recordings)) return;
    if (req.method !== "GET" && req.method !== "HEAD") {
      this.sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "use GET" } });
      return;
    }
    const { ffmpeg } = this.deps;
    if (url.pathname === "/healthz") {
      this.sendJson(res, 200, {
        status: "ok",
        uptimeSec: this.deps.uptimeSec(),
        livePushes: this.deps.control.live.list().length,
        rtmpConnections: this.deps.control.live.connections(),
        ...(this.deps.store && this.deps.uploadQueue ? { storage: { target: this.deps.store.description, uploadQueue: await this.deps.uploadQueue() } } : {}),
        ffmpeg: { path: ffmpeg.path, version: ffmpeg.version, source: ffmpeg.source },
        // What can be recorded to what, with this ffmpeg (the documented matrix limited by its abilities).
        codecMatrix: effectiveMatrix(ffmpegCapabilitiesSync(ffmpeg.path)).cells,
      });
    } else if (url.pathname === "/status" && !this.authRequired) {
      // Stream names and publisher addresses: only where the API itself is open (loopback).
      this.sendJson(res, 200, { pushes: this.deps.control.live.list() });
    } else {
      this.sendJson(res, 404, { error: { code: "NOT_FOUND", message: `no route ${url.pathname}` } });
    }
  }

  private async handleAction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomUUID();
    try {
      this.checkAction(req);
      const body = await this.readBody(req);
      // GET: the Action of the (signed) query only; an X-TC-Action header there is ignored.
      const action = (req.method === "GET" ? undefined : headerValue(req.headers, "x-tc-action")) ?? url.searchParams.get("Action") ?? "";
      if (this.authRequired) {
        const verified = verifyTc3({
          method: req.method ?? "",
          path: url.pathname,
          query: url.search.replace(/^\?/, ""),
          headers: req.headers,
          body,
          lookupSecret: (id) => this.secrets.get(id) ?? this.consoleSessions.secretOf(id),
          nowSec: Math.floor(Date.now() / 1000),
        });
        this.checkSignedAction(req, verified, action);
      }
      let input: unknown;
      let fromQuery = false;
      if (req.method === "POST") {
        input = parseJsonBody(body);
      } else if (req.method === "GET") {
        const params = new URLSearchParams(url.searchParams);
        for (const p of COMMON_QUERY_PARAMETERS) params.delete(p);
        input = flattenedQueryToObject(params);
        fromQuery = true;
      } else {
        throw new ApiError("UnsupportedProtocol", `HTTP ${req.method} is not supported: use POST with a JSON body or GET`);
      }
      const handler = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!handler) throw new ApiError("InvalidAction", action ? `unknown action ${JSON.stringify(action.slice(0, 64))}` : "missing X-TC-Action header (or Action parameter)");
      const result = await handler(this.deps.control, input, { fromQuery, nowSec: Math.floor(Date.now() / 1000) });
      this.sendJson(res, 200, { Response: { ...result, RequestId: requestId } });
    } catch (err) {
      const apiError =
        err instanceof ApiError ? err : new ApiError("InternalError", "internal error; the service log has details (RequestId " + requestId + ")");
      if (!(err instanceof ApiError)) this.deps.logger.error("API action failed", { requestId, error: errorMessage(err) });
      this.sendJson(res, 200, { Response: { Error: { Code: apiError.apiCode, Message: apiError.message }, RequestId: requestId } });
    }
  }

  /**
   * POST /console/api/login {password} -> a session credential; /logout, signed (TC3) with the
   * session it ends. Same envelope as the API.
   */
  private async handleConsoleAuth(req: IncomingMessage, res: ServerResponse, login: boolean): Promise<void> {
    const requestId = randomUUID();
    try {
      if (req.method !== "POST") throw new ApiError("UnsupportedProtocol", "use POST");
      this.checkAction(req);
      const raw = await this.readBody(req);
      const body = parseJsonBody(raw) as Record<string, unknown> | null;
      if (login) {
        const session = this.consoleSessions.login(body?.password, req.socket.remoteAddress ?? "");
        this.deps.logger.info("console login", { remote: req.socket.remoteAddress });
        this.sendJson(res, 200, { Response: { ...session, AuthRequired: this.authRequired, RequestId: requestId } });
      } else {
        // Only the holder of the session's key may end it: knowing its SecretId is not enough.
        const { secretId } = verifyTc3({
          method: "POST",
          path: LOGOUT_PATH,
          query: "",
          headers: req.headers,
          body: raw,
          lookupSecret: (id) => this.consoleSessions.secretOf(id),
          nowSec: Math.floor(Date.now() / 1000),
        });
        this.consoleSessions.logout(secretId);
        this.sendJson(res, 200, { Response: { RequestId: requestId } });
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError("InternalError", "internal error");
      this.sendJson(res, 200, { Response: { Error: { Code: e.apiCode, Message: e.message }, RequestId: requestId } });
    }
  }

  /**
   * The action must be bound to the signature: POSTs of console sessions (and of every client with
   * api.requireSignedAction) must sign X-TC-Action, and no signature is carried out twice.
   */
  private checkSignedAction(req: IncomingMessage, verified: VerifiedTc3, action: string): void {
    const mustSignAction = this.deps.config.api.requireSignedAction || this.consoleSessions.secretOf(verified.secretId) !== undefined;
    if (req.method === "POST" && mustSignAction && !verified.signedHeaders.includes("x-tc-action")) {
      throw new ApiError("AuthFailure.InvalidAuthorization", "X-TC-Action must be signed: SignedHeaders content-type;host;x-tc-action");
    }
    const replay = this.replays.check(verified.signature, action, Number(headerValue(req.headers, "x-tc-timestamp")), Math.floor(Date.now() / 1000));
    if (replay) throw new ApiError("AuthFailure.InvalidAuthorization", `refused: ${replay}`);
  }

  /** Requests that act must come from this site, as JSON, and (to an open API) not through a proxy. */
  private checkAction(req: IncomingMessage): void {
    const refused = this.guard.checkAction(req.method ?? "", req.headers);
    if (!refused) return;
    this.deps.logger.warn("request refused", { code: refused.code, reason: refused.message, remote: req.socket.remoteAddress });
    throw new ApiError(refused.code === "NOT_JSON" ? "UnsupportedProtocol" : "AuthFailure.InvalidAuthorization", `${refused.code}: ${refused.message}`);
  }

  private refuse(req: IncomingMessage, res: ServerResponse, status: number, refused: GuardRefusal): void {
    this.deps.logger.warn("request refused", { code: refused.code, reason: refused.message, remote: req.socket.remoteAddress });
    this.sendJson(res, status, { error: { code: refused.code, message: refused.message } });
  }

  /** Reads the body up to api.maxBodyBytes; a larger one is refused without reading the rest. */
  private readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.deps.config.api.maxBodyBytes;
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > max) return Promise.reject(tooLarge(max));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        if (size > max) {
          req.pause();
          reject(tooLarge(max));
          return;
        }
        chunks.push(c);
      });
      req.on("end", () => resolve(Buffer.concat(chunks)));
      req.on("error", reject);
    });
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(json);
  }
}

function tooLarge(max: number): ApiError {
  return new ApiError("RequestSizeLimitExceeded", `request body larger than ${max} bytes`);
}

