/**
 * One error base for the whole product: a stable `code` callers can switch on,
 * a `fatal` flag (the owning recording/session cannot continue) and a `cause`.
 * Subclasses name the layer the error came from.
 */
export class RecorderError extends Error {
  readonly code: string;
  readonly fatal: boolean;

  constructor(code: string, message: string, options: { fatal?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fatal = options.fatal ?? false;
  }
}

/** Malformed or hostile bytes: FLV tags, AMF values, RTMP chunks. */
export class ParseError extends RecorderError {}

/** RTMP protocol or session-level refusal (bad handshake, publish refused, limits). */
export class IngestError extends RecorderError {}

/** A muxer or its ffmpeg process failed or cannot take this input. */
export class MuxError extends RecorderError {}

/** Writing, renaming or finalizing files failed. */
export class StorageError extends RecorderError {}

/** Configuration is invalid. */
export class ConfigError extends RecorderError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
