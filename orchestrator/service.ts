/**
 * The recording service, as a composition root: it builds the catalog, the
 * control services, the policies (admission, push supervision, task
 * scheduling, splice windows, file indexing, record notification) and the
 * two listeners (RTMP ingest, HTTP API), wires them together, and starts and
 * stops them in order. No policy lives here: each has its own module.
 */
import { join } from "node:path";
import { errorMessage } from "../engine/errors.js";
import { createLogger, type Logger } from "../engine/logger.js";
import { type FfmpegBinary, locateFfmpeg } from "../engine/ffmpeg/ffmpeg-binary.js";
import { Recovery } from "../engine/recovery/recovery.js";
import { RtmpServer } from "../engine/rtmp/rtmp-server.js";
import { TypedEmitter } from "../engine/typed-emitter.js";
import { HttpApi } from "./api/http-api.js";
import { CallbackDispatcher } from "./callbacks/callback-dispatcher.js";
import { CallbackTargets } from "./callbacks/callback-targets.js";
import { RecordNotifier } from "./callbacks/record-notifier.js";
import { FileIndexer, type IndexedFile } from "./catalog/file-indexer.js";
import { createStore } from "./storage/create-store.js";
import type { ObjectStore } from "./storage/types.js";
import { Uploader } from "./storage/uploader.js";
import { SqliteCatalog } from "./catalog/sqlite-catalog.js";
import type { Catalog, RecordingFile } from "./catalog/types.js";
import { callbackPolicy, pushAuthRequired, recordingsAccess, type ServiceConfig } from "./config/config.js";
import { CallbackControl } from "./control/callback-control.js";
import type { ControlServices } from "./control/control-services.js";
import { LiveControl } from "./control/live-control.js";
import type { LivePushStatus } from "./control/wire-types.js";
import { RecordingControl } from "./control/recording-control.js";
import { MediaLibrary } from "./media/media-library.js";
import { recordingUrlSigner } from "./media/recording-url-signer.js";
import { Admission } from "./push/admission.js";
import { type ClosedRecording, type LivePush, PushSupervisor, type PushSupervisorEvents } from "./push/push-supervisor.js";
import { SpliceWindows } from "./splice/splice-windows.js";
import { TaskScheduler } from "./tasks/task-scheduler.js";

export type { ClosedRecording };

export type ServiceEvents = PushSupervisorEvents & {
  /** A finished file, catalogued. */
  file: [IndexedFile];
  /** A catalogued file's object is stored and verified (storage.url set). */
  fileUploaded: [RecordingFile];
};

