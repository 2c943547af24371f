// Types of swift-s3.mjs (plain Node ESM, so scripts can run it without a build).

export declare const SWIFT_DEBIAN_PACKAGES: string;
export declare const SWIFT_S3_REGION: "us-east-1";
export declare const SWIFT_S3_ACCESS_KEY_ID: "test:tester";
export declare const SWIFT_S3_SECRET_ACCESS_KEY: "testing";

/** Swift's Python modules (Debian's python3-swift) are not there: the message says what to install. */
export declare class SwiftNotInstalledError extends Error {}

export interface SwiftS3 {
  /** `http://127.0.0.1:<proxy port>`; use path-style addressing. */
  endpoint: string;
  region: "us-east-1";
  accessKeyId: "test:tester";
  secretAccessKey: "testing";
  /** The temp folder holding config, rings, data and logs (removed by stop()). */
  dir: string;
  /** The processes started: memcached (when installed) and the four Swift servers. */
  pids: number[];
  startupMs: number;
  /** Stops exactly `pids` (SIGTERM, SIGKILL after 5 s) and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

export declare function startSwiftS3(options?: {
  log?: (line: string) => void;
  /** An interpreter that can import swift; default Debian's /usr/bin/python3. */
  python?: string;
}): Promise<SwiftS3>;
