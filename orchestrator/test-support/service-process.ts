/** The `recorder` binary as a child process, for tests that need a real exit, SIGTERM or SIGKILL. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const RECORDER_BIN = fileURLToPath(new URL("../../bin/recorder.js", import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  rtmp: number;
  http: number;
  /** Everything it logged so far (JSON lines). */
  log: () => string;
}

/** Starts `recorder serve <args>` and resolves with the ports it reports once ready (log level info or lower). */
export function serveProcess(args: string[], timeoutMs = 30_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [RECORDER_BIN, "serve", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${log}`)), timeoutMs);
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const ready = log.split("\n").find((l) => l.includes('"recorder ready"'));
      if (!ready) return;
      clearTimeout(timer);
      const { rtmp, http } = JSON.parse(ready) as { rtmp: string; http: string };
      resolve({ child, rtmp: Number(/:(\d+)\//.exec(rtmp)![1]), http: Number(/:(\d+)\//.exec(http)![1]), log: () => log });
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${log}`)));
  });
}

/** Resolves once the process has exited, with its code. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.once("exit", (code) => r(code))));
}
