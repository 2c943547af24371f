#!/usr/bin/env node
/**
 * A real S3 server for tests and manual use: one-node OpenStack Swift (Debian's packages) with
 * its s3api middleware, in a temp folder, on free loopback ports, without systemd.
 *
 *   node scripts/services/swift-s3.mjs start    prints {endpoint, region, accessKeyId, ...} as
 *                                               JSON and runs until SIGTERM/SIGINT
 *   import { startSwiftS3 } from "./swift-s3.mjs"   the same, for tests (stop() when done)
 *
 * The recipe (verified on this machine kind) is ../shared/notes/s3-and-postgres.md:
 * - Debian's /usr/bin/python3 (the swift module is installed there, not in a pyenv);
 * - every server is started by a small launcher that points Swift at our etc/ folder before
 *   swift.common.wsgi is imported (Swift reads <swift_dir>/swift.conf at import time);
 * - `workers = 0`: one foreground process per server, no fork, no privilege drop, so the PIDs
 *   we record are all there is to stop;
 * - rings (1 replica, 1 device) built with RingBuilder in the proxy's own process, not by three
 *   swift-ring-builder calls (~1 s of Python start-up each);
 * - the proxy pipeline order of the notes: s3api checks it at start-up, and `slo` must sit
 *   between s3api and proxy-server or multipart upload is silently disabled.
 * Each launcher asks the kernel to SIGKILL it when this Node process's main thread ends
 * (PR_SET_PDEATHSIG), so a test worker that crashes leaves no Swift behind.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** Debian's interpreter: python3-swift installs into its dist-packages only. */
const DEBIAN_PYTHON = "/usr/bin/python3";
const MEMCACHED = "/usr/bin/memcached";
export const SWIFT_DEBIAN_PACKAGES = "swift swift-proxy swift-account swift-container swift-object python3-swift memcached";
/** The s3api `location`; the client's region must equal it (else AuthorizationHeaderMalformed). */
export const SWIFT_S3_REGION = "us-east-1";
/** tempauth user `test:tester` with key `testing`: the S3 access key and secret. */
export const SWIFT_S3_ACCESS_KEY_ID = "test:tester";
export const SWIFT_S3_SECRET_ACCESS_KEY = "testing";

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 3_000;
/** A free port can be taken by someone else between our probe and Swift's bind: retry then. */
const START_ATTEMPTS = 3;
const BIND_TIMEOUT_S = 2;
/** How a server that lost a port says so (memcached; Swift after bind_timeout). */
const PORT_TAKEN = /Address already in use|EADDRINUSE|Could not bind to/;

export class SwiftNotInstalledError extends Error {
  constructor(detail) {
    super(
      `OpenStack Swift (S3 API) is not installed: ${detail}. ` +
        `Install Debian's packages (.ci/run does): apt-get install -y --no-install-recommends ${SWIFT_DEBIAN_PACKAGES}`,
    );
    this.name = "SwiftNotInstalledError";
  }
}

// Sets PR_SET_PDEATHSIG, points Swift at our etc/, then runs one server (or execs memcached).
// PDEATHSIG survives the setsid() Swift does and the exec of memcached. The proxy, the only
// server that reads the rings at start-up, first builds them (1 replica, 1 device each): in its
// own process this saves a Python start and a Swift import (~1 s of CPU).
const LAUNCHER = `
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)  # the parent is already gone
mode, etc = sys.argv[2], sys.argv[3]
if mode == "memcached":
    os.execv(sys.argv[4], sys.argv[4:])
from swift.common.utils import set_swift_dir
set_swift_dir(etc)
if mode == "proxy-server":
    from swift.common.ring import RingBuilder
    for kind, port in zip(("object", "container", "account"), sys.argv[5:8]):
        builder = RingBuilder(10, 1, 1)
        builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port), "device": "d1", "weight": 1})
        builder.rebalance()
        builder.get_ring().save(os.path.join(etc, kind + ".ring.gz"))
from swift.common.wsgi import run_wsgi
sys.exit(run_wsgi(sys.argv[4], mode, verbose=True))
`;

