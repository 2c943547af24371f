/**
 * The recording service: RTMP ingest -> one Recording per push (with the
 * configured template) -> files under data/recordings/<domain>/<app>/<stream>/.
 * The HTTP API and the CLI are thin layers over this class.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { errorMessage, IngestError } from "../engine/errors.js";
import { createLogger, type Logger } from "../engine/logger.js";
import { type FfmpegBinary, locateFfmpeg } from "../engine/mux/ffmpeg-binary.js";
import { Recording } from "../engine/pipeline/recording.js";
import type { CompletedFile, RecordingStats } from "../engine/pipeline/types.js";
import { type PublishRequest, RtmpServer } from "../engine/rtmp/rtmp-server.js";
import { TypedEmitter } from "../engine/typed-emitter.js";
import { assertSafeNameComponent } from "../engine/segment/naming.js";
import { recordingSettings, type ServiceConfig } from "./config/config.js";
import { HttpApi } from "./api/http-api.js";

/** Folder of in-progress files inside each stream folder: hidden, so watchers of the stream folder see only finished files. */
export const IN_PROGRESS_FOLDER = ".recording";

export interface LivePush {
  recordingId: string;
  domain: string;
  app: string;
  stream: string;
  remoteAddress: string;
  startedAt: string;
  stats: RecordingStats;
}

export type ServiceEvents = {
  /** A publisher stopped (FCUnpublish, deleteStream, socket closed...); its files are closing. */
  pushEnded: [{ recordingId: string; domain: string; app: string; stream: string; reason: string }];
  file: [CompletedFile];
  recordingClosed: [RecordingStats & { domain: string; app: string; stream: string }];
};

export class RecorderService extends TypedEmitter<ServiceEvents> {
  readonly logger: Logger;
  readonly ffmpeg: FfmpegBinary;
  private readonly rtmp: RtmpServer;
  private readonly http: HttpApi;
  private readonly live = new Map<string, { recording: Recording; push: Omit<LivePush, "stats"> }>();
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: ServiceConfig,
    logger?: Logger,
  ) {
    const log = logger ?? createLogger(config.logLevel);
    super(log);
    this.logger = log;
    this.ffmpeg = locateFfmpeg(config.ffmpegPath || undefined);
    this.rtmp = new RtmpServer({ logger: log });
    this.rtmp.on("publish", (req) => this.onPublish(req));
    this.http = new HttpApi(this);
  }

  static async start(config: ServiceConfig, logger?: Logger): Promise<RecorderService> {
    const service = new RecorderService(config, logger);
    service.logger.info("ffmpeg", { path: service.ffmpeg.path, version: service.ffmpeg.version, source: service.ffmpeg.source });
    await service.rtmp.listen(config.rtmp.port, config.rtmp.host);
    try {
      await service.http.listen(config.http.port, config.http.host);
    } catch (err) {
      await service.rtmp.close();
      throw err;
    }
    service.logger.info("recorder ready", {
      rtmp: `rtmp://${config.rtmp.host}:${service.rtmpPort}/<app>/<stream>`,
      http: `http://${config.http.host}:${service.httpPort}/healthz`,
      dataDir: config.dataDir,
    });
    return service;
  }

  get rtmpPort(): number {
    return this.rtmp.port;
  }

  get httpPort(): number {
    return this.http.port;
  }

  get uptimeSec(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  get recordingsDir(): string {
    return join(this.config.dataDir, "recordings");
  }

  livePushes(): LivePush[] {
    return [...this.live.values()].map(({ recording, push }) => ({ ...push, stats: recording.stats() }));
  }

  /** Stops taking pushes, ends every recording (closing its files) and stops the HTTP API. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const ending = [...this.live.values()].map(({ recording }) => recording.end());
      await this.rtmp.close();
      await Promise.all(ending);
      await Promise.all([...this.live.values()].map(({ recording }) => recording.end()));
      await this.http.close();
    })();
    return this.stopping;
  }

  private onPublish(req: PublishRequest): void {
    if (this.stopping) {
      req.reject("NetStream.Publish.Rejected", "the recorder is shutting down");
      return;
    }
    try {
      assertSafeNameComponent("domain", req.domain);
      assertSafeNameComponent("app", req.app);
      assertSafeNameComponent("stream", req.stream);
    } catch (err) {
      const message = errorMessage(err);
      this.logger.warn("publish refused", { code: err instanceof IngestError ? err.code : "INVALID_STREAM_NAME", reason: message, remote: req.remoteAddress });
      req.reject("NetStream.Publish.BadName", message);
      return;
    }
    const recordingId = randomUUID();
    const directory = join(this.recordingsDir, req.domain, req.app, req.stream);
    let recording: Recording;
    try {
      recording = new Recording(
        { id: recordingId, domain: req.domain, app: req.app, stream: req.stream, directory, inProgressDirectory: join(directory, IN_PROGRESS_FOLDER) },
        recordingSettings(this.config),
        { ffmpegPath: this.ffmpeg.path, logger: this.logger, now: Date.now },
      );
    } catch (err) {
      this.logger.error("cannot start recording", { error: errorMessage(err) });
      req.reject("NetStream.Publish.Rejected", "the recorder cannot write this stream's folder");
      return;
    }
    const session = req.accept();
    const where = { recording: recordingId, domain: req.domain, app: req.app, stream: req.stream };
    this.logger.info("push started", { ...where, remote: req.remoteAddress });
    this.live.set(recordingId, {
      recording,
      push: { recordingId, domain: req.domain, app: req.app, stream: req.stream, remoteAddress: req.remoteAddress, startedAt: new Date().toISOString() },
    });
    recording.on("started", (s) => this.logger.info("recording", { ...where, tracks: s.tracks, formats: s.formats }));
    recording.on("file", (file) => {
      this.logger.info("file complete", { ...where, format: file.format, path: file.path, durationSec: file.durationSec, sizeBytes: file.sizeBytes });
      this.emit("file", file);
    });
    session.on("tag", (tag) => recording.push(tag));
    session.once("end", (reason) => {
      this.logger.info("push ended", { ...where, reason });
      this.emit("pushEnded", { recordingId, domain: req.domain, app: req.app, stream: req.stream, reason });
      void recording.end().then((stats) => {
        this.live.delete(recordingId);
        this.logger.info("recording closed", { ...where, files: stats.filesCompleted, dropped: stats.droppedFrames, errors: stats.errors });
        this.emit("recordingClosed", { ...stats, domain: req.domain, app: req.app, stream: req.stream });
      });
    });
  }
}
