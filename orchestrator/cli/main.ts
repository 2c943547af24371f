/**
 * The `recorder` command line (commander). Thin: every command calls the
 * same service functions the HTTP API uses.
 */
import { Command, InvalidArgumentError } from "commander";
import { errorMessage, RecorderError } from "../../engine/errors.js";
import { createLogger } from "../../engine/logger.js";
import { effectiveMatrix, formatEffectiveMatrix } from "../../engine/mux/codec-matrix.js";
import { locateFfmpeg } from "../../engine/ffmpeg/ffmpeg-binary.js";
import { createStore } from "../storage/create-store.js";
import { probeFfmpegCapabilities } from "../../engine/ffmpeg/ffmpeg-capabilities.js";
import { loadConfig, type ServiceConfig } from "../config/config.js";
import { RecorderService } from "../service.js";
import { addControlCommands } from "./control-commands.js";
import { replayFlv } from "./replay.js";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number 0-65535");
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
}

function positiveInt(value: string): number {
  const n = positive(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("must be a whole number");
  return n;
}

export function buildCli(): Command {
  const program = new Command("recorder")
    .description("Self-hosted live-stream recorder: RTMP in; FLV, HLS, MP4 and AAC recordings out, without re-encoding")
    .showHelpAfterError();

  program
    .command("serve")
    .description("run the recording service")
    .option("--rtmp-port <port>", "RTMP ingest port (default 1935)", port)
    .option("--http-port <port>", "HTTP port for health and status (default 8080)", port)
    .option("--host <address>", "address both servers bind to (default 127.0.0.1; 0.0.0.0 for all)")
    .option("--data-dir <dir>", "where recordings are written (default ./data)")
    .option("--config <file>", "JSON config file (see README)")
    .option("--ffmpeg <path>", "ffmpeg binary to run")
    .option("--log-level <level>", "debug | info | warn | error | silent")
    .action(async (o: Record<string, string | number | undefined>) => {
      const config = loadConfig({
        configFile: o.config as string | undefined,
        rtmpPort: o.rtmpPort as number | undefined,
        httpPort: o.httpPort as number | undefined,
        host: o.host as string | undefined,
        dataDir: o.dataDir as string | undefined,
        ffmpegPath: o.ffmpeg as string | undefined,
        logLevel: o.logLevel as string | undefined,
      });
      const logger = createLogger(config.logLevel);
      // Last line of defence: one stream's unforeseen failure must not take every other recording down.
      process.on("unhandledRejection", (err) => logger.error("unhandled rejection (kept running)", { error: errorMessage(err) }));
      const service = await RecorderService.start(config, logger);
      const shutdown = (signal: string) => {
        logger.info("shutting down: closing every recording", { signal });
        service.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error("shutdown failed", { error: errorMessage(err) });
            process.exit(1);
          },
        );
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
    });

  program
    .command("replay")
    .description("publish an FLV file over RTMP (as an encoder would)")
    .argument("<file.flv>", "FLV file to send")
    .argument("<url>", "rtmp://host[:port]/app/stream[?query]")
    .option("--realtime", "pace tags by their timestamps (same as --speed 1)")
    .option("--speed <n>", "pace at n times real time", positive)
    .option("--loop <n>", "send the file n times, timestamps continuing", positiveInt, 1)
    .action(async (file: string, url: string, o: { realtime?: boolean; speed?: number; loop: number }) => {
      const speed = o.speed ?? (o.realtime ? 1 : undefined);
      const result = await replayFlv(file, url, { loop: o.loop, ...(speed === undefined ? {} : { speed }) });
      process.stdout.write(`sent ${result.tagsSent} tags, ${(result.mediaDurationMs / 1000).toFixed(3)} s of media\n`);
    });

  program
    .command("doctor")
    .description("print the ffmpeg the service would run, the codec x format matrix it can record, and check the storage destination")
    .option("--config <file>", "JSON config file")
    .option("--ffmpeg <path>", "ffmpeg binary to check")
    .option("--json", "print the matrix as JSON")
    .action(async (o: { config?: string; ffmpeg?: string; json?: boolean }) => {
      const config = loadConfig({ ...(o.config ? { configFile: o.config } : {}), ...(o.ffmpeg ? { ffmpegPath: o.ffmpeg } : {}) });
      const ffmpeg = locateFfmpeg(config.ffmpegPath || undefined);
      const matrix = effectiveMatrix(await probeFfmpegCapabilities(ffmpeg.path));
      const storage = await checkStorage(config);
      const storageLine = storage === undefined ? "storage: local disk only" : `storage: ${storage.target}: ${storage.ok ? "ok (put, get, delete of a probe object)" : storage.error}`;
      process.stdout.write(
        o.json ? `${JSON.stringify({ ffmpeg, matrix, ...(storage ? { storage } : {}) }, null, 2)}\n` : `ffmpeg source: ${ffmpeg.source}\n${formatEffectiveMatrix(matrix)}\n${storageLine}\n`,
      );
      if (storage && !storage.ok) process.exitCode = 1;
    });

  addControlCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    const code = err instanceof RecorderError ? `${err.code}: ` : "";
    process.stderr.write(`recorder: ${code}${errorMessage(err)}\n`);
    process.exit(1);
  }
}

/** Probes the storage destination (storage.url), if any: the diagnosis says what is wrong. */
async function checkStorage(config: ServiceConfig): Promise<{ target: string; ok: boolean; error?: string } | undefined> {
  const store = createStore(config);
  if (store === undefined) return undefined;
  try {
    await store.probe();
    return { target: store.description, ok: true };
  } catch (err) {
    const code = err instanceof RecorderError ? `${err.code}: ` : "";
    return { target: store.description, ok: false, error: `${code}${errorMessage(err)}` };
  } finally {
    store.close();
  }
}