/** Keys of one DeleteObjects request deleted at once (Swift's default, 2, halves the rate: ~50 keys/s here). */
const MULTI_DELETE_CONCURRENCY = 16;

/**
 * Loopback addresses only, so no DNS: without eventlet's green DNS resolver (dnspython patched at
 * import) each server starts with ~0.5 s less CPU.
 */
const SERVER_ENV = { ...process.env, EVENTLET_NO_GREENDNS: "yes" };

const PROXY_PIPELINE =
  "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server";

// bind_timeout: Swift retries a taken port for 30 s by default; we would rather pick new ports.
function serverConf(kind, dir, port) {
  // No log_level in [DEFAULT]: it would override the filters' own.
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
bind_timeout = ${BIND_TIMEOUT_S}
workers = 0
devices = ${join(dir, "srv")}
mount_check = false
disable_fallocate = true
swift_dir = ${join(dir, "etc")}

[pipeline:main]
pipeline = healthcheck ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}

[filter:healthcheck]
use = egg:swift#healthcheck
`;
}

function proxyConf(dir, port, memcachePort) {
  const filters = {
    catch_errors: "",
    gatekeeper: "",
    healthcheck: "",
    "proxy-logging": "",
    cache: `memcache_servers = 127.0.0.1:${memcachePort}\n`,
    listing_formats: "",
    bulk: "",
    s3api: `location = ${SWIFT_S3_REGION}\ns3_acl = false\nallow_multipart_uploads = true\nmax_upload_part_num = 10000\nmulti_delete_concurrency = ${MULTI_DELETE_CONCURRENCY}\n`,
    tempauth: `user_test_tester = testing .admin\n`,
    copy: "",
    slo: "",
    dlo: "",
    versioned_writes: "allow_object_versioning = true\n",
    symlink: "",
  };
  const egg = { "proxy-logging": "proxy_logging", cache: "memcache" };
  let text = `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
bind_timeout = ${BIND_TIMEOUT_S}
workers = 0
swift_dir = ${join(dir, "etc")}

[pipeline:main]
pipeline = ${PROXY_PIPELINE}

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
`;
  for (const [name, body] of Object.entries(filters)) {
    text += `\n[filter:${name}]\nuse = egg:swift#${egg[name] ?? name}\n${body}`;
  }
  return text;
}

const SWIFT_CONF = `[swift-hash]
swift_hash_path_suffix = live-recorder-tests
swift_hash_path_prefix = live-recorder-tests

[storage-policy:0]
name = Policy-0
default = yes
`;

/** `count` distinct free loopback TCP ports (held open together so they differ). */
async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

function logTail(file) {
  try {
    const text = readFileSync(file, "utf8");
    return text.slice(-LOG_TAIL_CHARS);
  } catch {
    return "";
  }
}

