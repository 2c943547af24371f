/**
 * Admission: whether a publish request may start a push. Checked in order:
 * safe stream names (they become folder names), free disk space for the
 * recordings, then push authentication (txSecret/txTime) where required.
 */
import { statfsSync } from "node:fs";
import { errorMessage, IngestError } from "../../engine/errors.js";
import { assertSafeNameComponent } from "../../engine/segment/naming.js";
import { checkPushAuth, type PushAuthConfig } from "../auth/push-auth.js";

/** What admission reads of a publish request. */
export interface PublishAttempt {
  domain: string;
  app: string;
  stream: string;
  /** The publish URL's query string (txSecret, txTime...). */
  query: string;
}

/** A refusal carries the RTMP status code the publisher gets and a log code. */
export type AdmissionVerdict = { ok: true } | { ok: false; status: "NetStream.Publish.BadName" | "NetStream.Publish.Rejected"; code: string; reason: string };

export interface AdmissionOptions {
  dataDir: string;
  /** Pushes are refused below this much free space on the data folder's disk. */
  minFreeMegabytes: number;
  /** Set when publishers must sign their URLs. */
  pushAuth?: PushAuthConfig;
  /** Free MB of the data folder's disk (injected for tests); undefined when it cannot be read. */
  freeMegabytes?: (dir: string) => number | undefined;
  /** Wall clock, ms (injected for tests). */
  now?: () => number;
}

/** Free space of the disk holding `dir`, in MB (undefined if it cannot be read). */
export function freeMegabytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return undefined;
  }
}

export class Admission {
  constructor(private readonly options: AdmissionOptions) {}

  check(req: PublishAttempt): AdmissionVerdict {
    try {
      assertSafeNameComponent("domain", req.domain);
      assertSafeNameComponent("app", req.app);
      assertSafeNameComponent("stream", req.stream);
    } catch (err) {
      return { ok: false, status: "NetStream.Publish.BadName", code: err instanceof IngestError ? err.code : "INVALID_STREAM_NAME", reason: errorMessage(err) };
    }
    const { dataDir, minFreeMegabytes, pushAuth } = this.options;
    const freeMb = (this.options.freeMegabytes ?? freeMegabytes)(dataDir);
    if (freeMb !== undefined && freeMb < minFreeMegabytes) {
      return {
        ok: false,
        status: "NetStream.Publish.Rejected",
        code: "DISK_FULL",
        reason: `not enough disk space for recordings: ${freeMb} MB free, ${minFreeMegabytes} MB needed`,
      };
    }
    if (pushAuth) {
      const nowSec = Math.floor((this.options.now ?? Date.now)() / 1000);
      const auth = checkPushAuth(pushAuth, req.domain, req.stream, req.query, nowSec);
      if (!auth.ok) return { ok: false, status: "NetStream.Publish.Rejected", code: "PUSH_AUTH_FAILED", reason: `authentication failed: ${auth.reason}` };
    }
    return { ok: true };
  }
}