export class RecorderService extends TypedEmitter<ServiceEvents> {
  readonly logger: Logger;
  readonly ffmpeg: FfmpegBinary;
  readonly catalog: Catalog;
  readonly control: ControlServices;
  private readonly dispatcher: CallbackDispatcher;
  private readonly splice: SpliceWindows;
  private readonly indexer: FileIndexer;
  private readonly uploader: Uploader | undefined;
  private readonly store: ObjectStore | undefined;
  private readonly pushes: PushSupervisor;
  private readonly tasks: TaskScheduler<LivePush>;
  private readonly rtmp: RtmpServer;
  private readonly http: HttpApi;
  private readonly startedAt = Date.now();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: ServiceConfig,
    logger?: Logger,
  ) {
    const log = logger ?? createLogger(config.logLevel);
    super(log);
    this.logger = log;
    this.ffmpeg = locateFfmpeg(config.ffmpegPath || undefined);
    // Before the catalog is opened: a damaged key file or a bad storage URL stops the start with nothing to close.
    const urlSigner = recordingUrlSigner(config);
    const store = createStore(config);
    this.store = store;
    this.catalog = new SqliteCatalog(join(config.dataDir, "catalog.sqlite"));
    const cb = config.callbacks;
    const fallback =
      cb.recordNotifyUrl || cb.recordStatusNotifyUrl
        ? {
            ...(cb.recordNotifyUrl ? { recordNotifyUrl: cb.recordNotifyUrl } : {}),
            ...(cb.recordStatusNotifyUrl ? { recordStatusNotifyUrl: cb.recordStatusNotifyUrl } : {}),
            callbackKey: cb.callbackKey,
          }
        : undefined;
    const policy = callbackPolicy(config);
    this.dispatcher = new CallbackDispatcher({
      outbox: this.catalog,
      logger: log,
      policy,
      retryIntervalMs: cb.retryIntervalSec * 1000,
      timeoutMs: cb.timeoutSec * 1000,
      maxAttempts: cb.maxRetries + 1,
    });
    const media = new MediaLibrary(this.catalog, config.dataDir, () => this.publicUrl, log, urlSigner, store);
    const targets = new CallbackTargets(this.catalog, fallback);
    const notifier = new RecordNotifier({ targets, outbox: this.catalog, kick: () => this.dispatcher.kick(), urlOf: (f) => media.urlOf(f), appId: cb.appId, logger: log });
    // With object storage, a file's callback goes out once its object is stored and verified.
    this.uploader = store
      ? new Uploader({
          catalog: this.catalog,
          store,
          recordingsDir: this.recordingsDir,
          keepLocal: config.storage.keepLocal,
          concurrency: config.storage.uploadConcurrency,
          logger: log,
          onUploaded: async (row) => {
            await notifier.fileReady(row);
            this.emit("fileUploaded", row);
          },
        })
      : undefined;
    this.indexer = new FileIndexer(
      this.catalog,
      config.dataDir,
      log,
      (row, file) => {
        if (this.uploader) this.uploader.kick();
        else void notifier.fileReady(row);
        this.emit("file", file);
      },
      this.uploader !== undefined,
    );
    this.splice = new SpliceWindows(this.catalog, this.indexer, log);
    this.pushes = new PushSupervisor({
      catalog: this.catalog,
      recordingsDir: this.recordingsDir,
      recording: config.recording,
      defaultTemplate: config.recordTemplate,
      admission: new Admission({
        dataDir: config.dataDir,
        minFreeMegabytes: config.recording.minFreeMegabytes,
        ...(pushAuthRequired(config) ? { pushAuth: { keys: config.pushAuth.keys, authDeltaSec: config.pushAuth.authDeltaSec, maxValiditySec: config.pushAuth.maxValiditySec } } : {}),
      }),
      splice: this.splice,
      indexer: this.indexer,
      notifier,
      ffmpegPath: this.ffmpeg.path,
      logger: log,
      syncTasks: (push) => this.tasks.syncPush(push),
      salvage: async (journal) => {
        const report = await this.recovery().recoverJournal(journal);
        for (const f of report.recovered) await this.indexer.indexRecovered(f);
      },
    });
    this.tasks = new TaskScheduler<LivePush>({ catalog: this.catalog, recorder: this.pushes, recording: config.recording, logger: log });
    this.pushes.on("pushEnded", (e) => this.emit("pushEnded", e));
    this.pushes.on("recordingClosed", (e) => this.emit("recordingClosed", e));
    this.control = {
      recording: new RecordingControl(this.catalog, () => this.tasks.syncAll(), store && !store.hasColdClass ? store.description : undefined),
      callbacks: new CallbackControl(this.catalog, policy, () => this.dispatcher.kick()),
      live: new LiveControl(this.pushes, () => this.rtmp.connectionCounts),
      media,
    };
    const { maxConnections, maxPendingPerAddress, connectsPerSecondPerAddress, publishTimeoutSec } = config.rtmp;
    this.rtmp = new RtmpServer({
      logger: log,
      maxConnections,
      maxPendingPerSource: maxPendingPerAddress,
      connectsPerSecondPerSource: connectsPerSecondPerAddress,
      publishTimeoutMs: publishTimeoutSec * 1000,
    });
    this.rtmp.on("publish", (req) => this.pushes.onPublish(req));
    this.http = new HttpApi({
      config,
      logger: log,
      control: this.control,
      recordingsDir: this.recordingsDir,
      urlSigner,
      ffmpeg: this.ffmpeg,
      uptimeSec: () => this.uptimeSec,
      store,
      uploadQueue: () => this.catalog.uploadQueueStats(),
    });
  }

  static async start(config: ServiceConfig, logger?: Logger): Promise<RecorderService> {
    const service = new RecorderService(config, logger);
    service.logger.info("ffmpeg", { path: service.ffmpeg.path, version: service.ffmpeg.version, source: service.ffmpeg.source });
    // Before any push: close and catalog what a crash left half-written.
    await service.recoverAfterCrash();
    try {
      await service.rtmp.listen(config.rtmp.port, config.rtmp.host);
      await service.http.listen(config.http.port, config.http.host);
    } catch (err) {
      await service.rtmp.close();
      service.store?.close();
      await service.catalog.close();
      throw err;
    }
    await service.splice.restore();
    service.tasks.start();
    // Awaited only without a storage destination: deleting objects from a store that is down must not hold up the start.
    if (service.store) void service.sweep();
    else await service.sweep();
    // Deliveries and uploads queued before a crash or restart go out now.
    service.dispatcher.start();
    // Not awaited: a store that is down must not hold up the start (its queue waits meanwhile).
    void service.uploader?.start();
    service.sweepTimer = setInterval(() => void service.sweep(), config.recording.retentionSweepSeconds * 1000);
    service.sweepTimer.unref();
    service.logger.info("recorder ready", {
      rtmp: `rtmp://${config.rtmp.host}:${service.rtmpPort}/<app>/<stream>`,
      http: `http://${config.http.host}:${service.httpPort}/healthz`,
      dataDir: config.dataDir,
      apiAuth: service.http.authRequired ? "TC3-HMAC-SHA256 required" : "off (loopback)",
      pushAuth: pushAuthRequired(config) ? "txSecret required" : "off (loopback)",
      recordings: recordingsAccess(config) === "signed" ? `signed URLs, valid ${config.recordings.urlValiditySec} s` : "public",
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

  /** Base URL of this service's recordings (http.publicUrl, or the HTTP address it listens on). */
  get publicUrl(): string {
    const configured = this.config.http.publicUrl.replace(/\/+$/, "");
    if (configured) return configured;
    // Bound to every interface: loopback is the one address sure to reach it (set http.publicUrl for others).
    const host = ["0.0.0.0", "::"].includes(this.config.http.host) ? "127.0.0.1" : this.config.http.host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${this.httpPort}`;
  }

  /** The pushes on air and what each records. */
  livePushes(): LivePushStatus[] {
    return this.control.live.list();
  }

  /** Deletes files whose StorageTime has passed (serialized; errors are logged). */
  sweep(): Promise<unknown> {
    this.sweeping = this.sweeping.then(() => this.control.media.sweep(Date.now())).catch((err: unknown) => this.logger.error("retention sweep failed", { error: errorMessage(err) }));
    return this.sweeping;
  }

  /** Stops taking pushes, closes every recording's files, stops the API and closes the catalog. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.sweepTimer);
      // No task recording starts from here on; those under way are waited for below.
      const tasksStopped = this.tasks.stop();
      await this.rtmp.close();
      await Promise.all([this.pushes.stop(), tasksStopped]);
      // Open playlists stay in the catalog: a push after a restart within the window continues them.
      await this.splice.stop();
      // Uploads in flight are aborted (their files stay queued for the next start), and closing the
      // store ends whatever a hanging store holds, so neither they nor a sweep hold the stop up.
      const uploadsStopped = this.uploader?.stop();
      this.store?.close();
      await uploadsStopped;
      await this.sweeping;
      await this.dispatcher.stop();
      await this.http.close();
      await this.catalog.close();
    })();
    return this.stopping;
  }

  private recovery(): Recovery {
    return new Recovery(this.recordingsDir, this.ffmpeg.path, this.logger);
  }

  private async recoverAfterCrash(): Promise<void> {
    const report = await this.recovery().run();
    for (const f of report.recovered) await this.indexer.indexRecovered(f);
    if (report.recovered.length > 0 || report.failed.length > 0) {
      this.logger.warn("crash recovery", { recovered: report.recovered.length, failed: report.failed.length });
    }
  }
}