async function httpOk(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts Swift with the S3 API. Resolves once every server answers /healthcheck.
 * @param {{ log?: (line: string) => void, python?: string }} [options] `python`: the interpreter
 *   that can import swift (default Debian's /usr/bin/python3)
 */
export async function startSwiftS3(options = {}) {
  const python = options.python ?? DEBIAN_PYTHON;
  if (!existsSync(python)) throw new SwiftNotInstalledError(`${python} is missing`);
  let lastError;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(python, options);
    } catch (err) {
      lastError = err;
      // Only a lost race for a port is worth another try.
      if (!(err instanceof Error) || !PORT_TAKEN.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function startOnce(python, options) {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "swift-s3-"));
  const etc = join(dir, "etc");
  const logs = join(dir, "log");
  mkdirSync(etc);
  mkdirSync(logs);
  mkdirSync(join(dir, "srv", "d1"), { recursive: true });

  const [proxyPort, objectPort, containerPort, accountPort, memcachePort] = await freePorts(5);
  // A file rather than `python3 -c`, so `ps` shows which server a process is.
  const launcher = join(etc, "launch.py");
  writeFileSync(launcher, LAUNCHER);
  writeFileSync(join(etc, "swift.conf"), SWIFT_CONF);
  writeFileSync(join(etc, "object-server.conf"), serverConf("object", dir, objectPort));
  writeFileSync(join(etc, "container-server.conf"), serverConf("container", dir, containerPort));
  writeFileSync(join(etc, "account-server.conf"), serverConf("account", dir, accountPort));
  writeFileSync(join(etc, "proxy-server.conf"), proxyConf(dir, proxyPort, memcachePort));

  /** @type {{ name: string, child: import("node:child_process").ChildProcess, log: string, exited: boolean }[]} */
  const procs = [];
  // A caller that never calls stop() (a failed test) still leaves nothing: the kernel ends the
  // servers (PDEATHSIG), and this removes the folder when the process exits.
  const onExit = () => {
    for (const p of procs) if (!p.exited) p.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  let stopping;
  const stop = () => {
    process.off("exit", onExit);
    stopping ??= stopAll(procs, dir);
    return stopping;
  };

  const launch = (name, args) => {
    const log = join(logs, `${name}.log`);
    const out = openSync(log, "a");
    const child = spawn(python, [launcher, String(process.pid), ...args], { stdio: ["ignore", out, out], env: SERVER_ENV });
    closeSync(out);
    const entry = { name, child, log, exited: false };
    child.once("exit", () => {
      entry.exited = true;
    });
    child.once("error", () => {
      entry.exited = true;
    });
    procs.push(entry);
  };

  try {
    // memcached is optional (tempauth only needs the cache filter); with it requests are about
    // twice as fast and the proxy does not log a connection error per request.
    if (existsSync(MEMCACHED)) {
      const user = process.getuid?.() === 0 ? ["-u", "root"] : [];
      launch("memcached", ["memcached", etc, MEMCACHED, "-l", "127.0.0.1", "-p", String(memcachePort), "-U", "0", "-m", "16", ...user]);
    }
    for (const kind of ["object", "container", "account"]) {
      launch(kind, [`${kind}-server`, etc, join(etc, `${kind}-server.conf`)]);
    }
    launch("proxy", ["proxy-server", etc, join(etc, "proxy-server.conf"), String(objectPort), String(containerPort), String(accountPort)]);

    const checks = [proxyPort, objectPort, containerPort, accountPort].map((p) => `http://127.0.0.1:${p}/healthcheck`);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const dead = procs.find((p) => p.exited);
      if (dead) {
        const tail = logTail(dead.log);
        if (/No module named '?swift/.test(tail)) throw new SwiftNotInstalledError(`${python} cannot import swift (python3-swift)`);
        throw new Error(`swift-s3: ${dead.name} exited during start-up:\n${tail}`);
      }
      const ok = await Promise.all(checks.map(httpOk));
      if (ok.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error(`swift-s3: not ready within ${READY_TIMEOUT_MS} ms (logs in ${logs})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  options.log?.(`swift-s3: ready in ${Date.now() - started} ms at http://127.0.0.1:${proxyPort} (${dir})`);
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    region: SWIFT_S3_REGION,
    accessKeyId: SWIFT_S3_ACCESS_KEY_ID,
    secretAccessKey: SWIFT_S3_SECRET_ACCESS_KEY,
    dir,
    pids: procs.map((p) => p.child.pid).filter((pid) => pid !== undefined),
    startupMs: Date.now() - started,
    stop,
  };
}

/** SIGTERM to each of our PIDs, SIGKILL after a grace period, then the temp folder goes. */
async function stopAll(procs, dir) {
  await Promise.all(
    procs.map(async (p) => {
      if (p.exited || p.child.pid === undefined) return;
      const exited = new Promise((resolve) => p.child.once("exit", resolve));
      p.child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!p.exited) p.child.kill("SIGKILL");
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
  rmSync(dir, { recursive: true, force: true });
}

async function main(argv) {
  if (argv[0] !== "start") {
    process.stderr.write("usage: node scripts/services/swift-s3.mjs start\n");
    process.exit(2);
  }
  const server = await startSwiftS3({ log: (line) => process.stderr.write(`${line}\n`) });
  const { stop, ...info } = server;
  process.stdout.write(`${JSON.stringify(info)}\n`);
  const shutdown = () => {
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
